"""Ingest: read files of any supported format and produce the verbatim table.

>>> from verbatim.ingest import ingest
>>> result = ingest([FileSpec(path="clients.csv", source="customer", text=("commentaire",))])
>>> result.verbatims.head()

Nothing is lost: each input record is *kept* (it gave at least one verbatim),
*merged as a duplicate* of an earlier verbatim, or *rejected* with a reason;
``read N rows: kept K, duplicates D, rejected R`` with N = K + D + R.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..config import FileSpec, IngestConfig
from ..fileio import output_set, with_suffix_name, write_csv, write_parquet
from .contract import CONTRACT, REJECT_COLUMNS, map_table, merge_duplicates
from .readers import RawTable, read_any

log = logging.getLogger("verbatim")

__all__ = ["ingest", "IngestResult", "FileCounts", "write_ingest", "read_any", "RawTable", "CONTRACT"]


@dataclass(frozen=True)
class FileCounts:
    file: str
    read: int
    kept: int
    duplicates: int
    rejected: int
    verbatims: int
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None

    def line(self) -> str:
        return f"read {self.read} rows: kept {self.kept}, duplicates {self.duplicates}, rejected {self.rejected}"


@dataclass
class IngestResult:
    """The verbatim table, the rejects, and counts that reconcile per file and in total."""

    verbatims: pd.DataFrame
    rejects: pd.DataFrame
    files: list[FileCounts] = field(default_factory=list)
    duplicate_texts: int = 0

    @property
    def total(self) -> FileCounts:
        s = lambda a: sum(getattr(f, a) for f in self.files)  # noqa: E731
        return FileCounts("(all)", s("read"), s("kept"), s("duplicates"), s("rejected"), len(self.verbatims))

    def summary_lines(self) -> list[str]:
        lines = []
        if len(self.files) > 1:
            lines += [f"{Path(f.file).name}: {f.line()}" for f in self.files]
        t = self.total
        lines.append(t.line())
        lines.append(f"verbatims: {t.verbatims} written"
                     + (f", {self.duplicate_texts} duplicate texts merged" if self.duplicate_texts else ""))
        return lines


def ingest(specs: Sequence[FileSpec] | FileSpec, cfg: IngestConfig | None = None) -> IngestResult:
    """Read and map every file, then merge exact duplicates across all of them."""
    cfg = cfg or IngestConfig()
    if isinstance(specs, FileSpec):
        specs = [specs]
    for spec in specs:  # a wrong source label fails before any file is read
        if spec.source is not None:
            cfg.canonical_source(spec.source)
    mapped, tables = [], []
    for spec in specs:
        table = read_any(spec.path, spec.format, sheet=spec.sheet, records=spec.records,
                         encoding=spec.encoding, delimiter=spec.delimiter)
        mapped.append(map_table(table, spec, cfg))
        tables.append(table)
    # "_spec" tells the files apart even when one path is given twice
    frames = [m.verbatims.assign(_spec=i) for i, m in enumerate(mapped) if not m.verbatims.empty]
    allv = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CONTRACT[: CONTRACT.index("row") + 1] + ["_spec"])
    kept, n_dup_texts = merge_duplicates(allv)
    kept_rows = set(zip(kept["_spec"], kept["row"]))
    per_spec = kept["_spec"].value_counts()
    kept = _order_columns(kept.drop(columns="_spec"))
    rejects = pd.concat([m.rejects for m in mapped], ignore_index=True) if mapped else pd.DataFrame(columns=REJECT_COLUMNS)

    counts = []
    for i, (spec, m, table) in enumerate(zip(specs, mapped, tables)):
        fname = str(spec.path)
        produced = set(m.verbatims["row"]) if not m.verbatims.empty else set()
        k = sum(1 for row in produced if (i, row) in kept_rows)
        d = len(produced) - k
        r = len(m.rejects)
        c = FileCounts(fname, m.n_records, k, d, r, int(per_spec.get(i, 0)),
                       table.format, table.encoding, table.delimiter)
        if c.read != c.kept + c.duplicates + c.rejected:  # an internal bug, never a user mistake
            raise RuntimeError(f"row accounting does not reconcile for {fname}: {c}")
        counts.append(c)
    return IngestResult(kept, rejects, counts, n_dup_texts)


def _order_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Contract columns first with fixed types; extra input columns after, as text (one type per
    column, so Parquet can store them)."""
    first = [c for c in CONTRACT if c in df.columns]
    rest = [c for c in df.columns if c not in first]
    out: dict[str, object] = {}
    for c in first:
        values = df[c].to_numpy(dtype=object)
        if c == "date":
            # one resolution whatever the input (years are bounded to 1900-2200 by parse_date)
            out[c] = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce").astype("datetime64[ns]")
        elif c == "score":
            out[c] = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").astype("float64")
        elif c in ("row", "duplicates"):
            out[c] = pd.Series(values, dtype="int64")
        else:
            out[c] = pd.Series(values, dtype=object)
    if not out and not rest:
        return df
    extra = df[rest].to_numpy(dtype=object)  # one block, not a Series per column (20,000-column exports)
    extra = np.frompyfunc(lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v), 1, 1)(extra)
    return pd.concat([pd.DataFrame(out, index=df.index), pd.DataFrame(extra, index=df.index, columns=rest, dtype=object)],
                     axis=1)[first + rest]


def write_ingest(result: IngestResult, out: str | Path) -> tuple[Path, Path]:
    """Write ``out`` (Parquet) and ``<out>.rejects.csv`` beside it, as a set: both or neither."""
    out = Path(out)
    rej_path = with_suffix_name(out, ".rejects.csv")
    with output_set() as outs:
        outs.add(out, lambda p: write_parquet(result.verbatims, p))
        outs.add(rej_path, lambda p: write_csv(result.rejects, p))
    return out, rej_path


def read_verbatims(path: str | Path) -> pd.DataFrame:
    """Read a Parquet file written by :func:`write_ingest`, checking it has the contract columns."""
    from ..errors import InputFileError
    from .readers import check_file

    path = Path(path)
    check_file(path, "run `verbatim ingest` first or check the path")
    try:
        df = pd.read_parquet(path)
    except Exception as ex:
        raise InputFileError(f"file '{path}' is not a readable Parquet file ({type(ex).__name__}); "
                             f"give the output of `verbatim ingest`") from None
    missing = [c for c in ("id", "source", "text") if c not in df.columns]
    if missing:
        raise InputFileError(f"file '{path}' lacks column(s) {', '.join(missing)}; give the output of `verbatim ingest`")
    return df
