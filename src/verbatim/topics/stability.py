"""How much of a topic, and of a finding built on topics, would another sample of the comments give?

The topics do not depend on the seed nor on the machine (:mod:`.cluster`), but they do depend on which
comments were collected. The stability assessment refits each side's clusterer on ``n_fits`` random
subsamples of the respondents (``share`` of them, drawn by a hash of the respondent id: the same on every
run, so a finding's stability does not move with the seed) and assigns
every segment to the refit's nearest centroid, exactly as ``transform`` would. Each refit is a partition of
all the segments that the mirror can recompute its statistics on (:mod:`verbatim.mirror.core`: a pair's
stability and the model part of its interval).

A topic's **stability** is its mean best Jaccard index over the refits (Hennig 2007, "cluster-wise
assessment of cluster stability"): 1 when every refit finds it again, about 0.5 or less when it is split,
merged or dissolved.
"""
from __future__ import annotations

import hashlib

import numpy as np
import scipy.sparse as sp

#: a topic (or a finding) reproduced in fewer refits than this is flagged as unstable
MIN_STABILITY = 0.6


def subsample(groups: np.ndarray, share: float, seed: int, fit: int) -> np.ndarray:
    """Rows whose respondent (``groups``) falls in the ``fit``-th seeded subsample of ``share`` of them."""
    salt = f"{seed}:{fit}:".encode()
    names, inv = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    keys = np.array([int.from_bytes(hashlib.blake2b(salt + n.encode(), digest_size=8).digest(), "big") for n in names],
                    dtype=np.uint64)
    keep = keys < np.uint64(int(share * 2 ** 64 - 1))
    return keep[inv.ravel()]


def jaccard_best(labels: np.ndarray, other: np.ndarray) -> dict[int, float]:
    """Per label of ``labels`` (≥ 0): its best Jaccard index with a label of ``other`` (≥ 0), same rows."""
    ok = (labels >= 0) & (other >= 0)
    if not ok.any():
        return {}
    a, b = labels[ok], other[ok]
    ua, ia = np.unique(a, return_inverse=True)
    ub, ib = np.unique(b, return_inverse=True)
    inter = sp.coo_matrix((np.ones(len(ia)), (ia, ib)), shape=(len(ua), len(ub))).toarray()
    size_a = np.bincount(labels[labels >= 0], minlength=int(ua.max()) + 1)[ua].astype(float)
    size_b = np.bincount(other[other >= 0], minlength=int(ub.max()) + 1)[ub].astype(float)
    union = size_a[:, None] + size_b[None, :] - inter
    jac = np.where(union > 0, inter / np.maximum(union, 1), 0.0)
    return {int(t): float(j) for t, j in zip(ua, jac.max(1))}


def matched_clusters(members: np.ndarray, other: np.ndarray) -> np.ndarray:
    """The clusters of ``other`` that stand for a set of rows (``members``): those with most of their rows in
    it, or, when none has, the one with the largest Jaccard index with it."""
    ok = other >= 0
    if not (members & ok).any():
        return np.zeros(0, np.int64)
    ids, inv = np.unique(other[ok], return_inverse=True)
    inside = np.bincount(inv, weights=members[ok].astype(float), minlength=len(ids))
    size = np.bincount(inv, minlength=len(ids)).astype(float)
    mostly = ids[inside / size >= 0.5]
    if len(mostly):
        return mostly
    jac = inside / (size + members[ok].sum() - inside)
    return ids[[int(np.argmax(jac))]]


def mean_stability(original: np.ndarray, refits: np.ndarray) -> dict[int, float]:
    """Per topic of ``original``: the mean over the refits (rows of ``refits``) of its best Jaccard index."""
    topics = [int(t) for t in np.unique(original[original >= 0])]
    if not len(refits):
        return {t: np.nan for t in topics}
    per = [jaccard_best(original, r) for r in refits]
    return {t: float(np.mean([p.get(t, 0.0) for p in per])) for t in topics}
