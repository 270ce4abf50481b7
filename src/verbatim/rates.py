"""Irritant rates: the share of a group's segments that are irritants, with Wilson intervals.

>>> tables = rate_tables(pipe.segments_, period="M")     # {"source", "topic", "unit", "period", "topic_period"}
>>> tables["topic"].sort_values("rate", ascending=False)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

#: the groupings :func:`rate_tables` returns, each beside ``source``.
GROUPINGS: dict[str, tuple[str, ...]] = {"source": (), "topic": ("topic",), "unit": ("unit",),
                                          "period": ("period",), "topic_period": ("topic", "period")}
RATE_COLUMNS = ["n_verbatims", "n_segments", "n_irritants", "rate", "ci_low", "ci_high", "mean_p"]


def wilson_interval(k: np.ndarray | int, n: np.ndarray | int, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``k / n`` (NaN where ``n`` is 0)."""
    from scipy.stats import norm  # here, not at import: scipy.stats takes a second to import

    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    low = np.where(n > 0, low, np.nan)
    high = np.where(n > 0, high, np.nan)
    return low, high


def add_period(segments: pd.DataFrame, period: str = "M") -> pd.DataFrame:
    """``segments`` with a ``period`` column (``2025-03`` for months; missing dates → missing)."""
    out = segments.copy()
    if "date" in out and out["date"].notna().any():
        out["period"] = pd.to_datetime(out["date"], errors="coerce").dt.to_period(period).astype("string")
    else:
        out["period"] = pd.Series(pd.NA, index=out.index, dtype="string")
    return out


def irritant_rates(segments: pd.DataFrame, by: Sequence[str] = ("topic",), period: str = "M",
                   level: float = 0.95, irritant: str = "irritant") -> pd.DataFrame:
    """Irritant rate of each group of ``source`` × ``by`` (segments with a missing key are left out).

    Columns: the keys (and ``topic_label`` when grouped by topic), ``n_verbatims``, ``n_segments``,
    ``n_irritants`` (segments with ``irritant`` true), ``rate``, its Wilson ``ci_low``/``ci_high`` at
    ``level``, and ``mean_p`` (mean ``irritant_p``: the expected rate from the probabilities).
    """
    if irritant not in segments:
        raise ValueError(f"segments have no '{irritant}' column; fit the polarity first")
    df = add_period(segments, period) if "period" in by and "period" not in segments else segments
    keys = ["source", *by]
    for k in keys:
        if k not in df:
            raise ValueError(f"segments have no '{k}' column to group irritant rates by")
    df = df.dropna(subset=keys)
    if df.empty:
        return pd.DataFrame(columns=[*keys, *(["topic_label"] if "topic" in by else []), *RATE_COLUMNS])
    agg = {"n_verbatims": ("id", "nunique"), "n_segments": ("id", "size"),
           "n_irritants": (irritant, "sum")}
    if "irritant_p" in df:
        agg["mean_p"] = ("irritant_p", "mean")
    out = df.groupby(keys, observed=True, sort=True).agg(**agg).reset_index()
    if "mean_p" not in out:
        out["mean_p"] = np.nan
    out["n_irritants"] = out["n_irritants"].astype(int)
    out["rate"] = out["n_irritants"] / out["n_segments"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_irritants"], out["n_segments"], level)
    if "topic" in by and "topic_label" in df:
        labels = df.drop_duplicates(["source", "topic"]).set_index(["source", "topic"])["topic_label"]
        out.insert(len(keys), "topic_label", [labels.get((s, t)) for s, t in zip(out["source"], out["topic"])])
    return out[[c for c in out.columns if c not in RATE_COLUMNS] + RATE_COLUMNS]


def rate_tables(segments: pd.DataFrame, period: str = "M", level: float = 0.95) -> dict[str, pd.DataFrame]:
    """Irritant rates per source, topic, unit, period and topic × period (see :data:`GROUPINGS`)."""
    df = add_period(segments, period)
    return {name: irritant_rates(df, by=by, period=period, level=level) for name, by in GROUPINGS.items()}
