"""Read new comments in chunks of ``chunk_rows`` records, whatever the file size.

CSV (plain or gzip) is decoded and parsed as a stream, with the same rules as
:func:`verbatim.ingest.readers.read_csv` (encoding and delimiter detected on the head of the
file, records with the wrong number of fields rejected, record numbers 1-based); Parquet is read
by row batches. Excel and JSON files are read whole (they are small in practice) and cut into chunks.

Each chunk is mapped onto the verbatim contract by :func:`verbatim.ingest.contract.map_table`, the
function ``verbatim ingest`` uses, so a row is kept or rejected for the same reasons. Duplicates are
not merged: every input row is scored.
"""
from __future__ import annotations

import csv
import gzip
import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pandas as pd

from ..config import FileSpec, IngestConfig
from ..errors import InputFileError
from ..ingest.contract import map_table
from ..ingest.readers import RawTable, detect_format, read_any, read_header, sniff_delimiter

log = logging.getLogger("verbatim")

HEAD_BYTES = 1 << 18


@dataclass
class Chunk:
    """One chunk of one input file, mapped: its verbatims, its rejects and how many records it read."""

    file_index: int
    index: int
    verbatims: pd.DataFrame
    rejects: pd.DataFrame
    n_records: int
    path: str = ""

    @property
    def name(self) -> str:
        return f"f{self.file_index:03d}-c{self.index:06d}"


def _open_binary(path: Path):
    if not path.exists():
        raise InputFileError(f"file '{path}' does not exist; check the path")
    if path.is_dir():
        raise InputFileError(f"'{path}' is a folder, not a file; give the path of a file inside it")
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def _detect_encoding(head: bytes, path: Path, encoding: str | None) -> str:
    if encoding:
        try:
            head[: head.rfind(b"\n") + 1 or len(head)].decode(encoding)
        except (UnicodeDecodeError, LookupError) as ex:
            raise InputFileError(f"file '{path}' cannot be read as {encoding}: {ex}; drop --encoding to detect it") from None
        return encoding
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    whole = head[: head.rfind(b"\n") + 1] if len(head) >= HEAD_BYTES and b"\n" in head else head
    try:
        whole.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        whole.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def csv_tables(path: Path, chunk_rows: int, encoding: str | None = None,
               delimiter: str | None = None) -> Iterator[RawTable]:
    """RawTables of at most ``chunk_rows`` records each (rejected records ride with their chunk)."""
    with _open_binary(path) as raw:
        head = raw.read(HEAD_BYTES)
    enc = _detect_encoding(head, path, encoding)
    head_text = head.decode(enc, errors="replace").replace("\x00", "")
    if not head_text.strip():
        raise InputFileError(f"file '{path}' is empty; export it again with a header row and data")
    delim = delimiter or sniff_delimiter(head_text)
    with _open_binary(path) as raw:
        text = io.TextIOWrapper(raw, encoding=enc, errors="replace", newline="")
        reader = csv.reader((line.replace("\x00", "") for line in text), delimiter=delim, strict=False)
        header = read_header(reader, path)
        width = len(header)
        n = 0
        records: list[list[str]] = []
        rows: list[int] = []
        rejects: list[dict] = []

        def flush() -> RawTable:
            frame = (pd.DataFrame(records, columns=header, dtype=object) if records
                     else pd.DataFrame(columns=header, dtype=object))
            return RawTable(path, frame, list(rows), list(rejects), "csv", enc, delim)

        while True:
            try:
                rec = next(reader)
            except StopIteration:
                break
            except csv.Error as ex:
                n += 1
                rejects.append({"row": n, "reason": f"unparseable CSV record ({ex})", "raw": ""})
                continue
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue
            n += 1
            if len(rec) > width and not any(v.strip() for v in rec[width:]):
                rec = rec[:width]
            if len(rec) != width:
                rejects.append({"row": n, "reason": f"record has {len(rec)} fields but the header has {width} "
                                                    f"(an unquoted '{delim}' or a cut line?)",
                                "raw": delim.join(rec)[:2000]})
            else:
                records.append(rec)
                rows.append(n)
            if len(records) + len(rejects) >= chunk_rows:
                yield flush()
                records, rows, rejects = [], [], []
        if records or rejects or n == 0:
            yield flush()


def parquet_tables(path: Path, chunk_rows: int) -> Iterator[RawTable]:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise InputFileError(f"file '{path}' does not exist; check the path")
    try:
        pf = pq.ParquetFile(path)
    except Exception as ex:  # noqa: BLE001
        raise InputFileError(f"file '{path}' is not a readable Parquet file ({type(ex).__name__}: {ex})") from None
    start = 0
    for batch in pf.iter_batches(batch_size=chunk_rows):
        frame = batch.to_pandas().reset_index(drop=True).astype(object)
        yield RawTable(path, frame, list(range(start + 1, start + len(frame) + 1)), [], "parquet")
        start += len(frame)
    if start == 0:
        yield RawTable(path, pf.schema_arrow.empty_table().to_pandas().astype(object), [], [], "parquet")


def whole_tables(spec: FileSpec, chunk_rows: int) -> Iterator[RawTable]:
    t = read_any(spec.path, spec.format, sheet=spec.sheet, records=spec.records, encoding=spec.encoding,
                 delimiter=spec.delimiter)
    frame = t.frame.reset_index(drop=True)
    for k, start in enumerate(range(0, max(len(frame), 1), chunk_rows)):
        part = frame.iloc[start:start + chunk_rows]
        yield RawTable(t.path, part, t.rows[start:start + chunk_rows], t.rejects if k == 0 else [],
                       t.format, t.encoding, t.delimiter)


def raw_tables(spec: FileSpec, chunk_rows: int) -> Iterator[RawTable]:
    path = Path(spec.path)
    fmt = spec.format if spec.format != "auto" else detect_format(path)
    if fmt == "csv":
        return csv_tables(path, chunk_rows, spec.encoding, spec.delimiter)
    if fmt == "parquet":
        return parquet_tables(path, chunk_rows)
    return whole_tables(spec, chunk_rows)


def map_verbatim_table(table: RawTable, spec: FileSpec, cfg: IngestConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A chunk of an ingested verbatim table: rows with no text are rejected, the rest kept as they are."""
    from ..ingest.contract import REJECT_COLUMNS, _raw_repr

    frame = table.frame.reset_index(drop=True)
    text = frame["text"].map(lambda t: t if isinstance(t, str) else ("" if t is None or t != t else str(t)))
    bad = (text.str.strip() == "").to_numpy()
    keep = frame[~bad].copy()
    keep["text"] = text[~bad].to_numpy()
    for c in ("date",):
        if c in keep:
            keep[c] = pd.to_datetime(keep[c], errors="coerce")
    if "score" in keep:
        keep["score"] = pd.to_numeric(keep["score"], errors="coerce")
    import numpy as np

    idx = np.flatnonzero(bad)
    rows = np.asarray(table.rows, dtype=np.int64)
    rej = pd.DataFrame({"file": str(spec.path), "row": rows[idx], "reason": "empty text in 'text'",
                        "raw": _raw_repr(frame, idx)}, columns=REJECT_COLUMNS)
    if "row" not in keep:
        keep["row"] = rows[~bad]
    keep["_input_row"] = rows[~bad]
    return keep.reset_index(drop=True), rej


def iter_chunks(specs: list[tuple[FileSpec, bool]], cfg: IngestConfig, chunk_rows: int) -> Iterator[Chunk]:
    """Every chunk of every file, mapped (see module doc); ``specs`` pairs each file's mapping with whether
    it is a verbatim table already (read as it is). Chunk numbering is deterministic."""
    for fi, (spec, as_verbatims) in enumerate(specs):
        for ci, table in enumerate(raw_tables(spec, chunk_rows)):
            if as_verbatims:
                verb, rej = map_verbatim_table(table, spec, cfg)
            else:
                mapped = map_table(table, spec, cfg)
                verb, rej = mapped.verbatims, mapped.rejects
                verb["_input_row"] = verb["row"].astype("int64") if len(verb) else pd.Series(dtype="int64")
            yield Chunk(fi, ci, verb, rej, table.n_records, str(spec.path))
