"""The exploratory screen and the global test, at the level a theme holds (:mod:`.themes`).

Every pair (customer element, employee element) is tested on the same unit shuffles (within blocks of
units of similar size, :func:`~.stats.size_blocks`): the statistic is the correlation across units of the
two elements' shrunk, arcsine-stabilised rates (:func:`~.linkage.linkage_rates`). Multiplicity is paid
once, by the **step-down max-T** of Westfall & Young (1993): a pair's adjusted p-value is the chance that
the largest statistic among the pairs not yet rejected reaches its own, under the shuffles. It controls
the family-wise error exactly under "no element of one side is linked with any of the other", whatever
the dependence between the pairs (nested themes, shared topics); a screen declares a pair not linked in
at most ``alpha`` of the runs where nothing is linked.

Elements whose rate does not vary across units beyond binomial noise are left out first (chi-square
homogeneity p ≥ ``variation_filter``): the filter reads one side and not the unit order, so the null of
the others stays exact (independent filtering); when no element of a side passes, all are kept, so the
filter can never silence the test.

The **global test** asks the question itself on the same shuffles: is the largest pair statistic larger
than the largest one among shuffled units? Its p-value is the smallest adjusted p-value of the screen, so
it rejects in ``alpha`` of the runs where nothing is linked, and exactly when the screen declares a pair.
Beside it, the RV coefficient of the two sides' topic tables (topics only: a theme and its topics would
count twice) says how much of the two profiles co-varies overall, with its own permutation p-value.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..numerics import TIE_TOL
from .linkage import NO_VARIATION, TOO_LITTLE, heterogeneity_p, linkage_rates
from .stats import rv_coefficient, size_blocks, unit_shuffles
from .themes import Element


@dataclass
class Screen:
    """The screen's result: elements kept on each side, the unit correlation ``r`` and step-down max-T
    adjusted p-value ``p_adj`` of every pair (rows: side A elements, columns: side B), their rates, and the
    global test."""

    elements_a: list[Element]
    elements_b: list[Element]
    r: np.ndarray
    p_raw: np.ndarray
    p_adj: np.ndarray
    rates_a: np.ndarray                # units × elements, stabilised shrunk rates
    rates_b: np.ndarray
    n_units: int
    global_p: float = np.nan
    rv: float = np.nan
    rv_p: float = np.nan
    rv_null_mean: float = np.nan
    max_r: float = np.nan
    max_r_p: float = np.nan
    filtered: dict = field(default_factory=dict)   # side → (kept, candidates)
    null_max: np.ndarray = field(default_factory=lambda: np.zeros(0))   # the largest statistic, per shuffle
    units: list = field(default_factory=list)      # the units tested, in row order

    def critical(self, alpha: float) -> float:
        """The statistic a pair must reach to be declared at ``alpha`` as the screen's first step (the
        ``1 − alpha`` quantile of the largest statistic among shuffled units)."""
        return float(np.quantile(self.null_max, 1 - alpha)) if len(self.null_max) else np.nan


def _kept(k: np.ndarray, n: np.ndarray, min_count: int, filter_p: float) -> np.ndarray:
    ok = np.array([k[:, j].sum() > 0 and k[:, j].sum() < n.sum() for j in range(k.shape[1])], bool)
    if filter_p < 1 and ok.any():
        varies = ok & np.array([heterogeneity_p(k[:, j], n, min_count) < filter_p for j in range(k.shape[1])])
        if varies.any():   # never silence the test: with nothing varying, keep every element
            ok = varies
    return ok


def _z(rates: np.ndarray) -> np.ndarray:
    sd = rates.std(0)
    return (rates - rates.mean(0)) / np.where(sd > 0, sd, 1.0)


def step_down_max_t(za: np.ndarray, zb: np.ndarray, perms: np.ndarray, sign: float = 1.0
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(r, raw p, adjusted p, null of the largest statistic)`` for every column pair of two standardised
    unit tables (see the module doc). ``sign`` −1 tests negative links ("less"); ``sign = 0`` both
    directions (absolute values)."""
    u = len(za)
    r = za.T @ zb / u
    stat = np.abs(r) if sign == 0 else sign * r
    flat = stat.ravel()
    order = np.lexsort((np.arange(len(flat)), -np.round(flat, 12)))   # largest first, ties by position
    ordered = flat[order]
    exceed = np.zeros(len(flat))
    raw = np.zeros(len(flat))
    null_max = np.empty(len(perms))
    tol = TIE_TOL * np.maximum(1.0, np.abs(ordered))
    for b, perm in enumerate(perms):
        s = za.T @ zb[perm] / u
        s = (np.abs(s) if sign == 0 else sign * s).ravel()
        succ = np.maximum.accumulate(s[order][::-1])[::-1]   # the largest over each pair and those after it
        exceed += succ >= ordered - tol
        raw += s[order] >= ordered - tol
        null_max[b] = succ[0]
    b1 = len(perms) + 1
    adj = np.maximum.accumulate((exceed + 1) / b1)
    p_adj, p_raw = np.empty(len(flat)), np.empty(len(flat))
    p_adj[order], p_raw[order] = adj, (raw + 1) / b1
    return r, p_raw.reshape(r.shape), p_adj.reshape(r.shape), null_max


def theme_screen(ka: np.ndarray, na: np.ndarray, kb: np.ndarray, nb: np.ndarray, els_a: list[Element],
                 els_b: list[Element], rng: np.random.Generator, n_permutations: int, min_count: int,
                 min_units: int, filter_p: float, alternative: str = "greater", units: list | None = None
                 ) -> Screen | str:
    """Screen every element pair over the units with at least ``min_count`` respondents on both sides
    (``ka``, ``kb``: units × elements counts; ``na``, ``nb``: respondents). Returns a :class:`Screen`, or
    the reason no test could be run."""
    ok = (na >= min_count) & (nb >= min_count)
    if ok.sum() < min_units:
        return TOO_LITTLE
    ka, na, kb, nb = ka[ok], na[ok], kb[ok], nb[ok]
    keep_a, keep_b = _kept(ka, na, min_count, filter_p), _kept(kb, nb, min_count, filter_p)
    if not keep_a.any() or not keep_b.any():
        return NO_VARIATION
    ra = np.column_stack([linkage_rates(ka[:, j], na) for j in np.flatnonzero(keep_a)])
    rb = np.column_stack([linkage_rates(kb[:, j], nb) for j in np.flatnonzero(keep_b)])
    va, vb = ra.std(0) > 0, rb.std(0) > 0
    if not va.any() or not vb.any():
        return "no variation"
    ra, rb = ra[:, va], rb[:, vb]
    ea = [e for e, k in zip((e for e, kk in zip(els_a, keep_a) if kk), va) if k]
    eb = [e for e, k in zip((e for e, kk in zip(els_b, keep_b) if kk), vb) if k]
    perms = unit_shuffles(rng, n_permutations, int(ok.sum()), size_blocks(na))
    sign = -1.0 if alternative == "less" else 0.0 if alternative == "two-sided" else 1.0
    za, zb = _z(ra), _z(rb)
    r, p_raw, p_adj, null_max = step_down_max_t(za, zb, perms, sign)
    out = Screen(ea, eb, r, p_raw, p_adj, ra, rb, int(ok.sum()),
                 filtered={"a": (len(ea), len(els_a)), "b": (len(eb), len(els_b))}, null_max=null_max,
                 units=[u for u, k in zip(units, ok) if k] if units is not None else [])
    # the global test: the largest pair statistic and the RV of the topic tables, on the same shuffles
    ta = np.array([e.kind == "topic" for e in ea])
    tb = np.array([e.kind == "topic" for e in eb])
    rv, rv_null = np.nan, None
    if ta.any() and tb.any():
        rv = rv_coefficient(ra[:, ta], rb[:, tb])
        if not np.isnan(rv):
            rv_null = np.array([rv_coefficient(ra[:, ta], rb[p][:, tb]) for p in perms])
    stat = (np.abs(r) if sign == 0 else sign * r)
    out.max_r, out.max_r_p = float(r.ravel()[int(np.argmax(stat))]), float(p_adj.min())
    if rv_null is not None and not np.isnan(rv):
        out.rv, out.rv_null_mean = rv, float(rv_null.mean())
        out.rv_p = float(((rv_null >= rv - TIE_TOL * max(1.0, abs(rv))).sum() + 1) / (len(perms) + 1))
    out.global_p = out.max_r_p
    return out
