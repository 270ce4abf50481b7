"""Thousands of malformed files through the ingest entry points: never a crash, always reconciled counts.

Each example writes several files (CSV in five encodings, odd quoting, ragged rows, junk and NUL
bytes, gzip or not; JSON and JSONL junk; broken workbooks and Parquet). The library must raise
nothing but a ``VerbatimError``; the CLI must exit 0 or 2 (never 1, never a traceback) and, when it
succeeds, print ``read N rows: kept K, duplicates D, rejected R`` with N = K + D + R, matching the
files it wrote.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import re
import shutil
import string
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from verbatim.cli import main
from verbatim.config import FileSpec, IngestConfig
from verbatim.errors import VerbatimError
from verbatim.ingest import ingest

FILES_PER_EXAMPLE = 6
LIB_EXAMPLES = 250  # x 6 files
CLI_EXAMPLES = 90  # x 6 files
COUNTS = re.compile(r"^read (\d+) rows: kept (\d+), duplicates (\d+), rejected (\d+)$", re.M)

# no shrinking: a failure is reported at once, as generated (shrinking these files takes minutes)
SETTINGS = dict(deadline=None, database=None, print_blob=True,
                phases=(Phase.explicit, Phase.reuse, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

ATOMS = list(string.ascii_letters[:12]) + [
    " ", "  ", "é", "è", "à", "ç", "œ", "É", "’", "«", "»", "€", "😀", "\u00a0", "\u2028", "\x85",
    ",", ";", "\t", "|", '"', '""', "'", "\n", "\r\n", "\r", "\x00", "\ufeff", "=", "+", "-", "@",
    "06/09/2021", "12/31/2020", "8 avril 2014", "2021-09-06T10:00:00Z", "4,5", "8/10", "x" * 300,
]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16", "utf-16-le"]
HEADERS = ["avis", "texte", "date", "note", "agence", "id", "avis", "", " avis ", "a.b", "row", "file"]

cells = st.lists(st.sampled_from(ATOMS), max_size=6).map("".join)


@st.composite
def csv_file(draw):
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    width = len(header)
    rows = draw(st.lists(
        st.lists(cells, min_size=max(0, width - 2), max_size=width + 2),  # ragged rows
        max_size=8))
    if draw(st.integers(0, 20)) == 0:
        rows.append(["y" * draw(st.sampled_from([5_000, 12_000]))] * width)  # huge fields
    delim = draw(st.sampled_from([",", ";", "\t", "|"]))
    style = draw(st.sampled_from(["minimal", "all", "raw", "raw", "none"]))
    table = ([] if draw(st.integers(0, 9)) == 0 else [header]) + rows  # sometimes no header at all
    if style in ("minimal", "all"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delim, lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
                       quoting=csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL)
        w.writerows(table)
        text = buf.getvalue()
    else:
        text = "\n".join(delim.join(r) for r in table)  # a naive export: no quoting at all
        if style == "none":
            buf = io.StringIO()
            try:
                csv.writer(buf, delimiter=delim, quoting=csv.QUOTE_NONE, escapechar="\\").writerows(table)
                text = buf.getvalue()
            except csv.Error:  # "single empty field record must be quoted"
                pass
    enc = draw(st.sampled_from(ENCODINGS))
    data = text.encode(enc, errors="replace")
    junk = draw(st.sampled_from([b"", b"", b"", b"\x00\x00", b"\xff\xfe\x00", b"\x81\x8d\x90", b"\x1f\x8b"]))
    if junk:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + junk + data[at:]
    if draw(st.booleans()):
        data = gzip.compress(data)
    if draw(st.integers(0, 15)) == 0:
        data = draw(st.binary(max_size=200))
    name = draw(st.sampled_from(["f.csv", "f.csv.gz", "f.txt", "f.tsv"]))
    return name, data, header


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | cells,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["avis", "b", "note", "date", "x"]), children, max_size=3),
    max_leaves=8,
)
records = st.dictionaries(st.sampled_from(["avis", "a", "note", "date", "agence", "id"]), json_values, max_size=5)


@st.composite
def json_file(draw):
    kind = draw(st.sampled_from(["list", "object", "lines", "junk", "deep"]))
    recs = draw(st.lists(records | json_values, max_size=6))
    if kind == "list":
        text = json.dumps(recs, ensure_ascii=draw(st.booleans()))
    elif kind == "object":
        text = json.dumps({"data": recs, "meta": draw(json_values)})
    elif kind == "lines":
        lines = [json.dumps(r, ensure_ascii=False) for r in recs]
        lines += draw(st.lists(cells, max_size=3))  # broken lines
        text = "\n".join(draw(st.permutations(lines)))
    elif kind == "deep":
        depth = draw(st.sampled_from([50, 900, 5_000]))
        text = "[" * depth + "]" * depth if draw(st.booleans()) else '{"a":' * depth + "1" + "}" * depth
    else:
        text = draw(cells) + draw(st.sampled_from(["", "{", "[", '{"avis": ', "9" * 5000]))
    data = text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"])), errors="replace")
    if draw(st.booleans()):
        data = gzip.compress(data)
    name = draw(st.sampled_from(["f.json", "f.jsonl", "f.ndjson"] if kind == "lines" else ["f.json", "f.jsonl"]))
    return name, data, ["avis", "a.b", "a", "note", "date", "agence", "id"]


@st.composite
def other_file(draw):
    name = draw(st.sampled_from(["f.xlsx", "f.parquet", "f.docx", "f"]))
    data = draw(st.sampled_from([b"", b"PK\x03\x04", b"PAR1", b"\x1f\x8b\x08\x00"])) + draw(st.binary(max_size=100))
    return name, data, ["avis"]


any_file = st.one_of(csv_file(), csv_file(), csv_file(), json_file(), json_file(), other_file())


@st.composite
def mapping(draw, header):
    names = [h.strip() or "column_1" for h in header] + ["absent"]
    texts = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2))
    opt = lambda: draw(st.none() | st.sampled_from(names))  # noqa: E731
    kw = dict(text=tuple(texts), date=opt(), score=opt(), unit=opt(),
              text_mode=draw(st.sampled_from(["split", "combine"])))
    if draw(st.integers(0, 5)) == 0:
        kw["source_column"] = draw(st.sampled_from(names))
    else:
        kw["source"] = draw(st.sampled_from(["customer", "employee", "Clients", "manager"]))
    if draw(st.integers(0, 8)) == 0:
        kw["encoding"] = draw(st.sampled_from(["utf-8", "latin-1", "klingon"]))
    if draw(st.integers(0, 8)) == 0:
        kw["delimiter"] = draw(st.sampled_from([",", ";", "\t", "|"]))
    return kw


def _write(folder: Path, i: int, name: str, data: bytes) -> Path:
    d = folder / str(i)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    p = d / name
    p.write_bytes(data)
    return p


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("property")


@settings(max_examples=LIB_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_library_never_crashes_and_counts_reconcile(work, data):
    for i in range(FILES_PER_EXAMPLE):
        name, raw, header = data.draw(any_file)
        kw = data.draw(mapping(header))
        cfg = IngestConfig(date_required=data.draw(st.booleans()),
                           max_text_chars=data.draw(st.sampled_from([10_000, 40])))
        path = _write(work, i, name, raw)
        try:
            spec = FileSpec(path=str(path), **kw)
            result = ingest(spec, cfg)
        except VerbatimError as ex:
            msg = str(ex)
            assert msg and "\n" not in msg.strip() or "line" in msg, msg
            continue
        f = result.files[0]
        assert f.read == f.kept + f.duplicates + f.rejected
        assert len(result.rejects) == f.rejected
        assert f.verbatims == len(result.verbatims)
        assert result.verbatims["id"].is_unique
        assert (result.verbatims["text"].str.len() > 0).all()
        assert (result.verbatims["text"].str.len() <= cfg.max_text_chars).all()
        if cfg.date_required:
            assert result.verbatims["date"].notna().all()
        m = COUNTS.search("\n".join(result.summary_lines()))
        assert m and tuple(map(int, m.groups())) == (f.read, f.kept, f.duplicates, f.rejected)


@settings(max_examples=CLI_EXAMPLES, **SETTINGS)
@given(data=st.data())
def test_cli_exits_0_or_2_and_prints_reconciled_counts(work, data):
    runner = CliRunner()
    for i in range(FILES_PER_EXAMPLE):
        name, raw, header = data.draw(any_file)
        kw = data.draw(mapping(header))
        path = _write(work / "cli", i, name, raw)
        out = path.parent / "out" / "v.parquet"
        args = ["ingest", str(path), "-o", str(out), "--text", kw["text"][0]]  # one text column: K = verbatims
        if "source" in kw:
            args += ["--source", kw["source"]]
        else:
            args += ["--source-column", kw["source_column"]]
        for opt in ("date", "score", "unit", "encoding", "delimiter"):
            if kw.get(opt):
                args += [f"--{opt}", kw[opt]]
        if data.draw(st.booleans()):
            args += ["--date-required"]
        r = runner.invoke(main, args)
        assert r.exit_code in (0, 2), (args, r.output)
        assert "Traceback" not in r.output, r.output
        if r.exit_code == 2:
            errors = [l for l in r.stderr.splitlines() if l.startswith(("error:", "Error:"))]
            assert len(errors) == 1, r.output
            continue
        m = COUNTS.search(r.stdout)
        assert m, r.stdout
        n, k, d, rej = map(int, m.groups())
        assert n == k + d + rej
        assert len(pd.read_parquet(out)) == k
        rejects = pd.read_csv(out.with_name("v.rejects.csv"), dtype=str, keep_default_na=False)
        assert len(rejects) == rej
