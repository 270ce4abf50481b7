"""Drivers: what each topic costs its source's score (satisfaction / NPS, employee rating / eNPS).

For every topic of a source, at response level (one input row: a customer comment, or an employee's
pros and cons answered under one score; it "has" a topic when one of its segments is an irritant of
that topic — or merely mentions it, with ``on="mention"``):

- **removal**: how much the source's mean score would rise if the topic's verbatims were removed
  (``gain_if_removed``; for 0–10 scales also the NPS gain, NPS = % 9–10 − % 0–6);
- **regression**: ``score ~ 1 + topic indicators`` by OLS with HC3 robust standard errors; ``coef``
  is the score difference of a verbatim carrying the topic, other topics held equal, and
  ``impact = −coef × share`` the points of mean score the topic costs, with its interval.

>>> table = driver_table(pipe.segments_)
>>> table[table.source == "customer"].head(5)       # ranked by impact, the costliest first
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .numerics import rounded
from .polarity import infer_scale
from .respondent import respondents

DRIVER_COLUMNS = ["source", "topic", "topic_label", "scale", "n_responses", "share", "mean_with", "mean_without",
                  "gain_if_removed", "nps_gain_if_removed", "coef", "coef_low", "coef_high", "p_value",
                  "impact", "impact_low", "impact_high"]


def nps(scores: np.ndarray) -> float:
    """Net promoter score on a 0–10 scale: % promoters (9–10) − % detractors (0–6)."""
    s = np.asarray(scores, dtype=float)
    if len(s) == 0:
        return float("nan")
    return float(100 * ((s >= 9).mean() - (s <= 6).mean()))


def ols_hc3(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficients and HC3 (heteroscedasticity-robust) standard errors; ``x`` includes the intercept."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xtx_inv = np.linalg.pinv(x.T @ x)
    beta = xtx_inv @ x.T @ y
    resid = y - x @ beta
    h = np.einsum("ij,jk,ik->i", x, xtx_inv, x)
    u = resid / np.clip(1 - h, 1e-8, None)
    meat = (x * (u ** 2)[:, None]).T @ x
    cov = xtx_inv @ meat @ xtx_inv
    return beta, np.sqrt(np.clip(np.diag(cov), 0, None))


def verbatim_topic_matrix(segments: pd.DataFrame, on: str = "irritant") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per respondent of one source (:func:`~verbatim.respondent.respondents`): its score, and a boolean column per topic
    (outliers left out)."""
    seg = segments[segments["topic"] >= 0]
    if on == "irritant":
        if "irritant" not in segments:
            raise ValueError("segments have no 'irritant' column; fit the polarity first or use on='mention'")
        seg = seg[seg["irritant"].astype(bool)]
    elif on != "mention":
        raise ValueError(f"on must be one of 'irritant', 'mention'; got {on!r}")
    who = respondents(segments)
    scores = segments["score"].groupby(who, sort=True).first()
    ind = pd.crosstab(who.loc[seg.index], seg["topic"]).reindex(scores.index, fill_value=0) > 0
    return scores.to_frame("score"), ind


def driver_table(segments: pd.DataFrame, on: str = "irritant", level: float = 0.95,
                 min_responses: int = 5) -> pd.DataFrame:
    """The driver table of every source with scores (see module doc), ranked by ``impact`` within source.

    Topics carried by fewer than ``min_responses`` scored responses are left out.
    """
    rows = []
    z = stats.norm.ppf(0.5 + level / 2)
    for source, seg in segments.groupby("source", sort=True):
        seg = seg[pd.to_numeric(seg["score"], errors="coerce").notna()]
        scale = infer_scale(seg["score"], seg.get("score_scale"))
        if seg.empty or scale is None:
            continue
        sc, ind = verbatim_topic_matrix(seg, on=on)
        y = sc["score"].to_numpy(dtype=float)
        ind = ind.loc[:, ind.sum(axis=0) >= min_responses]
        if ind.shape[1] == 0:
            continue
        x = np.column_stack([np.ones(len(y)), ind.to_numpy(dtype=float)])
        beta, se = ols_hc3(x, y)
        dof = max(1, len(y) - x.shape[1])
        labels = seg.drop_duplicates("topic").set_index("topic")["topic_label"] if "topic_label" in seg else {}
        mean_all = float(y.mean())
        nps_all = nps(y) if scale.nps else None
        for j, topic in enumerate(ind.columns):
            has = ind[topic].to_numpy()
            share = float(has.mean())
            mean_without = float(y[~has].mean()) if (~has).any() else float("nan")
            b, s = beta[j + 1], se[j + 1]
            p = float(2 * stats.t.sf(abs(b / s), dof)) if s > 0 else float("nan")
            rows.append({
                "source": source, "topic": int(topic), "topic_label": labels.get(topic) if len(labels) else None,
                "scale": scale.name, "n_responses": int(has.sum()), "share": share,
                "mean_with": float(y[has].mean()), "mean_without": mean_without,
                "gain_if_removed": mean_without - mean_all,
                "nps_gain_if_removed": (nps(y[~has]) - nps_all) if scale.nps else np.nan,
                "coef": float(b), "coef_low": float(b - z * s), "coef_high": float(b + z * s), "p_value": p,
                "impact": float(-b * share), "impact_low": float(-(b + z * s) * share),
                "impact_high": float(-(b - z * s) * share),
            })
    out = pd.DataFrame(rows, columns=DRIVER_COLUMNS)
    if out.empty:
        return out
    out = out.assign(_impact=rounded(out["impact"]))
    return out.sort_values(["source", "_impact", "topic"], ascending=[True, False, True], kind="stable") \
        .drop(columns="_impact").reset_index(drop=True)


def top_irritants(table: pd.DataFrame, n: int = 5) -> pd.DataFrame:
    """The ``n`` costliest topics of each source."""
    return table.groupby("source", sort=True, group_keys=False).head(n).reset_index(drop=True)


def render_drivers_markdown(table: pd.DataFrame, n: int | None = None) -> str:
    """The driver table as Markdown, one section per source (top ``n`` rows each, all when None)."""
    lines = []
    for source, t in table.groupby("source", sort=True):
        t = t if n is None else t.head(n)
        scale = t["scale"].iloc[0]
        lines.append(f"## {source} (score {scale})\n")
        has_nps = t["nps_gain_if_removed"].notna().any()
        head = ["topic", "responses", "share", "mean with", "gain if removed"]
        head += ["NPS gain if removed"] if has_nps else []
        head += ["coef [CI]", "impact [CI]"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        for r in t.itertuples(index=False):
            label = str(r.topic_label if r.topic_label is not None else r.topic).replace("|", "\\|")
            cells = [label, str(r.n_responses), f"{r.share:.1%}", f"{r.mean_with:.2f}", f"{r.gain_if_removed:+.3f}"]
            cells += [f"{r.nps_gain_if_removed:+.1f}"] if has_nps else []
            cells += [f"{r.coef:+.2f} [{r.coef_low:+.2f}, {r.coef_high:+.2f}]",
                      f"{r.impact:+.3f} [{r.impact_low:+.3f}, {r.impact_high:+.3f}]"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines) if lines else "(no source has scores: no driver table)\n"
