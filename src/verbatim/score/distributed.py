"""Scoring beyond one process, on Dask: the same chunk function, mapped over a cluster.

``--dask local:N`` or ``--dask tcp://host:port``: the workers of a :class:`~verbatim.daskpool.DaskPool`
(the one spec and client setup ``fit --dask`` uses too).

The driver reads the input in chunks (bounded memory), sends each chunk to a worker and commits the
result it gets back, exactly as the single-process run does; at most two chunks per worker are in
flight. The scoring model is small (centroids, polarity weights, labels): it is sent once to every
worker (``scatter(broadcast=True)``), deserialised once there and kept, with the encoder the worker
builds on first use, for every chunk that worker scores. Workers need no shared file system: the
input, the parts and the output stay with the driver; each worker has its own embedding cache (a
local cluster shares the driver's, SQLite in WAL mode).
"""
from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterator

import pandas as pd

from ..daskpool import DaskPool
from ..embed.base import available_cores
from .model import ScoringModel, score_verbatims

log = logging.getLogger("verbatim")

#: how many scoring models this process loaded (the tests check: one per worker)
MODEL_LOADS = 0
_LOADED: dict[str, ScoringModel] = {}


class _WorkerModel:
    """A scoring model sent to workers: however many copies Dask deserialises in one worker process
    (a broadcast copy, a copy fetched from a peer…), the process keeps one model, and so builds its
    encoder once."""

    def __init__(self, model: ScoringModel):
        self.model = model

    def __getstate__(self):
        m = self.model
        return {"key": f"{m.fingerprint()}|{m.embedder}|{m.cache}", "model": m}

    def __setstate__(self, state):
        global MODEL_LOADS
        if state["key"] not in _LOADED:
            _LOADED[state["key"]] = state["model"]
            MODEL_LOADS += 1
        self.model = _LOADED[state["key"]]


def model_loads() -> int:
    return MODEL_LOADS


def _for_workers(model: ScoringModel, n_workers: int, local: bool) -> ScoringModel:
    """The model as workers get it: the encoder's threads shared out between local workers."""
    import copy

    m = copy.copy(model)
    m.__dict__ = model.__getstate__()
    m.warned_ = set()
    if m.embedder is None and m.embedder_id_.startswith("use:") and local:
        cores = available_cores()
        m.embedder = f"use:{max(1, cores // max(1, n_workers))}"
    return m


def _score_remote(score_chunk: Callable, wm: _WorkerModel, chunk, period: str) -> dict[str, Any]:
    import socket

    res = score_chunk(wm.model, chunk, period)
    res["info"].update(worker=f"{socket.gethostname()}:{os.getpid()}", model_loads=MODEL_LOADS)
    return res


def run_distributed(model: ScoringModel, chunks: Iterator, parts, commit: Callable[[str, dict], None], period: str,
                    pool: DaskPool, score_chunk: Callable, bar=None) -> None:
    """Each chunk not committed yet scored by ``score_chunk(model, chunk, period)`` on a worker of ``pool``
    and committed here, in the order results arrive."""
    from distributed import wait

    with pool:
        client, n_workers = pool.client, pool.n_workers
        wm = client.scatter(_WorkerModel(_for_workers(model, n_workers, pool.local)), broadcast=True)
        in_flight: dict = {}

        def drain(block_until: int) -> None:
            while len(in_flight) > block_until:
                done, _ = wait(list(in_flight), return_when="FIRST_COMPLETED")
                for fut in done:
                    chunk = in_flight.pop(fut)
                    commit(chunk.name, fut.result())
                    if bar is not None:
                        bar.update(chunk.n_records)

        for chunk in chunks:
            if parts.is_done(chunk.name):
                if bar is not None:
                    bar.update(chunk.n_records)
                continue
            fut = client.submit(_score_remote, score_chunk, wm, chunk, period, pure=False)
            in_flight[fut] = chunk
            drain(2 * n_workers - 1)
        drain(0)


def worker_model_loads(client) -> dict[str, int]:
    """How many times each worker deserialised a scoring model."""
    return client.run(model_loads)


def score_dask_frame(ddf, model: ScoringModel, mapping: dict[str, Any], frame_verbatims: Callable):
    """A ``dask.dataframe`` scored partition by partition (lazily) with :func:`score_verbatims`, each
    partition read as verbatims by ``frame_verbatims(df, model, mapping)``."""

    def part(df: pd.DataFrame) -> pd.DataFrame:
        return score_verbatims(frame_verbatims(df, model, dict(mapping)), model)[0]

    meta = part(ddf._meta.copy()) if not mapping else None
    return ddf.map_partitions(part, meta=meta) if meta is not None else ddf.map_partitions(part)
