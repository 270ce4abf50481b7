"""The mirror estimator: align the topics of two sources, test each pair, link them across units.

>>> m = Mirror(pair=("customer", "employee"), by="unit", period="month").fit(Pipeline.load("models/run1"))
>>> m.global_                # one test of the hypothesis: do the two sides' irritant profiles co-vary?
>>> m.pairs_                 # one row per matched pair (the table every rendering starts from)
>>> m.similarity_            # topic × topic similarity (centroid view)
>>> m.one_sided_, m.index_   # topics without a counterpart; the symmetry index with its interval

The stages are plain functions returning tables, composed by :meth:`Mirror.fit`:
:func:`~.align.align` → :func:`similarity_table` → :func:`link_pairs` → :func:`add_verdicts`, and
:func:`global_test` beside them. When the topic table has a ``side`` column (topics fitted per
polarity side), only the ``side == "irritant"`` topics of each source are aligned and tested.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import MirrorConfig
from ..errors import ArtefactError, ConfigError
from .align import Alignment, align
from .index import symmetry_index
from ..numerics import stable_order
from .hypotheses import test_hypotheses
from .linkage import TOO_LITTLE, irritant_flags, pair_linkage, shrunk_error_var, stabilised
from .screen import Screen, theme_screen
from .stability import index_refits, pair_stability, refit_labels, unstable, widen_index
from .stats import bh_qvalues, bootstrap_similarity, partial_corr_test, sequential_pvalues, size_blocks
from .themes import element_counts, element_label, elements, eligible_topics

from ..verdicts import MIRRORED, VERDICTS, Verdict  # noqa: F401  (re-exported)

log = logging.getLogger("verbatim")

PAIR_COLUMNS = ["pair", "kind", "source_a", "topic_a", "label_a", "size_a", "source_b", "topic_b", "label_b", "size_b",
                "topics_a", "topics_b",
                "similarity", "similarity_low", "similarity_high", "word_similarity", "p", "q", "topic_match",
                "irritant_share_a", "irritant_share_b", "rate_a", "rate_b", "n_units", "linkage_r", "linkage_p",
                "linkage_q", "r_low", "r_high", "stability", "cell_r", "cell_p", "best_lag", "lag_p", "lead",
                "explained_by", "same_link", "partial_r", "partial_p", "verdict"]


@dataclass(frozen=True)
class GlobalTest:
    """The global test of the mirror hypothesis (:mod:`.screen`): ``p`` is the chance that the largest unit
    correlation among the screen's element pairs (``max_r``, between the elements filed under
    ``max_r_topics``) is reached with shuffled units; ``value`` is the RV coefficient of the two sides' topic
    tables (with its own ``rv_p`` and permutation ``null_mean``), reported beside it. ``n_topics_a/b``
    count the elements (topics and themes) the screen kept."""

    value: float
    p: float
    rv_p: float
    null_mean: float
    max_r: float
    max_r_topics: tuple[int, int] | None
    max_r_p: float
    n_units: int
    n_topics_a: int
    n_topics_b: int
    status: str
    alpha: float = 0.05
    statistic: str = "max r over themes (max-T)"

    @property
    def significant(self) -> bool:
        return self.status == "ok" and self.p < self.alpha

    def to_frame(self) -> pd.DataFrame:
        from dataclasses import asdict

        return pd.DataFrame([asdict(self)])

    def text(self, a: str = "A", b: str = "B") -> str:
        if self.status != "ok":
            return (f"global test: not run, {self.status} ({self.n_units} units with enough respondents on both "
                    f"sides; {self.n_topics_a} {a} and {self.n_topics_b} {b} irritant topics)")
        verdict = (f"{a} and {b} irritant profiles co-vary across units" if self.significant
                   else f"no evidence that {a} and {b} irritant profiles co-vary across units")
        ta, tb = self.max_r_topics
        rv = "" if np.isnan(self.value) else (f"; RV of the topic profiles = {self.value:.3f}, null mean "
                                              f"{self.null_mean:.3f}, p = {self.rv_p:.3g}")
        return (f"global test: {verdict}, p = {self.p:.3g} (largest unit correlation r = {self.max_r:+.2f}, {a} "
                f"{ta} ↔ {b} {tb}, against its largest value among shuffled units{rv}); {self.n_units} units, "
                f"{self.n_topics_a} {a} × {self.n_topics_b} {b} irritant themes (topics and their groupings) "
                f"that vary across units")


class Mirror:
    """Mirror of two sources (estimator rules: ``__init__`` stores, ``fit`` returns self, results end in ``_``).

    Settings: ``config`` (a :class:`MirrorConfig`; by default the ``[mirror]`` section of the fitted
    pipeline's configuration, else the defaults), then keyword ``settings`` replacing some of its values.

    Fitted attributes: ``global_`` (:class:`GlobalTest`), ``pairs_`` (one row per pair, columns
    :data:`PAIR_COLUMNS`), ``similarity_`` / ``word_similarity_`` (topic × topic frames), ``links_``
    (secondary links), ``one_sided_`` (topics with no significant counterpart), ``linkage_`` (per pair:
    unit table, lagged correlations), ``index_`` / ``unit_index_`` (symmetry index), ``topics_`` (both
    sources' topics with irritant shares), ``config_`` (the settings used).
    """

    def __init__(self, config: MirrorConfig | None = None, **settings):
        self.config = config
        self.settings = settings

    def _cfg(self, pipeline=None) -> MirrorConfig:
        from dataclasses import fields, replace

        from ..errors import did_you_mean

        known = {f.name for f in fields(MirrorConfig)}
        for key in self.settings:
            if key not in known:
                raise ConfigError(f"Mirror has no setting '{key}'{did_you_mean(key, known)}; "
                                  f"settings: {', '.join(sorted(known))}")
        base = self.config
        if base is None and pipeline is not None and getattr(pipeline, "config", None) is not None:
            base = pipeline.config.mirror
        base = base or MirrorConfig()
        return replace(base, **self.settings) if self.settings else base

    def fit(self, pipeline=None, *, segments: pd.DataFrame | None = None, embeddings: np.ndarray | None = None,
            topics: pd.DataFrame | None = None, embed_fn=None) -> "Mirror":
        """Fit on a fitted :class:`~verbatim.pipeline.Pipeline` or on its three tables. ``embed_fn`` (texts →
        vectors with the segments' encoder; by default the pipeline's) embeds the named hypotheses' examples."""
        cfg = self._cfg(pipeline)
        if pipeline is not None:
            if not hasattr(pipeline, "segments_"):
                raise ArtefactError("the pipeline is not fitted; call fit() or Pipeline.load(path) first")
            segments, embeddings, topics = pipeline.segments_, pipeline.embeddings_, pipeline.topics_
        if segments is None or embeddings is None:
            raise ArtefactError("give a fitted pipeline, or segments and embeddings")
        topics = _topics_from_segments(segments) if topics is None else topics
        segments = segments.reset_index(drop=True)
        by = _check_inputs(segments, cfg)
        rng = np.random.default_rng(cfg.seed)
        irritant = irritant_flags(segments)
        shares = _irritant_shares(segments, irritant)
        labels = {(r.source, int(r.topic)): r.label for r in topics.itertuples()}
        al = align(segments, np.asarray(embeddings), topics, cfg.pair, cfg.secondary_threshold, cfg.matching)
        pairs = similarity_table(al, labels, shares, cfg, rng)
        self.screen_ = run_screen(segments, np.asarray(embeddings), al, cfg, by, irritant, rng)
        self.global_ = global_from(self.screen_, cfg)
        pairs, self.linkage_ = link_pairs(pairs, self.screen_, segments, al, labels, shares, cfg, by, irritant, rng)
        pairs = explain_pairs(nest_pairs(pairs, cfg), self.linkage_, cfg, rng)
        self.pairs_ = pair_stability(add_verdicts(pairs, cfg), segments, irritant, by, self.screen_, pipeline, cfg)
        if embed_fn is None and cfg.hypotheses and pipeline is not None and hasattr(pipeline, "embed"):
            embed_fn = pipeline.embed
        self.hypotheses_ = test_hypotheses(segments, np.asarray(embeddings), irritant, cfg, by, embed_fn,
                                           rng.spawn(1)[0])
        self.similarity_, self.word_similarity_ = al.similarity, al.word_similarity
        self.links_ = _label_links(al.links, labels, cfg.pair)
        self.one_sided_ = one_sided(topics, self.pairs_, al, shares, cfg)
        mirrored = sorted({int(t) for ts in self.pairs_.loc[self.pairs_["verdict"].isin(MIRRORED), "topics_a"]
                           for t in ts})
        self.index_, self.unit_index_ = symmetry_index(segments, cfg.pair[0], mirrored, irritant, by, rng,
                                                       max(cfg.n_bootstrap, 200), min_count=cfg.min_count)
        refits = refit_labels(pipeline, segments, cfg.pair[0])
        if refits is not None and mirrored:
            self.index_ = widen_index(self.index_, index_refits(segments, irritant, cfg.pair[0], mirrored, refits))
        self.topics_ = topics[topics["source"].isin(cfg.pair)].assign(
            irritant_share=[shares.get((s, int(t)), np.nan) for s, t in zip(topics["source"], topics["topic"])]
            if len(topics) else [])
        self.config_, self.by_, self.segments_, self.irritant_ = cfg, by, segments, irritant
        return self

    # -- renderings -------------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """The pair table with columns named after the two sources (``customer_topic``…), for CSV and reading."""
        return readable_table(self.pairs_)

    def to_markdown(self, verdicts: tuple[str, ...] | None = None) -> str:
        return render_pairs_text(self.pairs_, verdicts)

    def summary(self) -> str:
        """The named hypotheses, then the global test and the pairs that carry it, as plain text."""
        if not hasattr(self, "pairs_"):
            return "Mirror (not fitted)"
        a, b = self.config_.pair
        n_mir = int(self.pairs_["verdict"].isin(MIRRORED).sum())
        return "\n".join(render_hypotheses_text(self.hypotheses_) + [self.global_.text(a, b),
                          f"{len(self.pairs_)} pairs examined, {n_mir} mirrored (exploratory screen):",
                          render_pairs_text(self.pairs_, MIRRORED)])

    def __repr__(self) -> str:
        if not hasattr(self, "pairs_"):
            return f"Mirror(pair={self._cfg().pair!r}, not fitted)"
        return f"Mirror(pair={self.config_.pair!r})\n{self.summary()}"

    def _repr_html_(self) -> str:
        from html import escape

        if not hasattr(self, "pairs_"):
            return f"<pre>{escape(repr(self))}</pre>"
        a, b = self.config_.pair
        show = readable_table(self.pairs_).drop(columns=["topic_match"], errors="ignore")
        return (f"<p><strong>{escape(self.global_.text(a, b))}</strong></p>"
                + show.to_html(index=False, float_format=lambda v: f"{v:.3g}"))


def _check_inputs(segments: pd.DataFrame, cfg: MirrorConfig) -> str | None:
    """The unit column to use (None when there is none); an error when a source of the pair is absent."""
    present = sorted(segments["source"].dropna().unique())
    for s in cfg.pair:
        if s not in present:
            raise ConfigError(f"source '{s}' has no segments in this artefact; sources: {', '.join(present)} "
                              f"(choose the pair with --pair a:b)")
    by = cfg.by if cfg.by and cfg.by in segments and segments[cfg.by].notna().any() else None
    if cfg.by and by is None:
        log.warning("no '%s' column with values: unit linkage is skipped", cfg.by)
    return by


# -- stages -----------------------------------------------------------------------------------------
def _pair_row(al: Alignment, i: int, j: int, kind: str, labels: dict, shares: dict, pair: tuple[str, str]) -> dict:
    ta, tb = int(al.a.topic_ids[i]), int(al.b.topic_ids[j])
    return {"kind": kind, "source_a": pair[0], "topic_a": ta, "label_a": labels.get((pair[0], ta), ""),
            "size_a": int((al.a.labels == i).sum()), "source_b": pair[1], "topic_b": tb,
            "label_b": labels.get((pair[1], tb), ""), "size_b": int((al.b.labels == j).sum()),
            "similarity": float(al.similarity.iat[i, j]), "word_similarity": float(al.word_similarity.iat[i, j]),
            "irritant_share_a": shares.get((pair[0], ta), np.nan), "irritant_share_b": shares.get((pair[1], tb), np.nan)}


def similarity_table(al: Alignment, labels: dict, shares: dict, cfg: MirrorConfig, rng: np.random.Generator
                    ) -> pd.DataFrame:
    """Stage 2: the Hungarian pairs and the secondary links, each with its permutation p (verbatims
    reshuffled), BH q, cluster-bootstrap interval and ``topic_match`` (q < alpha and the interval's low
    end ≥ ``min_similarity``). Secondary links that do not hold up are dropped."""
    pos_a = {int(t): i for i, t in enumerate(al.a.topic_ids)}
    pos_b = {int(t): j for j, t in enumerate(al.b.topic_ids)}
    cands = [(i, j, "primary") for i, j in al.matches]
    cands += [(pos_a[int(r.topic_a)], pos_b[int(r.topic_b)], "secondary") for r in al.links.itertuples()]
    ij = [(i, j) for i, j, _ in cands]
    p, _ = sequential_pvalues(al.a, al.b, ij, cfg.n_permutations, 10 * cfg.n_permutations + 9, cfg.alpha, rng)
    low, high = bootstrap_similarity(al.a, al.b, ij, cfg.n_bootstrap, rng)
    out = pd.DataFrame([_pair_row(al, i, j, kind, labels, shares, cfg.pair) for i, j, kind in cands],
                       columns=PAIR_COLUMNS[1:14] + ["irritant_share_a", "irritant_share_b"])
    out = out.assign(similarity_low=low, similarity_high=high, p=p, q=bh_qvalues(p))
    floor = out["similarity_low"].fillna(out["similarity"])
    out["topic_match"] = (out["q"] < cfg.alpha) & (floor >= cfg.min_similarity)
    return out[(out["kind"] == "primary") | out["topic_match"]].reset_index(drop=True)


def _irritant_pair(pairs: pd.DataFrame, cfg: MirrorConfig) -> pd.Series:
    return (pairs["irritant_share_a"] >= cfg.min_irritant_share) & (pairs["irritant_share_b"] >= cfg.min_irritant_share)


def run_screen(segments: pd.DataFrame, embeddings: np.ndarray, al: Alignment, cfg: MirrorConfig, by: str | None,
               irritant: np.ndarray, rng: np.random.Generator) -> Screen | str:
    """Stage 3: the exploratory screen and the global test (:mod:`.screen`) over each side's elements
    (:mod:`.themes`: eligible irritant topics and, with ``max_theme_share`` > 0, the nodes of their tree;
    with ``screen = false``, only the Hungarian pairs' topics). Returns a :class:`~.screen.Screen` or why
    nothing could be tested."""
    if by is None:
        return "no unit column"
    els = {}
    for src, st in ((cfg.pair[0], al.a), (cfg.pair[1], al.b)):
        topics = eligible_topics(segments, src, st.topic_ids, irritant, cfg.min_topic_size, cfg.min_irritant_share)
        if not cfg.screen:
            matched = {int(st.topic_ids[i if src == cfg.pair[0] else j]) for i, j in al.matches}
            topics = {t: v for t, v in topics.items() if t in matched}
        els[src] = elements(segments, embeddings, src, topics, irritant, cfg.max_theme_share if cfg.screen else 0)
    if not els[cfg.pair[0]] or not els[cfg.pair[1]]:
        return "no irritant topic on one side"
    units = sorted(set(segments.loc[segments["source"] == cfg.pair[0], by].dropna())
                   & set(segments.loc[segments["source"] == cfg.pair[1], by].dropna()), key=str)
    ka, na, _ = element_counts(segments, cfg.pair[0], els[cfg.pair[0]], by, irritant, units)
    kb, nb, _ = element_counts(segments, cfg.pair[1], els[cfg.pair[1]], by, irritant, units)
    return theme_screen(ka, na, kb, nb, els[cfg.pair[0]], els[cfg.pair[1]], rng, cfg.n_screen_permutations,
                        cfg.min_count, cfg.min_units, cfg.variation_filter, cfg.alternative, units)


def global_from(screen: Screen | str, cfg: MirrorConfig) -> GlobalTest:
    """The global test's record from the screen (or why it could not run)."""
    if isinstance(screen, str):
        return GlobalTest(np.nan, np.nan, np.nan, np.nan, np.nan, None, np.nan, 0, 0, 0, screen, cfg.alpha)
    i, j = np.unravel_index(int(np.argmin(screen.p_adj + 1e-9 * -screen.r)), screen.r.shape)
    return GlobalTest(value=screen.rv, p=screen.global_p, rv_p=screen.rv_p, null_mean=screen.rv_null_mean,
                      max_r=float(screen.r[i, j]), max_r_topics=(screen.elements_a[i].topic, screen.elements_b[j].topic),
                      max_r_p=screen.max_r_p, n_units=screen.n_units, n_topics_a=len(screen.elements_a),
                      n_topics_b=len(screen.elements_b), status="ok", alpha=cfg.alpha)


def link_pairs(pairs: pd.DataFrame, screen: Screen | str, segments: pd.DataFrame, al: Alignment, labels: dict,
               shares: dict, cfg: MirrorConfig, by: str | None, irritant: np.ndarray, rng: np.random.Generator
               ) -> tuple[pd.DataFrame, dict]:
    """Stage 4: the screen's answer in the pair table. A topic pair of the similarity table gets its
    screen statistics (``linkage_r``, raw ``linkage_p``, max-T adjusted ``linkage_q``); every declared
    element pair (adjusted p < ``alpha``, r > 0) not already there becomes a row (``kind`` "linkage
    screen" for two topics, "theme" when a side is a node of its tree; ``topics_a``/``topics_b`` list
    the topics). Each declared pair gets its unit table, unit × period cells and lead
    (:func:`~.linkage.pair_linkage`). Returns the pairs numbered 1…n and the details by pair number."""
    pairs = pairs.copy()
    pairs["topics_a"] = [[int(t)] for t in pairs["topic_a"]]
    pairs["topics_b"] = [[int(t)] for t in pairs["topic_b"]]
    pairs["linkage_r"] = pairs["linkage_p"] = pairs["linkage_q"] = np.nan
    details: dict[int, dict] = {}
    if not isinstance(screen, str):
        where = {(tuple(r.topics_a), tuple(r.topics_b)): i for i, r in pairs.iterrows()}
        pos_a = {int(t): i for i, t in enumerate(al.a.topic_ids)}
        pos_b = {int(t): j for j, t in enumerate(al.b.topic_ids)}
        for (i, j) in np.argwhere(np.ones_like(screen.r, bool)):
            ea, eb = screen.elements_a[i], screen.elements_b[j]
            key = (ea.topics, eb.topics)
            declared = screen.p_adj[i, j] < cfg.alpha and screen.r[i, j] > 0
            if key not in where:
                if not declared:
                    continue
                row = _pair_row(al, pos_a[ea.topic], pos_b[eb.topic], "theme" if "theme" in (ea.kind, eb.kind)
                                else "linkage screen", labels, shares, cfg.pair)
                row.update(topics_a=list(ea.topics), topics_b=list(eb.topics), topic_match=False,
                           label_a=element_label(ea, labels), label_b=element_label(eb, labels),
                           size_a=ea.segments, size_b=eb.segments,
                           irritant_share_a=_share_of(shares, cfg.pair[0], ea.topics),
                           irritant_share_b=_share_of(shares, cfg.pair[1], eb.topics))
                pairs = pd.concat([pairs, pd.DataFrame([row])], ignore_index=True)
                where[key] = pairs.index[-1]
            k = where[key]
            pairs.loc[k, ["linkage_r", "linkage_p", "linkage_q"]] = [screen.r[i, j], screen.p_raw[i, j], screen.p_adj[i, j]]
            if declared:
                details[k] = pair_linkage(segments, cfg.pair, list(ea.topics), list(eb.topics), by=by, period=cfg.period,
                                          rng=rng, n_permutations=cfg.n_permutations, min_count=cfg.min_count,
                                          min_cell_count=cfg.min_cell_count, min_units=cfg.min_units,
                                          max_lag=cfg.max_lag, alpha=cfg.alpha, alternative=cfg.alternative,
                                          irritant=irritant)
    pairs["pair"] = np.arange(1, len(pairs) + 1)
    cols = {"rate_a": "rate_a", "rate_b": "rate_b", "n_units": "n_units", "cell_r": "cell_r",
            "cell_p": "cell_p", "best_lag": "best_lag", "lag_p": "lag_p", "lead": "lead"}
    for c in cols:
        pairs[c] = pd.Series([np.nan] * len(pairs), index=pairs.index, dtype=object)
    for i, lk in details.items():
        for c, key in cols.items():
            pairs.at[i, c] = lk.get(key, np.nan)
    return _typed(pairs), {int(pairs.at[i, "pair"]): lk for i, lk in details.items()}


def _share_of(shares: dict, source: str, topics) -> float:
    vals = [shares.get((source, int(t)), np.nan) for t in topics]
    return float(np.nanmin(vals)) if vals else np.nan


def nest_pairs(pairs: pd.DataFrame, cfg: MirrorConfig) -> pd.DataFrame:
    """Stage 4b: one link, one level. Among declared pairs whose elements are nested on both sides (a theme
    and one of its topics, or two nodes of one branch), the one with the largest unit correlation stands for
    the link; the others are "the same link at another level" (``explained_by`` names it)."""
    pairs = pairs.copy()
    pairs["explained_by"] = pd.array([pd.NA] * len(pairs), dtype="Int64")
    pairs["same_link"] = False
    linked = pairs[(pairs["linkage_q"] < cfg.alpha) & (pairs["linkage_r"] > 0)]
    order = linked.index[stable_order(linked["linkage_r"], linked["pair"], descending=(True, False))]
    kept: list[int] = []
    for i in order:
        a, b = set(pairs.at[i, "topics_a"]), set(pairs.at[i, "topics_b"])
        for j in kept:
            ka, kb = set(pairs.at[j, "topics_a"]), set(pairs.at[j, "topics_b"])
            if (a <= ka or ka <= a) and (b <= kb or kb <= b):
                pairs.at[i, "explained_by"] = int(pairs.at[j, "pair"])
                pairs.at[i, "same_link"] = True
                break
        else:
            kept.append(i)
    return pairs


def explain_pairs(pairs: pd.DataFrame, details: dict, cfg: MirrorConfig, rng: np.random.Generator) -> pd.DataFrame:
    """Stage 3b: a linked pair is kept only if it still moves with its partner once each more strongly
    linked pair is accounted for (partial correlation across units given the stronger pair's topics that
    it does not share: the other topic when it shares one, both when it shares none; Freedman–Lane
    permutation p < ``alpha``).

    Why: a customer topic that holds a fifth of another theme's comments ("automate en panne, donc la
    queue") inherits that theme's unit profile and links to whatever that theme links to; with enough
    units the leak alone is significant. The partial test tells a second, real link (incivility follows
    waiting) from an echo of the first. Two topics that share nothing with the stronger pair can echo it
    too, when each holds a part of one of its themes (a "closing hours" topic with some waiting in it, a
    "management" topic with some understaffing). The stronger pair's shrunk rates are estimates, and an
    echo's residuals share their error: the test allows for it (``z_error_var``, the shrunk rates'
    posterior variance; ``benchmarks/bench_echo.py``: echoes kept in 1.9–3.3% of simulated datasets instead
    of 8–45%). ``explained_by`` names the stronger pair, ``partial_r`` is the corrected correlation."""
    pairs = pairs.copy()
    pairs["partial_r"] = pairs["partial_p"] = np.nan
    linked = pairs[(pairs["linkage_q"] < cfg.alpha) & (pairs["linkage_r"] > 0) & ~pairs["same_link"]]
    linked = linked.iloc[stable_order(linked["linkage_r"], linked["pair"], descending=(True, False))]
    kept: list[int] = []
    for i, r in linked.iterrows():
        for j in kept:
            s = pairs.loc[j]
            shared_a = bool(set(s["topics_a"]) & set(r["topics_a"]))
            shared_b = bool(set(s["topics_b"]) & set(r["topics_b"]))
            # the rates of this pair, and of the stronger pair's topics it does not share, over the same units
            mine = details[int(r["pair"])]["units"].set_index("unit")
            theirs = details[int(s["pair"])]["units"].set_index("unit")
            if not {"shrunk_a", "shrunk_b"} <= set(mine) or not {"shrunk_a", "shrunk_b"} <= set(theirs):
                continue
            other = [c for c, shared in (("a", shared_a), ("b", shared_b)) if not shared]
            z = _estimates_and_errors(theirs, other)
            rows = mine[["shrunk_a", "shrunk_b", "n_a"]].join(z).dropna()
            both = stabilised(rows[["shrunk_a", "shrunk_b"] + [f"z_{c}" for c in other]])
            pr, pp = partial_corr_test(both[:, 0], both[:, 1], both[:, 2:], cfg.n_permutations, rng, cfg.alternative,
                                       blocks=size_blocks(rows["n_a"]),
                                       z_error_var=rows[[f"err_{c}" for c in other]].to_numpy())
            if np.isnan(pp) or pp >= cfg.alpha:
                pairs.loc[i, ["explained_by", "partial_r", "partial_p"]] = [int(s["pair"]), pr, pp]
                break
        else:
            kept.append(i)
    return pairs


def _estimates_and_errors(units: pd.DataFrame, sides: list[str]) -> pd.DataFrame:
    """A stronger pair's shrunk rates on ``sides`` (``z_a``, ``z_b``) and the variance of their errors
    (``err_a``, ``err_b``, :func:`~.linkage.shrunk_error_var`, over the units that pair's test used)."""
    used = units[units["used"].astype(bool)]
    out = pd.DataFrame(index=used.index)
    for c in sides:
        out[f"z_{c}"] = used[f"shrunk_{c}"]
        out[f"err_{c}"] = shrunk_error_var(used[f"k_{c}"], used[f"n_{c}"])
    return out


def _typed(pairs: pd.DataFrame) -> pd.DataFrame:
    for c in PAIR_COLUMNS:
        if c not in pairs:
            pairs[c] = np.nan
    pairs["best_lag"] = pd.to_numeric(pairs["best_lag"]).astype("Int64")
    pairs["n_units"] = pd.to_numeric(pairs["n_units"]).fillna(0).astype("int64")
    pairs["lead"] = pairs["lead"].fillna("").astype(str)
    pairs["topic_match"] = pairs["topic_match"].astype(bool)
    pairs["same_link"] = pairs["same_link"].astype(object).where(pairs["same_link"].notna(), False).astype(bool)
    num = [c for c in PAIR_COLUMNS if c not in ("kind", "source_a", "source_b", "label_a", "label_b", "lead",
                                                "verdict", "topic_match", "best_lag", "n_units", "topics_a", "topics_b",
                                                "same_link", "explained_by")]
    pairs[num] = pairs[num].apply(pd.to_numeric)
    return pairs


def add_verdicts(pairs: pd.DataFrame, cfg: MirrorConfig) -> pd.DataFrame:
    """Stage 4: one verdict per pair (:data:`VERDICTS`); the table in :data:`PAIR_COLUMNS` order."""
    irritant = _irritant_pair(pairs, cfg)
    verdict = [_verdict(r, irr, cfg.alpha) for r, irr in zip(pairs.to_dict("records"), irritant)]
    return pairs.assign(verdict=verdict)[PAIR_COLUMNS].reset_index(drop=True)


def readable_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """``topic_a`` → ``<source a>_topic`` etc.; the generic columns stay in the stored table."""
    if pairs.empty:
        return pairs.copy()
    a, b = pairs["source_a"].iat[0], pairs["source_b"].iat[0]
    ren = {}
    for c in pairs.columns:
        if c.endswith("_a") and c != "source_a":
            ren[c] = f"{a}_{c[:-2]}"
        elif c.endswith("_b") and c != "source_b":
            ren[c] = f"{b}_{c[:-2]}"
    return pairs.drop(columns=["source_a", "source_b"]).rename(columns=ren)


def render_hypotheses_text(hyp: pd.DataFrame | None) -> list[str]:
    """One line per named hypothesis (the demo, the CLI and ``summary`` print these first)."""
    if hyp is None or not len(hyp):
        return []
    out = []
    for h in hyp.itertuples():
        head = f"hypothesis “{h.hypothesis}”{' (negative control)' if h.control else ''}: {h.verdict}"
        if pd.isna(h.p):
            out.append(f"{head} ({h.warnings})")
            continue
        out.append(f"{head}, units r = {h.r:+.2f} [{h.r_low:+.2f}, {h.r_high:+.2f}], p = {h.p:.2g} (Holm {h.p_holm:.2g}), "
                   f"{h.r_corrected:+.2f} corrected for reliability (ICC2 {h.icc2_a:.2f} / {h.icc2_b:.2f}); power for "
                   f"ρ = 0.3: {h.power_meta:.0%}" + (f"; ⚠ {h.warnings}" if h.warnings else ""))
    return out


def render_pairs_text(pairs: pd.DataFrame, verdicts: tuple[str, ...] | None = None) -> str:
    """Plain text lines, one per pair (the demo and the CLI print these)."""
    if pairs.empty:
        return "(no pairs)"
    lines = []
    show = pairs if verdicts is None else pairs[pairs["verdict"].isin(verdicts)]
    a, b = pairs["source_a"].iat[0], pairs["source_b"].iat[0]
    for r in show.itertuples():
        link = ""
        if not pd.isna(r.linkage_r):
            ci = "" if pd.isna(getattr(r, "r_low", np.nan)) else f" [{r.r_low:+.2f}, {r.r_high:+.2f}]"
            link = f", units r={r.linkage_r:+.2f}{ci} (adjusted p={r.linkage_q:.2g})"
            st = getattr(r, "stability", np.nan)
            if not pd.isna(st):
                link += f", {'⚠ unstable: ' if unstable(st) else ''}found in {st:.0%} of refits"
            if r.lead and r.lead not in (TOO_LITTLE,):
                link += f", lead: {r.lead}"
        sim = (f"sim {r.similarity:.2f} (similarity not tested)" if pd.isna(r.q) else
               f"sim {r.similarity:.2f} [{r.similarity_low:.2f}, {r.similarity_high:.2f}], q={r.q:.3f}")
        lines.append(f"  {a} {r.topic_a:>2} “{r.label_a}” ↔ {b} {r.topic_b:>2} “{r.label_b}”: {sim}{link} → {r.verdict}")
    return "\n".join(lines) if lines else "(none)"


def _verdict(r: dict, irritant_pair: bool, alpha: float) -> str:
    q = r.get("linkage_q", np.nan)
    linked = not pd.isna(q) and q < alpha and r.get("linkage_r", 0) > 0
    if linked and r.get("same_link", False):
        return "same link at another level"
    if linked and not pd.isna(r.get("explained_by", pd.NA)):
        return "linked through a stronger pair"
    if linked:  # a pair the screen declares is a mirror whether or not its topics' similarity is significant
        return "mirrored" if r["topic_match"] and irritant_pair else "linked, different topics"
    if not r["topic_match"]:  # only the similarity table's pairs get here: screen rows are added when declared
        return "not similar"
    if not irritant_pair:
        return "similar topics, not irritants"
    if pd.isna(r.get("linkage_p", np.nan)):
        return "similar topics, too little data"
    return "similar topics, no unit linkage"


def _irritant_shares(segments: pd.DataFrame, irritant: np.ndarray) -> dict:
    s = pd.DataFrame({"source": segments["source"].to_numpy(), "topic": segments["topic"].to_numpy(), "irr": irritant})
    s = s[s["topic"] >= 0]
    return {(src, int(t)): float(v) for (src, t), v in s.groupby(["source", "topic"])["irr"].mean().items()}


def _topics_from_segments(segments: pd.DataFrame) -> pd.DataFrame:
    s = segments[segments["topic"] >= 0]
    g = s.groupby(["source", "topic"])
    out = g.size().rename("size").reset_index()
    out["label"] = [str(x) for x in g["topic_label"].first()] if "topic_label" in s else out["topic"].astype(str)
    out["top_words"] = [[] for _ in range(len(out))]
    return out


def _label_links(links: pd.DataFrame, labels: dict, pair: tuple[str, str]) -> pd.DataFrame:
    out = links.copy()
    out.insert(1, "label_a", [labels.get((pair[0], int(t)), "") for t in out["topic_a"]])
    out.insert(3, "label_b", [labels.get((pair[1], int(t)), "") for t in out["topic_b"]])
    return out


def one_sided(topics: pd.DataFrame, pairs: pd.DataFrame, al: Alignment, shares: dict, cfg: MirrorConfig
              ) -> pd.DataFrame:
    """The compared topics (the irritant side's when topics have a ``side``) with no topic match and no
    mirror verdict."""
    keep = pairs["topic_match"] | pairs["verdict"].isin(MIRRORED)
    matched = {cfg.pair[0]: set(pairs.loc[keep, "topic_a"].astype(int)),
               cfg.pair[1]: set(pairs.loc[keep, "topic_b"].astype(int))}
    compared = {cfg.pair[0]: set(int(t) for t in al.a.topic_ids), cfg.pair[1]: set(int(t) for t in al.b.topic_ids)}
    rows = []
    for src in cfg.pair:
        for r in topics[topics["source"] == src].sort_values("size", ascending=False).itertuples():
            if int(r.topic) in matched[src] or int(r.topic) not in compared[src]:
                continue
            share = shares.get((src, int(r.topic)), np.nan)
            irritant = bool(share >= cfg.min_irritant_share)
            rows.append({"source": src, "topic": int(r.topic), "label": r.label, "size": int(r.size),
                         "irritant_share": share,
                         "kind": f"{src}-only irritant" if irritant else f"{src}-only"})
    return pd.DataFrame(rows, columns=["source", "topic", "label", "size", "irritant_share", "kind"])
