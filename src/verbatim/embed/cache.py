"""On-disk embedding cache keyed by embedder id and text.

One folder per embedder id under the cache root, holding one SQLite file
(``vectors.sqlite``: a 16-byte text hash → float32 vector, primary-key indexed).
A lookup reads only the rows asked for, a write is one transaction, so the cache
scales to millions of texts without being loaded into memory, survives a kill at
any point (SQLite's journal) and can be shared by several processes on one machine
(WAL mode, a busy timeout: Dask workers of a local cluster write to it together).

Shards of the previous format (``shard-*.npz``) are imported once, the first time
the folder is opened. A damaged database is set aside and rebuilt (its texts are
re-encoded); a full disk or a read-only folder is an :class:`OutputError` that leaves the file as it is.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..errors import OutputError

log = logging.getLogger("verbatim")

DB_NAME = "vectors.sqlite"
_BATCH = 900  # under SQLite's default limit of bound parameters
DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}  # the errors that mean the file itself is damaged


def _primary(ex: sqlite3.DatabaseError) -> int | None:
    """SQLite's primary result code of an error (the low byte of an extended code)."""
    code = getattr(ex, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def text_key(text: str) -> str:
    """Cache key of a text (the exact string the encoder sees)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class EmbeddingCache:
    """Maps (embedder id, text) → vector; ``root=None`` keeps it in memory only."""

    def __init__(self, root: str | Path | None, embedder_id: str):
        self.embedder_id = embedder_id
        self.dir = None if root is None else Path(root) / re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_id)
        self._mem: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._con: sqlite3.Connection | None = None
        self._pid: int | None = None

    # a cache travels to Dask workers without its connection (each process opens its own)
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.update(_con=None, _pid=None, _lock=None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        return None if self.dir is None else self.dir / DB_NAME

    def _connect(self) -> sqlite3.Connection | None:
        if self.dir is None:
            return None
        if self._con is not None and self._pid == os.getpid():
            return self._con
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as ex:
            raise OutputError(f"cannot create the embedding cache folder '{self.dir}' ({ex.strerror or ex}); give "
                              f"--cache-dir (or VERBATIM_CACHE_DIR) a folder you can write, or use --no-cache") from None
        fresh = not self.path.exists()
        try:
            con = self._open()
        except sqlite3.DatabaseError as ex:
            if _primary(ex) not in DAMAGED:  # a full disk, a read-only folder: not damage
                raise self._unusable(ex) from None
            damaged = self.path.with_name(f"{DB_NAME}.damaged")
            log.warning("embedding cache %s is unreadable (%s); set aside as %s, its texts will be re-encoded",
                        self.path, ex, damaged.name)
            os.replace(self.path, damaged)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            fresh = True
            con = self._open()
        self._con, self._pid = con, os.getpid()
        if fresh:
            self._import_shards(con)
        return con

    def _open(self) -> sqlite3.Connection:
        con = sqlite3.connect(str(self.path), timeout=120, isolation_level=None, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE IF NOT EXISTS vec (key BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        con.execute("SELECT count(*) FROM (SELECT 1 FROM vec LIMIT 1)").fetchone()  # fails fast when damaged
        return con

    def _import_shards(self, con: sqlite3.Connection) -> None:
        shards = sorted(self.dir.glob("shard-*.npz"))
        for shard in shards:
            try:
                with np.load(shard, allow_pickle=False) as z:
                    keys, vecs = z["keys"], z["vectors"]
            except Exception:  # noqa: BLE001 - a damaged shard is skipped, its texts are re-encoded
                log.warning("embedding cache shard %s is unreadable; ignoring it", shard)
                continue
            self._insert(con, [str(k) for k in keys.tolist()], np.asarray(vecs, np.float32))
        if shards:
            log.info("embedding cache: imported %d shard(s) of the previous format into %s", len(shards), self.path)

    @staticmethod
    def _insert(con: sqlite3.Connection, keys: Sequence[str], vectors: np.ndarray) -> None:
        rows = [(bytes.fromhex(k), np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors)]
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany("INSERT OR IGNORE INTO vec (key, v) VALUES (?, ?)", rows)
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:  # SQLite has already rolled back after some errors (a full disk)
                con.execute("ROLLBACK")
            raise

    def __len__(self) -> int:
        con = self._connect()
        if con is None:
            return len(self._mem)
        return int(con.execute("SELECT count(*) FROM vec").fetchone()[0])

    def get_many(self, keys: Sequence[str]) -> tuple[np.ndarray | None, list[int]]:
        """Vectors for the keys found (rows of misses left as zeros) and the positions missing."""
        found: dict[str, np.ndarray] = {}
        con = self._connect()
        if con is None:
            found = {k: self._mem[k] for k in keys if k in self._mem}
        else:
            with self._lock:
                for start in range(0, len(keys), _BATCH):
                    part = [bytes.fromhex(k) for k in keys[start:start + _BATCH]]
                    q = f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})"
                    for k, v in con.execute(q, part):
                        found[k.hex()] = np.frombuffer(v, dtype=np.float32)
        missing = [i for i, k in enumerate(keys) if k not in found]
        if not found:
            return None, missing
        dim = next(iter(found.values())).shape[0]
        out = np.zeros((len(keys), dim), dtype=np.float32)
        for i, k in enumerate(keys):
            v = found.get(k)
            if v is not None:
                out[i] = v
        return out, missing

    def put_many(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        con = self._connect()
        if con is None:
            for k, v in zip(keys, vectors):
                self._mem[k] = v
            return
        with self._lock:
            try:
                self._insert(con, keys, vectors)
            except sqlite3.DatabaseError as ex:
                raise self._unusable(ex) from None

    def _unusable(self, ex: sqlite3.DatabaseError) -> OutputError:
        """A cache that cannot be read or written for a reason other than damage, as one line; the file is
        left as it is (a full disk or a read-only folder must not cost the texts already encoded)."""
        why = {sqlite3.SQLITE_FULL: "the disk is full", sqlite3.SQLITE_READONLY: "it is read-only",
               sqlite3.SQLITE_CANTOPEN: "it cannot be opened for writing",
               sqlite3.SQLITE_PERM: "permission denied"}.get(_primary(ex), str(ex))
        return OutputError(f"cannot use the embedding cache '{self.path}' ({why}); free space or give --cache-dir "
                           f"(or VERBATIM_CACHE_DIR) a folder you can write, or use --no-cache")

    def keys(self) -> Iterable[str]:
        con = self._connect()
        if con is None:
            return list(self._mem)
        return [k.hex() for (k,) in con.execute("SELECT key FROM vec")]

    def close(self) -> None:
        if self._con is not None and self._pid == os.getpid():
            self._con.close()
        self._con = None
