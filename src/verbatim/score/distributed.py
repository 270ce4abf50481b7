"""Scoring beyond one process, on Dask: the same chunk function, mapped over a cluster.

``--dask local:N`` starts a real ``distributed.LocalCluster`` of N single-threaded worker processes
on this machine; ``--dask tcp://host:port`` uses a running scheduler (``dask scheduler`` on one machine,
``dask worker tcp://host:8786`` on each of the others, all with verbatim installed).

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

from ..errors import ConfigError
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


def connect(spec: str):
    """A ``distributed.Client`` for ``local:N`` or a scheduler address; returns (client, cluster or None)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--dask needs the distributed package: pip install 'dask[distributed]'") from None
    spec = spec.strip()
    if spec.startswith("local"):
        arg = spec.split(":", 1)[1] if ":" in spec else str(len(os.sched_getaffinity(0)))
        if not arg.isdigit() or int(arg) < 1:
            raise ConfigError(f"--dask local:N needs a positive number of workers; got '{spec}'")
        cluster = LocalCluster(n_workers=int(arg), threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        return Client(cluster), cluster
    if "://" in spec:
        try:
            return Client(spec, timeout="30s"), None
        except OSError as ex:
            raise ConfigError(f"cannot reach the Dask scheduler at {spec} ({ex}); start it with `dask scheduler` "
                              f"or check the address") from None
    raise ConfigError(f"--dask must be local:N or a scheduler address such as tcp://host:8786; got '{spec}'")


def _for_workers(model: ScoringModel, n_workers: int, local: bool) -> ScoringModel:
    """The model as workers get it: the encoder's threads shared out between local workers."""
    import copy

    m = copy.copy(model)
    m.__dict__ = model.__getstate__()
    m.warned_ = set()
    if m.embedder is None and m.embedder_id_.startswith("use:") and local:
        cores = len(os.sched_getaffinity(0))
        m.embedder = f"use:{max(1, cores // max(1, n_workers))}"
    return m


def _score_remote(wm: _WorkerModel, chunk, period: str) -> dict[str, Any]:
    import socket

    from .run import score_chunk

    res = score_chunk(wm.model, chunk, period)
    res["info"].update(worker=f"{socket.gethostname()}:{os.getpid()}", model_loads=MODEL_LOADS)
    return res


def run_distributed(model: ScoringModel, chunks: Iterator, parts, commit: Callable[[str, dict], None], period: str,
                    spec: str, bar=None) -> None:
    from distributed import wait

    client, cluster = connect(spec)
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        log.info("dask: %d worker(s) at %s", n_workers, client.scheduler.address)
        wm = client.scatter(_WorkerModel(_for_workers(model, n_workers, cluster is not None)), broadcast=True)
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
            fut = client.submit(_score_remote, wm, chunk, period, pure=False)
            in_flight[fut] = chunk
            drain(2 * n_workers - 1)
        drain(0)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def worker_model_loads(client) -> dict[str, int]:
    """How many times each worker deserialised a scoring model."""
    return client.run(model_loads)


def score_dask_frame(ddf, model: ScoringModel, mapping: dict[str, Any]):
    """A ``dask.dataframe`` scored partition by partition (lazily) with :func:`score_verbatims`."""
    from .run import frame_verbatims

    def part(df: pd.DataFrame) -> pd.DataFrame:
        return score_verbatims(frame_verbatims(df, model, dict(mapping)), model)[0]

    meta = part(ddf._meta.copy()) if not mapping else None
    return ddf.map_partitions(part, meta=meta) if meta is not None else ddf.map_partitions(part)
