"""Is a matched pair real? Permutation p-values, bootstrap intervals, Benjamini–Hochberg q-values.

- **Permutation null** (:func:`permutation_pvalues`): within each source, the
  segments that sit in a topic are reassigned to topics at random (topic sizes
  kept), every centroid is recomputed and the null statistic of pair (i, j) is
  the *largest* similarity in row i or column j of the permuted matrix — so
  the p-value allows for the matching having picked the best partner. The
  question answered: is topic j closer to topic i than any same-sized random
  groups of comments would be?
- **Bootstrap** (:func:`bootstrap_similarity`): segments resampled with
  replacement within each topic; percentile interval of the centroid cosine.
- **FDR** (:func:`bh_qvalues`): Benjamini–Hochberg step-up q-values.

Every function takes a ``numpy.random.Generator``: same seed, same numbers.
"""
from __future__ import annotations

import numpy as np

from .align import SourceTopics, centroids


def bh_qvalues(p) -> np.ndarray:
    """Benjamini–Hochberg q-values (NaN stays NaN); ``q_i = min_{j ≥ i} p_(j) m / j``."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(ranked, 0, 1)
    q[ok] = out
    return q


def permutation_pvalues(a: SourceTopics, b: SourceTopics, pairs: list[tuple[int, int]], center: np.ndarray,
                        n_permutations: int, rng: np.random.Generator) -> np.ndarray:
    """Permutation p-value of each (row, column) pair's centroid similarity (see module doc)."""
    if not pairs:
        return np.zeros(0)
    ca = centroids(a.embeddings, a.labels, a.k, center)
    cb = centroids(b.embeddings, b.labels, b.k, center)
    rows = np.array([i for i, _ in pairs])
    cols = np.array([j for _, j in pairs])
    observed = np.einsum("pd,pd->p", ca[rows], cb[cols])
    exceed = np.zeros(len(pairs))
    for _ in range(n_permutations):
        sa = centroids(a.embeddings, rng.permutation(a.labels), a.k, center)
        sb = centroids(b.embeddings, rng.permutation(b.labels), b.k, center)
        s = sa @ sb.T
        null = np.maximum(s[rows].max(1), s[:, cols].max(0))
        exceed += null >= observed - 1e-12
    return (1.0 + exceed) / (1.0 + n_permutations)


def _stratified_draw(labels: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Indices resampled with replacement within each label (sizes kept)."""
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels, minlength=k)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    lab = labels[order]
    pick = starts[lab] + np.floor(rng.random(len(lab)) * sizes[lab]).astype(np.int64)
    return order[pick]


def bootstrap_similarity(a: SourceTopics, b: SourceTopics, pairs: list[tuple[int, int]], center: np.ndarray,
                         n_bootstrap: int, rng: np.random.Generator, level: float = 0.95
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of each pair's centroid similarity."""
    if not pairs or n_bootstrap <= 0:
        return np.full(len(pairs), np.nan), np.full(len(pairs), np.nan)
    rows = np.array([i for i, _ in pairs])
    cols = np.array([j for _, j in pairs])
    draws = np.empty((n_bootstrap, len(pairs)))
    for r in range(n_bootstrap):
        ia = _stratified_draw(a.labels, a.k, rng)
        ib = _stratified_draw(b.labels, b.k, rng)
        ca = centroids(a.embeddings[ia], a.labels[ia], a.k, center)
        cb = centroids(b.embeddings[ib], b.labels[ib], b.k, center)
        draws[r] = np.einsum("pd,pd->p", ca[rows], cb[cols])
    tail = (1 - level) / 2
    return np.quantile(draws, tail, axis=0), np.quantile(draws, 1 - tail, axis=0)


def unit_shuffles(rng: np.random.Generator, n_permutations: int, n: int) -> np.ndarray:
    """``n_permutations`` random permutations of ``range(n)``, one per row (drawn in one call, so
    several statistics can share them)."""
    return np.argsort(rng.random((n_permutations, n)), axis=1)


def permutation_corr(x: np.ndarray, y: np.ndarray, n_permutations: int, rng: np.random.Generator,
                     alternative: str = "greater", perms: np.ndarray | None = None, return_null: bool = False):
    """Pearson r of ``x`` and ``y`` and its permutation p-value (``y`` shuffled; by the rows of
    ``perms`` when given); with ``return_null`` also the null distribution of r."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if len(x) < 3 or np.std(x) == 0 or np.std(y) == 0:
        return (float("nan"), float("nan"), None) if return_null else (float("nan"), float("nan"))
    xs = (x - x.mean()) / x.std()
    ys = (y - y.mean()) / y.std()
    r = float(xs @ ys / len(x))
    perms = perms if perms is not None else unit_shuffles(rng, n_permutations, len(y))
    null = (ys[perms] @ xs) / len(x)
    p = _pvalue(r, null, alternative)
    return (r, p, null) if return_null else (r, p)


def min_p_combined(observed: list[float], nulls: list[np.ndarray], alternative: str = "greater") -> float:
    """One p-value for several statistics computed on the same permutations: the smallest of their
    p-values, referred to the distribution of that smallest p over the permutations themselves
    (Tippett's min-p with the exact joint null; Westfall & Young 1993). At most about the
    Bonferroni bound, and as valid: the permutations are exchangeable under the joint null."""
    obs = np.asarray(observed, float)
    null = np.column_stack(nulls)                        # permutations × statistics
    if alternative == "less":
        obs, null = -obs, -null
    elif alternative != "greater":
        obs, null = np.abs(obs), np.abs(null)
    b = len(null)
    p_obs = (1 + (null >= obs - 1e-12).sum(0)) / (1 + b)
    ge = np.column_stack([b - np.searchsorted(np.sort(col), col - 1e-12, side="left") for col in null.T])
    p_null = (ge + (obs >= null - 1e-12)) / (1 + b)    # each permutation among all 1 + b values
    return float((1 + np.sum(p_null.min(1) <= p_obs.min() + 1e-12)) / (1 + b))


def _pvalue(obs: float, null: np.ndarray, alternative: str) -> float:
    if alternative == "greater":
        k = np.sum(null >= obs - 1e-12)
    elif alternative == "less":
        k = np.sum(null <= obs + 1e-12)
    else:
        k = np.sum(np.abs(null) >= abs(obs) - 1e-12)
    return float((1 + k) / (1 + len(null)))
