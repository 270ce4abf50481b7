"""A deterministic bag-of-words hashing embedder: no model, no download, the same vectors in every process.

For plumbing tests and dry runs of the scorer (``--embedder hash:64``), never for real topics: words
land in ``dim`` signed buckets by a stable hash, so texts sharing words get similar vectors.
"""
from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """``hash:<dim>``: signed word hashing into ``dim`` buckets, L2-normalised."""

    processes = True  # may encode in worker processes (verbatim.embed.parallel)

    def __init__(self, dim: int = 64):
        self.dim = int(dim)

    @property
    def id(self) -> str:
        return f"hash:{self.dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in _WORD.findall(str(t).lower()):
                h = int.from_bytes(hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
            out[i, 0] += 0.01  # never a zero vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)
