"""Ingest the real corpora of ../shared/data (counts and types only: never their texts)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from verbatim.config import FileSpec, IngestConfig
from verbatim.ingest import IngestResult, ingest, read_any
from verbatim.ingest.parse import parse_dates, parse_scores

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"

if not DATA.is_dir():
    pytest.skip(f"{DATA} is absent", allow_module_level=True)

pytestmark = pytest.mark.shared_data


def _ingest(name: str, cfg: IngestConfig | None = None, **kw) -> IngestResult:
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    result = ingest(FileSpec(path=str(path), **kw), cfg or IngestConfig())
    f = result.files[0]
    assert f.read == f.kept + f.duplicates + f.rejected
    assert f.verbatims == len(result.verbatims)
    assert len(result.rejects) == f.rejected
    assert result.verbatims["id"].is_unique
    assert (result.verbatims["text"].str.len() > 0).all()
    assert result.verbatims["date"].dtype.kind == "M"
    assert result.verbatims["score"].dtype == "float64"
    return result


def test_insurance_csv():
    r = _ingest("fr_insurance_reviews.csv.gz", IngestConfig(date_required=True), source="customer",
                text=("avis",), date="date_publication", score="note", unit="assureur")
    f = r.files[0]
    assert f.read == 34_435
    assert f.rejected == 0  # every date parses (dd/mm/yyyy), every review has text
    assert f.format == "csv" and f.delimiter == ","
    v = r.verbatims
    assert v["date"].notna().all()
    assert v["date"].min() >= pd.Timestamp("2000-01-01") and v["date"].max() <= pd.Timestamp("2030-01-01")
    # 24,104 rows are rated (1-5); duplicates merged keep their first occurrence's score
    rated = v["score"].notna().sum()
    assert 23_000 <= rated <= 24_104
    assert set(v["score"].dropna().unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert 40 <= v["unit"].nunique() <= 56
    assert 0 <= f.duplicates < 500
    assert "avis_en" in v.columns  # other columns kept


def test_insurance_xlsx_part():
    r = _ingest("fr_insurance_reviews_part1.xlsx", IngestConfig(date_required=True), source="customer",
                text=("avis",), date="date_publication", score="note", unit="assureur")
    f = r.files[0]
    assert f.format == "xlsx"
    assert 900 <= f.read <= 1_100
    assert f.kept + f.duplicates >= 0.95 * f.read
    assert r.verbatims["date"].notna().all()
    assert set(r.verbatims["score"].dropna().unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_cdiscount_trustpilot():
    r = _ingest("fr_cdiscount_trustpilot.csv.gz", source="customer", text=("Content",), date="Date", score="Note")
    f = r.files[0]
    assert f.read == 128_000
    assert f.kept + f.duplicates == 91_751  # rows with text
    assert f.rejected == 128_000 - 91_751
    assert set(r.rejects["reason"]) == {"empty text in 'Content'"}
    v = r.verbatims
    assert v["date"].notna().all()
    assert v["date"].min() >= pd.Timestamp("2014-01-01") and v["date"].max() <= pd.Timestamp("2025-12-31")
    assert set(v["score"].dropna().unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert v["score"].notna().mean() > 0.99


def test_french_glassdoor_split_pros_cons():
    r = _ingest("fr_glassdoor_employees.csv.gz", source="employee",
                text=("review_advantages:pros", "review_disadvantages:cons"), date="date", score="score",
                unit="enterprise_name")
    f = r.files[0]
    assert f.read == 1_537
    v = r.verbatims
    assert set(v["tag"]) == {"pros", "cons"}
    assert set(v["polarity_tag"]) == {"positive", "negative"}
    assert (v.loc[v["tag"] == "cons", "polarity_tag"] == "negative").all()
    assert v["id"].str.endswith(("#pros", "#cons")).all()
    assert v.groupby("record_id").size().max() == 2
    assert len(v) > 1.5 * f.kept
    # JavaScript date strings: every non-empty date parses
    raw = read_any(DATA / "fr_glassdoor_employees.csv.gz").frame["date"]
    parsed = parse_dates(raw)
    assert parsed[raw.str.strip() != ""].notna().all()
    assert v["date"].notna().mean() > 0.99
    assert 50 <= v["unit"].nunique() <= 130


def test_indeed_json_dotted_paths_french_dates_decimal_commas():
    name = "fr_indeed_lidl_employees.json"
    r = _ingest(name, IngestConfig(date_required=True), source="employee",
                text=("review_pros_cons.review_pros:pros", "review_pros_cons.review_cons:cons"),
                date="review_author.date", score="review_rating", unit="review_author.location")
    f = r.files[0]
    assert f.format == "json"
    assert f.read == 240
    # no record is rejected for its date: French dates ("8 avril 2014") all parse
    assert not r.rejects["reason"].str.contains("date").any()
    assert set(r.rejects["reason"]) <= {"empty text in 'review_pros_cons.review_pros' / 'review_pros_cons.review_cons'"}
    v = r.verbatims
    assert v["date"].notna().all()
    assert v["date"].min() >= pd.Timestamp("2010-01-01") and v["date"].max() <= pd.Timestamp("2020-01-01")
    assert v["score"].notna().all()
    assert set(v["score"].unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert set(v["tag"]) == {"pros", "cons"}
    # every record's date and rating parse, text or not
    frame = read_any(DATA / name).frame
    assert parse_dates(frame["review_author.date"]).notna().all()
    scores = parse_scores(frame["review_rating"])
    assert scores.notna().all() and scores.between(1, 5).all()
    # the review body is a list field: joined into one text
    r2 = _ingest(name, source="employee", text=("review_text",))
    assert r2.files[0].read == 240
    assert r2.files[0].kept + r2.files[0].duplicates > 200


def test_english_glassdoor():
    r = _ingest("en_glassdoor_4firms_employees.csv.gz", source="employee", text=("pros:pros", "cons:cons"),
                date="date", score="rating", unit="firm")
    f = r.files[0]
    assert f.read == 37_023
    assert f.kept + f.duplicates >= 0.99 * f.read
    v = r.verbatims
    assert set(v["unit"]) == {"comcast", "fedex", "walmart", "wells_fargo"}
    assert set(v["polarity_tag"]) == {"positive", "negative"}
    assert v["date"].notna().mean() > 0.99
    assert set(v["score"].dropna().unique()) <= {1.0, 2.0, 3.0, 4.0, 5.0}


def test_comcast_complaints_dates_all_parse():
    r = _ingest("en_comcast_customer_complaints.csv.gz", IngestConfig(date_required=True), source="customer",
                text=("Customer Complaint",), date="Date", id="Ticket #", unit="City", channel="Received Via")
    f = r.files[0]
    assert f.read == 2_224
    assert f.rejected == 0
    v = r.verbatims
    assert v["date"].notna().all()
    assert v["date"].dt.year.eq(2015).all()  # dd-mm-yyyy, read day first
    assert v["score"].isna().all()
    assert v["channel"].nunique() >= 2
    assert {"Status", "State", "Time"} <= set(v.columns)
