"""Read CSV (plain or gzip), XLSX, Parquet and JSON/JSONL into a raw table.

Every reader returns a :class:`RawTable`: a DataFrame with one row per input
record (all columns as they were, nested JSON flattened to dotted names),
each record's 1-based position in the file, and the records that could not
even be parsed (with a reason). Nothing is dropped silently.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import InputFileError, SheetNotFound, show

log = logging.getLogger("verbatim")

MAX_FIELD = 10_000_000
csv.field_size_limit(MAX_FIELD)
DELIMITERS = (",", ";", "\t", "|")


@dataclass
class RawTable:
    """Records of one file, before mapping to the verbatim contract."""

    path: Path
    frame: pd.DataFrame  # one row per parsed record, original columns
    rows: list[int]  # 1-based record number of each frame row (header excluded)
    rejects: list[dict[str, Any]] = field(default_factory=list)  # {"row", "reason", "raw"}
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None

    @property
    def n_records(self) -> int:
        return len(self.rows) + len(self.rejects)


def detect_format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for suffix, fmt in ((".csv", "csv"), (".tsv", "csv"), (".txt", "csv"), (".xlsx", "xlsx"),
                        (".xlsm", "xlsx"), (".parquet", "parquet"), (".pq", "parquet"),
                        (".jsonl", "jsonl"), (".ndjson", "jsonl"), (".json", "json")):
        if name.endswith(suffix):
            return fmt
    raise InputFileError(
        f"cannot tell the format of '{path}' from its name; use a .csv, .csv.gz, .xlsx, .parquet, "
        f".json or .jsonl file, or pass --format"
    )


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputFileError(f"file '{path}' does not exist; check the path")
    if path.is_dir():
        raise InputFileError(f"'{path}' is a folder, not a file; give the path of a file inside it")
    try:
        data = path.read_bytes()
    except OSError as ex:
        raise InputFileError(f"file '{path}' cannot be read ({ex.strerror or ex}); check its permissions") from None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as ex:
            raise InputFileError(f"file '{path}' looks gzip-compressed but cannot be decompressed ({ex}); re-export it") from None
    return data


def decode(data: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes: BOMs first, then UTF-8, then cp1252, then latin-1 (which always decodes)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as ex:
            raise InputFileError(f"file '{path}' cannot be read as {encoding}: {ex}; drop --encoding to detect it") from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if data[:4096].count(b"\x00") > len(data[:4096]) // 4:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:65536]).best()
        if best is not None and best.encoding.startswith("utf_16"):
            return data.decode(best.encoding, errors="replace"), best.encoding
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most consistent multi-column split of the first lines."""
    sample = text[:200_000]
    lines = sample.split("\n")
    if len(sample) == len(text) or len(lines) < 2:
        head = sample
    else:
        head = "\n".join(lines[:-1])  # drop a probably cut last line
    best, best_score = ",", (-1.0, 0)
    for d in DELIMITERS:
        rows = _sample_rows(head, d)
        if not rows or len(rows[0]) < 2:
            continue
        counts = Counter(len(r) for r in rows)
        agree = counts[len(rows[0])] / len(rows)
        score = (agree, len(rows[0]))
        if score > best_score:
            best, best_score = d, score
    return best


def _sample_rows(head: str, delimiter: str, limit: int = 200) -> list[list[str]]:
    """Up to ``limit`` non-empty records of ``head``, skipping any the csv module refuses
    (one bad record must not hide the delimiter of the others)."""
    reader = csv.reader(io.StringIO(head, newline=""), delimiter=delimiter, strict=False)
    rows: list[list[str]] = []
    while len(rows) < limit:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error:
            continue
        if rec:
            rows.append(rec)
    return rows


def _unique_header(header: list[str]) -> list[str]:
    """Header names made non-empty and unique: ``a, a, a.1`` → ``a, a.1, a.1.1``."""
    out: list[str] = []
    taken: set[str] = set()
    for i, h in enumerate(header):
        h = (h or "").strip().lstrip("\ufeff").strip() or f"column_{i + 1}"
        name, k = h, 0
        while name in taken:
            k += 1
            name = f"{h}.{k}"
        taken.add(name)
        out.append(name)
    return out


def read_csv(path: Path, encoding: str | None = None, delimiter: str | None = None) -> RawTable:
    text, enc = decode(read_bytes(path), path, encoding)
    text = text.replace("\x00", "")
    if not text.strip():
        raise InputFileError(f"file '{path}' is empty; export it again with a header row and data")
    delim = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    header: list[str] = []
    try:
        while not any(h.strip() for h in header):  # blank lines before the header are not a header
            header = next(reader)
    except csv.Error as ex:
        raise InputFileError(f"file '{path}': cannot read the header row ({ex})") from None
    except StopIteration:
        raise InputFileError(f"file '{path}' has no header row; export it again with a header row and data") from None
    header = _unique_header(header)
    width = len(header)
    records: list[list[str]] = []
    rows: list[int] = []
    rejects: list[dict[str, Any]] = []
    n = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as ex:  # malformed quoting that even the lax reader refuses
            n += 1
            rejects.append({"row": n, "reason": f"unparseable CSV record ({ex})", "raw": ""})
            continue
        if not rec or (len(rec) == 1 and not rec[0].strip()):
            continue  # blank line: not a record
        n += 1
        if len(rec) > width and not any(v.strip() for v in rec[width:]):
            rec = rec[:width]
        if len(rec) != width:
            rejects.append({
                "row": n,
                "reason": f"record has {len(rec)} fields but the header has {width} "
                          f"(an unquoted '{delim}' or a cut line?)",
                "raw": delim.join(rec)[:2000],
            })
            continue
        records.append(rec)
        rows.append(n)
    frame = pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    return RawTable(path, frame, rows, rejects, "csv", enc, delim)


def read_xlsx(path: Path, sheet: str | int | None = None) -> RawTable:
    import openpyxl

    read_bytes(path)  # existence checks with the same messages
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as ex:  # openpyxl raises many kinds for broken files
        raise InputFileError(f"file '{path}' is not a readable .xlsx workbook ({type(ex).__name__}: {ex})") from None
    names = wb.sheetnames
    if sheet is None:
        ws = wb[names[0]]
    elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        idx = int(sheet)
        if not 0 <= idx < len(names):
            raise SheetNotFound(f"sheet {idx} does not exist in '{path}'; it has {len(names)} sheet(s): "
                                f"{', '.join(map(show, names))} (numbers start at 0)")
        ws = wb[names[idx]]
    elif sheet in names:
        ws = wb[sheet]
    else:
        from ..errors import did_you_mean

        raise SheetNotFound(f"sheet '{show(sheet)}' not found in '{path}'{did_you_mean(sheet, names)}; "
                            f"sheets: {', '.join(map(show, names))}")
    it = ws.iter_rows(values_only=True)
    try:
        header = next(it)
    except StopIteration:
        raise InputFileError(f"sheet '{ws.title}' of '{path}' is empty; it needs a header row") from None
    header = _unique_header(["" if h is None else str(h) for h in header])
    records, rows = [], []
    n = 0
    for rec in it:
        if rec is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in rec):
            continue
        n += 1
        rec = list(rec)[: len(header)] + [None] * max(0, len(header) - len(rec))
        records.append(rec)
        rows.append(n)
    wb.close()
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return RawTable(path, frame, rows, [], "xlsx")


def read_parquet(path: Path) -> RawTable:
    read_bytes(path)
    try:
        frame = pd.read_parquet(path)
    except Exception as ex:
        raise InputFileError(f"file '{path}' is not a readable Parquet file ({type(ex).__name__}: {ex})") from None
    frame = frame.reset_index(drop=True).astype(object)
    return RawTable(path, frame, list(range(1, len(frame) + 1)), [], "parquet")


def _flatten(obj: Any, prefix: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                _flatten(v, key, out)
            else:
                out[key] = v
    else:
        out[prefix or "value"] = obj
    return out


def _records_at(data: Any, records: str | None, path: Path) -> list:
    if records:
        cur = data
        for part in records.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                raise InputFileError(f"file '{path}': no list of records at '{records}'; check --records")
        data = cur
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        lists = [k for k, v in data.items() if isinstance(v, list)]
        if len(lists) == 1:
            return data[lists[0]]
        if not lists:
            return [data]
        raise InputFileError(
            f"file '{path}' holds several lists ({', '.join(lists)}); choose one with --records NAME"
        )
    raise InputFileError(f"file '{path}' does not hold JSON records (objects); got a {type(data).__name__}")


def read_json(path: Path, records: str | None = None, lines: bool | None = None) -> RawTable:
    text, enc = decode(read_bytes(path), path)
    if not text.strip():
        raise InputFileError(f"file '{path}' is empty")
    objs: list[tuple[int, Any]] = []
    rejects: list[dict[str, Any]] = []
    if lines is None:
        stripped = text.lstrip()
        lines = not stripped.startswith("[") and "\n" in stripped.strip() and not _is_single_json(stripped)
    if lines:
        # rows are line numbers; split on "\n" only (JSON strings may hold a raw U+2028)
        for n, line in enumerate(text.split("\n"), start=1):
            line = line.rstrip("\r")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as ex:
                rejects.append({"row": n, "reason": f"invalid JSON line ({ex.msg} at column {ex.colno})", "raw": line[:2000]})
                continue
            except (ValueError, RecursionError) as ex:  # e.g. a 5,000-digit number, 10,000 nested lists
                rejects.append({"row": n, "reason": f"unreadable JSON line ({type(ex).__name__})", "raw": line[:2000]})
                continue
            objs.append((n, obj))
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as ex:
            raise InputFileError(
                f"file '{path}' is not valid JSON: {ex.msg} at line {ex.lineno}, column {ex.colno}"
            ) from None
        except (ValueError, RecursionError) as ex:
            raise InputFileError(f"file '{path}' is not readable JSON ({type(ex).__name__}: "
                                 f"{str(ex).splitlines()[0][:200] if str(ex) else 'too deeply nested'})") from None
        objs = list(enumerate(_records_at(data, records, path), start=1))
    flat, rows = [], []
    for n, obj in objs:
        if not isinstance(obj, dict):
            rejects.append({"row": n, "reason": f"record is a JSON {type(obj).__name__}, not an object", "raw": _dump(obj)})
            continue
        try:
            flat.append(_flatten(obj))
        except RecursionError:
            rejects.append({"row": n, "reason": "record is nested too deeply", "raw": ""})
            continue
        rows.append(n)
    frame = pd.DataFrame(flat, dtype=object) if flat else pd.DataFrame(dtype=object)
    return RawTable(path, frame, rows, rejects, "jsonl" if lines else "json", enc)


def _dump(obj: Any) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False)[:2000]
    except (ValueError, RecursionError):
        return ""


def _is_single_json(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError):
        return False


def read_any(path: str | Path, fmt: str = "auto", *, sheet: str | int | None = None,
             records: str | None = None, encoding: str | None = None,
             delimiter: str | None = None) -> RawTable:
    """Read one file of any supported format."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"file '{path}' does not exist; check the path")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "csv":
        table = read_csv(path, encoding, delimiter)
    elif fmt == "xlsx":
        table = read_xlsx(path, sheet)
    elif fmt == "parquet":
        table = read_parquet(path)
    elif fmt in ("json", "jsonl"):
        table = read_json(path, records, lines=(fmt == "jsonl") or None)
    else:  # guarded by config validation
        raise InputFileError(f"unsupported format {fmt!r} for '{path}'")
    log.info("read %s: %d records (%s%s%s)", path, table.n_records, table.format,
             f", {table.encoding}" if table.encoding else "",
             f", delimiter {table.delimiter!r}" if table.delimiter else "")
    return table
