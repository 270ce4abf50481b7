"""Describe a verbatim table: counts per source, unit and month, score distribution."""
from __future__ import annotations

import pandas as pd


def counts_by(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """Verbatims per source × ``column`` value (a wide table, sources as columns)."""
    if column not in df.columns:
        return pd.DataFrame()
    key = df[column]
    if column == "date":
        key = pd.to_datetime(key).dt.to_period("M").astype(str).where(key.notna(), "(no date)")
        key.name = "month"
    else:
        key = key.fillna("").replace("", "(none)")
    return pd.crosstab(key, df["source"]).rename_axis(columns="verbatims")  # the table says what it counts


def score_distribution(df: pd.DataFrame) -> pd.DataFrame:
    """Count, mean, median and quartiles of ``score`` per source (rounded for reading)."""
    if "score" not in df.columns or df["score"].notna().sum() == 0:
        return pd.DataFrame()
    g = df.dropna(subset=["score"]).groupby("source")["score"]
    out = g.describe()[["count", "mean", "min", "25%", "50%", "75%", "max"]]
    out["count"] = out["count"].astype(int)
    out["missing"] = df.groupby("source")["score"].apply(lambda s: int(s.isna().sum()))
    return out.round(2)


def score_histogram(df: pd.DataFrame) -> pd.DataFrame:
    """Verbatims per score value and source (scores rounded to integers)."""
    if "score" not in df.columns:
        return pd.DataFrame()
    d = df.dropna(subset=["score"])
    return pd.crosstab(d["score"].round().astype(int), d["source"]).rename_axis(index="score", columns=None)


def summarise(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """All summary tables, keyed by name (one table, several renderings)."""
    return {
        "per source": df.groupby("source").size().rename("verbatims").to_frame(),
        "per unit": counts_by(df, "unit"),
        "per month": counts_by(df, "date"),
        "scores": score_distribution(df),
        "score histogram": score_histogram(df),
    }


def render_text(tables: dict[str, pd.DataFrame]) -> str:
    parts = []
    for name, t in tables.items():
        if t is None or t.empty:
            continue
        parts.append(f"== {name} ==\n{t.to_string()}")
    return "\n\n".join(parts)
