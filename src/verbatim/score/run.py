"""Score files of any size through a saved pipeline: stream, commit per chunk, assemble, alert.

>>> res = score_files("models/run1", ["new.csv"], "scored.parquet", mapping={"source": "customer", "text": ["avis"]})
>>> res.summary_lines()      # counts that reconcile per file
>>> res.alerts               # spikes of the new batch against the artefact's history

Outputs, beside ``scored.parquet`` (or ``.csv``): ``scored.segments.parquet`` (one row per segment),
``scored.rejects.csv`` (rows that could not be scored, with the reason) and ``scored.alerts.csv``
(every source × unit × topic × period of the batch tested by the spike rule).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from ..config import FileSpec, IngestConfig
from ..daskpool import DaskPool
from ..embed import get_embedder
from ..errors import ConfigError, InputFileError
from ..fileio import with_suffix_name, write_csv
from .distributed import run_distributed, score_dask_frame
from .model import ScoringModel, score_verbatims
from .resume import OutputLock, Parts, assemble, input_fingerprint, output_format, remove_stale
from .stream import Chunk, iter_chunks, raw_tables

log = logging.getLogger("verbatim")

ALL_UNITS = "(all)"
MAPPING_KEYS = ("source", "source_column", "text", "id", "date", "unit", "score", "channel", "text_mode", "format",
                "sheet", "records", "encoding", "delimiter", "score_scale")


@dataclass
class FileScoreCounts:
    file: str
    read: int = 0
    scored: int = 0
    rejected: int = 0
    verbatims: int = 0
    segments: int = 0

    def line(self) -> str:
        return (f"read {self.read} rows: scored {self.scored}, rejected {self.rejected} "
                f"({self.verbatims} verbatims, {self.segments} segments)")


@dataclass
class ScoreResult:
    output: Path
    segments: Path
    rejects: Path
    alerts_path: Path
    alerts: pd.DataFrame
    files: list[FileScoreCounts] = field(default_factory=list)
    seconds: float = 0.0
    resumed_chunks: int = 0
    #: Dask runs: how many times each worker deserialised the scoring model (one each)
    worker_loads: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> FileScoreCounts:
        t = FileScoreCounts("(all)")
        for f in self.files:
            for a in ("read", "scored", "rejected", "verbatims", "segments"):
                setattr(t, a, getattr(t, a) + getattr(f, a))
        return t

    def summary_lines(self) -> list[str]:
        lines = [f"{Path(f.file).name}: {f.line()}" for f in self.files] if len(self.files) > 1 else []
        t = self.total
        lines.append(t.line())
        rate = t.read / self.seconds if self.seconds > 0 else float("nan")
        lines.append(f"{t.read} rows in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
                     + (f"; {self.resumed_chunks} chunk(s) kept from the interrupted run" if self.resumed_chunks else ""))
        return lines


# -- which mapping each file gets --------------------------------------------------------------------
def _columns(spec: FileSpec) -> list[str]:
    tables = raw_tables(spec, 1)
    try:
        return [str(c) for c in next(iter(tables)).frame.columns]
    finally:
        getattr(tables, "close", lambda: None)()  # a stream read no further: its file is closed now


def resolve_specs(files: Sequence[str | Path], mapping: dict[str, Any] | None,
                  artefact_specs: Sequence[FileSpec]) -> list[tuple[FileSpec, bool]]:
    """Each file's mapping: the one given; else a verbatim table as it is (``id``, ``source``, ``text``
    columns); else the first of the artefact's own ``[[ingest.files]]`` mappings whose columns it has."""
    mapping = {k: v for k, v in (mapping or {}).items() if v not in (None, (), [])}
    unknown = set(mapping) - set(MAPPING_KEYS)
    if unknown:
        raise ConfigError(f"unknown mapping option(s) {', '.join(sorted(unknown))}; known: {', '.join(MAPPING_KEYS)}")
    out = []
    for f in files:
        f = str(f)
        if not Path(f).exists():
            raise InputFileError(f"file '{f}' does not exist; check the path")
        if mapping.get("text"):
            text = mapping["text"]
            out.append((FileSpec(path=f, **{**mapping, "text": tuple([text] if isinstance(text, str) else text)}), False))
            continue
        probe = FileSpec(path=f, text=("text",), source_column="source",
                         **{k: v for k, v in mapping.items() if k in ("format", "sheet", "records", "encoding", "delimiter")})
        cols = _columns(probe)
        if {"id", "source", "text"} <= set(cols):
            out.append((probe, True))
            continue
        for s in artefact_specs:
            needed = [t.column for t in s.text] + [c for c in (s.source_column,) if c]
            if all(c in cols for c in needed):
                out.append((replace(s, path=f, **{k: v for k, v in mapping.items() if k != "text"}), False))
                log.info("%s: mapped as the artefact's %s (source %s, text %s)", f, Path(s.path).name,
                         s.source or f"from column {s.source_column}", ", ".join(t.column for t in s.text))
                break
        else:
            raise ConfigError(f"cannot tell how to read '{f}': it is not a verbatim table and none of the artefact's "
                              f"mappings fits its columns ({', '.join(cols[:8])}{'…' if len(cols) > 8 else ''}); "
                              f"give --text COLUMN and --source LABEL (or --source-column)")
    return out


# -- one chunk -----------------------------------------------------------------------------------------
def score_chunk(model: ScoringModel, chunk: Chunk, period: str) -> dict[str, Any]:
    """Score one chunk; returns its tables and its counts (what a worker sends back)."""
    from ..spikes import spike_counts

    verb = chunk.verbatims.rename(columns={"_input_row": "input_row"})
    scored, segs = score_verbatims(verb, model)
    seg_keys = segs["row_key"].to_numpy()
    segs.insert(0, "input_file", chunk.path)
    segs.insert(1, "input_row", verb["input_row"].to_numpy()[seg_keys] if len(segs) else np.zeros(0, np.int64))
    segs = segs.drop(columns="row_key")
    kept_rows = int(verb["input_row"].nunique()) if len(verb) else 0
    if kept_rows + len(chunk.rejects) != chunk.n_records:  # an internal bug, never a user mistake
        raise RuntimeError(f"chunk {chunk.name}: {chunk.n_records} records but {kept_rows} scored + "
                           f"{len(chunk.rejects)} rejected")
    counts = _spike_counts(segs, period, spike_counts)
    rejects = chunk.rejects.reindex(columns=["file", "row", "reason", "raw"]).astype(
        {"file": "string", "row": "int64", "reason": "string", "raw": "string"})
    return {"scored": scored, "segments": segs, "rejects": rejects,
            "info": {"file_index": chunk.file_index, "read": chunk.n_records, "scored": kept_rows,
                     "rejected": len(chunk.rejects), "verbatims": len(scored), "segments": len(segs),
                     "volume": counts[0].to_dict("records"), "counts": counts[1].to_dict("records")}}


def _spike_counts(segs: pd.DataFrame, period: str, spike_counts: Callable) -> tuple[pd.DataFrame, pd.DataFrame]:
    if segs.empty:
        return pd.DataFrame(columns=["source", "unit", "period", "n"]), pd.DataFrame(
            columns=["source", "unit", "topic", "period", "count"])
    s = segs[["source", "unit", "topic", "date", "irritant"]].copy()
    s["unit"] = s["unit"].astype("string").fillna("")
    both = pd.concat([s, s.assign(unit=ALL_UNITS)], ignore_index=True)
    return spike_counts(both, period, by=("source", "unit"))


# -- alerts ---------------------------------------------------------------------------------------------
def batch_alerts(model: ScoringModel, infos: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """The spike rule (``verbatim.spikes``, settings ``polarity.spike_*`` and ``polarity.period`` of the
    artefact's configuration) on the batch's periods, against the artefact's history: per source ×
    unit (``(all)``: every unit) × topic × period."""
    from ..spikes import spike_counts, spike_table_counts

    cfg = model.config_.polarity
    infos = list(infos)
    vol_new = pd.DataFrame([r for i in infos for r in i["volume"]], columns=["source", "unit", "period", "n"])
    cnt_new = pd.DataFrame([r for i in infos for r in i["counts"]], columns=["source", "unit", "topic", "period", "count"])
    if vol_new.empty:  # no segment of the batch has a date
        from ..spikes import SPIKE_COLUMNS

        return pd.DataFrame(columns=["source", "unit"] + SPIKE_COLUMNS[1:])
    cols = ["source", "unit", "topic", "date", "irritant"]
    try:
        hist = pd.read_parquet(model.path_ / "segments.parquet", columns=cols)
    except (OSError, ValueError, KeyError):
        log.warning("%s has no segment history with dates; alerts compare the batch with itself", model.path_)
        hist = pd.DataFrame(columns=cols)
    vol_h, cnt_h = _spike_counts(hist, cfg.period, spike_counts) if len(hist) else (vol_new.iloc[:0], cnt_new.iloc[:0])
    # only the groups (source × unit) the batch touches, and only its periods, are tested
    groups = vol_new[["source", "unit"]].drop_duplicates()
    vol_h = vol_h.merge(groups, on=["source", "unit"])
    cnt_h = cnt_h.merge(groups, on=["source", "unit"])
    batch_periods = sorted(set(vol_new["period"].astype(str)))
    table = spike_table_counts(pd.concat([vol_h, vol_new]), pd.concat([cnt_h, cnt_new]), period=cfg.period,
                               history=cfg.spike_history, min_count=cfg.spike_min_count, alpha=cfg.spike_alpha,
                               by=("source", "unit"), labels=model.labels_, periods=batch_periods)
    return table.sort_values(["flagged", "p_value"], ascending=[False, True], kind="stable").reset_index(drop=True)


def render_alerts(alerts: pd.DataFrame, n: int = 10) -> str:
    if alerts.empty or not alerts["flagged"].any():
        return "alerts: no spike in the new batch"
    f = alerts[alerts["flagged"]]
    lines = [f"alerts: {len(f)} spike(s) in the new batch"]
    for r in f.head(n).itertuples(index=False):
        unit = "" if r.unit == ALL_UNITS else f" @ {r.unit}"
        lines.append(f"  {r.source}{unit} · {r.topic_label or r.topic} · {r.period}: {r.count} irritants "
                     f"(expected {r.expected:.1f}, p={r.p_value:.2g})")
    if len(f) > n:
        lines.append(f"  … and {len(f) - n} more in the alerts file")
    return "\n".join(lines)


# -- the run ------------------------------------------------------------------------------------------
def _estimate_rows(specs: list[tuple[FileSpec, bool]]) -> int | None:
    """Rows to read, for the progress bar: Parquet metadata, else newlines counted (fast, approximate)."""
    total = 0
    for spec, _ in specs:
        p = Path(spec.path)
        try:
            if p.name.lower().endswith((".parquet", ".pq")):
                import pyarrow.parquet as pq

                total += pq.ParquetFile(p).metadata.num_rows
            elif p.name.lower().endswith((".csv", ".tsv", ".txt")):
                with open(p, "rb") as fh:
                    total += max(0, sum(b.count(b"\n") for b in iter(lambda: fh.read(1 << 22), b"")) - 1)
            else:
                return None
        except OSError:
            return None
    return total


def score_files(model: str | Path | ScoringModel, files: Sequence[str | Path], output: str | Path, *,
                mapping: dict[str, Any] | None = None, chunk_rows: int = 2000, resume: bool = False,
                dask: str | None = None, cache: str | Path | bool | None = True, embedder: Any = None,
                allow_sources: Sequence[str] = (), progress: bool | None = None,
                fmt: str | None = None) -> ScoreResult:
    """Score ``files`` through the pipeline saved in ``model``; see the module doc for the outputs.

    ``mapping``: ingest options (``source``, ``text``, ``id``, ``date``, ``unit``…) for raw files; by
    default a verbatim table is read as it is and a raw file with the artefact's own mapping.
    ``chunk_rows`` bounds memory; ``resume`` continues an interrupted run; ``dask``: ``local:N`` or
    ``tcp://host:port`` (see :mod:`verbatim.daskpool`).
    """
    t0 = time.perf_counter()
    pool = DaskPool(dask) if dask is not None else None  # a bad spec fails first, before anything is read
    if embedder is not None and not isinstance(model, ScoringModel):
        get_embedder(embedder)  # an unknown embedder fails first, whether or not the cache is warm
    if not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ConfigError(f"chunk_rows must be a positive integer; got {chunk_rows!r}")
    if not files:
        raise InputFileError("no input file; give at least one file of new comments to score")
    output = Path(output)
    fmt = output_format(output, fmt)
    m = model if isinstance(model, ScoringModel) else ScoringModel.load(model, embedder=embedder, cache=cache)
    # the artefact's ingest rules (sources, tags, text limits), but a new comment without a date is still
    # scored: it just takes no part in the spike alerts
    icfg: IngestConfig = replace(m.config_.ingest, date_required=False)
    if allow_sources:
        icfg = replace(icfg, sources=tuple(dict.fromkeys(icfg.sources + tuple(s.strip().casefold() for s in allow_sources))))
    specs = resolve_specs(files, mapping, icfg.files)
    for spec, _ in specs:  # a wrong source label fails before anything is read
        if spec.source is not None:
            icfg.canonical_source(spec.source)
    with OutputLock(output):  # one run at a time on one output
        parts = Parts(output)
        state = {"model": m.fingerprint(), "inputs": [input_fingerprint(s.path) for s, _ in specs],
                 "chunk_rows": chunk_rows, "mapping": [repr(s) for s, _ in specs], "format": fmt}
        resumed = parts.prepare(state, resume)
        try:
            infos = _score_parts(m, specs, icfg, parts, chunk_rows, pool, progress)
        except BaseException:
            if not parts.done_names():  # a failed start leaves nothing behind
                parts.remove()
            raise
        counts = [FileScoreCounts(str(s.path)) for s, _ in specs]
        for i in infos:
            c = counts[i["file_index"]]
            for a in ("read", "scored", "rejected", "verbatims", "segments"):
                setattr(c, a, getattr(c, a) + int(i[a]))
        for c in counts:
            if c.read != c.scored + c.rejected:  # an internal bug, never a user mistake
                raise RuntimeError(f"row accounting does not reconcile for {c.file}: {c}")
        res = _assemble_outputs(m, parts, output, fmt, infos, sum(c.verbatims for c in counts))
        parts.remove()
    res.files, res.seconds, res.resumed_chunks = counts, time.perf_counter() - t0, resumed
    for i in infos:
        if "worker" in i:
            res.worker_loads[i["worker"]] = max(res.worker_loads.get(i["worker"], 0), int(i["model_loads"]))
    return res


def _assemble_outputs(m: ScoringModel, parts: Parts, output: Path, fmt: str, infos: list[dict[str, Any]],
                      n_verbatims: int) -> ScoreResult:
    """The final files from the committed parts; the main output last (its presence means done), and an
    old one removed first, so a kill on the way never leaves it beside the new files."""
    seg_path = with_suffix_name(output, f".segments.{fmt}")
    rej_path = with_suffix_name(output, ".rejects.csv")
    alerts_path = with_suffix_name(output, ".alerts.csv")
    remove_stale(output)
    assemble(parts.files("segments"), seg_path, fmt)
    assemble(parts.files("rejects"), rej_path, "csv")
    alerts = batch_alerts(m, infos)
    write_csv(alerts, alerts_path)
    n = assemble(parts.files("scored"), output, fmt)
    if n != n_verbatims:
        raise RuntimeError(f"{output}: wrote {n} rows but the chunks scored {n_verbatims}")
    return ScoreResult(output, seg_path, rej_path, alerts_path, alerts)


def _score_parts(m: ScoringModel, specs: list[tuple[FileSpec, bool]], icfg: IngestConfig, parts: Parts,
                 chunk_rows: int, pool: DaskPool | None, progress: bool | None) -> list[dict[str, Any]]:
    """Score and commit every chunk not committed yet; returns the committed chunks' counts, in order."""
    period = m.config_.polarity.period
    show = progress if progress is not None else True
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=_estimate_rows(specs), unit="row", desc="scoring", unit_scale=True, smoothing=0.1)
    chunks = iter_chunks(specs, icfg, chunk_rows)

    def commit(name: str, res: dict[str, Any]) -> None:
        for kind in ("scored", "segments", "rejects"):
            parts.write(name, kind, res[kind])
        parts.commit(name, res["info"])

    try:
        if pool is not None:
            run_distributed(m, chunks, parts, commit, period, pool, score_chunk, bar)
        else:
            for chunk in chunks:
                if parts.is_done(chunk.name):
                    if bar is not None:
                        bar.update(chunk.n_records)
                    continue
                commit(chunk.name, score_chunk(m, chunk, period))
                if bar is not None:
                    bar.update(chunk.n_records)
    except KeyboardInterrupt:
        log.warning("interrupted after %d committed chunk(s); the same command with --resume continues",
                    len(parts.done_names()))
        raise
    finally:
        if bar is not None:
            bar.close()
    return [parts.info(n) for n in parts.done_names()]


def score(data: pd.DataFrame, model: str | Path | ScoringModel, *, segments: bool = False,
          cache: str | Path | bool | None = True, embedder: Any = None, **mapping: Any):
    """Score a DataFrame of new comments (for notebooks): a verbatim table (``id``, ``source``, ``text``…)
    as it is, or raw rows with ingest options (``source="customer", text="avis", date=…``).

    Returns the rows with topic, irritant probability and mirror columns added (and the segment table
    too when ``segments=True``). A ``dask.dataframe`` is scored partition by partition, lazily.
    """
    m = model if isinstance(model, ScoringModel) else ScoringModel.load(model, embedder=embedder, cache=cache)
    if hasattr(data, "map_partitions") and not isinstance(data, pd.DataFrame):
        if segments:
            raise ConfigError("segments=True is not available for a dask DataFrame; score the segments per file "
                              "with verbatim.score.score_files")
        return score_dask_frame(data, m, mapping, frame_verbatims)
    verb = frame_verbatims(data, m, mapping)
    scored, segs = score_verbatims(verb, m)
    if segments:
        return scored, segs.drop(columns="row_key")
    return scored


def frame_verbatims(data: pd.DataFrame, m: ScoringModel, mapping: dict[str, Any]) -> pd.DataFrame:
    """``data`` as verbatims: a verbatim table as it is, raw rows through the ingest mapping (rejected rows
    are left out with a warning)."""
    from ..ingest.contract import map_table
    from ..ingest.readers import RawTable

    if not isinstance(data, pd.DataFrame):
        raise ConfigError(f"score() needs a pandas or dask DataFrame; got {type(data).__name__}")
    if not mapping.get("text") and {"id", "source", "text"} <= set(map(str, data.columns)):
        empty = data["text"].isna() | (data["text"].astype(str).str.strip() == "")
        if empty.any():
            raise InputFileError(f"{int(empty.sum())} row(s) have no text; drop them or run `verbatim ingest`")
        return data.reset_index(drop=True)
    if not mapping.get("text"):
        raise ConfigError("the DataFrame is not a verbatim table (id, source, text); pass text=COLUMN and "
                          "source=LABEL (or source_column=COLUMN)")
    text = mapping.pop("text")
    spec = FileSpec(path="(DataFrame)", text=tuple([text] if isinstance(text, str) else text), **mapping)
    table = RawTable(Path("(DataFrame)"), data.reset_index(drop=True).astype(object), list(range(1, len(data) + 1)))
    mapped = map_table(table, spec, m.config_.ingest)
    if len(mapped.rejects):
        log.warning("%d row(s) could not be scored: %s", len(mapped.rejects), mapped.rejects["reason"].iloc[0])
    return mapped.verbatims


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))
