"""Who wrote a row: the one rule for counting people, not texts (a leaf module: pandas only).

A respondent is the input row a text came from (``record_id``: the pros and cons of one survey answer
share it), else the text's own ``id``. Privacy thresholds, unit rates, resampling, stability refits and
driver tables all count respondents through :func:`respondents`, so they cannot disagree on who is one.
"""
from __future__ import annotations

import pandas as pd


def respondents(frame: pd.DataFrame) -> pd.Series:
    """The respondent of each row, as strings: its ``record_id`` where it has one, else its ``id``. Decided
    row by row, so one input without ``record_id`` does not turn every other input's pros/cons pair into
    two people."""
    ids = frame["id"].astype(object)
    if "record_id" not in frame:
        return ids.astype(str).rename("respondent")
    rec = frame["record_id"].astype(object)
    has = rec.notna() & (rec.astype(str).str.strip() != "")
    return rec.where(has, ids).astype(str).rename("respondent")
