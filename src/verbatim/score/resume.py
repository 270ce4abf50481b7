"""Exactly-once, resumable output: one committed part per chunk, assembled atomically at the end.

While a run goes, each chunk's results are written to a hidden folder beside the output
(``.<output>.parts/``): its scored rows, segments and rejects, each file written atomically, then a
``<chunk>.done.json`` marker (counts and spike counts) — the commit. A chunk without its marker
never happened. ``--resume`` keeps the committed chunks of a run with the same inputs, model and
chunk size and scores the others; the final files are assembled from the parts in chunk order into a
temporary file that replaces the output in one rename, then the parts are removed. Killed at any
point (kill -9 included), a rerun with ``--resume`` produces every input row exactly once.

The main output is written last and its presence means the run is done: an old output is removed
before the files beside it are replaced (:func:`remove_stale`), so a kill during the assembly never
leaves an old output beside new segments. One run at a time writes an output (:class:`OutputLock`):
a second run on it is refused with a one-line error, never left to corrupt the first.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import OutputError
from ..fileio import atomic_path, safe_csv_frame, with_suffix_name

log = logging.getLogger("verbatim")

STATE = "state.json"


def input_fingerprint(path: str | Path) -> dict[str, Any]:
    """Cheap identity of an input file (size and modification time: hashing a huge file would cost a read)."""
    st = Path(path).stat()
    return {"path": str(Path(path).resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


class OutputLock:
    """An advisory lock (``flock``) on a hidden file beside an output, held while a run writes it.

    Outputs of one name stem share a lock (``scored.csv`` and ``scored.parquet`` write the same
    ``scored.rejects.csv``). The kernel releases the lock when its process dies, kill -9 included, so a
    killed run never blocks the next; the file is removed, still locked, when the run ends. Where
    ``flock`` does not exist (Windows) runs are not guarded.
    """

    def __init__(self, output: str | Path):
        self.output = Path(output)
        self.path = self.output.with_name(f".{with_suffix_name(self.output, '').name}.score.lock")
        self._fd: int | None = None

    def __enter__(self) -> "OutputLock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no advisory locks on this platform
            return self
        while True:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as ex:
                raise OutputError(f"cannot write beside '{self.output}' ({ex.strerror}); choose another output "
                                  f"path") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 32).decode("ascii", "replace").strip()
                os.close(fd)
                who = f" (process {holder})" if holder.isdigit() else ""
                raise OutputError(f"another `verbatim score`{who} is writing '{self.output}'; wait for it to end "
                                  f"or choose another output path") from None
            except OSError as ex:  # a file system without locks (some network mounts)
                os.close(fd)
                log.warning("cannot lock %s (%s): runs on it at the same time are not prevented", self.path,
                            ex.strerror)
                return self
            try:  # the run that held it may have removed the file just before: lock the one that is there
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except OSError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)  # still locked: a run that opened it retries on a new file
            os.close(self._fd)
            self._fd = None


def remove_stale(output: Path) -> None:
    """Remove an old main output before the files beside it are replaced (see module doc)."""
    try:
        output.unlink(missing_ok=True)
    except IsADirectoryError:
        raise OutputError(f"'{output}' is a folder; choose a file name for the output") from None
    except OSError as ex:
        raise OutputError(f"cannot replace '{output}' ({ex.strerror}); check its permissions") from None


class Parts:
    """The parts folder of one output (see module doc)."""

    def __init__(self, output: str | Path):
        self.output = Path(output)
        self.dir = self.output.with_name(f".{self.output.name}.parts")

    def prepare(self, state: dict[str, Any], resume: bool) -> int:
        """Start or resume; returns how many chunks are already committed."""
        old = self._state()
        if self.dir.exists() and (not resume or old != state):
            if resume:
                log.warning("the interrupted run in %s used other inputs, model or chunk size; starting over", self.dir)
            elif old is not None:
                log.info("an interrupted run left %s; starting over (pass --resume to continue it)", self.dir)
            shutil.rmtree(self.dir)
        elif resume and not self.dir.exists():
            log.info("nothing to resume for %s; scoring from the start", self.output)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as ex:
            raise OutputError(f"cannot create '{self.dir}' ({ex.strerror}); choose another output path") from None
        for stale in self.dir.glob(".*.tmp"):  # left by a kill during an atomic write
            stale.unlink(missing_ok=True)
        if self._state() != state:
            with atomic_path(self.dir / STATE) as tmp:
                tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
        done = len(self.done_names())
        if resume and done:
            log.info("resuming: %d chunk(s) already scored", done)
        return done

    def _state(self) -> dict | None:
        try:
            return json.loads((self.dir / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def done_names(self) -> list[str]:
        return sorted(p.name[: -len(".done.json")] for p in self.dir.glob("*.done.json"))

    def is_done(self, name: str) -> bool:
        return (self.dir / f"{name}.done.json").is_file()

    def info(self, name: str) -> dict[str, Any]:
        return json.loads((self.dir / f"{name}.done.json").read_text(encoding="utf-8"))

    def write(self, name: str, kind: str, df: pd.DataFrame) -> None:
        with atomic_path(self.dir / f"{name}.{kind}.parquet") as tmp:
            df.to_parquet(tmp, index=False)

    def commit(self, name: str, info: dict[str, Any]) -> None:
        with atomic_path(self.dir / f"{name}.done.json") as tmp:
            tmp.write_text(json.dumps(info, default=str), encoding="utf-8")

    def files(self, kind: str) -> list[Path]:
        return [self.dir / f"{n}.{kind}.parquet" for n in self.done_names()]

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _schema(files: list[Path]):
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = [pq.read_schema(f).remove_metadata() for f in files]
    return pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])


def _conform(table, schema):
    import pyarrow as pa

    cols = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            cols.append(col if col.type == field.type else col.cast(field.type))
        else:
            cols.append(pa.nulls(len(table), field.type))
    return pa.Table.from_arrays(cols, schema=schema)


def assemble(files: list[Path], out: Path, fmt: str, drop: tuple[str, ...] = ()) -> int:
    """Concatenate part files (in order) into ``out`` atomically, one part in memory at a time."""
    import pyarrow.parquet as pq

    import pyarrow as pa

    schema = _schema(files)
    schema = pa.schema([f for f in schema if f.name not in drop])
    keep = schema.names
    rows = 0
    with atomic_path(out) as tmp:
        if fmt == "parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for f in files:
                    t = _conform(pq.read_table(f), schema)
                    writer.write_table(t)
                    rows += t.num_rows
            if not files:
                pd.DataFrame().to_parquet(tmp)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                first = True
                for f in files:
                    df = _conform(pq.read_table(f), schema).to_pandas()
                    safe_csv_frame(df).to_csv(fh, index=False, header=first, lineterminator="\r\n")
                    first = False
                    rows += len(df)
                if first:
                    fh.write(",".join(keep) + "\r\n")
    return rows


def output_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        return fmt
    name = path.name.lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise OutputError(f"cannot tell the output format of '{path}'; name it .parquet or .csv")
