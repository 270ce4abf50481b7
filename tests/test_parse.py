"""Dates and scores as real exports write them (French first)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from verbatim.ingest.parse import infer_dayfirst, parse_date, parse_dates, parse_score, parse_scores

T = pd.Timestamp


@pytest.mark.parametrize(
    "raw, expected",
    [
        # ISO, with and without time, Z and offsets (wall-clock time kept as written)
        ("2021-09-06", T(2021, 9, 6)),
        ("2021-9-6", T(2021, 9, 6)),
        ("2021-09-06 14:30", T(2021, 9, 6, 14, 30)),
        ("2021-09-06T14:30:15", T(2021, 9, 6, 14, 30, 15)),
        ("2021-09-06T14:30:15Z", T(2021, 9, 6, 14, 30, 15)),
        ("2021-09-06T14:30:15z", T(2021, 9, 6, 14, 30, 15)),
        ("2021-09-06T14:30:15+02:00", T(2021, 9, 6, 14, 30, 15)),
        ("2021-09-06T14:30:15-0500", T(2021, 9, 6, 14, 30, 15)),
        ("2021-09-06T14:30:15+02", T(2021, 9, 6, 14, 30, 15)),
        ("2021-09-06T14:30:15.123456+00:00", T(2021, 9, 6, 14, 30, 15)),
        ("2019-12-12 15:39:27 +0100", T(2019, 12, 12, 15, 39, 27)),
        ("2021/09/06", T(2021, 9, 6)),
        # day first, French style
        ("06/09/2021", T(2021, 9, 6)),
        ("06-09-2021", T(2021, 9, 6)),
        ("06.09.21", T(2021, 9, 6)),
        ("6/9/2021", T(2021, 9, 6)),
        ("22-04-2015", T(2015, 4, 22)),
        ("06/09/2021 10:11", T(2021, 9, 6, 10, 11)),
        ("06/09/2021 10:11:12", T(2021, 9, 6, 10, 11, 12)),
        ("  06/09/2021  ", T(2021, 9, 6)),
        ("31/12/99", T(1999, 12, 31)),
        # French month names
        ("8 avril 2014", T(2014, 4, 8)),
        ("1er mai 2020", T(2020, 5, 1)),
        ("mardi 8 avril 2014", T(2014, 4, 8)),
        ("3 août 2021", T(2021, 8, 3)),
        ("3 aout 2021", T(2021, 8, 3)),
        ("8 AVRIL 2014", T(2014, 4, 8)),
        ("8 avr. 2014", T(2014, 4, 8)),
        ("8 févr. 2014", T(2014, 2, 8)),
        ("8 fév. 2014", T(2014, 2, 8)),
        ("12 décembre 2019", T(2019, 12, 12)),
        ("9 juil. 2019", T(2019, 7, 9)),
        ("3 sept. 2021", T(2021, 9, 3)),
        ("le 1er janvier 2020", T(2020, 1, 1)),
        ("Publié le 8 avril 2014", T(2014, 4, 8)),
        ("8\u00a0avril\u00a02014", T(2014, 4, 8)),
        ("8 avril 2014 à 14h30", T(2014, 4, 8, 14, 30)),
        ("avril 2014", T(2014, 4, 1)),
        # English
        ("April 8, 2014", T(2014, 4, 8)),
        ("Apr 8 2014", T(2014, 4, 8)),
        ("Monday, April 8, 2014", T(2014, 4, 8)),
        ("May 1st, 2020", T(2020, 5, 1)),
        ("1st May 2020", T(2020, 5, 1)),
        ("8 April 2014", T(2014, 4, 8)),
        ("Sept. 3, 2021", T(2021, 9, 3)),
        # JavaScript Date.toString()
        ("Thu Dec 12 2019 15:39:27 GMT-0800 (PST)", T(2019, 12, 12, 15, 39, 27)),
        ("Mon Oct 07 2019 02:11:45 GMT+0200 (heure d’été d’Europe centrale)", T(2019, 10, 7, 2, 11, 45)),
    ],
)
def test_parse_date_strings(raw, expected):
    got = parse_date(raw)
    assert isinstance(got, pd.Timestamp)
    assert got == expected
    assert got.tzinfo is None


@pytest.mark.parametrize(
    "value, expected",
    [
        (dt.datetime(2020, 1, 2, 3, 4), T(2020, 1, 2, 3, 4)),
        (dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.timezone.utc), T(2020, 1, 2, 3, 4)),
        (dt.date(2020, 1, 2), T(2020, 1, 2)),
        (T("2020-01-02 10:00", tz="Europe/Paris"), T(2020, 1, 2, 10)),
        (np.datetime64("2020-01-02"), T(2020, 1, 2)),
    ],
)
def test_parse_date_objects(value, expected):
    got = parse_date(value)
    assert got == expected
    assert got.tzinfo is None


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "not a date", "32/01/2020", "2020-02-30", "13/13/2020", "8 avrol 2014", "hier",
     "0001-01-01", "9999-12-31", "06/09/021", dt.datetime(1, 1, 1), dt.date(9999, 1, 1),
     "0/0/0", "99999", None, float("nan"), np.nan, pd.NaT, pd.NA, [1, 2], {"a": 1}],
)
def test_unparseable_dates_are_none(raw):
    assert parse_date(raw) is None


def test_dayfirst_flag_settles_ambiguous_dates():
    assert parse_date("01/02/2020") == T(2020, 2, 1)
    assert parse_date("01/02/2020", dayfirst=False) == T(2020, 1, 2)
    # an impossible reading is never chosen
    assert parse_date("12/31/2020", dayfirst=True) == T(2020, 12, 31)
    assert parse_date("31/12/2020", dayfirst=False) == T(2020, 12, 31)


@pytest.mark.parametrize(
    "values, dayfirst",
    [
        (["12/31/2020", "01/02/2020"], False),
        (["31/12/2020", "01/02/2020"], True),
        (["01/02/2020", "03/04/2020"], True),  # undecidable: the French default
        (["2020-01-02", "8 avril 2014"], True),
    ],
)
def test_infer_dayfirst(values, dayfirst):
    assert infer_dayfirst(values) is dayfirst


def test_parse_dates_infers_month_first_from_the_column():
    s = pd.Series(["12/31/2020", "01/02/2020", None, "junk"])
    out = parse_dates(s)
    assert out.dtype.kind == "M"
    assert out[0] == T(2020, 12, 31)
    assert out[1] == T(2020, 1, 2)  # month first, read from the other value
    assert out[2:].isna().all()


def test_parse_dates_day_first_and_forced_order():
    s = pd.Series(["31/12/2020", "01/02/2020"])
    assert parse_dates(s)[1] == T(2020, 2, 1)
    assert parse_dates(s, "monthfirst")[1] == T(2020, 1, 2)
    assert parse_dates(pd.Series(["12/31/2020", "01/02/2020"]), "dayfirst")[1] == T(2020, 2, 1)


def test_parse_dates_mixed_and_odd_values():
    s = pd.Series(["8 avril 2014", dt.datetime(2020, 1, 2), ["not", "hashable"], {"a": 1}, float("nan"), ""],
                  dtype=object)
    out = parse_dates(s)
    assert len(out) == len(s)
    assert out[0] == T(2014, 4, 8)
    assert out[1] == T(2020, 1, 2)
    assert out[2:].isna().all()


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("4,0", 4.0),
        ("4.5", 4.5),
        ("4,5", 4.5),
        ("8/10", 8.0),
        ("3.5/5", 3.5),
        ("4 / 5", 4.0),
        ("4 sur 5", 4.0),
        ("4 étoiles", 4.0),
        ("4,0 étoiles", 4.0),
        ("5 stars", 5.0),
        ("10 out of 10", 10.0),
        (" 5 ", 5.0),
        ("-1", -1.0),
        (4, 4.0),
        (4.5, 4.5),
        (np.int64(3), 3.0),
        (np.float32(2.5), 2.5),
    ],
)
def test_parse_score(raw, expected):
    assert parse_score(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "junk", "étoiles 4", "nan", "inf", "quatre", None, True, float("nan"), np.float32("nan"),
     float("inf"), pd.NA],
)
def test_unparseable_scores_are_none(raw):
    assert parse_score(raw) is None


def test_parse_scores_vectorised():
    out = parse_scores(pd.Series(["4,0", "8/10", "", None, "junk", 3, ["x"]], dtype=object))
    assert out.dtype == "float64"
    assert out.iloc[:2].tolist() == [4.0, 8.0]
    assert out.iloc[2:5].isna().all()
    assert out.iloc[5] == 3.0
    assert np.isnan(out.iloc[6])
