"""Is a matched pair real? Permutation p-values, bootstrap intervals, Benjamini–Hochberg q-values.

- **Permutation null** (:func:`permutation_pvalues`): within each source, the
  topic labels are reassigned at random *by verbatim* (:class:`RecordShuffler`:
  verbatims of equal length swap their segments' labels as a block; topic sizes
  kept), every centroid is recomputed, each source centred on its own mean
  segment (as the observed statistic, see :mod:`.align`), and the null
  statistic of pair (i, j) is the *largest* similarity in row i or column j of
  the permuted matrix — so the p-value allows for the matching having picked
  the best partner. The question answered: is topic j closer to topic i than
  the best partner made of random verbatims would be? A random group's
  centred centroid is noise around 0, so the null cosines sit around 0 (their
  spread set by the embedding's effective dimension) and two unrelated topics
  get large p-values; `benchmarks/bench_mirror.py` prints the null's quantiles.
- **Bootstrap** (:func:`bootstrap_similarity`): a cluster bootstrap — each
  source's verbatims drawn with replacement, all their segments with them;
  percentile interval of the centroid cosine.
- **FDR** (:func:`bh_qvalues`): Benjamini–Hochberg step-up q-values.
- **Units** (:func:`unit_shuffles`, :func:`size_blocks`, :func:`permutation_corr`): shuffles of the units
  within blocks of similar size, shared by every test of a run (the screen and the global test: :mod:`.screen`).

Every function takes a ``numpy.random.Generator``: same seed, same numbers.
"""
from __future__ import annotations

import logging

import numpy as np

from .align import SourceTopics

logger = logging.getLogger(__name__)


def holm_adjusted(p, weights=None) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN), weighted as in Holm (1979) when ``weights``
    are given: the hypotheses are taken in the order of ``p_i / w_i`` and each is tested at
    ``alpha · w_i / (weights of the hypotheses not yet rejected)``. The chance that any true null is
    rejected stays below alpha whatever the dependence between the tests."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return out
    w = np.ones(int(ok.sum())) if weights is None else np.asarray(weights, dtype=float)[ok]
    w = w / w.sum()
    order = np.argsort(p[ok] / w, kind="stable")
    remaining = np.cumsum(w[order][::-1])[::-1]  # weight of the hypotheses from this step on
    adj = np.maximum.accumulate(np.minimum(1.0, p[ok][order] * remaining / w[order]))
    res = np.empty(len(order))
    res[order] = adj
    out[ok] = res
    return out


def bh_qvalues(p, weights=None) -> np.ndarray:
    """Benjamini–Hochberg q-values (NaN stays NaN); ``q_i = min_{j ≥ i} p_(j) m / j``. With ``weights``
    (positive, rescaled to mean 1 over the tested p-values), the weighted procedure of Genovese, Roeder
    & Wasserman (2006): BH on ``p_i / w_i``, which keeps the false discovery rate at its level while
    giving the heavier hypotheses more of it."""
    p = np.asarray(p, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    if weights is not None:
        w = np.asarray(weights, dtype=float)[ok]
        pv = pv / (w / w.mean())
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.clip(ranked, 0, 1)
    q[ok] = out
    return q


class RecordShuffler:
    """Random relabellings of one source's segments that move whole verbatims.

    Verbatims with the same number of segments exchange their segments' topic labels as a block (a
    restricted permutation within strata of verbatim length), so topic sizes are kept exactly and
    segments of one verbatim (one author, one style) stay together: the null treats the verbatim,
    not the segment, as the independent draw."""

    def __init__(self, groups: np.ndarray, labels: np.ndarray):
        self.labels = np.asarray(labels)
        order = np.argsort(groups, kind="stable")
        sizes = np.bincount(groups)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        self.blocks = []                  # per verbatim length s: (records × s) matrix of segment positions
        for s in np.unique(sizes[sizes > 0]):
            recs = np.flatnonzero(sizes == s)
            self.blocks.append(order[starts[recs][:, None] + np.arange(s)[None, :]])

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        out = self.labels.copy()
        for m in self.blocks:
            if len(m) > 1:
                out[m] = self.labels[m[rng.permutation(len(m))]]
        return out


def _stacked_centroids(x: np.ndarray, labels: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred unit centroids for a batch of draws at once: ``labels`` and ``weights`` are (draws × segments)
    (``weights`` may be a scalar);
    each draw is centred on its own weighted mean segment. Returns (draws × k × d) and counts (draws × k)."""
    nd, n = labels.shape
    rows = (np.arange(nd)[:, None] * k + labels).ravel()
    w = np.broadcast_to(weights, labels.shape).ravel()
    onehot = np.zeros((nd * k, n), np.float32)       # dense: one BLAS product beats a sparse one several-fold
    onehot[rows, np.tile(np.arange(n), nd)] = w
    sums = (onehot @ x).astype(np.float64).reshape(nd, k, -1)
    counts = np.bincount(rows, weights=w, minlength=nd * k).reshape(nd, k)
    total = sums.sum(1) / np.maximum(counts.sum(1), 1e-12)[:, None]        # the draw's mean segment
    c = sums / np.maximum(counts, 1e-12)[..., None] - total[:, None, :]
    norm = np.linalg.norm(c, axis=2, keepdims=True)
    norm[norm == 0] = 1.0
    return c / norm, counts


def _batch(k: int, n: int, cells: float = 2e7) -> int:
    """Draws per batch so that a dense (draws·k × n) weight matrix stays near ``cells`` floats (80 MB)."""
    return int(np.clip(cells // max(k * n, 1), 1, 64))


def permutation_pvalues(a: SourceTopics, b: SourceTopics, pairs: list[tuple[int, int]], n_permutations: int,
                        rng: np.random.Generator, return_null: bool = False, batch: int | None = None):
    """Permutation p-value of each (row, column) pair's centroid similarity (see module doc); with
    ``return_null`` also the null draws (permutations × pairs)."""
    if not pairs:
        return (np.zeros(0), np.zeros((n_permutations, 0))) if return_null else np.zeros(0)
    rows = np.array([i for i, _ in pairs])
    cols = np.array([j for _, j in pairs])
    observed = np.einsum("pd,pd->p", a.centroids()[rows], b.centroids()[cols])
    shuf_a, shuf_b = RecordShuffler(a.groups, a.labels), RecordShuffler(b.groups, b.labels)
    null = np.empty((n_permutations, len(pairs)))
    batch = batch or _batch(max(a.k, b.k), max(len(a.labels), len(b.labels)))
    for start in range(0, n_permutations, batch):
        nd = min(batch, n_permutations - start)
        la = np.stack([shuf_a.draw(rng) for _ in range(nd)])
        lb = np.stack([shuf_b.draw(rng) for _ in range(nd)])
        ca, _ = _stacked_centroids(a.embeddings, la, np.float32(1), a.k)
        cb, _ = _stacked_centroids(b.embeddings, lb, np.float32(1), b.k)
        s = np.einsum("nid,njd->nij", ca, cb)
        null[start:start + nd] = np.maximum(s[:, rows, :].max(2), s[:, :, cols].max(1))
    p = (1.0 + (null >= observed[None, :] - 1e-12).sum(0)) / (1.0 + n_permutations)
    return (p, null) if return_null else p


def sequential_pvalues(a: SourceTopics, b: SourceTopics, pairs: list[tuple[int, int]], n_first: int, n_max: int,
                       alpha: float, rng: np.random.Generator, z: float = 2.576) -> tuple[np.ndarray, int]:
    """:func:`permutation_pvalues` that adds shuffles, up to ``n_max`` in all, while a pair's BH decision
    (q < ``alpha``) is within ``z`` Monte Carlo standard errors of flipping: a pair near the line gets the
    draws that make its verdict the same under any seed, the others cost ``n_first``. Returns the p-values
    and the number of shuffles drawn (sequential Monte Carlo testing, Besag & Clifford 1991; the extra
    draws are independent of the first, so p stays a valid permutation p-value)."""
    p, n = permutation_pvalues(a, b, pairs, n_first, rng), n_first
    while n < n_max and len(p) and _undecided(p, n, alpha, z).any():
        block = min(n_max - n, 2 * n)
        hits = np.rint(p * (1 + n)) - 1 + np.rint(permutation_pvalues(a, b, pairs, block, rng) * (1 + block)) - 1
        n += block
        p = (1.0 + hits) / (1.0 + n)
    if n > n_first:
        logger.info("similarity test: a pair's verdict was near alpha = %g, %d shuffles drawn", alpha, n)
    return p, n


def _undecided(p: np.ndarray, n: int, alpha: float, z: float) -> np.ndarray:
    """Pairs whose q lies within ``z`` Monte Carlo standard errors of ``alpha`` (q scales p by m / rank)."""
    q = bh_qvalues(p)
    se = np.sqrt(p * (1 - p) / n) * q / np.maximum(p, 1e-300)
    return np.abs(q - alpha) < z * se


def bootstrap_similarity(a: SourceTopics, b: SourceTopics, pairs: list[tuple[int, int]], n_bootstrap: int,
                         rng: np.random.Generator, level: float = 0.95, batch: int | None = None,
                         return_draws: bool = False):
    """Percentile interval of each pair's centroid similarity from a cluster bootstrap: each source's
    verbatims (``groups``) are drawn with replacement, all their segments with them, and each draw is
    centred on its own mean segment. A topic absent from a draw leaves that draw out for its pairs."""
    nan = np.full(len(pairs), np.nan)
    if not pairs or n_bootstrap <= 0:
        return (nan, nan, np.zeros((0, len(pairs)))) if return_draws else (nan, nan)
    rows = np.array([i for i, _ in pairs])
    cols = np.array([j for _, j in pairs])
    draws = np.empty((n_bootstrap, len(pairs)))
    batch = batch or _batch(max(a.k, b.k), max(len(a.labels), len(b.labels)))
    for start in range(0, n_bootstrap, batch):
        nd = min(batch, n_bootstrap - start)
        cents = []
        for st in (a, b):
            n_rec = int(st.groups.max()) + 1 if len(st.groups) else 0
            mult = np.stack([np.bincount(rng.integers(0, n_rec, n_rec), minlength=n_rec) for _ in range(nd)])
            c, counts = _stacked_centroids(st.embeddings, np.broadcast_to(st.labels, (nd, len(st.labels))),
                                           mult[:, st.groups], st.k)
            c[counts == 0] = np.nan
            cents.append(c)
        draws[start:start + nd] = np.einsum("npd,npd->np", cents[0][:, rows], cents[1][:, cols])
    tail = (1 - level) / 2
    with np.errstate(all="ignore"):
        low, high = np.nanquantile(draws, tail, axis=0), np.nanquantile(draws, 1 - tail, axis=0)
    return (low, high, draws) if return_draws else (low, high)


# -- the profiles' overall co-variation (reported beside the global test) ---------------------------
def rv_coefficient(x: np.ndarray, y: np.ndarray) -> float:
    """Escoufier's RV of two tables with the same rows (columns centred here): ``‖XᵀY‖² / (‖XᵀX‖ ‖YᵀY‖)``,
    0 when no column of one co-varies with a column of the other, 1 when the two row configurations
    are the same up to rotation and scale."""
    x = np.asarray(x, float) - np.mean(x, axis=0)
    y = np.asarray(y, float) - np.mean(y, axis=0)
    den = np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
    return float(np.linalg.norm(x.T @ y) ** 2 / den) if den > 0 else float("nan")


# Units are shuffled within blocks of about this many units of similar size (0: free shuffles). A unit's
# sampling noise shrinks with its respondents, and an office that is large on one side is large on the
# other: under "no linkage" the two sides' rates are uncorrelated but noisier in the same units, which free
# shuffles do not reproduce (null rates at 0.05 of 1.1× nominal for offices 1–3× in size, 1.7× for 1–20×).
# Within blocks of similar size the units are exchangeable again; blocks of 8 held the level best of 5, 8
# and 10 in null simulations at the sample's office sizes (0.97–1.01× at 0.05 and 0.01).
SIZE_BLOCK = 8


def size_blocks(sizes, block: int | None = None) -> np.ndarray | None:
    """Block labels for :func:`unit_shuffles`: units ranked by ``sizes`` (respondents) and cut into
    consecutive blocks of about ``block`` units (:data:`SIZE_BLOCK`)."""
    block = SIZE_BLOCK if block is None else block
    sizes = np.asarray(sizes, float)
    if not block or len(sizes) < 2 * block:
        return None
    labels = np.empty(len(sizes), np.int64)
    for b, idx in enumerate(np.array_split(np.argsort(sizes, kind="stable"), len(sizes) // block)):
        labels[idx] = b
    return labels


def unit_shuffles(rng: np.random.Generator, n_permutations: int, n: int, blocks: np.ndarray | None = None
                  ) -> np.ndarray:
    """``n_permutations`` random permutations of ``range(n)``, one per row (drawn in one call, so
    several statistics can share them); with ``blocks`` (a label per unit), units move only within
    their block."""
    if blocks is None:
        return np.argsort(rng.random((n_permutations, n)), axis=1)
    perms = np.tile(np.arange(n), (n_permutations, 1))
    for b in np.unique(blocks):
        idx = np.flatnonzero(blocks == b)
        perms[:, idx] = idx[np.argsort(rng.random((n_permutations, len(idx))), axis=1)]
    return perms


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


def min_p_combined(observed: list[float], nulls: list[np.ndarray], alternative: str = "greater",
                   weights: list[float] | None = None) -> float:
    """One p-value for several statistics computed on the same permutations: the smallest of their
    p-values (each divided by its ``weights`` entry when given: weighted Bonferroni's priorities),
    referred to the distribution of that smallest p over the permutations themselves (Tippett's min-p
    with the exact joint null; Westfall & Young 1993). At most about the (weighted) Bonferroni bound,
    and as valid whatever the weights: the permutations are exchangeable under the joint null."""
    obs = np.asarray(observed, float)
    w = np.ones(len(obs)) if weights is None else np.asarray(weights, float)
    null = np.column_stack(nulls)                        # permutations × statistics
    if alternative == "less":
        obs, null = -obs, -null
    elif alternative != "greater":
        obs, null = np.abs(obs), np.abs(null)
    b = len(null)
    p_obs = (1 + (null >= obs - 1e-12).sum(0)) / (1 + b)
    ge = np.column_stack([b - np.searchsorted(np.sort(col), col - 1e-12, side="left") for col in null.T])
    p_null = (ge + (obs >= null - 1e-12)) / (1 + b)    # each permutation among all 1 + b values
    return float((1 + np.sum((p_null / w).min(1) <= (p_obs / w).min() + 1e-12)) / (1 + b))


def _pvalue(obs: float, null: np.ndarray, alternative: str) -> float:
    if alternative == "greater":
        k = np.sum(null >= obs - 1e-12)
    elif alternative == "less":
        k = np.sum(null <= obs + 1e-12)
    else:
        k = np.sum(np.abs(null) >= abs(obs) - 1e-12)
    return float((1 + k) / (1 + len(null)))


def partial_corr_test(x, y, z, n_permutations: int, rng: np.random.Generator, alternative: str = "greater",
                      blocks: np.ndarray | None = None, z_error_var=None) -> tuple[float, float]:
    """Partial correlation of ``x`` and ``y`` given ``z`` (one covariate, or a column per covariate) and
    its permutation p-value (Freedman–Lane: the residuals of ``y`` on ``z`` are shuffled, within ``blocks``
    when given, as :func:`unit_shuffles`). Used to ask whether a linked pair still moves together once a
    stronger pair is accounted for.

    ``z_error_var`` (per unit, a column per covariate): when ``z`` are estimates of what ``x`` and ``y``
    might both follow (shrunk rates, posterior means), the variance of their errors. Given an estimate,
    the residuals of ``x`` and ``y`` still share the estimate's error, ``b_x b_y Var(error)`` (``b``: their
    slopes on ``z``), so an echo of the stronger pair keeps a positive partial correlation that grows
    significant with enough units. That expected share is subtracted from the observed partial
    correlation before it is referred to the permutations (regression calibration; Carroll et al.,
    *Measurement Error in Nonlinear Models*, ch. 4), and the corrected value is returned."""
    x, y = (np.asarray(v, float) for v in (x, y))
    z = np.asarray(z, float).reshape(len(x), -1)
    err = None if z_error_var is None else np.asarray(z_error_var, float).reshape(z.shape)
    varies = z.std(0) > 0
    z = z[:, varies]
    if len(x) < 3 + z.shape[1] or not z.shape[1]:
        return float("nan"), float("nan")
    design = np.column_stack([np.ones(len(x)), z])
    bx, by = (np.linalg.lstsq(design, v, rcond=None)[0] for v in (x, y))
    rx, ry = x - design @ bx, y - design @ by
    r, p, null = permutation_corr(rx, ry, n_permutations, rng, alternative,
                                  perms=unit_shuffles(rng, n_permutations, len(x), blocks), return_null=True)
    if err is None or np.isnan(r):
        return r, p
    shared = float(np.sum(bx[1:] * by[1:] * err[:, varies].mean(0)))
    r = float(np.clip(r - shared / (rx.std() * ry.std()), -1.0, 1.0))  # the null lies in [-1, 1]: same p
    return r, _pvalue(r, null, alternative)
