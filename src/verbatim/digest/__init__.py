"""The meeting digest: a few ranked, balanced, fresh and privacy-safe verbatims to read aloud.

>>> d = Digest(unit="Lyon Part-Dieu", period="2025-Q4").fit(Pipeline.load("models/sample"))
>>> d.to_frame()              # one table (rank, source, polarity, topic, masked text, score terms, pair, why)
>>> d.to_html(); d.to_markdown(); d.to_text(); d.to_json()
>>> d.withheld_               # how many verbatims were not shown, and why (never their texts)
>>> d.record()                # remember what this meeting was shown (the history), so the next digest is fresh

Selection and the ranking score: :mod:`verbatim.digest.select`; history: :mod:`.history`; e-mail: :mod:`.email`.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Iterable, Literal

import pandas as pd

from ..config import Config, DigestConfig, PrivacyConfig
from ..errors import ConfigError, VerbatimError, did_you_mean, show
from . import render
from .history import ALL_UNITS, FILE_NAME as HISTORY_FILE, History, meeting_key
from .select import (ITEM_COLUMNS, WITHHELD_COLUMNS, candidates, digest_privacy, parse_period, period_label,
                     select)

log = logging.getLogger("verbatim")

Format = Literal["html", "md", "markdown", "text", "txt", "json", "csv"]
EXTENSIONS = {"html": "html", "md": "md", "markdown": "md", "text": "txt", "txt": "txt", "json": "json", "csv": "csv"}


class UnknownUnit(VerbatimError):
    """A unit asked for is not in the artefact."""


class Digest:
    """The digest of one meeting (estimator rules: ``__init__`` stores, ``fit`` returns self, results end in ``_``).

    ``unit``: one unit or several (a meeting of a group of units), None for all; ``period``: ``2025-11``,
    ``2025-Q4``, ``2025-W45`` or ``2025`` (None: every date); ``meeting``: the name the history knows the
    meeting by (default: its set of units, in any order); ``config`` / ``privacy``: default the sections the
    pipeline was fitted with; ``pairs``: a mirror pair table (default: the one stored in the artefact, if
    any); ``history``: a path or :class:`History` (default: ``digest_history.sqlite`` beside a saved
    artefact; ``False``: none);
    ``now``: the time the digest is made (for the history window); ``lang``: ``fr`` or ``en``.
    """

    def __init__(self, unit: str | Iterable[str] | None = None, period: str | None = None, *, meeting: str | None = None,
                 config: DigestConfig | None = None, privacy: PrivacyConfig | None = None,
                 pairs: pd.DataFrame | None = None, history: str | Path | History | bool | None = None,
                 now: dt.datetime | None = None, lang: str | None = None):
        self.unit = unit
        self.period = period
        self.meeting = meeting
        self.config = config
        self.privacy = privacy
        self.pairs = pairs
        self.history = history
        self.now = now
        self.lang = lang

    def fit(self, pipeline) -> "Digest":
        if not hasattr(pipeline, "verbatims_") or not hasattr(pipeline, "segments_"):
            from ..errors import ArtefactError

            raise ArtefactError("the pipeline is not fitted; call fit() or Pipeline.load(path) first")
        pcfg = getattr(pipeline, "config", None) or Config()
        cfg = self.config or pcfg.digest
        privacy = digest_privacy(self.privacy or pcfg.privacy, pipeline.verbatims_)
        lang = self.lang or cfg.lang
        if lang not in render.STRINGS:
            raise ConfigError(f"lang must be one of {', '.join(map(repr, render.STRINGS))}; got {lang!r}")
        if "irritant_p" not in pipeline.verbatims_:
            from ..errors import ArtefactError

            raise ArtefactError("this artefact has no polarity (fitted by an older verbatim); refit it with `verbatim fit`")
        units = self._units(pipeline.verbatims_)
        period = parse_period(self.period)
        meeting = self.meeting or (" + ".join(units) if units else ALL_UNITS)
        key = self.meeting or meeting_key(units)  # --unit A --unit B and --unit B --unit A: one meeting
        now = self.now or dt.datetime.now(dt.timezone.utc)
        history = self._history(pipeline)
        exclude = history.recent(key, now - dt.timedelta(days=cfg.window_days)) if history else set()
        pairs = self.pairs if self.pairs is not None else _stored_pairs(pipeline, cfg)
        cand, withheld = candidates(pipeline, units, period, cfg, privacy, exclude)
        self.items_ = select(cand, cfg, privacy, pairs, lang)
        self.withheld_ = withheld
        self.n_candidates_ = len(cand)
        self.meeting_ = meeting
        self.meeting_key_ = key
        self.period_ = period
        self.period_label_ = period_label(period)
        self.units_ = units or ()
        self.lang_ = lang
        self.config_ = cfg
        self.privacy_ = privacy
        self.history_ = history
        self.now_ = now
        if len(self.items_) < cfg.size:
            log.info("digest for %s, %s: %d of %d verbatims (too few candidates)", meeting, self.period_label_,
                     len(self.items_), cfg.size)
        return self

    def _units(self, verbatims: pd.DataFrame) -> tuple[str, ...] | None:
        if self.unit is None:
            return None
        units = (self.unit,) if isinstance(self.unit, str) else tuple(self.unit)
        known = sorted(verbatims["unit"].dropna().astype(str).unique()) if "unit" in verbatims else []
        for u in units:
            if u not in known:
                raise UnknownUnit(f"unit '{show(u)}' is not in this artefact{did_you_mean(u, known)}; "
                                  f"{len(known)} units, e.g. {', '.join(map(show, known[:3])) or 'none'}")
        return units

    def _history(self, pipeline) -> History | None:
        if self.history is False:
            return None
        if isinstance(self.history, History):
            return self.history
        if self.history not in (None, True):
            return History(self.history)
        path = getattr(pipeline, "path_", None)
        return History(Path(path) / HISTORY_FILE) if path is not None else None

    def _check(self) -> None:
        if not hasattr(self, "items_"):
            from ..errors import ArtefactError

            raise ArtefactError("this digest is not fitted; call fit(pipeline) first")

    # -- results and renderings ---------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """The digest table (columns :data:`ITEM_COLUMNS`), in reading order."""
        self._check()
        return self.items_.copy()

    def to_text(self) -> str:
        self._check()
        return render.to_text(self)

    def to_markdown(self) -> str:
        self._check()
        return render.to_markdown(self)

    def to_json(self) -> str:
        self._check()
        return render.to_json(self)

    def to_html(self) -> str:
        self._check()
        return render.to_html(self)

    def subject(self) -> str:
        self._check()
        return render.subject(self)

    def render(self, fmt: str) -> str:
        """The digest in ``fmt`` (html, md, text, json; csv through :meth:`save`)."""
        fmt = fmt.lower()
        funcs = {"html": self.to_html, "md": self.to_markdown, "markdown": self.to_markdown, "text": self.to_text,
                 "txt": self.to_text, "json": self.to_json}
        if fmt not in funcs:
            raise ConfigError(f"format must be one of {', '.join(EXTENSIONS)}; got {fmt!r}")
        return funcs[fmt]()

    def save(self, path: str | Path, fmt: str = "html") -> Path:
        """Write the digest (atomically); CSV cells are formula-neutralised."""
        from ..fileio import write_csv, write_text

        self._check()
        if fmt.lower() == "csv":
            return write_csv(self.items_, path)
        return write_text(self.render(fmt), path)

    def record(self) -> int:
        """Remember that this meeting was shown these verbatims (no-op without a history)."""
        self._check()
        if self.history_ is None or self.items_.empty:
            return 0
        return self.history_.record(self.meeting_key_, self.period_label_, self.items_["verbatim_id"], self.now_)


def _stored_pairs(pipeline, cfg: DigestConfig) -> pd.DataFrame | None:
    path = getattr(pipeline, "path_", None)
    if path is None or len(cfg.sources) < 2:
        return None
    from ..mirror.run import pairs_file

    f = pairs_file(path, tuple(cfg.sources[:2]))
    if not f.is_file():
        log.info("no mirror table in %s: the digest has no mirrored pairs (run `verbatim mirror` first)", path)
        return None
    from ..artefact import read_part, remirror

    return read_part(f, pd.read_parquet, remirror(path))


__all__ = ["Digest", "History", "ITEM_COLUMNS", "UnknownUnit", "WITHHELD_COLUMNS", "parse_period"]
