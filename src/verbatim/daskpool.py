"""Dask workers from one spec string, for every stage that spreads work (``fit``'s embedding, ``score``).

``local:N`` starts a real ``distributed.LocalCluster`` of N single-threaded worker processes on this
machine (``local``: one per core); ``tcp://host:port`` uses a running scheduler (``dask scheduler`` on one
machine, ``dask worker tcp://host:8786`` on each of the others, all with verbatim installed).

:class:`DaskPool` checks the spec when it is built (a mistake is a one-line :class:`ConfigError`, before
any long work), connects on first use and closes what it started. Importing this module loads nothing:
``distributed`` is imported only when a pool connects.
"""
from __future__ import annotations

import importlib.util
import logging

from .embed.base import available_cores
from .errors import ConfigError

log = logging.getLogger("verbatim")

PIP_HINT = "--dask needs the distributed package: pip install 'verbatim[dask]' (or 'dask[distributed]')"


def parse_spec(spec: str) -> tuple[str, int | str]:
    """``("local", n_workers)`` or ``("address", address)``; a :class:`ConfigError` naming the mistake."""
    if not isinstance(spec, str):
        raise ConfigError(f"--dask must be local:N or a scheduler address such as tcp://host:8786; got {spec!r}")
    s = spec.strip()
    if s == "local" or s.startswith("local:"):
        arg = s.split(":", 1)[1] if ":" in s else str(available_cores())
        if not arg.isdigit() or int(arg) < 1:
            raise ConfigError(f"--dask local:N needs a positive number of workers; got '{spec}'")
        return "local", int(arg)
    if "://" in s:
        return "address", s
    raise ConfigError(f"--dask must be local:N or a scheduler address such as tcp://host:8786; got '{spec}'")


class DaskPool:
    """A Dask client for ``spec``, started on first use of :attr:`client`; a context manager that closes it
    (and the local cluster it started)."""

    def __init__(self, spec: str):
        self.spec = spec
        self.kind, self.target = parse_spec(spec)
        if importlib.util.find_spec("distributed") is None:
            raise ConfigError(PIP_HINT)
        self._client = None
        self._cluster = None

    @property
    def local(self) -> bool:
        """Whether the workers run on this machine (a cluster this pool started)."""
        return self.kind == "local"

    @property
    def client(self):
        if self._client is None:
            self._client, self._cluster = _connect(self.kind, self.target)
            log.info("dask: %d worker(s) at %s", self.n_workers, self._client.scheduler.address)
        return self._client

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def __enter__(self) -> "DaskPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _connect(kind: str, target):
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(PIP_HINT) from None
    if kind == "local":
        cluster = LocalCluster(n_workers=int(target), threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        return Client(cluster), cluster
    try:
        return Client(target, timeout="30s"), None
    except OSError as ex:
        raise ConfigError(f"cannot reach the Dask scheduler at {target} ({ex}); start it with `dask scheduler` "
                          f"or check the address") from None
