"""Read CSV (plain or gzip), XLSX, Parquet and JSON/JSONL into a raw table.

Every reader returns a :class:`RawTable`: a DataFrame with one row per input
record (all columns as they were, nested JSON flattened to dotted names),
each record's 1-based position in the file, and the records that could not
even be parsed (with a reason). Nothing is dropped silently.

CSV and Parquet are also read as streams of tables of bounded size (:func:`read_csv_chunks`,
:func:`read_parquet_chunks`, what ``verbatim score`` reads): :func:`read_csv` is the CSV stream taken
whole, so both commands decode, split and reject records by the same rules.
"""
from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import json
import logging
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

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
    rejects: list[dict[str, Any]] = field(default_factory=list)  # {"row", "line", "reason", "raw"}
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    lines: list[int] | None = None  # where a person finds each frame row: file line, sheet row (None: = rows)
    notes: dict[tuple[int, str], str] = field(default_factory=dict)  # (frame row, column) → why a cell is empty

    def line_of(self) -> list[int]:
        return list(self.lines) if self.lines is not None else list(self.rows)

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


def check_file(path: Path, hint: str = "check the path") -> None:
    """Refuse a path that is missing or a folder, saying which (``hint``: how to fix a missing file)."""
    if path.is_dir():
        raise InputFileError(f"'{path}' is a folder, not a file; give the path of a file inside it")
    if not path.exists():
        raise InputFileError(f"file '{path}' does not exist; {hint}")


def read_bytes(path: Path) -> bytes:
    check_file(path)
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
    """Decode bytes: BOMs first, then UTF-8; a file that is not UTF-8 throughout is decoded line by
    line (UTF-8 where a line is valid UTF-8, else cp1252, else latin-1, which always decodes), so one
    cp1252 line in a UTF-8 export, or a cp1252 body behind a UTF-8 BOM, is not turned into mojibake."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as ex:
            raise InputFileError(f"file '{path}' cannot be read as {encoding}: {ex}; drop --encoding to detect it") from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            return _decode_lines(data[3:], path, bom=True)
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
    return _decode_lines(data, path)


def _legacy(b: bytes) -> str:
    return "".join(bytes([c]).decode("cp1252", errors="strict") if c not in _CP1252_HOLES else chr(c) for c in b)


_CP1252_HOLES = {0x81, 0x8D, 0x8F, 0x90, 0x9D}  # undefined in cp1252: read as latin-1 (the same code point)


def _decode_line(line: bytes) -> tuple[str, int, bool]:
    """A line as UTF-8, each byte that is not part of a valid UTF-8 sequence read as cp1252; with the
    number of such bytes and whether valid non-ASCII UTF-8 was met."""
    try:
        return line.decode("utf-8"), 0, not line.isascii()
    except UnicodeDecodeError:
        pass
    out: list[str] = []
    pos = bad = 0
    saw = False
    while pos < len(line):
        try:
            chunk = line[pos:].decode("utf-8")
            out.append(chunk)
            saw = saw or not chunk.isascii()
            break
        except UnicodeDecodeError as ex:
            chunk = line[pos:pos + ex.start].decode("utf-8")
            saw = saw or not chunk.isascii()
            out += [chunk, _legacy(line[pos + ex.start:pos + ex.end])]
            bad += ex.end - ex.start
            pos += ex.end
    return "".join(out), bad, saw


class _LineDecoder:
    """The per-line rule of :func:`decode` for a file that is not UTF-8 throughout: each line as UTF-8,
    every byte that is not part of a valid UTF-8 sequence read as cp1252. Counts what it met, so the
    whole file (:func:`_decode_lines`) and a stream of its lines (:func:`read_csv_chunks`) end with the
    same encoding name and the same warning."""

    def __init__(self, path: Path, bom: bool = False):
        self.path, self.bom = path, bom
        self.n_lines = self.n_bad = self.first_bad = 0
        self.utf8_seen = False

    def __call__(self, line: bytes) -> str:
        self.n_lines += 1
        text, bad, saw = _decode_line(line)
        if bad:
            self.n_bad += 1
            self.first_bad = self.first_bad or self.n_lines
        self.utf8_seen = self.utf8_seen or saw
        return text

    @property
    def name(self) -> str:
        """The encoding name so far (final once every line is decoded)."""
        if not self.n_bad:
            return "utf-8-sig" if self.bom else "utf-8"
        return "utf-8+cp1252" if self.utf8_seen or self.bom else "cp1252"

    def finish(self) -> str:
        """The encoding name, with the warning when the file mixes encodings."""
        if self.n_bad and (self.utf8_seen or self.bom):
            log.warning("file '%s' mixes encodings: %d line(s) hold bytes that are not UTF-8 (first at line %d), "
                        "read as cp1252; re-export it as UTF-8 to be sure of its accents", self.path, self.n_bad,
                        self.first_bad)
        return self.name


def _decode_lines(data: bytes, path: Path, bom: bool = False) -> tuple[str, str]:
    """Decode a file that is not valid UTF-8 throughout (see :func:`decode`): valid UTF-8 stays UTF-8,
    every other byte is read as cp1252; the name says which encodings were met."""
    dec = _LineDecoder(path, bom)
    text = "".join(dec(line) for line in data.splitlines(keepends=True))
    return text, dec.finish()


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


def read_header(reader, path) -> list[str]:
    """The first non-blank row of a CSV reader, made unique (one-line errors when there is none)."""
    header: list[str] = []
    try:
        while not any(h.strip() for h in header):  # blank lines before the header are not a header
            header = next(reader)
    except csv.Error as ex:
        raise InputFileError(f"file '{path}': cannot read the header row ({ex})") from None
    except StopIteration:
        raise InputFileError(f"file '{path}' has no header row; export it again with a header row and data") from None
    return _unique_header(header)


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


class _Lines:
    """The physical lines of a text (split as ``io.StringIO(newline="")`` splits them: ``\n``, ``\r\n``
    or ``\r``), fed to :func:`csv.reader` one at a time so each record's first and last line are
    known, and reading can start again at any line of the current record. Lines come from an iterator
    and those before the current record are let go (:meth:`release`): memory holds one record."""

    def __init__(self, lines: Iterable[str]):
        self._src = iter(lines)
        self._buf: list[str] = []
        self._base = 0  # file line index (0-based) of self._buf[0]
        self.pos = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        i = self.pos - self._base
        if i >= len(self._buf) and not self._pull():
            raise StopIteration
        self.pos += 1
        return self._buf[i]

    def _pull(self) -> bool:
        for line in self._src:
            self._buf.append(line)
            return True
        return False

    def at_end(self, pos: int) -> bool:
        """Whether no line follows line index ``pos - 1``."""
        return pos - self._base >= len(self._buf) and not self._pull()

    def get(self, start: int, end: int) -> list[str]:
        return self._buf[start - self._base:end - self._base]

    def line(self, i: int) -> str:
        return self._buf[i - self._base]

    def release(self, upto: int) -> None:
        """Forget the lines before line index ``upto`` (a thousand at a time)."""
        if upto - self._base > 1024:
            del self._buf[:upto - self._base]
            self._base = upto


def _fields_alone(line: str, delim: str) -> int:
    """How many fields ``line`` holds when read on its own (a quote it opens ends with the line)."""
    try:
        rec = next(csv.reader([line.rstrip("\r\n")], delimiter=delim, strict=False), [])
    except csv.Error:
        return -1
    return len(rec)


#: how many lines a quote must swallow before whole-looking lines are taken as records it glued together
RUNAWAY_MIN_LINES = 3


def _whole_if_quote_literal(line: str, width: int, delim: str) -> bool:
    """Whether the first line of a multi-line record holds ``width`` fields when the quote it leaves
    open is read as a plain character (its other fields read as CSV)."""
    try:
        rec = next(csv.reader([line.rstrip("\r\n")], delimiter=delim, strict=False), [])
    except csv.Error:
        return False
    return bool(rec) and len(rec) - 1 + len(rec[-1].split(delim)) == width


def _runaway(rec: list[str], raw_lines: list[str], at_eof: bool, width: int, delim: str) -> str | None:
    """Why a record spanning several lines is a quote left open (it swallowed the records after
    it), or None when it reads as a genuine multi-line field."""
    if at_eof:
        try:
            for _ in csv.reader(raw_lines, delimiter=delim, strict=True):
                pass
        except csv.Error as ex:
            if "end of data" in str(ex):
                return "a quote opened here is never closed"
    if len(rec) != width:
        return (f"a quote opened here runs over {len(raw_lines) - 1} more line(s) and the record ends with "
                f"{len(rec)} fields, not {width}")
    # every line reads as a whole record of its own (the quote left open taken as a character): the
    # "multi-line field" is records glued together by the quote, not text with line breaks. Only from
    # RUNAWAY_MIN_LINES swallowed lines on: a review of two or three lines full of commas can look the
    # same (seen in the Glassdoor and Trustpilot exports)
    if len(raw_lines) > RUNAWAY_MIN_LINES and _whole_if_quote_literal(raw_lines[0], width, delim) and \
            all(_fields_alone(ln, delim) == width for ln in raw_lines[1:]):
        return f"a quote opened here swallows the {len(raw_lines) - 1} following record(s)"
    return None


def read_csv(path: Path, encoding: str | None = None, delimiter: str | None = None) -> RawTable:
    """Records of a CSV file; ``rows`` counts records (the header and blank lines excluded), ``lines``
    gives the file line where each starts (the header is line 1 when it is the first line).

    A quote left open (``"`` at the start of a field, never closed where the field should end) would
    fold every following line into one field; such a record is rejected with its line number and
    reading starts again on the next line, so the records after it are read as a person sees them.
    The whole file in one table: :func:`read_csv_chunks` with no chunk size.
    """
    return next(read_csv_chunks(path, None, encoding, delimiter))


def read_csv_chunks(path: Path, chunk_rows: int | None, encoding: str | None = None,
                    delimiter: str | None = None) -> Iterator[RawTable]:
    """The records of a CSV file (plain or gzip) in tables of at most ``chunk_rows`` records each
    (``None``: one table), read as a stream: the rules of :func:`read_csv` (it is this function),
    memory bounded by one chunk whatever the file size. Rejected records ride with their chunk;
    ``rows`` and ``lines`` count from the start of the file; at least one table is yielded.

    Decoding is :func:`decode`'s, line by line: a BOM, then UTF-8 where a line is valid UTF-8 and
    cp1252 for the other bytes (the ``encoding`` of the last table is the file's; earlier tables say
    what was met so far). Only a UTF-16 file without a BOM, or one forced to ``utf-16``/``utf-32``, is
    decoded whole, by :func:`decode`.
    """
    path = Path(path)
    lines, decoding = _decoded_lines(path, encoding)
    head: list[str] = []
    size, blank, eof = 0, True, False
    while not eof and (size <= _SNIFF_CHARS or blank):  # what sniff_delimiter reads, and the empty-file check
        line = next(lines, None)
        if line is None:
            eof = True
            break
        head.append(line)
        size += len(line)
        blank = blank and not line.strip()
    if blank:
        raise InputFileError(f"file '{path}' is empty; export it again with a header row and data")
    delim = delimiter or sniff_delimiter("".join(head))
    feed = _Lines(itertools.chain(head, lines))
    del head
    reader = csv.reader(feed, delimiter=delim, strict=False)
    header = read_header(reader, path)
    width = len(header)
    records: list[list[str]] = []
    rows: list[int] = []
    at: list[int] = []
    rejects: list[dict[str, Any]] = []

    def table(final: bool) -> RawTable:
        frame = (pd.DataFrame(records, columns=header, dtype=object) if records
                 else pd.DataFrame(columns=header, dtype=object))
        return RawTable(path, frame, list(rows), list(rejects), "csv", decoding.finish() if final else decoding.name,
                        delim, list(at))

    n = 0
    while True:
        start = feed.pos
        feed.release(start)
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as ex:  # malformed quoting that even the lax reader refuses
            n += 1
            rejects.append({"row": n, "line": start + 1, "reason": f"unparseable CSV record ({ex})", "raw": ""})
        else:
            end = feed.pos
            if not rec or (len(rec) == 1 and not rec[0].strip()):
                continue  # blank line: not a record
            n += 1
            at_end = feed.at_end(end)
            first = feed.line(start)
            why = None
            if end - start > 1 or (at_end and '"' in first):
                why = _runaway(rec, feed.get(start, end), at_end, width, delim)
            if why:
                rejects.append({"row": n, "line": start + 1,
                                "reason": f"unbalanced quote: {why} (line {start + 1}); close or remove it",
                                "raw": first.rstrip("\r\n")[:2000]})
                feed.pos = start + 1  # read again from the next line
                reader = csv.reader(feed, delimiter=delim, strict=False)
            else:
                if len(rec) > width and not any(v.strip() for v in rec[width:]):
                    rec = rec[:width]
                if len(rec) != width:
                    rejects.append({
                        "row": n, "line": start + 1,
                        "reason": f"record has {len(rec)} fields but the header has {width} "
                                  f"(an unquoted '{delim}' or a cut line?)",
                        "raw": delim.join(rec)[:2000],
                    })
                else:
                    records.append(rec)
                    rows.append(n)
                    at.append(start + 1)
        if chunk_rows is not None and len(records) + len(rejects) >= chunk_rows:
            yield table(final=False)
            records, rows, at, rejects = [], [], [], []
    if records or rejects or n == 0 or chunk_rows is None:
        yield table(final=True)
    else:
        decoding.finish()


#: decoded characters :func:`sniff_delimiter` reads
_SNIFF_CHARS = 200_000
#: bytes read at a time when a file is streamed
_BLOCK_BYTES = 1 << 20


def _blocks(path: Path) -> Iterator[bytes]:
    """The bytes of a file (gzip decompressed), a block at a time, with :func:`read_bytes`' messages."""
    check_file(path)
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        fh = gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as ex:
        raise InputFileError(f"file '{path}' cannot be read ({ex.strerror or ex}); check its permissions") from None
    with fh:
        while True:
            try:
                block = fh.read(_BLOCK_BYTES)
            except (OSError, EOFError, zlib.error) as ex:
                if gz:
                    raise InputFileError(f"file '{path}' looks gzip-compressed but cannot be decompressed ({ex}); "
                                         f"re-export it") from None
                raise InputFileError(f"file '{path}' cannot be read ({ex.strerror or ex}); check its permissions") from None
            if not block:
                return
            yield block


def _split_lines(pieces: Iterable, empty) -> Iterator:
    """Pieces of bytes or text cut into physical lines (``\n``, ``\r\n`` or ``\r``, kept), as
    ``splitlines(keepends=True)`` cuts the whole."""
    rest = empty
    for piece in pieces:
        if not piece:
            continue
        whole = rest + piece
        lines = whole.splitlines(keepends=True) if isinstance(whole, bytes) else \
            io.StringIO(whole, newline="").readlines()
        rest = lines.pop() if lines and not lines[-1].endswith(b"\n" if isinstance(whole, bytes) else "\n") else empty
        yield from lines
    if rest:
        yield rest


class _Decoding:
    """The encoding a stream of lines was decoded with (see :func:`_decoded_lines`)."""

    def __init__(self, name: str = "", lines: _LineDecoder | None = None):
        self._name, self.lines = name, lines

    @property
    def name(self) -> str:
        return self.lines.name if self.lines is not None else self._name

    def finish(self) -> str:
        return self.lines.finish() if self.lines is not None else self._name


def _decoded_lines(path: Path, encoding: str | None) -> tuple[Iterator[str], _Decoding]:
    """The text lines of a file, decoded as :func:`decode` decodes the whole (NUL characters removed),
    read a block at a time; with what tells the encoding once they are read."""
    blocks = _blocks(path)
    first = next(blocks, b"")
    every = itertools.chain([first], blocks)
    if encoding and not first:
        return iter(()), _Decoding(encoding)  # an empty file is empty in any encoding
    if encoding:
        try:
            info = codecs.lookup(encoding)
            if not getattr(info, "_is_text_encoding", True):
                raise LookupError(f"'{encoding}' is not a text encoding; use codecs.decode() to handle arbitrary codecs")
        except LookupError as ex:
            raise InputFileError(f"file '{path}' cannot be read as {encoding}: {ex}; drop --encoding to detect it") from None
        if info.name in ("utf-16", "utf-32"):  # a stream needs their BOM, a whole decode reads the machine's order
            text, enc = decode(read_bytes(path), path, encoding)
            return _no_nul(iter(io.StringIO(text, newline="").readlines())), _Decoding(enc)
        text = _incremental(info.incrementaldecoder(errors="strict"), every, path, encoding)
        return _no_nul(_split_lines(text, "")), _Decoding(encoding)
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _incremental(codecs.getincrementaldecoder("utf-16")(errors="replace"), every, path, "utf-16")
        return _no_nul(_split_lines(text, "")), _Decoding("utf-16")
    if first[:4096].count(b"\x00") > len(first[:4096]) // 4:  # UTF-16 without a BOM, perhaps: decode() tells
        text, enc = decode(read_bytes(path), path)
        return _no_nul(iter(io.StringIO(text, newline="").readlines())), _Decoding(enc)
    bom = first.startswith(b"\xef\xbb\xbf")
    dec = _LineDecoder(path, bom)
    if bom:
        every = itertools.chain([first[3:]], blocks)
    return _no_nul(map(dec, _split_lines(every, b""))), _Decoding(lines=dec)


def _no_nul(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line.replace("\x00", "")


def _incremental(decoder, blocks: Iterable[bytes], path: Path, encoding: str) -> Iterator[str]:
    """Text of ``blocks`` through an incremental ``decoder``; a decoding error is told with its position
    in the file, as a decode of the whole file tells it."""
    done = 0
    for block in itertools.chain(blocks, [None]):
        pending = len(decoder.getstate()[0])
        try:
            yield decoder.decode(block if block is not None else b"", final=block is None)
        except UnicodeDecodeError as ex:
            at = done - pending
            where = (f"byte 0x{ex.object[ex.start]:02x} in position {at + ex.start}" if ex.end == ex.start + 1
                     else f"bytes in position {at + ex.start}-{at + ex.end - 1}")
            raise InputFileError(f"file '{path}' cannot be read as {encoding}: '{ex.encoding}' codec can't decode "
                                 f"{where}: {ex.reason}; drop --encoding to detect it") from None
        done += len(block or b"")


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
    merged = _merged_ranges(ws)
    try:
        formulas_wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
        formula_rows = formulas_wb[ws.title].iter_rows(values_only=True)
    except Exception:  # noqa: BLE001 - the values were readable; formulas are only a better reason
        formulas_wb, formula_rows = None, iter(())
    first_row = ws.min_row or 1
    it = enumerate(ws.iter_rows(values_only=True), start=first_row)
    try:
        sheet_row, header = next(it)
        next(formula_rows, None)
    except StopIteration:
        raise InputFileError(f"sheet '{ws.title}' of '{path}' is empty; it needs a header row") from None
    header = _unique_header(["" if h is None else str(h) for h in header])
    width = len(header)
    records, rows, lines = [], [], []
    notes: dict[tuple[int, str], str] = {}
    n = 0
    for sheet_row, rec in it:
        frec = next(formula_rows, None) or ()
        rec = list(rec or ())[:width] + [None] * max(0, width - len(rec or ()))
        for j in range(width):  # merged cells: every cell of the range shows the top-left value
            top = merged.get((sheet_row, j + 1))
            if top is not None:
                rec[j] = top
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in rec):
            continue
        n += 1
        for j, f in enumerate(list(frec)[:width]):
            if rec[j] is None and isinstance(f, str) and f.startswith("="):
                notes[(len(records), header[j])] = (
                    f"cell {_col_letter(j + 1)}{sheet_row} is a formula ({show(f, 40)}) with no saved value; "
                    f"open the workbook in Excel and save it, or paste the values")
        records.append(rec)
        rows.append(n)
        lines.append(sheet_row)
    wb.close()
    if formulas_wb is not None:
        formulas_wb.close()
    frame = pd.DataFrame(records, columns=header, dtype=object)
    return RawTable(path, frame, rows, [], "xlsx", lines=lines, notes=notes)


def _col_letter(i: int) -> str:
    out = ""
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _merged_ranges(ws) -> dict[tuple[int, int], Any]:
    """(sheet row, column) → the value of the top-left cell of its merged range, for every cell of a
    merged range but its top-left one (read-only sheets do not fill them in)."""
    import xml.etree.ElementTree as ET

    from openpyxl.utils.cell import range_boundaries

    refs: list[str] = []
    try:
        src = ws._get_source()
        try:
            for _, el in ET.iterparse(src, events=("end",)):
                if el.tag.endswith("}mergeCell"):
                    refs.append(el.get("ref", ""))
                elif el.tag.endswith("}row"):
                    el.clear()
        finally:
            src.close()
    except Exception:  # noqa: BLE001 - no merged ranges readable: the values as stored
        return {}
    out: dict[tuple[int, int], Any] = {}
    for ref in refs:
        try:
            c0, r0, c1, r1 = range_boundaries(ref)
        except (ValueError, TypeError):
            continue
        if None in (c0, r0, c1, r1) or (r1 - r0 + 1) * (c1 - c0 + 1) > 1_000_000:
            continue
        top = ws.cell(row=r0, column=c0).value
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                if (r, c) != (r0, c0):
                    out[(r, c)] = top
    return out


def read_parquet(path: Path) -> RawTable:
    read_bytes(path)
    import pyarrow.parquet as pq

    try:
        frame = _parquet_frame(pq.ParquetFile(path).read())
    except Exception as ex:  # noqa: BLE001 - pyarrow raises many kinds for broken files
        raise _parquet_error(path, ex) from None
    return RawTable(path, frame, list(range(1, len(frame) + 1)), [], "parquet")


def read_parquet_chunks(path: Path, chunk_rows: int) -> Iterator[RawTable]:
    """The rows of a Parquet file in tables of at most ``chunk_rows`` rows (row batches, bounded memory),
    with the column rules of :func:`read_parquet`; at least one table is yielded."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    check_file(path)
    try:
        pf = pq.ParquetFile(path)
        batches = pf.iter_batches(batch_size=chunk_rows)
    except Exception as ex:  # noqa: BLE001 - pyarrow raises many kinds for broken files
        raise _parquet_error(path, ex) from None
    start = 0
    while True:
        try:
            batch = next(batches, None)
            frame = _parquet_frame(pa.Table.from_batches([batch]) if batch is not None
                                   else pf.schema_arrow.empty_table())
        except Exception as ex:  # noqa: BLE001
            raise _parquet_error(path, ex) from None
        if batch is None and start:
            return
        yield RawTable(path, frame, list(range(start + 1, start + len(frame) + 1)), [], "parquet")
        start += len(frame)
        if batch is None:
            return


def _parquet_frame(table) -> pd.DataFrame:
    """A Parquet table as raw records: column names as text and unique (integer names, or two columns of
    one name, would lose data), a named index kept as a column, every value as it is."""
    table = table.rename_columns(_unique_header([str(c) for c in table.column_names]))
    frame = table.to_pandas(ignore_metadata=True)
    frame = frame.drop(columns=[c for c in frame.columns if re.fullmatch(r"__index_level_\d+__", c)])
    return frame.reset_index(drop=True).astype(object)


def _parquet_error(path: Path, ex: Exception) -> InputFileError:
    return InputFileError(f"file '{path}' is not a readable Parquet file ({type(ex).__name__}: "
                          f"{show(' '.join(str(ex).split()), 160)})")


def _flatten(obj: Any, prefix: str = "", out: dict | None = None) -> dict:
    """Nested objects flattened to dotted names; a name met twice (``"a.b"`` beside ``{"a": {"b": …}}``)
    keeps both values, the later one as ``a.b.1``."""
    out = {} if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                _flatten(v, key, out)
            else:
                name, i = key, 0
                while name in out:
                    i += 1
                    name = f"{key}.{i}"
                out[name] = v
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
                rejects.append({"row": n, "line": n, "reason": f"invalid JSON line ({ex.msg} at column {ex.colno})", "raw": line[:2000]})
                continue
            except (ValueError, RecursionError) as ex:  # e.g. a 5,000-digit number, 10,000 nested lists
                rejects.append({"row": n, "line": n, "reason": f"unreadable JSON line ({type(ex).__name__})", "raw": line[:2000]})
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
            rejects.append({"row": n, "line": n, "reason": f"record is a JSON {type(obj).__name__}, not an object", "raw": _dump(obj)})
            continue
        try:
            flat.append(_flatten(obj))
        except RecursionError:
            rejects.append({"row": n, "line": n, "reason": "record is nested too deeply",
                            "raw": ""})
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
    check_file(path)
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
