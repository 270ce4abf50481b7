"""The embedder interface: anything with an ``id`` and ``embed(texts) -> np.ndarray``."""
from __future__ import annotations

import os
from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """A text encoder.

    ``id`` is a stable string naming the model *and* how it is called (prefix,
    pooling); it keys the on-disk cache and is recorded in artefact manifests,
    so two embedders that can give different vectors must have different ids.
    ``embed`` returns a float32 array of shape ``(len(texts), dim)`` whose rows
    are L2-normalised.
    """

    id: str

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation (rows of zeros stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def available_cores() -> int:
    """CPU cores this process may run on (its affinity on Linux, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)
