"""A finding's stability, and intervals that include the topic model's own uncertainty.

The pipeline refits each source's topics on subsamples of its respondents and keeps every refit's partition
of all the segments (:mod:`verbatim.topics.stability`). For a declared pair, each refit gives the elements
that stand for its two sides (:func:`~verbatim.topics.stability.matched_clusters`: the refit's clusters
lying mostly inside them) and the unit correlation of their rates, on the same units:

- **stability**: the share of refits in which that correlation still clears the screen's bar (the
  ``1 − alpha`` quantile of the largest correlation among shuffled units); below
  :data:`~verbatim.topics.stability.MIN_STABILITY` the finding is flagged as unstable;
- **interval**: Fisher-z, its variance the sampling variance ``1 / (U − 3)`` plus ``(1 + 1/B)`` times the
  variance of the refits' z (the between-model part, as multiple imputation combines its fits, Rubin
  1987), so it covers what other subsamples of the comments give as well as sampling.

The symmetry index gets the same treatment: its unit-bootstrap interval (topics held fixed) is widened by the
spread of the index over the refits.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from ..topics.stability import MIN_STABILITY, matched_clusters
from ..respondent import respondents
from .linkage import linkage_rates


def refit_labels(pipeline, segments: pd.DataFrame, source: str) -> np.ndarray | None:
    """The refits' partitions of ``source``'s segments as rows over all of ``segments`` (−1 elsewhere), or
    None when the pipeline kept none."""
    model = getattr(pipeline, "models_", {}).get(source) if pipeline is not None else None
    refits = getattr(model, "refits_", None)
    m = (segments["source"] == source).to_numpy()
    if refits is None or not len(refits) or refits.shape[1] != m.sum():
        return None
    out = np.full((len(refits), len(segments)), -1, np.int32)
    out[:, m] = refits
    return out


def _unit_rates(segments: pd.DataFrame, source: str, hits: np.ndarray, by: str, units: list) -> tuple:
    m = (segments["source"] == source).to_numpy()
    d = pd.DataFrame({"unit": segments[by].to_numpy()[m], "rec": respondents(segments).to_numpy()[m],
                      "hit": hits[m]}).dropna(subset=["unit"])
    per = d.groupby(["unit", "rec"], sort=False)["hit"].any().groupby(level=0).agg(["sum", "size"])
    per = per.reindex(units)
    return per["sum"].to_numpy(float), per["size"].to_numpy(float)


def _members(segments: pd.DataFrame, source: str, topics, irritant: np.ndarray) -> np.ndarray:
    return ((segments["source"] == source).to_numpy() & segments["topic"].isin(list(topics)).to_numpy()
            & np.asarray(irritant, bool))


def pair_refit_r(segments: pd.DataFrame, irritant: np.ndarray, by: str, units: list, pair: tuple[str, str],
                 topics_a, topics_b, refits_a: np.ndarray, refits_b: np.ndarray) -> np.ndarray:
    """The pair's unit correlation in each refit (its sides' matched clusters), over ``units``."""
    ma = _members(segments, pair[0], topics_a, irritant)
    mb = _members(segments, pair[1], topics_b, irritant)
    irr = np.asarray(irritant, bool)
    out = []
    for la, lb in zip(refits_a, refits_b):
        ha = np.isin(la, matched_clusters(ma, np.where(irr, la, -1))) & irr
        hb = np.isin(lb, matched_clusters(mb, np.where(irr, lb, -1))) & irr
        ka, na = _unit_rates(segments, pair[0], ha, by, units)
        kb, nb = _unit_rates(segments, pair[1], hb, by, units)
        xa, xb = linkage_rates(ka, na), linkage_rates(kb, nb)
        ok = np.isfinite(xa) & np.isfinite(xb)
        out.append(np.corrcoef(xa[ok], xb[ok])[0, 1] if ok.sum() > 3 and xa[ok].std() > 0 and xb[ok].std() > 0
                   else np.nan)
    return np.asarray(out, float)


def combined_r_interval(r: float, n_units: int, refit_r: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Fisher-z interval of ``r`` whose variance adds the refits' between-model variance (see module doc)."""
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    zb = np.arctanh(np.clip(refit_r[np.isfinite(refit_r)], -0.999999, 0.999999))
    var = 1.0 / max(n_units - 3, 1) + ((1 + 1 / len(zb)) * zb.var(ddof=1) if len(zb) > 1 else 0.0)
    h = norm.ppf(0.5 + level / 2) * np.sqrt(var)
    return float(np.tanh(z - h)), float(np.tanh(z + h))


def pair_stability(pairs: pd.DataFrame, segments: pd.DataFrame, irritant: np.ndarray, by: str | None, screen,
                   pipeline, cfg) -> pd.DataFrame:
    """``stability``, ``r_low`` and ``r_high`` (the interval with the model's uncertainty) of every linked pair;
    NaN when the pipeline kept no refits or there is no screen."""
    pairs = pairs.assign(stability=np.nan, r_low=np.nan, r_high=np.nan)
    if by is None or isinstance(screen, str):
        return pairs
    ra, rb = refit_labels(pipeline, segments, cfg.pair[0]), refit_labels(pipeline, segments, cfg.pair[1])
    bar = screen.critical(cfg.alpha)
    for i, row in pairs[(pairs["linkage_q"] < cfg.alpha) & (pairs["linkage_r"] > 0)].iterrows():
        if ra is None or rb is None:
            lo, hi = combined_r_interval(row["linkage_r"], screen.n_units, np.zeros(0))
            pairs.loc[i, ["r_low", "r_high"]] = [lo, hi]
            continue
        rr = pair_refit_r(segments, irritant, by, screen.units, cfg.pair, row["topics_a"], row["topics_b"], ra, rb)
        lo, hi = combined_r_interval(row["linkage_r"], screen.n_units, rr)
        pairs.loc[i, ["stability", "r_low", "r_high"]] = [float(np.mean(np.nan_to_num(rr, nan=-1) >= bar)), lo, hi]
    return pairs


def index_refits(segments: pd.DataFrame, irritant: np.ndarray, source: str, mirrored_topics, refits: np.ndarray
                 ) -> np.ndarray:
    """The symmetry index in each refit: the share of ``source``'s irritant segments in the clusters that
    stand for the mirrored topics."""
    irr = np.asarray(irritant, bool) & (segments["source"] == source).to_numpy()
    members = _members(segments, source, mirrored_topics, irritant)
    out = []
    for lab in refits:
        hit = np.isin(lab, matched_clusters(members, np.where(irr, lab, -1))) & irr if members.any() else np.zeros_like(irr)
        out.append(hit.sum() / irr.sum() if irr.sum() else np.nan)
    return np.asarray(out, float)


def widen_index(index: dict, refit_values: np.ndarray) -> dict:
    """The symmetry index's interval widened by the refits' spread: each half-width and ``(1 + 1/B)`` times the
    refits' standard deviation (×1.96) are added in quadrature; ``refit_sd`` and ``refits`` are recorded."""
    vals = refit_values[np.isfinite(refit_values)]
    out = dict(index)
    if len(vals) < 2 or np.isnan(index.get("index", np.nan)):
        return out
    sd = float(vals.std(ddof=1))
    extra = 1.96 * sd * np.sqrt(1 + 1 / len(vals))
    x = index["index"]
    lo = index.get("low", x) if not np.isnan(index.get("low", np.nan)) else x
    hi = index.get("high", x) if not np.isnan(index.get("high", np.nan)) else x
    out.update(low=float(max(0.0, x - np.hypot(x - lo, extra))), high=float(min(1.0, x + np.hypot(hi - x, extra))),
               sampling_low=lo, sampling_high=hi, refit_sd=sd, refits=len(vals))
    return out


def unstable(stability: float) -> bool:
    return not np.isnan(stability) and stability < MIN_STABILITY
