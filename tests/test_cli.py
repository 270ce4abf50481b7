"""The CLI: one-line errors with exit code 2, internal errors with exit 1, help with examples."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from verbatim.cli import main


@pytest.fixture()
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture()
def avis(tmp_path) -> Path:
    p = tmp_path / "avis.csv"
    p.write_text(
        "commentaire;date_publication;note;agence\n"
        "Accueil agréable;06/09/2021;4,5;Paris\n"
        ";07/09/2021;2;Paris\n"
        "Attente interminable;8 avril 2014;1;Lyon\n"
        "attente  interminable;08/04/2014;1;Lyon\n",
        encoding="utf-8",
    )
    return p


def invoke(runner: CliRunner, args: list[str]):
    result = runner.invoke(main, [str(a) for a in args])
    # a user mistake or a success never shows a traceback
    assert "Traceback" not in result.output
    return result


def error_line(result) -> str:
    lines = [l for l in result.stderr.splitlines() if l.startswith(("error:", "internal error:"))]
    assert len(lines) == 1, result.output
    return lines[0]


def test_ingest_prints_counts_and_writes_files(runner, avis, tmp_path):
    out = tmp_path / "out" / "avis.parquet"
    r = invoke(runner, ["ingest", avis, "--source", "client", "--text", "commentaire", "--date", "date_publication",
                        "--score", "note", "--unit", "agence", "-o", out])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "read 4 rows: kept 2, duplicates 1, rejected 1"
    assert lines[1] == "verbatims: 2 written, 1 duplicate texts merged"
    assert lines[2] == f"wrote {out} and {out.with_name('avis.rejects.csv')}"
    v = pd.read_parquet(out)
    assert v["text"].tolist() == ["Accueil agréable", "Attente interminable"]
    assert v["source"].tolist() == ["customer", "customer"]
    assert v["score"].tolist() == [4.5, 1.0]
    assert v["duplicates"].tolist() == [0, 1]
    rej = pd.read_csv(out.with_name("avis.rejects.csv"), dtype=str)
    assert rej["row"].tolist() == ["2"]
    assert rej["reason"].tolist() == ["empty text in 'commentaire'"]


def test_ingest_default_output_under_the_project(runner, avis, tmp_path, monkeypatch):
    monkeypatch.setenv("VERBATIM_HOME", str(tmp_path / "home"))
    r = invoke(runner, ["ingest", avis, "--source", "customer", "--text", "commentaire"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "home" / "data" / "processed" / "avis.parquet").is_file()
    assert (tmp_path / "home" / "data" / "processed" / "avis.rejects.csv").is_file()


def test_ingest_several_files_prints_one_line_each(runner, avis, tmp_path):
    other = tmp_path / "autre.csv"
    other.write_text("commentaire\nAccueil agréable\nNouveau\n", encoding="utf-8")
    out = tmp_path / "all.parquet"
    r = invoke(runner, ["ingest", avis, other, "--source", "customer", "--text", "commentaire", "-o", out])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[:3] == [
        "avis.csv: read 4 rows: kept 2, duplicates 1, rejected 1",
        "autre.csv: read 2 rows: kept 1, duplicates 1, rejected 0",
        "read 6 rows: kept 3, duplicates 2, rejected 1",
    ]


def test_allow_source_lets_a_third_source_through(runner, avis, tmp_path):
    out = tmp_path / "m.parquet"
    r = invoke(runner, ["ingest", avis, "--source", "manager", "--text", "commentaire", "-o", out])
    assert r.exit_code == 2
    assert error_line(r) == (
        "error: source 'manager' is not a known source; known: customer, employee. To compare another group, "
        "declare it with --allow-source manager or sources = [...] in [ingest]"
    )
    assert not out.exists()
    r = invoke(runner, ["ingest", avis, "--source", "manager", "--allow-source", "Manager", "--text", "commentaire",
                        "-o", out])
    assert r.exit_code == 0, r.output
    assert set(pd.read_parquet(out)["source"]) == {"manager"}


def test_split_pros_cons_from_the_cli(runner, tmp_path):
    p = tmp_path / "gd.csv"
    p.write_text("pros,cons\nBonne ambiance,Salaire bas\n", encoding="utf-8")
    out = tmp_path / "gd.parquet"
    r = invoke(runner, ["ingest", p, "--source", "employee", "--text", "pros:pros", "--text", "cons:cons", "-o", out])
    assert r.exit_code == 0, r.output
    v = pd.read_parquet(out)
    assert v["polarity_tag"].tolist() == ["positive", "negative"]
    out2 = tmp_path / "gd2.parquet"
    r = invoke(runner, ["ingest", p, "--source", "employee", "--text", "pros", "--text", "cons", "--combine", "-o", out2])
    assert r.exit_code == 0
    assert pd.read_parquet(out2)["text"].tolist() == ["Bonne ambiance\nSalaire bas"]


def test_date_required_and_max_chars_options(runner, avis, tmp_path):
    out = tmp_path / "o.parquet"
    r = invoke(runner, ["ingest", avis, "--source", "customer", "--text", "commentaire", "--date", "date_publication",
                        "--date-required", "--max-chars", "17", "-o", out])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "read 4 rows: kept 1, duplicates 0, rejected 3"


def test_config_file(runner, avis, tmp_path):
    toml = tmp_path / "verbatim.toml"
    toml.write_text('[ingest]\nmax_text_chars = 100\n\n[[ingest.files]]\npath = "avis.csv"\nsource = "customer"\n'
                    'text = "commentaire"\ndate = "date_publication"\n', encoding="utf-8")
    out = tmp_path / "c.parquet"
    r = invoke(runner, ["ingest", "--config", toml, "-o", out])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0] == "read 4 rows: kept 2, duplicates 1, rejected 1"


# --------------------------------------------------------------------------- user errors: exact text, exit 2

def test_missing_file(runner, tmp_path):
    p = tmp_path / "absent.csv"
    r = invoke(runner, ["ingest", p, "--source", "customer", "--text", "avis"])
    assert r.exit_code == 2
    assert error_line(r) == f"error: file '{p}' does not exist; check the path"


def test_missing_column_lists_columns_and_closest(runner, avis):
    r = invoke(runner, ["ingest", avis, "--source", "customer", "--text", "commentaires"])
    assert r.exit_code == 2
    assert error_line(r) == (
        f"error: column 'commentaires' (given for --text) not found in '{avis}' (did you mean 'commentaire'?); "
        f"columns: commentaire, date_publication, note, agence"
    )
    r = invoke(runner, ["ingest", avis, "--source", "customer", "--text", "commentaire", "--date", "date"])
    assert r.exit_code == 2
    assert error_line(r) == (
        f"error: column 'date' (given for --date) not found in '{avis}'; "
        f"columns: commentaire, date_publication, note, agence"
    )


def _xlsx(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Avis"
    wb.active.append(["avis"])
    wb.active.append(["bien"])
    wb.create_sheet("Notes").append(["x"])
    wb.save(path)
    return path


def test_absent_sheet(runner, tmp_path):
    p = _xlsx(tmp_path / "avis.xlsx")
    r = invoke(runner, ["ingest", p, "--source", "customer", "--text", "avis", "--sheet", "avi"])
    assert r.exit_code == 2
    assert error_line(r) == f"error: sheet 'avi' not found in '{p}' (did you mean 'Avis'?); sheets: Avis, Notes"
    r = invoke(runner, ["ingest", p, "--source", "customer", "--text", "avis", "--sheet", "7"])
    assert r.exit_code == 2
    assert error_line(r) == f"error: sheet 7 does not exist in '{p}'; it has 2 sheet(s): Avis, Notes (numbers start at 0)"
    out = tmp_path / "x.parquet"
    r = invoke(runner, ["ingest", p, "--source", "customer", "--text", "avis", "--sheet", "0", "-o", out])
    assert r.exit_code == 0, r.output
    assert pd.read_parquet(out)["text"].tolist() == ["bien"]


def test_sheet_named_like_a_number(runner, tmp_path):
    import openpyxl

    p = tmp_path / "annees.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "2022"
    wb.active.append(["avis"])
    wb.active.append(["ancien"])
    ws = wb.create_sheet("2023")
    ws.append(["avis"])
    ws.append(["récent"])
    wb.save(p)
    out = tmp_path / "x.parquet"
    r = invoke(runner, ["ingest", p, "--source", "customer", "--text", "avis", "--sheet", "2023", "-o", out])
    assert r.exit_code == 0, r.output
    assert pd.read_parquet(out)["text"].tolist() == ["récent"]


def test_unreadable_workbook(runner, tmp_path):
    p = tmp_path / "cassé.xlsx"
    p.write_bytes(b"not a workbook at all")
    r = invoke(runner, ["ingest", p, "--source", "customer", "--text", "avis"])
    assert r.exit_code == 2
    assert error_line(r).startswith(f"error: file '{p}' is not a readable .xlsx workbook (")


def test_wrong_source_name(runner, avis):
    r = invoke(runner, ["ingest", avis, "--source", "custmer", "--text", "commentaire"])
    assert r.exit_code == 2
    assert error_line(r) == (
        "error: source 'custmer' is not a known source; known: customer, employee (did you mean 'customer'?). "
        "To compare another group, declare it with --allow-source custmer or sources = [...] in [ingest]"
    )


def test_no_text(runner, avis):
    r = invoke(runner, ["ingest", avis, "--source", "customer"])
    assert r.exit_code == 2
    assert error_line(r) == "error: no text column given; name one with --text COLUMN (repeat it for several)"


def test_no_source(runner, avis):
    r = invoke(runner, ["ingest", avis, "--text", "commentaire"])
    assert r.exit_code == 2
    assert error_line(r) == ("error: no source given; pass --source customer (or employee, …) or "
                             "--source-column COLUMN")


def test_no_input(runner):
    r = invoke(runner, ["ingest"])
    assert r.exit_code == 2
    assert error_line(r) == "error: no input file; give FILES or a --config with [[ingest.files]] entries"


def test_bad_config_key(runner, avis, tmp_path):
    toml = tmp_path / "verbatim.toml"
    toml.write_text("[ingest]\ndate_requierd = true\n", encoding="utf-8")
    r = invoke(runner, ["ingest", avis, "--source", "customer", "--text", "commentaire", "--config", toml])
    assert r.exit_code == 2
    line = error_line(r)
    assert line.startswith("error: [ingest] has an unknown key 'date_requierd' (did you mean 'date_required'?); "
                           "known keys: date_order, date_required, files, ")


def test_missing_config(runner, tmp_path):
    toml = tmp_path / "nope.toml"
    r = invoke(runner, ["ingest", "--config", toml])
    assert r.exit_code == 2
    assert error_line(r) == f"error: config file '{toml}' does not exist; check the path given to --config"


def test_click_usage_errors_exit_2(runner, avis):
    r = invoke(runner, ["ingest", avis, "--format", "docx"])
    assert r.exit_code == 2
    assert "Invalid value for '--format'" in r.output
    r = invoke(runner, ["frobnicate"])
    assert r.exit_code == 2
    assert "No such command 'frobnicate'" in r.output


# --------------------------------------------------------------------------- internal errors: exit 1

def test_internal_error_exit_1_with_verbose_hint(runner, avis, monkeypatch):
    import verbatim.ingest.readers as readers

    def boom(*a, **k):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(readers, "read_csv", boom)
    r = invoke(runner, ["ingest", avis, "--source", "customer", "--text", "commentaire"])
    assert r.exit_code == 1
    assert error_line(r) == ("internal error: RuntimeError: boom (rerun with --verbose for the traceback, "
                             "and report it)")
    r = runner.invoke(main, ["ingest", str(avis), "--source", "customer", "--text", "commentaire", "--verbose"])
    assert r.exit_code == 1
    assert "Traceback" in r.stderr and "RuntimeError: boom" in r.stderr


# --------------------------------------------------------------------------- help

def test_every_command_has_help_and_an_example(runner):
    assert main.commands, "no commands registered"
    for name, cmd in main.commands.items():
        assert cmd.help and cmd.help.strip(), f"{name} has no help text"
        assert cmd.get_short_help_str(), name
        r = runner.invoke(main, [name, "--help"])
        assert r.exit_code == 0, (name, r.output)
        assert "Example" in r.output, f"`verbatim {name} --help` shows no example"
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert param.help, f"verbatim {name} {param.opts[0]} has no help text"
    r = runner.invoke(main, ["--help"])
    assert r.exit_code == 0 and "Example" in r.output
    for name in main.commands:
        assert name in r.output


@pytest.mark.parametrize("args, says", [
    (["fit", "{t}/v.parquet", "--nosuch", "-o", "{t}/m"], "No such option '--nosuch'"),
    (["digest"], "Missing argument 'MODEL_DIR'"),
    (["score", "{t}"], "Missing argument 'FILES...'"),
    (["mirror", "{t}", "-o", "{t}/r", "--period", "daily"], "Invalid value for '--period'"),
    (["ingest", "{t}/v.parquet", "--max-chars", "abc"], "Invalid value for '--max-chars'"),
    (["nosuchcmd"], "No such command 'nosuchcmd'"),
])
def test_click_usage_errors_are_one_line(runner, tmp_path, args, says):
    """Issue 27 item 18: click's usage errors printed 3 lines (usage, try, error)."""
    r = invoke(runner, [a.format(t=tmp_path) for a in args])
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and "Usage:" not in r.stderr, r.stderr
    line = error_line(r)
    assert says in line and "--help`)" in line


def test_fit_on_a_folder_says_it_is_a_folder(runner, tmp_path):
    """Issue 27 item 18: `fit adir` said "does not exist"."""
    (tmp_path / "adir").mkdir()
    r = invoke(runner, ["fit", tmp_path / "adir", "-o", tmp_path / "m"])
    assert r.exit_code == 2
    assert error_line(r) == f"error: '{tmp_path / 'adir'}' is a folder, not a file; give the path of a file inside it"


def test_version(runner):
    r = runner.invoke(main, ["--version"])
    assert r.exit_code == 0 and "verbatim, version" in r.output


# --------------------------------------------------------------------------- the real process

def _run(args, cwd):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "verbatim.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_exit_codes_of_the_real_process(avis, tmp_path):
    ok = _run(["ingest", avis, "--source", "customer", "--text", "commentaire", "-o", tmp_path / "o.parquet"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0] == "read 4 rows: kept 2, duplicates 1, rejected 1"
    bad = _run(["ingest", avis, "--source", "customer", "--text", "nope"], tmp_path)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("error: column 'nope' (given for --text) not found")
    assert bad.stdout == ""
