"""Spike alerts: a topic whose irritant volume in a period is far above its own history.

For each source × topic × period, the expected count is the topic's irritant share over the
trailing ``history`` periods (a half-count prior keeps a quiet history from giving zero) times
the source's segment volume in the period, so a busier month is not mistaken for a spike. The
period is flagged when its count is at least ``min_count`` and a one-sided Poisson test against
the expected count gives ``p < alpha``. ``z`` (the count against the trailing mean and SD, the
"±2 SD" rule of CX tools) is reported beside it.

>>> spike_alerts(pipe.segments_, period="M")          # the flagged rows
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .rates import add_period

SPIKE_COLUMNS = ["source", "topic", "topic_label", "period", "count", "expected", "trailing_mean", "trailing_sd",
                 "z", "p_value", "flagged"]


def spike_table(segments: pd.DataFrame, period: str = "M", history: int = 6, min_history: int = 3,
                min_count: int = 5, alpha: float = 0.01, irritant: str = "irritant") -> pd.DataFrame:
    """Every source × topic × period with at least ``min_history`` earlier periods, tested (see module doc)."""
    df = add_period(segments, period).dropna(subset=["period"])
    rows = []
    if df.empty:
        return pd.DataFrame(columns=SPIKE_COLUMNS)
    for source, s in df.groupby("source", sort=True):
        periods = pd.period_range(pd.Period(s["period"].min(), period), pd.Period(s["period"].max(), period),
                                  freq=period).astype(str)
        volume = s.groupby("period").size().reindex(periods, fill_value=0).to_numpy(dtype=float)
        irr = s[(s["topic"] >= 0) & s[irritant].astype(bool)]
        counts = pd.crosstab(irr["topic"], irr["period"]).reindex(columns=periods, fill_value=0)
        labels = s.drop_duplicates("topic").set_index("topic")["topic_label"] if "topic_label" in s else None
        for topic, row in counts.iterrows():
            c = row.to_numpy(dtype=float)
            for t in range(min_history, len(periods)):
                lo = max(0, t - history)
                hist_c, hist_v = c[lo:t], volume[lo:t]
                share = (hist_c.sum() + 0.5) / (hist_v.sum() + 1.0)
                expected = share * volume[t]
                p = float(stats.poisson.sf(c[t] - 1, expected)) if expected > 0 else (0.0 if c[t] > 0 else 1.0)
                mean, sd = float(hist_c.mean()), float(hist_c.std(ddof=1)) if len(hist_c) > 1 else 0.0
                z = (c[t] - mean) / sd if sd > 0 else (np.inf if c[t] > mean else 0.0)
                rows.append({"source": source, "topic": int(topic),
                             "topic_label": None if labels is None else labels.get(topic),
                             "period": periods[t], "count": int(c[t]), "expected": float(expected),
                             "trailing_mean": mean, "trailing_sd": sd, "z": float(z), "p_value": p,
                             "flagged": bool(c[t] >= min_count and p < alpha)})
    return pd.DataFrame(rows, columns=SPIKE_COLUMNS)


def spike_alerts(segments: pd.DataFrame, period: str = "M", history: int = 6, min_history: int = 3,
                 min_count: int = 5, alpha: float = 0.01, irritant: str = "irritant") -> pd.DataFrame:
    """The flagged rows of :func:`spike_table`, most significant first."""
    t = spike_table(segments, period, history, min_history, min_count, alpha, irritant)
    return t[t["flagged"]].sort_values("p_value", kind="stable").reset_index(drop=True)
