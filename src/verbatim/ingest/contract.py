"""Map a raw table onto the verbatim contract, reject what cannot be used, merge duplicates.

The contract (SPEC "Words"): ``id``, ``text``, ``source``, ``date``, ``unit``,
``score``, ``channel`` plus ``record_id`` (the input row's id, shared by the
verbatims split from one row), ``tag`` and ``polarity_tag`` (for split text
columns such as pros/cons), ``file`` and ``row`` (where it came from),
``duplicates`` and ``duplicate_rows`` (how many exact repeats were merged into
it, and from where), and every other input column as text.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import FileSpec, IngestConfig
from ..errors import ColumnNotFound, UnknownSource, did_you_mean, show
from ..textnorm import clean_text, dedupe_key
from .parse import check_scores, parse_dates, parse_scale, parse_scores, score_denominator
from .readers import RawTable

log = logging.getLogger("verbatim")

CONTRACT = ["id", "record_id", "source", "text", "date", "unit", "score", "score_scale", "channel", "tag",
            "polarity_tag", "file", "row", "duplicates", "duplicate_rows"]
#: ``row`` counts the file's records (header and blank lines excluded); ``line`` is where a person finds
#: the record: its first line in a CSV or JSONL file, its row in the spreadsheet, its position in a
#: JSON list or Parquet table
REJECT_COLUMNS = ["file", "row", "line", "reason", "raw"]


@dataclass
class Mapped:
    """One file mapped to the contract, before duplicates across files are merged."""

    verbatims: pd.DataFrame  # one row per candidate verbatim (CONTRACT + extra columns + _key)
    rejects: pd.DataFrame
    n_records: int


def _as_text(v: Any) -> str:
    """A cell as text: missing values (None, NaN, NA, NaT) → "", lists joined by line breaks."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (float, np.floating)) and np.isnan(v):
        return ""
    if isinstance(v, (list, tuple, np.ndarray)):
        parts = (_as_text(x) for x in v)
        return "\n".join(p for p in parts if p)
    if isinstance(v, dict):
        return json.dumps(v, ensure_ascii=False, default=_jsonable)
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", errors="replace")
    return str(v)


def _jsonable(o: Any) -> Any:
    """``json.dumps`` fallback for values inside Parquet structs (NumPy arrays and scalars, bytes…)."""
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (bytes, bytearray)):
        return bytes(o).decode("utf-8", errors="replace")
    return str(o)


def _text_values(values: pd.Series) -> pd.Series:
    """:func:`_as_text` over a column (object dtype, same index), fast for columns already text."""
    out = [v if type(v) is str else _as_text(v) for v in values.to_numpy(dtype=object)]
    return pd.Series(out, index=values.index, dtype=object)


def _column(table: RawTable, name: str, role: str) -> str:
    cols = [str(c) for c in table.frame.columns]
    if name in cols:
        return name
    folded = {c.strip().casefold(): c for c in cols}
    if name.strip().casefold() in folded:
        return folded[name.strip().casefold()]
    shown = ", ".join(show(c) for c in cols[:40]) + (" …" if len(cols) > 40 else "")
    raise ColumnNotFound(
        f"column '{show(name)}' (given for {role}) not found in '{table.path}'{did_you_mean(name, cols)}; "
        f"columns: {shown or '(none: is the header row missing?)'}"
    )


def _hashable_values(values: pd.Series) -> list[Any]:
    return [v if isinstance(v, (str, int, float, type(None))) else None for v in values.to_numpy(dtype=object)]


def _raw_repr(frame: pd.DataFrame, idx: np.ndarray) -> list[str]:
    sub = frame.iloc[idx]
    return [json.dumps({k: _as_text(v)[:500] for k, v in rec.items()}, ensure_ascii=False)
            for rec in sub.to_dict("records")]


def _warn_future(dates: pd.Series, rows: np.ndarray, fname: str, column: str) -> None:
    """A date after tomorrow is kept (the file may be right) but said: it is usually a wrong format or year."""
    late = (dates > pd.Timestamp.now().normalize() + pd.Timedelta(days=1)).to_numpy()
    if late.any():
        i = int(np.flatnonzero(late)[0])
        log.warning("%s: %d date(s) in column '%s' are in the future (first: row %d, %s); kept as they are: "
                    "check the column or [ingest] date_order", fname, int(late.sum()), column, int(rows[i]),
                    dates.iloc[i].date())


def map_table(table: RawTable, spec: FileSpec, cfg: IngestConfig) -> Mapped:
    """Apply ``spec`` to ``table``; every record ends up as verbatim(s) or as a reject."""
    frame = table.frame.reset_index(drop=True)
    rows = np.asarray(table.rows, dtype=np.int64)
    n = len(frame)
    fname = str(spec.path)
    text_cols = [(_column(table, t.column, "--text"), t) for t in spec.text]
    roles = {r: getattr(spec, r) for r in ("id", "date", "unit", "score", "channel", "source_column")}
    cols = {r: _column(table, c, f"--{r.replace('_', '-')}") for r, c in roles.items() if c}
    if spec.source is not None:
        fixed_source = cfg.canonical_source(spec.source)

    reasons = np.array([""] * n, dtype=object)
    text_of: dict[str, pd.Series] = {}

    def as_text(col: str) -> pd.Series:
        if col not in text_of:
            text_of[col] = _text_values(frame[col])
        return text_of[col]

    def reject(mask: np.ndarray, why: Any) -> None:
        mask = mask & (reasons == "")
        if isinstance(why, str):
            reasons[mask] = why
        else:
            reasons[mask] = np.asarray(why, dtype=object)[mask]

    # texts
    texts = {col: pd.Series([clean_text(v) for v in as_text(col)], index=frame.index, dtype=object)
             for col, _ in text_cols}
    nonempty = np.column_stack([(texts[c] != "").to_numpy() for c, _ in text_cols]) if n else np.zeros((0, len(text_cols)), bool)
    names = " / ".join(f"'{c}'" for c, _ in text_cols)
    if table.notes:  # e.g. a formula cell with no saved value: say so rather than "empty text"
        why = np.array([next((table.notes[(i, c)] for c, _ in text_cols if (i, c) in table.notes), "")
                        for i in range(n)], dtype=object)
        reject(~nonempty.any(axis=1) & (why != ""), why)
    reject(~nonempty.any(axis=1), f"empty text in {names}")
    limit = cfg.max_text_chars
    for col, _ in text_cols:
        lengths = texts[col].str.len().to_numpy()
        why = [f"text in column '{col}' is {k:,} characters, over max_text_chars={limit:,} (raise it in [ingest])" for k in lengths]
        reject(lengths > limit, why)
    if spec.text_mode == "combine" and len(text_cols) > 1:
        # the joined verbatim must fit too: fields + one "\n" between non-empty ones
        total = sum(texts[c].str.len().to_numpy() for c, _ in text_cols) + np.maximum(nonempty.sum(axis=1) - 1, 0)
        why = [f"combined text of {names} is {k:,} characters, over max_text_chars={limit:,} (raise it in [ingest])"
               for k in total]
        reject(total > limit, why)

    # source
    if spec.source_column:
        raw_src = as_text(cols["source_column"])
        src = np.empty(n, dtype=object)
        bad = np.zeros(n, bool)
        cache: dict[str, str | None] = {}
        for i, s in enumerate(raw_src):
            if s not in cache:
                try:
                    cache[s] = cfg.canonical_source(s) if s.strip() else None
                except UnknownSource:
                    cache[s] = None
            src[i] = cache[s]
            bad[i] = cache[s] is None
        why = [f"unknown source '{s}' in column '{cols['source_column']}'; known: {', '.join(cfg.sources)}" for s in raw_src]
        reject(bad, why)
    else:
        src = np.full(n, fixed_source, dtype=object)

    # date
    if "date" in cols:
        raw_dates = frame[cols["date"]]
        dates = parse_dates(raw_dates, cfg.date_order)
        missing = dates.isna().to_numpy()
        if cfg.date_required:
            why = [f"unparseable date '{_as_text(v)[:40]}' in column '{cols['date']}'" if _as_text(v).strip()
                   else f"missing date in column '{cols['date']}' (dates are required)" for v in raw_dates]
            reject(missing, why)
        else:
            n_bad = int((missing & (as_text(cols["date"]).str.strip() != "").to_numpy()).sum())
            if n_bad:
                log.warning("%s: %d date(s) in column '%s' could not be parsed; kept with no date "
                            "(set date_required = true to reject them)", fname, n_bad, cols["date"])
        _warn_future(dates, rows, fname, cols["date"])
    else:
        if cfg.date_required:
            from ..errors import ConfigError
            raise ConfigError(f"dates are required but no date column is mapped for '{fname}'; pass --date COLUMN")
        dates = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")

    scale = None
    if "score" in cols:
        raw_scores = frame[cols["score"]]
        scores = parse_scores(raw_scores)
        denoms = pd.Series([score_denominator(v) for v in _hashable_values(raw_scores)], index=frame.index,
                           dtype="float64")
        declared = parse_scale(spec.score_scale) if spec.score_scale else None
        scale, off, why = check_scores(scores, denoms, declared, cols["score"], as_text(cols["score"]))
        reject(off, why)
        n_bad = int((scores.isna() & (as_text(cols["score"]).str.strip() != "")).to_numpy().sum())
        if n_bad:
            log.warning("%s: %d score(s) in column '%s' could not be read as numbers; kept with no score",
                        fname, n_bad, cols["score"])
    else:
        scores = pd.Series(np.nan, index=frame.index)
    unit = as_text(cols["unit"]).str.strip() if "unit" in cols else pd.Series("", index=frame.index, dtype=object)
    channel = as_text(cols["channel"]).str.strip() if "channel" in cols else pd.Series("", index=frame.index, dtype=object)
    stem = Path(fname).name
    if "id" in cols:
        ids = as_text(cols["id"]).str.strip()
        ids = pd.Series(np.where(ids == "", [f"{stem}:{r}" for r in rows], ids), index=frame.index)
    else:
        ids = pd.Series([f"{stem}:{r}" for r in rows], index=frame.index, dtype=object)

    mapped_cols = {c for c, _ in text_cols} | set(cols.values())
    extras = [c for c in frame.columns if c not in mapped_cols]

    ok = reasons == ""
    parts = []
    split = spec.text_mode == "split" and len(text_cols) > 1
    groups = [[c for c, _ in text_cols]] if not split else [[c] for c, _ in text_cols]
    for gi, group in enumerate(groups):
        if split:
            field = text_cols[gi][1]
            tag = field.label
            body = texts[group[0]]
        else:
            tag = None
            body = pd.Series(["\n".join(t for t in vals if t) for vals in zip(*(texts[c] for c in group))],
                             index=frame.index, dtype=object)
        keep = ok & (body != "").to_numpy()
        if not keep.any():
            continue
        part = pd.DataFrame({
            "id": ids[keep].to_numpy() if not split else (ids[keep] + f"#{tag}").to_numpy(),
            "record_id": ids[keep].to_numpy(),
            "source": src[keep],
            "text": body[keep].to_numpy(),
            "date": dates[keep].to_numpy(),
            "unit": unit[keep].to_numpy(),
            "score": scores[keep].to_numpy(),
            "score_scale": scale,
            "channel": channel[keep].to_numpy(),
            "tag": tag,
            "polarity_tag": _polarity(tag, cfg),
            "file": fname,
            "row": rows[keep],
            "_order": np.flatnonzero(keep) * len(groups) + gi,
        })
        more = {(c if c not in CONTRACT and c != "date_raw" and not c.startswith("_") else f"input_{c}"):
                as_text(c)[keep].to_numpy() for c in extras}
        if "date" in cols:
            more["date_raw"] = as_text(cols["date"])[keep].to_numpy()
        parts.append(pd.concat([part, pd.DataFrame(more, index=part.index)], axis=1) if more else part)  # one join:
        # a column at a time is quadratic in the number of columns (a 20,000-column export)
    if parts:
        verb = pd.concat(parts, ignore_index=True).sort_values("_order", kind="stable").drop(columns="_order")
    else:
        verb = pd.DataFrame(columns=CONTRACT[: CONTRACT.index("row") + 1])
    bad_idx = np.flatnonzero(~ok)
    lines = np.asarray(table.line_of(), dtype=np.int64)
    rej = pd.DataFrame({
        "file": fname,
        "row": rows[bad_idx],
        "line": lines[bad_idx],
        "reason": reasons[bad_idx],
        "raw": _raw_repr(frame, bad_idx),
    }, columns=REJECT_COLUMNS)
    if table.rejects:
        pre = pd.DataFrame([{**r, "file": fname, "line": r.get("line") or r["row"]} for r in table.rejects],
                           columns=REJECT_COLUMNS)
        rej = pd.concat([pre, rej], ignore_index=True).sort_values("row", kind="stable")
    return Mapped(verb.reset_index(drop=True), rej.reset_index(drop=True), table.n_records)


def _polarity(tag: str | None, cfg: IngestConfig) -> str | None:
    if tag is None:
        return None
    t = tag.casefold()
    if t in {x.casefold() for x in cfg.negative_tags}:
        return "negative"
    if t in {x.casefold() for x in cfg.positive_tags}:
        return "positive"
    return None


def merge_duplicates(verb: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Merge exact repeats (same source, unit and normalised text) into their first occurrence.

    Returns the kept verbatims, with ``duplicates`` (count merged) and
    ``duplicate_rows`` (``file:row`` of each merged copy), and the number merged.
    """
    if verb.empty:
        out = verb.copy()
        out["duplicates"] = pd.Series(dtype="int64")
        out["duplicate_rows"] = pd.Series(dtype=object)
        return out, 0
    cols = {c: verb[c].to_numpy(dtype=object) for c in ("source", "unit", "text", "file", "row", "id")}
    names = {f: Path(f).name for f in set(cols["file"])}
    first_of: dict[str, int] = {}  # key → position in kept
    kept: list[int] = []
    merged: list[list[str]] = []
    for i, (src, unit, text) in enumerate(zip(cols["source"], cols["unit"], cols["text"])):
        key = f"{src}\x1f{unit}\x1f{dedupe_key(text)}"
        j = first_of.get(key)
        if j is None:
            first_of[key] = len(kept)
            kept.append(i)
            merged.append([])
        else:
            merged[j].append(f"{names[cols['file'][i]]}:{cols['row'][i]}")
    out = verb.iloc[kept].reset_index(drop=True)
    out["duplicate_rows"] = pd.Series(merged, dtype=object)
    out["duplicates"] = pd.Series([len(m) for m in merged], dtype="int64")
    # unique ids: a repeated id on a different text gets a ~2, ~3 … suffix (never an existing id)
    ids = [str(x) for x in cols["id"][kept]]
    taken = set(ids)
    if len(taken) < len(ids):
        seen: set[str] = set()
        n_repeat = 0
        for i, x in enumerate(ids):
            if x in seen:
                n_repeat += 1
                k = 2
                while f"{x}~{k}" in taken:
                    k += 1
                ids[i] = f"{x}~{k}"
                taken.add(ids[i])
            seen.add(ids[i])
        log.warning("%d verbatim id(s) repeat with different texts; suffixed with ~2, ~3 … to keep them unique",
                    n_repeat)
        out["id"] = pd.Series(ids, dtype=object)
    return out, len(verb) - len(kept)
