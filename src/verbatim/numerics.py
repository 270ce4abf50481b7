"""Numbers that every machine computes alike (a leaf module: it imports nothing of verbatim).

Floats computed by different CPUs (AVX2, AVX-512, ARM kernels), thread counts or batch compositions
differ in their last bits, and a discrete decision taken on them (the nearest centroid, a merge of the
topic tree, a threshold, a sort) can then differ too. The rules here keep every decision identical:

- **Vectors on a grid.** Embeddings are stored and clustered as multiples of :data:`GRID` (2⁻⁷) with a
  norm of about 1. The dot product of two such vectors is a sum of integers times 2⁻¹⁴ below 2²⁴,
  which float32 arithmetic computes exactly in any order, with or without FMA: a similarity between
  grid vectors, and any argmax over it, is the same on every machine. :func:`unit_snap` puts a float
  vector on the grid (normalised in float64, then rounded); a centroid is put back on the grid after
  every update.
- **Compare after rounding, break ties by key.** A float computed in float64 carries errors of about
  1e-16 relative; :func:`rounded` rounds it to :data:`DECIMALS` decimals before it is compared or
  sorted, and :func:`stable_order` sorts with a stable algorithm and an explicit secondary key, so equal
  values (repeated texts, equal counts) keep one order everywhere (numpy's default sort orders equal
  keys differently on AVX-512 and AVX2 machines).
- **Permutation counts with a tolerance.** A shuffle that reproduces the observed statistic
  mathematically must count as reaching it whatever its last bits (:data:`TIE_TOL`).
"""
from __future__ import annotations

import numpy as np

#: the embedding grid: coordinates of stored vectors are multiples of it
GRID = 2.0 ** -7
#: decimals kept before a float is compared or sorted
DECIMALS = 9
#: relative tolerance under which two statistics count as equal in a permutation count
TIE_TOL = 1e-9


def snap(x: np.ndarray) -> np.ndarray:
    """``x`` rounded to the nearest multiple of :data:`GRID` (float32; ties to even, as IEEE rounds)."""
    return (np.rint(np.asarray(x, dtype=np.float64) / GRID) * GRID).astype(np.float32)


def unit_norms(x: np.ndarray) -> np.ndarray:
    """Row norms in float64 (exact for grid vectors: their squares are multiples of 2⁻¹⁴)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sqrt(np.einsum("ij,ij->i", x, x))


def unit_snap(x: np.ndarray) -> np.ndarray:
    """Rows normalised in float64, then put on the grid (rows of zeros stay zero)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = unit_norms(x)[:, None]
    n[n == 0] = 1.0
    return snap(x / n)


def near_grid_midpoint(x: np.ndarray, margin: float) -> np.ndarray:
    """Per row: whether a coordinate lies within ``margin`` of a point halfway between two grid values,
    where rounding a slightly different float could go the other way."""
    s = np.asarray(x, dtype=np.float64) / GRID
    return (np.abs(np.abs(s - np.floor(s)) - 0.5) * GRID < margin).any(axis=1)


def rounded(x, decimals: int = DECIMALS) -> np.ndarray:
    """Floats rounded to ``decimals`` before they are compared or sorted."""
    return np.round(np.asarray(x, dtype=np.float64), decimals)


def stable_order(*keys, descending: bool | tuple[bool, ...] = False) -> np.ndarray:
    """Indices sorting by ``keys`` (first key first; floats rounded), equal keys kept in input order."""
    if isinstance(descending, bool):
        descending = (descending,) * len(keys)
    cols = []
    for k, desc in zip(keys, descending):
        k = np.asarray(k)
        if k.dtype.kind == "O":
            k = k.astype(str)
        if k.dtype.kind == "f":
            k = rounded(k)
        if desc:
            k = -k if k.dtype.kind in "fiu" else _rank_desc(k)
        cols.append(k)
    return np.lexsort(cols[::-1]) if cols else np.arange(0)


def _rank_desc(k: np.ndarray) -> np.ndarray:
    """Descending ranks of a non-numeric key (e.g. strings), for :func:`stable_order`."""
    _, inv = np.unique(k, return_inverse=True)
    return -inv.ravel()
