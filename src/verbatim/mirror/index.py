"""One symmetry index: the share of A's irritant volume (customer irritant segments) that falls in A
topics significantly mirrored by B's irritants, with a bootstrap interval, overall and per unit.

The overall interval resamples units (a cluster bootstrap: units are the
independent draws of a linkage study), or respondents when there are no
units; a unit's interval resamples its respondents. The set of mirrored
topics is held fixed (the interval is conditional on the pairs found).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..respondent import respondents


def _per_record(segments: pd.DataFrame, source: str, topics: set[int], irritant: np.ndarray, by: str | None
                ) -> pd.DataFrame:
    m = (segments["source"] == source).to_numpy() & irritant
    s = segments.loc[m]
    rec = respondents(s)
    df = pd.DataFrame({"rec": rec.to_numpy(), "vol": 1, "mir": s["topic"].isin(list(topics)).to_numpy().astype(int),
                       "unit": s[by].to_numpy() if by and by in s else "(all)"})
    return df.groupby(["unit", "rec"], sort=True, dropna=False)[["vol", "mir"]].sum().reset_index()


def _ratio_ci(vol: np.ndarray, mir: np.ndarray, rng: np.random.Generator, n_bootstrap: int, level: float
              ) -> tuple[float, float]:
    if len(vol) < 2 or n_bootstrap <= 0:
        return np.nan, np.nan
    idx = rng.integers(0, len(vol), size=(n_bootstrap, len(vol)))
    v, m = vol[idx].sum(1), mir[idx].sum(1)
    share = np.divide(m, v, out=np.full(len(v), np.nan), where=v > 0)
    tail = (1 - level) / 2
    return float(np.nanquantile(share, tail)), float(np.nanquantile(share, 1 - tail))


def symmetry_index(segments: pd.DataFrame, source: str, mirrored_topics, irritant: np.ndarray,
                   by: str | None = "unit", rng: np.random.Generator | None = None, n_bootstrap: int = 1000,
                   level: float = 0.95, min_count: int = 10) -> tuple[dict, pd.DataFrame]:
    """``(overall, per_unit)``: the index with its interval, and one row per unit with at least
    ``min_count`` irritant respondents."""
    rng = rng if rng is not None else np.random.default_rng(0)
    recs = _per_record(segments, source, set(int(t) for t in mirrored_topics), np.asarray(irritant, bool), by)
    vol, mir = recs["vol"].to_numpy(float), recs["mir"].to_numpy(float)
    total = vol.sum()
    overall = {"source": source, "irritant_segments": int(total), "mirrored_segments": int(mir.sum()),
               "index": float(mir.sum() / total) if total else np.nan, "low": np.nan, "high": np.nan,
               "resampled": "units"}
    per_unit = recs.groupby("unit", sort=True)[["vol", "mir"]].sum()
    if by and len(per_unit) >= 5:
        overall["low"], overall["high"] = _ratio_ci(per_unit["vol"].to_numpy(float), per_unit["mir"].to_numpy(float),
                                                    rng, n_bootstrap, level)
    else:
        overall["resampled"] = "respondents"
        overall["low"], overall["high"] = _ratio_ci(vol, mir, rng, n_bootstrap, level)
    rows = []
    for unit, g in recs.groupby("unit", sort=True):
        if len(g) < min_count:
            continue
        v, m = g["vol"].to_numpy(float), g["mir"].to_numpy(float)
        lo, hi = _ratio_ci(v, m, rng, n_bootstrap, level)
        rows.append({"unit": unit, "respondents": len(g), "irritant_segments": int(v.sum()),
                     "mirrored_segments": int(m.sum()), "index": float(m.sum() / v.sum()), "low": lo, "high": hi})
    return overall, pd.DataFrame(rows, columns=["unit", "respondents", "irritant_segments", "mirrored_segments",
                                                "index", "low", "high"])
