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


# ------------------------------------------------------------------ 4. scores off the scale
def _scores_file(tmp_path, scores, name="n.csv"):
    p = tmp_path / name
    lines = ["id,avis,note"] + [f"{i},avis numero {i},{s}" for i, s in enumerate(scores, start=1)]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("odd", ["-3", "8/10", "1e21", "1000"])
def test_one_score_off_the_scale_is_rejected_not_rescaling_the_file(tmp_path, odd):
    scores = [str(1 + i % 5) for i in range(200)]
    scores[57] = odd
    p = _scores_file(tmp_path, scores)
    r = run_ingest(p, score="note")
    assert counts(r) == (200, 199, 0, 1)
    rej = r.rejects.iloc[0]
    assert rej["row"] == 58 and f"score '{odd}'" in rej["reason"] and "1-5" in rej["reason"]
    assert set(r.verbatims["score_scale"]) == {"1-5"}
    assert r.verbatims["score"].between(1, 5).all()


def test_a_real_0_10_file_stays_0_10(tmp_path):
    p = _scores_file(tmp_path, [str(i % 11) for i in range(100)])
    r = run_ingest(p, score="note")
    assert counts(r) == (100, 100, 0, 0) and set(r.verbatims["score_scale"]) == {"0-10"}


def test_declared_scale_rejects_what_lies_off_it(tmp_path):
    p = _scores_file(tmp_path, ["1", "5", "7", "4/5", "8/10", "0"])
    r = run_ingest(p, score="note", score_scale="1-5")
    assert r.rejects["row"].tolist() == [3, 5, 6]
    assert all("declared 1-5 scale" in x for x in r.rejects["reason"])
    with pytest.raises(ConfigError, match="score_scale must be LOW-HIGH"):
        FileSpec(path="x.csv", text="avis", source="customer", score="note", score_scale="cinq")


def test_score_scale_from_cli_and_config_takes_effect(tmp_path):
    p = _scores_file(tmp_path, ["2", "3", "4", "1", "2"] * 4)  # 1-5 values on a declared 0-10 scale
    out = tmp_path / "o.parquet"
    r = CliRunner().invoke(main, ["ingest", str(p), "--source", "customer", "--text", "avis", "--score", "note",
                                  "--score-scale", "0-10", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert set(pd.read_parquet(out)["score_scale"]) == {"0-10"}
    toml = tmp_path / "v.toml"
    toml.write_text(f'[[ingest.files]]\npath = "{p.name}"\nsource = "customer"\ntext = ["avis"]\n'
                    f'score = "note"\nscore_scale = "0-10"\n', encoding="utf-8")
    r = CliRunner().invoke(main, ["ingest", "--config", str(toml), "-o", str(out)])
    assert r.exit_code == 0, r.output
    v = pd.read_parquet(out)
    assert set(v["score_scale"]) == {"0-10"}
    from verbatim.polarity import infer_scale

    assert infer_scale(v["score"]).name == "1-5"  # what the values alone would say
    assert infer_scale(v["score"], v["score_scale"]).name == "0-10"  # the declared scale wins downstream


# ------------------------------------------------------------------ 8. smaller ingest points
def test_xlsx_rows_formulas_and_merged_cells(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["avis", "agence"])          # row 1
    ws.append(["bien", "Paris"])           # row 2
    ws.append([None, None])                # row 3: blank
    ws.append(["=A2&\" encore\"", "Lyon"])  # row 4: a formula never calculated (no saved value)
    ws.append(["long", "Nice"])            # row 5, agence merged over rows 5-7
    ws.append(["deux", None])              # row 6
    ws.append(["trois", None])             # row 7
    ws.merge_cells("B5:B7")
    p = tmp_path / "a.xlsx"
    wb.save(p)
    r = run_ingest(p, unit="agence")
    assert counts(r) == (5, 4, 0, 1)
    rej = r.rejects.iloc[0]
    assert rej["line"] == 4 and "formula" in rej["reason"] and "A4" in rej["reason"]  # was: 'empty text', row 2
    assert r.verbatims["unit"].tolist() == ["Paris", "Nice", "Nice", "Nice"]  # merged cells filled down


def test_json_key_clash_keeps_both_values(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps([{"avis": "bien", "a.b": "un", "a": {"b": "deux"}}]), encoding="utf-8")
    r = run_ingest(p)
    row = r.verbatims.iloc[0]
    assert {row["a.b"], row["a.b.1"]} == {"un", "deux"}


def test_parquet_with_integer_and_repeated_column_names(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "a.parquet"
    pq.write_table(pa.table([["bien", "mal"], ["x", "y"], ["z", "w"]], names=["0", "avis", "avis"]), p)
    r = run_ingest(p, text="0")
    assert r.verbatims["text"].tolist() == ["bien", "mal"]
    assert r.verbatims["avis"].tolist() == ["x", "y"] and r.verbatims["avis.1"].tolist() == ["z", "w"]
    q = tmp_path / "b.parquet"
    pd.DataFrame({0: ["bien", "mal"], 1: ["a", "b"]}).to_parquet(q)
    r = CliRunner().invoke(main, ["ingest", str(q), "--source", "customer", "--text", "0", "-o", str(tmp_path / "o.parquet")])
    assert r.exit_code == 0, r.output
