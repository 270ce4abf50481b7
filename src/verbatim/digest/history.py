"""What was shown to which meeting: a small SQLite file (beside the artefact, or at a given path).

A verbatim shown to a meeting is not shown to it again within ``window_days`` (``[digest]``). Only the
verbatim ids are stored, never their texts.

>>> h = History("models/run1/digest_history.sqlite")
>>> h.recent("Lyon Part-Dieu", since=pd.Timestamp("2025-09-01"))    # ids shown since then
>>> h.record("Lyon Part-Dieu", "2025-Q4", ["C00012", "E0044:cons"])
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Iterable

from ..artefact import HISTORY_FILE as FILE_NAME
from ..errors import OutputError

ALL_UNITS = "all units"
_SCHEMA = """CREATE TABLE IF NOT EXISTS shown (
    meeting TEXT NOT NULL, period TEXT, verbatim_id TEXT NOT NULL, shown_at TEXT NOT NULL,
    PRIMARY KEY (meeting, verbatim_id, shown_at))"""


class History:
    """The history file at ``path`` (created on first write)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path)
            con.execute(_SCHEMA)
            return con
        except (OSError, sqlite3.Error) as ex:
            raise OutputError(f"cannot open the digest history '{self.path}' ({ex}); give another path with "
                              f"--history") from None

    def recent(self, meeting: str, since: dt.datetime) -> set[str]:
        """Ids shown to ``meeting`` at or after ``since``."""
        if not self.path.is_file():
            return set()
        con = self._connect()
        try:
            rows = con.execute("SELECT verbatim_id FROM shown WHERE meeting = ? AND shown_at >= ?",
                               (meeting, _iso(since))).fetchall()
        except sqlite3.Error as ex:
            raise OutputError(f"the digest history '{self.path}' is damaged ({ex}); move it away") from None
        finally:
            con.close()
        return {r[0] for r in rows}

    def record(self, meeting: str, period: str | None, ids: Iterable[str], at: dt.datetime) -> int:
        """Record ``ids`` as shown to ``meeting`` at ``at``; returns how many rows were written."""
        ids = [str(i) for i in ids]
        con = self._connect()
        try:
            with con:
                con.executemany("INSERT OR IGNORE INTO shown VALUES (?, ?, ?, ?)",
                                [(meeting, period, i, _iso(at)) for i in ids])
        except sqlite3.Error as ex:
            raise OutputError(f"cannot write the digest history '{self.path}' ({ex})") from None
        finally:
            con.close()
        return len(ids)

    def rows(self) -> list[tuple]:
        """Every stored row (meeting, period, verbatim_id, shown_at), oldest first."""
        if not self.path.is_file():
            return []
        con = self._connect()
        try:
            return con.execute("SELECT * FROM shown ORDER BY shown_at, meeting, verbatim_id").fetchall()
        finally:
            con.close()


def meeting_key(units: Iterable[str] | None) -> str:
    """The name the history knows the meeting of ``units`` by, whatever their order or repeats: the unit
    itself for one unit, the sorted list (JSON) for several."""
    units = sorted(set(map(str, units or ())))
    if not units:
        return ALL_UNITS
    return units[0] if len(units) == 1 else json.dumps(units, ensure_ascii=False)


def _iso(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).isoformat(timespec="seconds")
