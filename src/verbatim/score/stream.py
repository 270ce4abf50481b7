"""Read new comments in chunks of ``chunk_rows`` records, whatever the file size.

The reader is ``verbatim ingest``'s: a CSV (plain or gzip) is read by
:func:`verbatim.ingest.readers.read_csv_chunks`, the stream :func:`~verbatim.ingest.readers.read_csv`
itself is built on (the same decoding of mixed UTF-8/cp1252 lines, the same delimiter, the same rejects
of a quote left open or a record with the wrong number of fields, record and line numbers from the
start of the file); Parquet by :func:`~verbatim.ingest.readers.read_parquet_chunks` (row batches, the
column rules of ``read_parquet``). Excel and JSON files are read whole (they are small in practice)
and cut into chunks.

Each chunk is mapped onto the verbatim contract by :func:`verbatim.ingest.contract.map_table`, the
function ``verbatim ingest`` uses, so a row is kept or rejected for the same reasons. Duplicates are
not merged: every input row is scored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from ..config import FileSpec, IngestConfig
from ..ingest.contract import REJECT_COLUMNS, _raw_repr, map_table
from ..ingest.readers import RawTable, detect_format, read_any, read_csv_chunks, read_parquet_chunks

log = logging.getLogger("verbatim")


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


def whole_tables(spec: FileSpec, chunk_rows: int) -> Iterator[RawTable]:
    t = read_any(spec.path, spec.format, sheet=spec.sheet, records=spec.records, encoding=spec.encoding,
                 delimiter=spec.delimiter)
    frame = t.frame.reset_index(drop=True)
    for k, start in enumerate(range(0, max(len(frame), 1), chunk_rows)):
        stop = start + chunk_rows
        part = frame.iloc[start:stop].reset_index(drop=True)
        notes = {(i - start, c): why for (i, c), why in t.notes.items() if start <= i < stop}
        yield RawTable(t.path, part, t.rows[start:stop], t.rejects if k == 0 else [], t.format, t.encoding,
                       t.delimiter, t.lines[start:stop] if t.lines is not None else None, notes)


def raw_tables(spec: FileSpec, chunk_rows: int) -> Iterator[RawTable]:
    path = Path(spec.path)
    fmt = spec.format if spec.format != "auto" else detect_format(path)
    if fmt == "csv":
        return read_csv_chunks(path, chunk_rows, spec.encoding, spec.delimiter)
    if fmt == "parquet":
        return read_parquet_chunks(path, chunk_rows)
    return whole_tables(spec, chunk_rows)


def map_verbatim_table(table: RawTable, spec: FileSpec, cfg: IngestConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A chunk of an ingested verbatim table: rows with no text are rejected (and the records the reader
    could not parse, with its reasons), the rest kept as they are."""
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
    idx = np.flatnonzero(bad)
    rows = np.asarray(table.rows, dtype=np.int64)
    lines = np.asarray(table.line_of(), dtype=np.int64)
    rej = pd.DataFrame({"file": str(spec.path), "row": rows[idx], "line": lines[idx], "reason": "empty text in 'text'",
                        "raw": _raw_repr(frame, idx)}, columns=REJECT_COLUMNS)
    if table.rejects:
        pre = pd.DataFrame([{**r, "file": str(spec.path), "line": r.get("line") or r["row"]} for r in table.rejects],
                           columns=REJECT_COLUMNS)
        rej = pd.concat([pre, rej], ignore_index=True).sort_values("row", kind="stable").reset_index(drop=True)
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
