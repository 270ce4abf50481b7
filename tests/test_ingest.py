"""Ingest: every reader, encodings, delimiters, split/combine, duplicates, rejects, accounting."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from verbatim.config import FileSpec, IngestConfig
from verbatim.errors import ColumnNotFound, ConfigError, InputFileError, SheetNotFound
from verbatim.ingest import IngestResult, ingest, read_any, write_ingest
from verbatim.ingest.contract import CONTRACT, REJECT_COLUMNS
from verbatim.summary import render_text, summarise


def check_counts(result: IngestResult) -> None:
    """N = K + D + R for every file and in total; the kept verbatims match the table."""
    for f in result.files:
        assert f.read == f.kept + f.duplicates + f.rejected, f
    t = result.total
    assert t.read == t.kept + t.duplicates + t.rejected
    assert t.verbatims == len(result.verbatims)
    assert t.rejected == len(result.rejects)
    # every rejected row is a real row of its file, listed once
    assert not result.rejects.duplicated(["file", "row"]).any()
    assert list(result.verbatims.columns[: len(CONTRACT)]) == CONTRACT
    assert result.verbatims["id"].is_unique


def run(path, cfg: IngestConfig | None = None, **kw) -> IngestResult:
    kw.setdefault("source", "customer")
    kw.setdefault("text", ("avis",))
    result = ingest(FileSpec(path=str(path), **kw), cfg)
    check_counts(result)
    return result


# --------------------------------------------------------------------------- readers

def test_csv_plain_and_gzip_give_the_same_table(tmp_path):
    content = "id,avis,note\n1,Très bien,5\n2,Trop d'attente,2\n3,,4\n"
    (tmp_path / "plain").mkdir()
    (tmp_path / "gz").mkdir()
    plain = tmp_path / "plain" / "avis.csv"
    plain.write_text(content, encoding="utf-8")
    gz = tmp_path / "gz" / "avis.csv"  # gzip detected by its magic bytes, whatever the name
    gz.write_bytes(gzip.compress(content.encode("utf-8")))
    gz2 = tmp_path / "gz" / "avis.csv.gz"
    gz2.write_bytes(gzip.compress(content.encode("utf-8")))
    a = run(plain, id="id", score="note")
    b = run(gz, id="id", score="note")
    c = run(gz2, id="id", score="note")
    assert a.total.read == 3 and a.total.kept == 2 and a.total.rejected == 1
    pd.testing.assert_frame_equal(a.verbatims.drop(columns="file"), b.verbatims.drop(columns="file"))
    assert c.verbatims["text"].tolist() == ["Très bien", "Trop d'attente"]
    assert c.verbatims["score"].tolist() == [5.0, 2.0]
    assert c.verbatims["id"].tolist() == ["1", "2"]


def _workbook(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Résumé"
    ws.append(["rien", "ici"])
    ws2 = wb.create_sheet("Avis clients")
    ws2.append(["id", "avis", "note", "date", "agence"])
    ws2.append([101, "Guichet fermé à 15h", 1, pd.Timestamp("2021-09-06").to_pydatetime(), "Créteil"])
    ws2.append([None, None, None, None, None])  # a blank row is not a record
    ws2.append([102, "Conseillère très aimable", 4.5, "08/04/2014", "Évry"])
    ws2.append([103, None, 3, None, "Lyon"])
    wb.save(path)


@pytest.mark.parametrize("sheet", ["Avis clients", 1, "1", "avis clients"])
def test_xlsx_chosen_sheet(tmp_path, sheet):
    p = tmp_path / "avis.xlsx"
    _workbook(p)
    if sheet == "avis clients":
        with pytest.raises(SheetNotFound) as ei:
            run(p, sheet=sheet)
        assert str(ei.value) == (f"sheet 'avis clients' not found in '{p}' (did you mean 'Avis clients'?); "
                                 f"sheets: Résumé, Avis clients")
        return
    r = run(p, sheet=sheet, id="id", score="note", date="date", unit="agence")
    v = r.verbatims
    assert r.total.read == 3 and r.total.kept == 2 and r.total.rejected == 1
    assert v["text"].tolist() == ["Guichet fermé à 15h", "Conseillère très aimable"]
    assert v["date"].tolist() == [pd.Timestamp(2021, 9, 6), pd.Timestamp(2014, 4, 8)]
    assert v["score"].tolist() == [1.0, 4.5]
    assert v["unit"].tolist() == ["Créteil", "Évry"]
    assert v["id"].tolist() == ["101", "102"]
    # the record numbers count records, not blank rows
    assert r.rejects["row"].tolist() == [3]


def test_xlsx_missing_sheet_number(tmp_path):
    p = tmp_path / "avis.xlsx"
    _workbook(p)
    with pytest.raises(SheetNotFound) as ei:
        run(p, sheet=5)
    assert str(ei.value) == (f"sheet 5 does not exist in '{p}'; it has 2 sheet(s): Résumé, Avis clients "
                             f"(numbers start at 0)")


def test_parquet(tmp_path):
    p = tmp_path / "avis.parquet"
    pd.DataFrame({
        "avis": ["Colis perdu", None, "Livraison rapide"],
        "note": pd.array([1, 3, pd.NA], dtype="Int64"),
        "date": pd.to_datetime(["2021-01-02", "2021-01-03", None]),
        "tags": [["a", "b"], [], None],
    }).to_parquet(p)
    r = run(p, score="note", date="date")
    v = r.verbatims
    assert r.total.read == 3 and r.total.kept == 2 and r.total.rejected == 1
    assert v["text"].tolist() == ["Colis perdu", "Livraison rapide"]
    assert v["score"].iloc[0] == 1.0 and np.isnan(v["score"].iloc[1])
    assert v["date"].iloc[0] == pd.Timestamp(2021, 1, 2) and pd.isna(v["date"].iloc[1])
    assert v["tags"].tolist() == ["a\nb", ""]  # a list cell kept as text


def test_json_list_with_nested_dotted_fields_and_a_list_field(tmp_path):
    recs = [
        {"review_rating": "4,0", "review_author": {"job": "Caissière", "date": "8 avril 2014"},
         "review_text": ["Bonne équipe.", "Travail physique."],
         "review_pros_cons": {"review_pros": "le salaire", "review_cons": "les horaires"}},
        {"review_rating": "2,0", "review_author": {"job": "Employé", "date": "1er mai 2015"},
         "review_text": [], "review_pros_cons": {"review_pros": "", "review_cons": "le management"}},
        {"review_rating": "3,0", "review_author": {"job": "Chef", "date": "3 août 2015"},
         "review_text": ["Rien à dire."], "review_pros_cons": {}},
    ]
    p = tmp_path / "indeed.json"
    p.write_text(json.dumps(recs, ensure_ascii=False), encoding="utf-8")
    raw = read_any(p)
    assert {"review_pros_cons.review_pros", "review_pros_cons.review_cons", "review_author.date",
            "review_author.job", "review_text"} <= set(raw.frame.columns)
    r = run(p, source="employee",
            text=("review_pros_cons.review_pros:pros", "review_pros_cons.review_cons:cons"),
            date="review_author.date", score="review_rating", unit="review_author.job")
    v = r.verbatims
    assert r.total.read == 3 and r.total.kept == 2 and r.total.rejected == 1
    assert v["text"].tolist() == ["le salaire", "les horaires", "le management"]
    assert v["tag"].tolist() == ["pros", "cons", "cons"]
    assert v["date"].tolist() == [pd.Timestamp(2014, 4, 8)] * 2 + [pd.Timestamp(2015, 5, 1)]
    assert v["score"].tolist() == [4.0, 4.0, 2.0]
    assert "empty text" in r.rejects["reason"].iloc[0] and r.rejects["row"].tolist() == [3]
    # a list field as text: items joined by line breaks; an empty list is an empty text
    r2 = run(p, source="employee", text=("review_text",))
    assert r2.verbatims["text"].tolist() == ["Bonne équipe.\nTravail physique.", "Rien à dire."]
    assert r2.rejects["row"].tolist() == [2]


def test_json_object_holding_records(tmp_path):
    p = tmp_path / "export.json"
    p.write_text(json.dumps({"meta": {"n": 2}, "data": {"reviews": [{"avis": "un"}, {"avis": "deux"}, 3]}}),
                 encoding="utf-8")
    r = run(p, records="data.reviews")
    assert r.verbatims["text"].tolist() == ["un", "deux"]
    assert r.rejects["reason"].tolist() == ["record is a JSON int, not an object"]
    with pytest.raises(InputFileError, match="no list of records at 'data.nope'; check --records"):
        run(p, records="data.nope")


def test_jsonl_malformed_line_is_rejected_with_its_line_number(tmp_path):
    p = tmp_path / "avis.jsonl"
    lines = [
        json.dumps({"avis": "premier", "note": 5}),
        json.dumps({"avis": "deuxième", "note": "4,5"}),
        '{"avis": "cassé", "note": ',
        "",
        json.dumps({"avis": "quatrième\u2028avec séparateur", "note": 1}, ensure_ascii=False),
        "[1, 2]",
        json.dumps({"note": 3}),
    ]
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run(p, score="note")
    assert r.files[0].format == "jsonl"
    assert r.total.read == 6 and r.total.kept == 3 and r.total.rejected == 3
    rej = r.rejects.set_index("row")
    assert rej.index.tolist() == [3, 6, 7]  # line numbers in the file
    assert rej.loc[3, "reason"].startswith("invalid JSON line (")
    assert rej.loc[3, "raw"] == '{"avis": "cassé", "note": '
    assert rej.loc[6, "reason"] == "record is a JSON list, not an object"
    assert rej.loc[7, "reason"] == "empty text in 'avis'"
    assert r.verbatims["score"].tolist() == [5.0, 4.5, 1.0]
    assert r.verbatims["row"].tolist() == [1, 2, 5]


def test_invalid_json_file(tmp_path):
    p = tmp_path / "x.json"
    p.write_text('[{"avis": "a"},', encoding="utf-8")
    with pytest.raises(InputFileError, match=r"is not valid JSON: .* at line 1, column"):
        run(p)


# --------------------------------------------------------------------------- encodings

FRENCH = [
    ["id", "avis", "note", "date", "agence"],
    ["1", "L’accueil était très agréable; merci à l’équipe", "4,5", "06/09/2021", "Créteil"],
    ["2", "Attente interminable au guichet\net personne pour répondre", "1,0", "8 avril 2014", "Évry"],
    ["3", "Prix corrects – délais à revoir, œuvre inachevée", "3", "2021-09-06", "Créteil"],
    ["4", "«Très déçu» : colis perdu, réclamation sans réponse", "2,0", "1er mai 2020", "Noisy-le-Grand"],
    ["5", "", "5", "07/09/2021", "Lyon"],
]
LATIN = [[c.replace("’", "'").replace("–", "-").replace("œ", "oe") for c in row] for row in FRENCH]


def _french_csv(rows, sep=";", eol="\r\n") -> str:
    def cell(c: str) -> str:
        if any(ch in c for ch in (sep, '"', "\n")):
            return '"' + c.replace('"', '""') + '"'
        return c
    return eol.join(sep.join(cell(c) for c in row) for row in rows) + eol


@pytest.mark.parametrize("rows, encodings", [
    (FRENCH, ["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    (LATIN, ["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]),
])
def test_encodings_ingest_to_identical_tables(tmp_path, rows, encodings):
    results = {}
    for enc in encodings:
        d = tmp_path / enc
        d.mkdir()
        p = d / "avis.csv"  # the same name: ids hold the file name
        p.write_bytes(_french_csv(rows).encode(enc))
        r = run(p, id="id", score="note", date="date", unit="agence")
        assert r.files[0].delimiter == ";"
        results[enc] = r
    base = results["utf-8"].verbatims.drop(columns="file")
    assert base["text"].tolist() == [r[1] for r in rows[1:5]]
    assert base["score"].tolist() == [4.5, 1.0, 3.0, 2.0]
    assert base["date"].tolist() == [pd.Timestamp(2021, 9, 6), pd.Timestamp(2014, 4, 8),
                                     pd.Timestamp(2021, 9, 6), pd.Timestamp(2020, 5, 1)]
    assert base["unit"].tolist() == ["Créteil", "Évry", "Créteil", "Noisy-le-Grand"]
    assert results["cp1252"].files[0].encoding == "cp1252"
    for enc, r in results.items():
        pd.testing.assert_frame_equal(r.verbatims.drop(columns="file"), base, obj=enc)
        assert r.rejects.drop(columns="file").equals(results["utf-8"].rejects.drop(columns="file"))
        assert (r.files[0].read, r.files[0].kept, r.files[0].rejected) == (5, 4, 1)


def test_forced_encoding(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_bytes(_french_csv(LATIN).encode("latin-1"))
    r = run(p, encoding="latin-1")
    assert r.verbatims["text"].iloc[0].startswith("L'accueil était")
    with pytest.raises(InputFileError, match=r"cannot be read as utf-8: .*; drop --encoding to detect it"):
        run(p, encoding="utf-8")


# --------------------------------------------------------------------------- delimiters

@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiter_detection(tmp_path, sep):
    rows = [["id", "avis", "note", "agence"],
            ["1", "Bien, rapide; efficace", "4,5", "Paris"],
            ["2", "Lent", "2", "Lyon"],
            ["3", "Moyen | sans plus", "3", "Lille"]]
    p = tmp_path / "avis.csv"
    p.write_text(_french_csv(rows, sep=sep, eol="\n"), encoding="utf-8")
    r = run(p, id="id", score="note", unit="agence")
    assert r.files[0].delimiter == sep
    assert r.verbatims["text"].tolist() == ["Bien, rapide; efficace", "Lent", "Moyen | sans plus"]
    assert r.verbatims["unit"].tolist() == ["Paris", "Lyon", "Lille"]
    assert r.verbatims["score"].tolist() == [4.5, 2.0, 3.0]


def test_forced_delimiter(tmp_path):
    p = tmp_path / "avis.txt"
    p.write_text("avis|x\nun;deux|1\n", encoding="utf-8")
    assert run(p, delimiter="|").verbatims["text"].tolist() == ["un;deux"]


# --------------------------------------------------------------------------- split / combine

PROS_CONS = "id,pros,cons,score\nA,Bonne ambiance,Salaire bas,4\nB,,Horaires impossibles,2\nC,Collègues,,5\nD,,,3\n"


def test_split_text_columns(tmp_path):
    p = tmp_path / "gd.csv"
    p.write_text(PROS_CONS, encoding="utf-8")
    r = run(p, source="employee", text=("pros:pros", "cons:cons"), id="id", score="score")
    v = r.verbatims
    assert v["id"].tolist() == ["A#pros", "A#cons", "B#cons", "C#pros"]
    assert v["record_id"].tolist() == ["A", "A", "B", "C"]
    assert v["tag"].tolist() == ["pros", "cons", "cons", "pros"]
    assert v["polarity_tag"].tolist() == ["positive", "negative", "negative", "positive"]
    assert v["text"].tolist() == ["Bonne ambiance", "Salaire bas", "Horaires impossibles", "Collègues"]
    assert v["score"].tolist() == [4.0, 4.0, 2.0, 5.0]
    assert (v["source"] == "employee").all()
    assert (r.total.read, r.total.kept, r.total.rejected) == (4, 3, 1)
    assert r.rejects["reason"].tolist() == ["empty text in 'pros' / 'cons'"]


def test_split_without_tags_uses_column_names(tmp_path):
    p = tmp_path / "gd.csv"
    p.write_text(PROS_CONS, encoding="utf-8")
    v = run(p, source="employee", text=("pros", "cons")).verbatims
    assert v["tag"].tolist() == ["pros", "cons", "cons", "pros"]
    assert v["polarity_tag"].tolist() == ["positive", "negative", "negative", "positive"]
    assert v["id"].tolist() == ["gd.csv:1#pros", "gd.csv:1#cons", "gd.csv:2#cons", "gd.csv:3#pros"]


def test_combine_text_columns(tmp_path):
    p = tmp_path / "gd.csv"
    p.write_text(PROS_CONS, encoding="utf-8")
    r = run(p, source="employee", text=("pros", "cons"), id="id", text_mode="combine")
    v = r.verbatims
    assert v["id"].tolist() == ["A", "B", "C"]
    assert v["record_id"].tolist() == ["A", "B", "C"]
    assert v["text"].tolist() == ["Bonne ambiance\nSalaire bas", "Horaires impossibles", "Collègues"]
    assert v["tag"].isna().all() and v["polarity_tag"].isna().all()
    assert (r.total.read, r.total.kept, r.total.rejected) == (4, 3, 1)


# --------------------------------------------------------------------------- duplicates

def test_duplicates_are_merged_and_counted(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text(
        "avis,agence\n"
        "Attente trop longue,Paris\n"
        "Très bien\n"  # too few fields: rejected
        "attente   TROP longue,Paris\n"
        "Attente trop longue,Lyon\n"
        "L’accueil est nul,Paris\n"
        "L'accueil est nul,Paris\n"
        "Attente trop longue,Paris\n",
        encoding="utf-8",
    )
    r = run(p, unit="agence")
    v = r.verbatims
    assert (r.total.read, r.total.kept, r.total.duplicates, r.total.rejected) == (7, 3, 3, 1)
    assert r.duplicate_texts == 3
    assert v["text"].tolist() == ["Attente trop longue", "Attente trop longue", "L’accueil est nul"]
    assert v["unit"].tolist() == ["Paris", "Lyon", "Paris"]
    assert v["duplicates"].tolist() == [2, 0, 1]
    assert [list(x) for x in v["duplicate_rows"]] == [["avis.csv:3", "avis.csv:7"], [], ["avis.csv:6"]]
    assert "Attente trop longue" in r.summary_lines()[-1] or "3 duplicate texts merged" in r.summary_lines()[-1]


def test_duplicates_across_files_and_same_file_twice(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("avis\nbon\nmauvais\nbon\n", encoding="utf-8")
    b = tmp_path / "b.csv"
    b.write_text("avis\nMauvais\nneuf\n", encoding="utf-8")
    spec_a = FileSpec(path=str(a), source="customer", text=("avis",))
    spec_b = FileSpec(path=str(b), source="customer", text=("avis",))
    r = ingest([spec_a, spec_b, spec_a])
    check_counts(r)
    counts = [(f.read, f.kept, f.duplicates, f.rejected, f.verbatims) for f in r.files]
    assert counts == [(3, 2, 1, 0, 2), (2, 1, 1, 0, 1), (3, 0, 3, 0, 0)]
    assert r.total.line() == "read 8 rows: kept 3, duplicates 5, rejected 0"
    assert r.verbatims["duplicates"].tolist() == [3, 2, 0]


def test_same_text_in_two_sources_is_not_a_duplicate(tmp_path):
    p = tmp_path / "mix.csv"
    p.write_text("avis,origine\nManque de personnel,client\nManque de personnel,salarié\n", encoding="utf-8")
    r = run(p, source=None, source_column="origine")
    assert r.verbatims["source"].tolist() == ["customer", "employee"]
    assert r.total.duplicates == 0


def test_source_column_with_unknown_labels(tmp_path):
    p = tmp_path / "mix.csv"
    p.write_text("avis,origine\nun,client\ndeux,manager\ntrois,\n", encoding="utf-8")
    r = run(p, source=None, source_column="origine")
    assert r.verbatims["text"].tolist() == ["un"]
    assert r.rejects["reason"].tolist() == [
        "unknown source 'manager' in column 'origine'; known: customer, employee",
        "unknown source '' in column 'origine'; known: customer, employee",
    ]
    r2 = run(p, IngestConfig(sources=("customer", "employee", "manager")), source=None, source_column="origine")
    assert r2.verbatims["source"].tolist() == ["customer", "manager"]


# --------------------------------------------------------------------------- rejects

def test_rejects_file_with_rows_and_reasons(tmp_path):
    long_text = "x" * 60
    p = tmp_path / "avis.csv"
    p.write_text(
        "avis,date,agence\n"
        "Correct,06/09/2021,Paris\n"       # 1 kept
        ",07/09/2021,Paris\n"              # 2 empty text
        "Bien,pas de date,Paris\n"         # 3 unparseable date
        f"{long_text},08/09/2021,Paris\n"  # 4 too long
        "Trop,de,champs,ici\n"             # 5 too many fields
        "Sans date,,Lyon\n"                # 6 missing date
        "Bien,09/09/2021,Lyon,,\n",        # 7 trailing empty fields are fine
        encoding="utf-8",
    )
    cfg = IngestConfig(date_required=True, max_text_chars=50)
    r = run(p, cfg, date="date", unit="agence")
    assert (r.total.read, r.total.kept, r.total.duplicates, r.total.rejected) == (7, 2, 0, 5)
    assert r.verbatims["row"].tolist() == [1, 7]
    out = tmp_path / "out" / "avis.parquet"
    written, rej_path = write_ingest(r, out)
    assert written == out and rej_path == tmp_path / "out" / "avis.rejects.csv"
    rej = pd.read_csv(rej_path, dtype=str, keep_default_na=False)
    assert list(rej.columns) == REJECT_COLUMNS
    assert rej["row"].tolist() == ["2", "3", "4", "5", "6"]
    assert rej["reason"].tolist() == [
        "empty text in 'avis'",
        "unparseable date 'pas de date' in column 'date'",
        "text in column 'avis' is 60 characters, over max_text_chars=50 (raise it in [ingest])",
        "record has 4 fields but the header has 3 (an unquoted ',' or a cut line?)",
        "missing date in column 'date' (dates are required)",
    ]
    assert (rej["file"] == str(p)).all()
    assert json.loads(rej["raw"].iloc[0]) == {"avis": "", "date": "07/09/2021", "agence": "Paris"}
    back = pd.read_parquet(written)
    assert back["text"].tolist() == ["Correct", "Bien"]
    assert back["date"].tolist() == [pd.Timestamp(2021, 9, 6), pd.Timestamp(2021, 9, 9)]


def test_unparseable_dates_kept_when_not_required(tmp_path, caplog):
    p = tmp_path / "avis.csv"
    p.write_text("avis,date\nun,06/09/2021\ndeux,bientôt\ntrois,\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="verbatim"):
        r = run(p, date="date")
    assert r.total.kept == 3 and r.total.rejected == 0
    assert r.verbatims["date"].isna().tolist() == [False, True, True]
    assert r.verbatims["date_raw"].tolist() == ["06/09/2021", "bientôt", ""]
    assert "1 date(s) in column 'date' could not be parsed" in caplog.text


def test_a_date_in_the_future_is_kept_and_said(tmp_path, caplog):
    p = tmp_path / "avis.csv"
    p.write_text("avis,date\nun,2025-03-01\ndeux,2099-01-01\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="verbatim"):
        r = run(p, date="date")
    assert r.total.kept == 2 and r.verbatims["date"].notna().all()
    assert "1 date(s) in column 'date' are in the future (first: row 2, 2099-01-01)" in caplog.text


def test_date_required_without_a_date_column(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text("avis\nun\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="dates are required but no date column is mapped"):
        run(p, IngestConfig(date_required=True))


def test_rejects_csv_neutralises_formulas(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text("avis,note\n=HYPERLINK(A1),1,2\nbien,2\n+33 1 23,x,y\n", encoding="utf-8")
    r = run(p)
    assert r.total.rejected == 2
    _, rej_path = write_ingest(r, tmp_path / "avis.parquet")
    rej = pd.read_csv(rej_path, dtype=str, keep_default_na=False)
    assert rej["raw"].tolist() == ["'=HYPERLINK(A1),1,2", "'+33 1 23,x,y"]
    for col in rej.columns:
        assert not rej[col].str.match(r"^[=+\-@]").any()


def test_other_input_columns_are_kept(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text("id,avis,produit,row,_x,note\n7,Bien,auto,r1,u,4\n", encoding="utf-8")
    r = run(p, score="note")
    v = r.verbatims
    # unmapped columns kept as text; names the contract uses get an input_ prefix
    assert v["produit"].tolist() == ["auto"]
    assert v["input_id"].tolist() == ["7"]
    assert v["input_row"].tolist() == ["r1"]
    assert v["input__x"].tolist() == ["u"]
    assert v["row"].tolist() == [1]
    assert "note" not in v.columns  # mapped to score


def test_missing_column_message(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text("commentaire,date_publication\nun,06/09/2021\n", encoding="utf-8")
    with pytest.raises(ColumnNotFound) as ei:
        run(p, text=("commentaires",))
    assert str(ei.value) == (f"column 'commentaires' (given for --text) not found in '{p}' "
                             f"(did you mean 'commentaire'?); columns: commentaire, date_publication")
    with pytest.raises(ColumnNotFound, match=r"\(given for --date\)"):
        run(p, text=("commentaire",), date="date")
    # case-insensitive match is accepted
    assert run(p, text=("COMMENTAIRE",)).verbatims["text"].tolist() == ["un"]


def test_file_errors(tmp_path):
    with pytest.raises(InputFileError) as ei:
        run(tmp_path / "absent.csv")
    assert str(ei.value) == f"file '{tmp_path / 'absent.csv'}' does not exist; check the path"
    with pytest.raises(InputFileError, match="does not exist"):
        run(tmp_path / "absent.docx")
    (tmp_path / "notes.docx").write_text("x")
    with pytest.raises(InputFileError, match="cannot tell the format of"):
        run(tmp_path / "notes.docx")
    (tmp_path / "empty.csv").write_text("\n \n")
    with pytest.raises(InputFileError, match="is empty"):
        run(tmp_path / "empty.csv")
    (tmp_path / "bad.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage-not-deflate")
    with pytest.raises(InputFileError, match="looks gzip-compressed but cannot be decompressed"):
        run(tmp_path / "bad.csv.gz")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError, match="is not a readable .xlsx workbook"):
        run(tmp_path / "broken.xlsx")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 nope")
    with pytest.raises(InputFileError, match="is not a readable Parquet file"):
        run(tmp_path / "broken.parquet")
    with pytest.raises(InputFileError, match="is a folder, not a file"):
        (tmp_path / "dir.csv").mkdir()
        run(tmp_path / "dir.csv")


def test_csv_odd_headers(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text("\n\navis,avis,,avis.1\nun,deux,trois,quatre\n", encoding="utf-8")
    raw = read_any(p)
    assert list(raw.frame.columns) == ["avis", "avis.1", "column_3", "avis.1.1"]
    r = run(p, text=("avis", "avis.1"), text_mode="combine")
    assert r.verbatims["text"].tolist() == ["un\ndeux"]
    assert r.verbatims["column_3"].tolist() == ["trois"]


def test_text_cleaning(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_bytes('avis\n"  Trop\u00a0d\'attente\t\x07 !\r\n\r\n\r\nvraiment  "\n'.encode("utf-8"))
    assert run(p).verbatims["text"].tolist() == ["Trop d'attente ! \nvraiment".replace(" \n", "\n")]


def test_summary_tables(tmp_path):
    p = tmp_path / "mix.csv"
    p.write_text("avis,origine,date,note,agence\n"
                 "un,client,06/09/2021,4,Paris\n"
                 "deux,salarié,07/10/2021,,Paris\n"
                 "trois,client,,2,\n", encoding="utf-8")
    v = run(p, source=None, source_column="origine", date="date", score="note", unit="agence").verbatims
    tables = summarise(v)
    assert tables["per source"]["verbatims"].to_dict() == {"customer": 2, "employee": 1}
    assert tables["per unit"].loc["Paris"].to_dict() == {"customer": 1, "employee": 1}
    assert tables["per unit"].loc["(none)"].to_dict() == {"customer": 1, "employee": 0}
    assert set(tables["per month"].index) == {"2021-09", "2021-10", "(no date)"}
    assert tables["scores"].loc["customer", "count"] == 2
    assert tables["scores"].loc["customer", "missing"] == 0
    text = render_text(tables)
    assert "== per source ==" in text and "== scores ==" in text
    # an empty table summarises without error
    empty = summarise(v.iloc[0:0])
    assert render_text(empty) == ""


def test_rejects_csv_round_trips_odd_line_breaks(tmp_path):
    from verbatim.fileio import write_csv

    values = ["a\rb", "a\r\nb", "a\nb", "a\u2028b", 'a"b;c,d', "=1+1", "-2", "@x", "ok"]
    p = write_csv(pd.DataFrame({"raw": values, "n": range(len(values))}), tmp_path / "r.csv")
    back = pd.read_csv(p, dtype=str, keep_default_na=False)
    assert len(back) == len(values)
    assert back["raw"].tolist() == values[:5] + ["'=1+1", "'-2", "'@x", "ok"]


def test_delimiter_detected_despite_a_lone_carriage_return(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_bytes("agence;avis\nParis;ligne\rcassée\nLyon;bien\n".encode("utf-8"))
    r = run(p, unit="agence")
    assert r.files[0].delimiter == ";"
    assert r.total.read == r.total.kept + r.total.duplicates + r.total.rejected
    assert "bien" in r.verbatims["text"].tolist()


def test_column_types_are_stable(tmp_path):
    p = tmp_path / "avis.csv"
    p.write_text("avis,date,note\nun,06/09/2021,4\n", encoding="utf-8")
    full = run(p, date="date", score="note").verbatims
    empty = ingest([]).verbatims
    for v in (full, empty):
        assert str(v["date"].dtype) == "datetime64[ns]"
        assert v["score"].dtype == "float64"
        assert v["row"].dtype == "int64" and v["duplicates"].dtype == "int64"
        assert v["text"].dtype == object and v["id"].dtype == object
