"""Parse the messy values of real exports: dates in many formats, scores with decimal commas."""
from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ..textnorm import strip_accents

MONTHS = {
    # French
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "mar": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
    # English
    "january": 1, "february": 2, "feb": 2, "march": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "october": 10, "november": 11, "december": 12,
}
_WEEKDAYS = r"(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_TIME = r"(?:[ t,]+(?:a |à )?(\d{1,2})[:h](\d{2})(?::(\d{2}))?(?:\.\d+)?)?"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + r"\s*(z|[+-]\d{2}(?::?\d{2})?)?$")
_NUMERIC = re.compile(r"^(\d{1,4})[/.-](\d{1,2})[/.-](\d{2,4})" + _TIME + r"$")
_YMD_SLASH = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})" + _TIME + r"$")
_DAY_MONTH = re.compile(
    rf"^(?:le )?(?:{_WEEKDAYS} )?(\d{{1,2}})(?:er|e|st|nd|rd|th)? ({_MONTH_RE})\.? (\d{{4}})" + _TIME + r"$"
)
_MONTH_DAY = re.compile(
    rf"^(?:{_WEEKDAYS} )?({_MONTH_RE})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})" + _TIME
    + r"(?: gmt[+-]\d{4})?(?: \(.*\))?$"
)
_MONTH_YEAR = re.compile(rf"^({_MONTH_RE})\.? (\d{{4}})$")


def _mk(y: int, m: int, d: int, hh: Any = None, mm: Any = None, ss: Any = None) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(dt.datetime(y, m, d, int(hh or 0), int(mm or 0), int(ss or 0)))
    except (ValueError, OverflowError):
        return None


def _prep(s: str) -> str:
    s = strip_accents(s.strip().lower())
    s = re.sub(r"[\s\u00a0]+", " ", s)
    return re.sub(r"^(?:publie |posted |date ?: ?|le )", "", s).strip()


#: dates outside these years are placeholders or typos ("9999-12-31", "0001-01-01"), not comment dates
MIN_YEAR, MAX_YEAR = 1900, 2200


def parse_date(value: Any, dayfirst: bool = True) -> pd.Timestamp | None:
    """One value → a naive Timestamp (wall-clock time as written) or None (see :func:`_parse_date`);
    years outside 1900–2200 count as unparseable."""
    ts = _parse_date(value, dayfirst)
    if ts is None or pd.isna(ts) or not MIN_YEAR <= ts.year <= MAX_YEAR:
        return None
    return ts


def _parse_date(value: Any, dayfirst: bool = True) -> pd.Timestamp | None:
    """One value → a naive Timestamp (wall-clock time as written) or None.

    Accepts ISO (``2021-09-06``, with time/zone), ``06/09/2021``, ``06-09-2021``,
    ``06.09.21``, French and English month names (``8 avril 2014``, ``1er mai 2020``,
    ``April 8, 2014``), JavaScript date strings (``Thu Dec 12 2019 15:39:27
    GMT-0800 (PST)``), and date/datetime objects. ``dayfirst`` settles ``01/02/2020``.
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_localize(None) if value.tzinfo else value
    if isinstance(value, dt.datetime):
        try:
            return pd.Timestamp(value.replace(tzinfo=None))
        except (ValueError, OverflowError):
            return None
    if isinstance(value, dt.date):
        return pd.Timestamp(value)
    if isinstance(value, (float, np.floating)) and math.isnan(value):
        return None
    if isinstance(value, (list, tuple, dict, set, np.ndarray, bytes)):
        return None
    s = _prep(str(value))
    if not s:
        return None
    if m := _ISO.match(s):
        y, mo, d, hh, mi, ss, _tz = m.groups()
        return _mk(int(y), int(mo), int(d), hh, mi, ss)
    if m := _NUMERIC.match(s):
        a, b, y, hh, mi, ss = m.groups()
        if len(a) == 4:  # 2021-09-06 with odd separators
            return _mk(int(a), int(b), int(y), hh, mi, ss)
        a, b = int(a), int(b)
        day, month = (a, b) if dayfirst else (b, a)
        if month > 12 and day <= 12:
            day, month = month, day
        year = int(y)
        if len(y) <= 2:  # 06.09.21 → 2021, 31/12/99 → 1999
            year += 2000 if year < 70 else 1900
        return _mk(year, month, day, hh, mi, ss)
    if m := _YMD_SLASH.match(s):
        y, mo, d, hh, mi, ss = m.groups()
        return _mk(int(y), int(mo), int(d), hh, mi, ss)
    if m := _DAY_MONTH.match(s):
        d, mon, y, hh, mi, ss = m.groups()
        return _mk(int(y), MONTHS[mon], int(d), hh, mi, ss)
    if m := _MONTH_DAY.match(s):
        mon, d, y, hh, mi, ss = m.groups()
        return _mk(int(y), MONTHS[mon], int(d), hh, mi, ss)
    if m := _MONTH_YEAR.match(s):
        mon, y = m.groups()
        return _mk(int(y), MONTHS[mon], 1)
    return None


def infer_dayfirst(values: Iterable[Any], default: bool = True) -> bool:
    """Whether ``a/b/yyyy`` dates put the day first, judged from values where only one reading is valid."""
    first_big = second_big = 0
    for v in values:
        if not isinstance(v, str):
            continue
        m = _NUMERIC.match(_prep(v))
        if not m or len(m.group(1)) == 4:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        first_big += a > 12
        second_big += b > 12
    if first_big and not second_big:
        return True
    if second_big and not first_big:
        return False
    return default


def parse_dates(values: pd.Series, order: str = "auto") -> pd.Series:
    """Vectorised :func:`parse_date` (each distinct value parsed once); unparseable → NaT."""
    values = _hashable(values)
    uniques = pd.unique(values)
    if order == "auto":
        dayfirst = infer_dayfirst(uniques)
    else:
        dayfirst = order == "dayfirst"
    lookup = {u: parse_date(u, dayfirst) for u in uniques}
    out = pd.Series([lookup.get(v) for v in values], index=values.index, dtype=object)
    return pd.to_datetime(out, errors="coerce")


def _hashable(values: pd.Series) -> pd.Series:
    """``values`` as objects, with unhashable ones (JSON lists and objects) replaced by None."""
    values = values.astype(object)

    def ok(v: Any) -> Any:
        try:
            hash(v)
            return v
        except TypeError:
            return None
    return values.map(ok)


_SCORE = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?(?:e[+-]?\d+)?)\s*(?:(?:/|sur|out of)\s*(\d+))?\s*(?:[a-zé]*\s*)?$")


def parse_score(value: Any) -> float | None:
    """``"4,0"`` → 4.0, ``"8/10"`` → 8.0, ``"4 étoiles"`` → 4.0; anything else → None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    m = _SCORE.match(str(value).strip().lower())
    if not m:
        return None
    value = float(m.group(1).replace(",", "."))
    return value if math.isfinite(value) else None


def parse_scores(values: pd.Series) -> pd.Series:
    values = _hashable(values)
    lookup = {u: parse_score(u) for u in pd.unique(values)}
    return pd.Series([lookup.get(v) for v in values], index=values.index, dtype="float64")


def score_denominator(value: Any) -> float | None:
    """The scale a score names itself (``"8/10"``, ``"4 sur 5"`` → 10, 5); None when it names none."""
    if value is None or isinstance(value, (bool, int, float, np.integer, np.floating)):
        return None
    m = _SCORE.match(str(value).strip().lower())
    return float(m.group(2)) if m and m.group(2) else None


# -- score scales --------------------------------------------------------------------------------
#: the rating scales verbatim recognises when none is declared, the narrowest first
KNOWN_SCALES = (("1-5", 1.0, 5.0), ("0-5", 0.0, 5.0), ("0-10", 0.0, 10.0), ("0-100", 0.0, 100.0))
_SCALE = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(?:-|–|to|à|\.\.)\s*(-?\d+(?:[.,]\d+)?)\s*$")


def parse_scale(text: Any) -> tuple[float, float] | None:
    """``"1-5"`` → (1, 5), ``"0-10"`` → (0, 10); None when ``text`` is not ``LOW-HIGH`` with LOW < HIGH."""
    m = _SCALE.match(str(text)) if isinstance(text, str) else None
    if not m:
        return None
    lo, hi = (float(g.replace(",", ".")) for g in m.groups())
    return (lo, hi) if lo < hi and math.isfinite(lo) and math.isfinite(hi) else None


def scale_name(lo: float, hi: float) -> str:
    return f"{lo:g}-{hi:g}"


def _outside(scores: np.ndarray, denoms: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Scores off the scale [lo, hi], or naming another scale (``8/10`` on 1-5)."""
    has = ~np.isnan(scores)
    off = has & ((scores < lo) | (scores > hi))
    return off | (has & ~np.isnan(denoms) & (denoms != hi))


def check_scores(scores: pd.Series, denoms: pd.Series, declared: tuple[float, float] | None,
                 column: str, raw: pd.Series) -> tuple[str | None, np.ndarray, list[str]]:
    """The scale of a file's score column and which scores lie off it, with a reason each.

    A declared scale (``score_scale``) is the rule. Without one, the scale is the first of 1-5, 0-5,
    0-10, 0-100 that holds all the scores but at most 2% of them (none below 20 scores), so one ``8/10``
    among 1-5 ratings does not turn the file into a 0-10 source; a score below 0 or above 100 fits
    no scale. Returns (scale name or None, mask of scores off it, reason per row)."""
    s = scores.to_numpy(dtype=float)
    d = denoms.to_numpy(dtype=float)
    n = int((~np.isnan(s)).sum())
    shown = [str(v).strip()[:20] for v in raw.astype(object).to_numpy()]
    if declared is not None:
        lo, hi = declared
        name = scale_name(lo, hi)
        off = _outside(s, d, lo, hi)
        why = [f"score '{v}' in column '{column}' is off the declared {name} scale (score_scale)" for v in shown]
        return name, off, why
    if n == 0:
        return None, np.zeros(len(s), bool), [""] * len(s)
    allowed = int(0.02 * n) if n >= 50 else (1 if n >= 20 else 0)
    for name, lo, hi in KNOWN_SCALES:
        off = _outside(s, d, lo, hi)
        n_off = int(off.sum())
        if n_off <= allowed:
            why = [f"score '{v}' in column '{column}' is off the {name} scale of the other {n - n_off:,} "
                   f"scores; declare score_scale (--score-scale LOW-HIGH) if the file uses another scale"
                   for v in shown]
            return name, off, why
    off = _outside(s, d, 0.0, 100.0)
    why = [f"score '{v}' in column '{column}' is off every rating scale verbatim recognises (1-5, 0-5, 0-10, 0-100); "
           f"declare score_scale (--score-scale LOW-HIGH)" for v in shown]
    return None, off, why
