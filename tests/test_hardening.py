"""Issue 12: nothing lost, nothing overwritten, every user mistake a one-line error (exit 2).

Each test pins a case found by trying to break verbatim as a hostile new user would; each failed
on the code before the fix.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from verbatim.cli import main
from verbatim.config import FileSpec, IngestConfig
from verbatim.errors import ArtefactError, ConfigError, InputFileError, OutputError
from verbatim.ingest import ingest, write_ingest


def run_ingest(path, cfg=None, **kw):
    kw.setdefault("source", "customer")
    kw.setdefault("text", "avis")
    return ingest(FileSpec(path=str(path), **kw), cfg or IngestConfig())


def counts(r):
    t = r.total
    return t.read, t.kept, t.duplicates, t.rejected


# ------------------------------------------------------------------ 2. a runaway quote
def _rows(n):
    return ["id,avis,agence"] + [f"{i},texte numero {i} correct,Paris" for i in range(1, n + 1)]


def test_quote_left_open_to_the_end_rejects_only_its_row(tmp_path):
    rows = _rows(1000)
    rows[10] = '10,"texte ouvert sans fin,Paris'  # file line 11
    p = tmp_path / "a.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = run_ingest(p)
    assert counts(r) == (1000, 999, 0, 1)  # was: read 10 rows: kept 9, rejected 1
    rej = r.rejects.iloc[0]
    assert (rej["row"], rej["line"]) == (10, 11)
    assert rej["reason"].startswith("unbalanced quote") and "line 11" in rej["reason"]
    assert r.verbatims["text"].str.len().max() < 40


def test_quote_closed_by_a_later_quote_rejects_only_its_row(tmp_path):
    rows = _rows(1000)
    rows[10] = '10,"texte ouvert sans fin,Paris'
    rows[500] = '500,"texte, cité",Paris'  # a well-quoted field later closes the runaway quote
    p = tmp_path / "a.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = run_ingest(p)
    assert counts(r) == (1000, 999, 0, 1)
    assert r.rejects["line"].tolist() == [11]
    assert "texte, cité" in set(r.verbatims["text"])


def test_genuine_multi_line_fields_are_kept(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text('id,avis,agence\n1,"Bonjour,\nj\'ai attendu, longtemps\nmerci",Paris\n2,"deux\nlignes",Lyon\n3,ok,Nice\n',
                 encoding="utf-8")
    r = run_ingest(p)
    assert counts(r) == (3, 3, 0, 0)
    assert r.verbatims["text"].iloc[1] == "deux\nlignes"


# ------------------------------------------------------------------ 3. mixed encodings
def test_one_cp1252_line_in_a_utf8_file_is_read_as_cp1252(tmp_path, caplog):
    lines = ["id,avis,agence"] + [f"{i},très bien à {i},Besançon" for i in range(1, 1289)]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    data = data.replace("500,très bien à 500,".encode(), "500,très bien à 500,".encode("cp1252"))
    p = tmp_path / "a.csv"
    p.write_bytes(data)
    r = run_ingest(p, unit="agence")
    assert counts(r) == (1288, 1288, 0, 0)
    assert set(r.verbatims["unit"]) == {"Besançon"}  # was: 'BesanÃ§on' for 908 rows
    assert not r.verbatims["text"].str.contains("Ã|\ufffd").any()
    assert r.files[0].encoding == "utf-8+cp1252"
    assert "mixes encodings" in caplog.text and "line 501" in caplog.text


def test_bom_on_a_cp1252_body(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbf" + "id,avis\n1,très été\n2,déjà vu\n".encode("cp1252"))
    r = run_ingest(p)
    assert r.verbatims["text"].tolist() == ["très été", "déjà vu"]  # was: U+FFFD for every accent
