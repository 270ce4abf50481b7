"""On-disk embedding cache keyed by embedder id and text.

One folder per embedder id under the cache root; vectors are appended as
``.npz`` shards (keys + float32 matrix), each written atomically, so an
interrupted run keeps what it had finished. Loading reads every shard once.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..fileio import atomic_path

log = logging.getLogger("verbatim")


def text_key(text: str) -> str:
    """Cache key of a text (the exact string the encoder sees)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class EmbeddingCache:
    """Maps (embedder id, text) → vector; ``root=None`` keeps it in memory only."""

    def __init__(self, root: str | Path | None, embedder_id: str):
        self.embedder_id = embedder_id
        self.dir = None if root is None else Path(root) / re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_id)
        self._index: dict[str, tuple[int, int]] = {}
        self._blocks: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.dir is None or not self.dir.is_dir():
            return
        for shard in sorted(self.dir.glob("shard-*.npz")):
            try:
                with np.load(shard, allow_pickle=False) as z:
                    keys, vecs = z["keys"], z["vectors"]
            except Exception:  # a damaged shard is skipped, its texts are re-encoded
                log.warning("embedding cache shard %s is unreadable; ignoring it", shard)
                continue
            b = len(self._blocks)
            self._blocks.append(vecs)
            for i, k in enumerate(keys.tolist()):
                self._index[k] = (b, i)

    def __len__(self) -> int:
        self._load()
        return len(self._index)

    def get_many(self, keys: Sequence[str]) -> tuple[np.ndarray | None, list[int]]:
        """Vectors for the keys found (rows of misses left as zeros) and the positions missing."""
        self._load()
        missing = [i for i, k in enumerate(keys) if k not in self._index]
        if len(missing) == len(keys):
            return None, missing
        dim = self._blocks[self._index[next(k for k in keys if k in self._index)][0]].shape[1]
        out = np.zeros((len(keys), dim), dtype=np.float32)
        for i, k in enumerate(keys):
            hit = self._index.get(k)
            if hit is not None:
                out[i] = self._blocks[hit[0]][hit[1]]
        return out, missing

    def put_many(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        self._load()
        vectors = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            b = len(self._blocks)
            self._blocks.append(vectors)
            for i, k in enumerate(keys):
                self._index[k] = (b, i)
            if self.dir is not None:
                self.dir.mkdir(parents=True, exist_ok=True)
                n = len(list(self.dir.glob("shard-*.npz")))
                path = self.dir / f"shard-{n:06d}-{keys[0][:8]}.npz"
                with atomic_path(path) as tmp:
                    with open(tmp, "wb") as fh:
                        np.savez(fh, keys=np.asarray(list(keys)), vectors=vectors)

    def keys(self) -> Iterable[str]:
        self._load()
        return self._index.keys()
