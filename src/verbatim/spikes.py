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

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .rates import add_period

SPIKE_COLUMNS = ["source", "topic", "topic_label", "period", "count", "expected", "trailing_mean", "trailing_sd",
                 "z", "p_value", "flagged"]


def spike_counts(segments: pd.DataFrame, period: str = "M", by: Sequence[str] = ("source",),
                 irritant: str = "irritant") -> tuple[pd.DataFrame, pd.DataFrame]:
    """What the spike rule needs, as counts: the segment ``volume`` per ``by`` × period (column ``n``) and
    the irritant ``count`` per ``by`` × topic × period (outliers left out). Counts of several batches add
    up (``pd.concat`` then sum), so a stream of new comments is tested without keeping its segments."""
    df = add_period(segments, period).dropna(subset=["period"])
    keys = list(by)
    for k in keys:
        df[k] = df[k].astype("string").fillna("")
    volume = df.groupby([*keys, "period"], sort=True).size().rename("n").reset_index()
    irr = df[(df["topic"] >= 0) & df[irritant].astype(bool)]
    counts = irr.groupby([*keys, "topic", "period"], sort=True).size().rename("count").reset_index()
    return volume, counts


def spike_table_counts(volume: pd.DataFrame, counts: pd.DataFrame, period: str = "M", history: int = 6,
                       min_history: int = 3, min_count: int = 5, alpha: float = 0.01,
                       by: Sequence[str] = ("source",), labels: Mapping[tuple, str] | None = None,
                       periods: Sequence[str] | None = None) -> pd.DataFrame:
    """:func:`spike_table` on counts (see :func:`spike_counts`); ``labels`` maps (source, topic) → label;
    ``periods`` (default: all) limits the periods tested, e.g. to those of a new batch."""
    from scipy.special import pdtrc  # the Poisson survival function (what scipy.stats.poisson.sf computes)

    keys = list(by)
    only = None if periods is None else set(map(str, periods))
    columns = keys + [c for c in SPIKE_COLUMNS if c not in keys]
    rows = []
    if volume.empty:
        return pd.DataFrame(columns=columns)
    volume = volume.groupby([*keys, "period"], sort=True)["n"].sum().reset_index()
    counts = counts.groupby([*keys, "topic", "period"], sort=True)["count"].sum().reset_index()
    by_group = {(k if isinstance(k, tuple) else (k,)): g for k, g in counts.groupby(keys, sort=True)}
    for group, s in volume.groupby(keys, sort=True):
        group = group if isinstance(group, tuple) else (group,)
        span = pd.period_range(pd.Period(s["period"].min(), period), pd.Period(s["period"].max(), period),
                               freq=period).astype(str)
        vol = s.set_index("period")["n"].reindex(span, fill_value=0).to_numpy(dtype=float)
        c_all = by_group.get(group)
        if c_all is None:
            continue
        table = c_all.pivot_table(index="topic", columns="period", values="count", aggfunc="sum", fill_value=0)
        table = table.reindex(columns=span, fill_value=0)
        source = group[keys.index("source")] if "source" in keys else None
        for topic, row in table.iterrows():
            c = row.to_numpy(dtype=float)
            for t in range(min_history, len(span)):
                if only is not None and span[t] not in only:
                    continue
                lo = max(0, t - history)
                hist_c, hist_v = c[lo:t], vol[lo:t]
                share = (hist_c.sum() + 0.5) / (hist_v.sum() + 1.0)
                expected = share * vol[t]
                if expected > 0:
                    p = 1.0 if c[t] <= 0 else float(pdtrc(c[t] - 1, expected))
                else:
                    p = 0.0 if c[t] > 0 else 1.0
                mean, sd = float(hist_c.mean()), float(hist_c.std(ddof=1)) if len(hist_c) > 1 else 0.0
                z = (c[t] - mean) / sd if sd > 0 else (np.inf if c[t] > mean else 0.0)
                rows.append({**dict(zip(keys, group)), "topic": int(topic),
                             "topic_label": None if labels is None else labels.get((source, int(topic))),
                             "period": span[t], "count": int(c[t]), "expected": float(expected),
                             "trailing_mean": mean, "trailing_sd": sd, "z": float(z), "p_value": p,
                             "flagged": bool(c[t] >= min_count and p < alpha)})
    return pd.DataFrame(rows, columns=columns)


def spike_table(segments: pd.DataFrame, period: str = "M", history: int = 6, min_history: int = 3,
                min_count: int = 5, alpha: float = 0.01, irritant: str = "irritant") -> pd.DataFrame:
    """Every source × topic × period with at least ``min_history`` earlier periods, tested (see module doc)."""
    volume, counts = spike_counts(segments, period, irritant=irritant)
    labels = None
    if "topic_label" in segments:
        first = segments.drop_duplicates(["source", "topic"])
        labels = {(s, int(t)): lab for s, t, lab in zip(first["source"].astype(str), first["topic"], first["topic_label"])}
    return spike_table_counts(volume, counts, period, history, min_history, min_count, alpha, labels=labels)


def spike_alerts(segments: pd.DataFrame, period: str = "M", history: int = 6, min_history: int = 3,
                 min_count: int = 5, alpha: float = 0.01, irritant: str = "irritant") -> pd.DataFrame:
    """The flagged rows of :func:`spike_table`, most significant first."""
    t = spike_table(segments, period, history, min_history, min_count, alpha, irritant)
    return t[t["flagged"].astype(bool)].sort_values("p_value", kind="stable").reset_index(drop=True)
