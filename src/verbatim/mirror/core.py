"""The mirror estimator: align the topics of two sources, test each pair, link them across units.

>>> m = Mirror(pair=("customer", "employee"), by="unit", period="month").fit(Pipeline.load("models/run1"))
>>> m.pairs_                 # one row per matched pair (the table every rendering starts from)
>>> m.similarity_            # topic × topic similarity (centroid view)
>>> m.one_sided_, m.index_   # topics without a counterpart; the symmetry index with its interval
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from ..config import MirrorConfig
from ..errors import ArtefactError, ConfigError
from .align import align
from .index import symmetry_index
from .linkage import TOO_LITTLE, irritant_flags, linkage_screen, pair_linkage
from .stats import bh_qvalues, bootstrap_similarity, permutation_pvalues

log = logging.getLogger("verbatim")

Verdict = Literal["mirrored", "linked, different topics", "similar topics, no unit linkage",
                  "similar topics, too little data", "similar topics, not irritants", "not similar"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
#: the verdicts that count as a mirror (in the symmetry index and in the demo's list)
MIRRORED = ("mirrored", "linked, different topics")

PAIR_COLUMNS = ["pair", "kind", "source_a", "topic_a", "label_a", "size_a", "source_b", "topic_b", "label_b", "size_b",
                "similarity", "similarity_low", "similarity_high", "word_similarity", "p", "q", "topic_match",
                "irritant_share_a", "irritant_share_b", "rate_a", "rate_b", "n_units", "linkage_r", "linkage_p",
                "linkage_q", "cell_r", "cell_p", "best_lag", "lag_p", "lead", "verdict"]


class Mirror:
    """Mirror of two sources (estimator rules: ``__init__`` stores, ``fit`` returns self, results end in ``_``).

    Fitted attributes: ``pairs_`` (one row per Hungarian pair, columns :data:`PAIR_COLUMNS`),
    ``similarity_`` / ``word_similarity_`` (topic × topic frames), ``links_`` (secondary links),
    ``one_sided_`` (topics with no significant counterpart), ``linkage_`` (per pair: unit table,
    lagged correlations), ``index_`` / ``unit_index_`` (symmetry index), ``topics_`` (both sources'
    topics with irritant shares).
    """

    def __init__(self, config: MirrorConfig | None = None, **settings):
        self.config = config
        self.settings = settings

    def _cfg(self) -> MirrorConfig:
        from dataclasses import replace

        base = self.config or MirrorConfig()
        return replace(base, **self.settings) if self.settings else base

    def fit(self, pipeline=None, *, segments: pd.DataFrame | None = None, embeddings: np.ndarray | None = None,
            topics: pd.DataFrame | None = None) -> "Mirror":
        """Fit on a fitted :class:`~verbatim.pipeline.Pipeline` or on its three tables."""
        cfg = self._cfg()
        if pipeline is not None:
            if not hasattr(pipeline, "segments_"):
                raise ArtefactError("the pipeline is not fitted; call fit() or Pipeline.load(path) first")
            segments, embeddings, topics = pipeline.segments_, pipeline.embeddings_, pipeline.topics_
        if segments is None or embeddings is None:
            raise ArtefactError("give a fitted pipeline, or segments and embeddings")
        if topics is None:
            topics = _topics_from_segments(segments)
        segments = segments.reset_index(drop=True)
        present = sorted(segments["source"].dropna().unique())
        for s in cfg.pair:
            if s not in present:
                raise ConfigError(f"source '{s}' has no segments in this artefact; sources: {', '.join(present)} "
                                  f"(choose the pair with --pair a:b)")
        by = cfg.by if cfg.by and cfg.by in segments and segments[cfg.by].notna().any() else None
        if cfg.by and by is None:
            log.warning("no '%s' column with values: unit linkage is skipped", cfg.by)
        rng = np.random.default_rng(cfg.seed)
        irritant = irritant_flags(segments)
        al = align(segments, np.asarray(embeddings), topics, cfg.pair, cfg.secondary_threshold)
        a, b = al.a, al.b
        pos_a = {int(t): i for i, t in enumerate(a.topic_ids)}
        pos_b = {int(t): j for j, t in enumerate(b.topic_ids)}
        cands = [(i, j, "primary") for i, j in al.matches]
        cands += [(pos_a[int(r.topic_a)], pos_b[int(r.topic_b)], "secondary") for r in al.links.itertuples()]
        ij = [(i, j) for i, j, _ in cands]
        pvals = permutation_pvalues(a, b, ij, al.center, cfg.n_permutations, rng)
        low, high = bootstrap_similarity(a, b, ij, al.center, cfg.n_bootstrap, rng)
        qvals = bh_qvalues(pvals)
        labels = {(r.source, int(r.topic)): r.label for r in topics.itertuples()}
        shares = _irritant_shares(segments, irritant)
        lk_args = dict(by=by, period=cfg.period, rng=rng, n_permutations=cfg.n_permutations, min_count=cfg.min_count,
                       min_cell_count=cfg.min_cell_count, min_units=cfg.min_units, max_lag=cfg.max_lag,
                       alpha=cfg.alpha, alternative=cfg.alternative, irritant=irritant)

        def base_row(i, j, kind):
            ta, tb = int(a.topic_ids[i]), int(b.topic_ids[j])
            return {"kind": kind, "source_a": cfg.pair[0], "topic_a": ta, "label_a": labels.get((cfg.pair[0], ta), ""),
                    "size_a": int((a.labels == i).sum()), "source_b": cfg.pair[1], "topic_b": tb,
                    "label_b": labels.get((cfg.pair[1], tb), ""), "size_b": int((b.labels == j).sum()),
                    "similarity": float(al.similarity.iat[i, j]),
                    "word_similarity": float(al.word_similarity.iat[i, j]),
                    "irritant_share_a": shares.get((cfg.pair[0], ta), np.nan),
                    "irritant_share_b": shares.get((cfg.pair[1], tb), np.nan)}

        def is_irritant(row):
            return row["irritant_share_a"] >= cfg.min_irritant_share and row["irritant_share_b"] >= cfg.min_irritant_share

        rows = []
        for (i, j, kind), p, q, lo, hi in zip(cands, pvals, qvals, low, high):
            row = base_row(i, j, kind)
            row.update(similarity_low=lo, similarity_high=hi, p=p, q=q)
            row["topic_match"] = bool(q < cfg.alpha and (lo if not np.isnan(lo) else row["similarity"]) >= cfg.min_similarity)
            if kind == "secondary" and not row["topic_match"]:
                continue  # a secondary link is kept only when it holds up
            rows.append(row)
        # family 1 (confirmatory): topic-matched irritant pairs; unit and cell tests combined by min-p
        fam1 = [r for r in rows if r["kind"] == "primary" and r["topic_match"] and is_irritant(r)] if by is not None else []
        for r in fam1:
            r["_lk"] = pair_linkage(segments, cfg.pair, r["topic_a"], r["topic_b"], **lk_args)
            r["_p"] = r["_lk"]["joint_p"]
        tested = [r for r in fam1 if not np.isnan(r["_p"])]
        for r, q in zip(tested, bh_qvalues([r["_p"] for r in tested])):
            r["linkage_q"] = q
        # family 2 (exploratory): every other pair of irritant topics, screened on unit-level linkage
        if by is not None and cfg.screen:
            done = {(r["topic_a"], r["topic_b"]) for r in fam1}
            secondary = {(r["topic_a"], r["topic_b"]): r for r in rows if r["kind"] == "secondary" and r["topic_match"]}
            for hit in linkage_screen(segments, cfg.pair, a.topic_ids, b.topic_ids, shares, done, by, irritant, cfg, rng):
                key = (hit["topic_a"], hit["topic_b"])
                if key in secondary:
                    row = secondary[key]
                elif hit["q"] < cfg.alpha and hit["r"] > 0:
                    row = base_row(pos_a[key[0]], pos_b[key[1]], "linkage screen")
                    row.update(similarity_low=np.nan, similarity_high=np.nan, p=np.nan, q=np.nan, topic_match=False)
                    rows.append(row)
                else:
                    continue
                row.update(_p=hit["p"], linkage_q=hit["q"])
                row["_lk"] = pair_linkage(segments, cfg.pair, key[0], key[1], **lk_args)
        linkage = {}
        for n, r in enumerate(rows, start=1):
            r["pair"] = n
            lk = r.pop("_lk", None)
            if lk is not None:
                linkage[n] = lk
                r.update(rate_a=lk.get("rate_a", np.nan), rate_b=lk.get("rate_b", np.nan), n_units=lk["n_units"],
                         linkage_r=lk["r"], linkage_p=r.pop("_p", lk["p"]), cell_r=lk["cell_r"],
                         cell_p=lk["cell_p"], best_lag=lk["best_lag"], lag_p=lk["lag_p"], lead=lk["lead"])
            r["verdict"] = _verdict(r, is_irritant(r), cfg.alpha)
        pairs = pd.DataFrame(rows)
        for c in PAIR_COLUMNS:
            if c not in pairs:
                pairs[c] = np.nan
        pairs["best_lag"] = pairs["best_lag"].astype("Int64")
        pairs["n_units"] = pairs["n_units"].fillna(0).astype("int64")
        pairs["lead"] = pairs["lead"].fillna("")
        pairs["topic_match"] = pairs["topic_match"].astype(bool)
        self.pairs_ = pairs[PAIR_COLUMNS].reset_index(drop=True)
        self.similarity_ = al.similarity
        self.word_similarity_ = al.word_similarity
        self.links_ = _label_links(al.links, labels, cfg.pair)
        keep = pairs["topic_match"] | pairs["verdict"].isin(MIRRORED) if len(pairs) else None
        matched_a = set(pairs.loc[keep, "topic_a"].astype(int)) if len(pairs) else set()
        matched_b = set(pairs.loc[keep, "topic_b"].astype(int)) if len(pairs) else set()
        self.one_sided_ = _one_sided(topics, cfg, matched_a, matched_b, shares)
        self.linkage_ = linkage
        mirrored = self.pairs_.loc[self.pairs_["verdict"].isin(MIRRORED), "topic_a"].astype(int).tolist()
        self.index_, self.unit_index_ = symmetry_index(segments, cfg.pair[0], mirrored, irritant, by, rng,
                                                       max(cfg.n_bootstrap, 200), min_count=cfg.min_count)
        self.topics_ = topics[topics["source"].isin(cfg.pair)].assign(
            irritant_share=[shares.get((s, int(t)), np.nan) for s, t in zip(topics["source"], topics["topic"])]
            if len(topics) else [])
        self.config_ = cfg
        self.by_ = by
        self.segments_ = segments
        self.irritant_ = irritant
        return self

    # -- renderings -------------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """The pair table with columns named after the two sources (``customer_topic``…), for CSV and reading."""
        return readable_table(self.pairs_)

    def to_markdown(self, verdicts: tuple[str, ...] | None = None) -> str:
        return render_pairs_text(self.pairs_, verdicts)


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
            link = f", units r={r.linkage_r:+.2f} (p={r.linkage_p:.3f})"
            if r.lead and r.lead not in (TOO_LITTLE,):
                link += f", lead: {r.lead}"
        lines.append(f"  {a} {r.topic_a:>2} “{r.label_a}” ↔ {b} {r.topic_b:>2} “{r.label_b}”: "
                     f"sim {r.similarity:.2f} [{r.similarity_low:.2f}, {r.similarity_high:.2f}], q={r.q:.3f}{link} → {r.verdict}")
    return "\n".join(lines) if lines else "(none)"


def _verdict(r: dict, irritant_pair: bool, alpha: float) -> str:
    q = r.get("linkage_q", np.nan)
    linked = not pd.isna(q) and q < alpha and r.get("linkage_r", 0) > 0
    if r["kind"] == "linkage screen":
        return "linked, different topics"
    if not r["topic_match"]:
        return "not similar"
    if not irritant_pair:
        return "similar topics, not irritants"
    if pd.isna(r.get("linkage_p", np.nan)):
        return "similar topics, too little data"
    return "mirrored" if linked else "similar topics, no unit linkage"


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


def _one_sided(topics: pd.DataFrame, cfg: MirrorConfig, matched_a: set, matched_b: set, shares: dict) -> pd.DataFrame:
    rows = []
    for side, src, matched in (("a", cfg.pair[0], matched_a), ("b", cfg.pair[1], matched_b)):
        for r in topics[topics["source"] == src].sort_values("size", ascending=False).itertuples():
            if int(r.topic) in matched:
                continue
            share = shares.get((src, int(r.topic)), np.nan)
            irritant = bool(share >= cfg.min_irritant_share)
            rows.append({"source": src, "topic": int(r.topic), "label": r.label, "size": int(r.size),
                         "irritant_share": share,
                         "kind": f"{src}-only irritant" if irritant else f"{src}-only"})
    return pd.DataFrame(rows, columns=["source", "topic", "label", "size", "irritant_share", "kind"])
