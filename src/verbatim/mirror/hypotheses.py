"""Named hypotheses: pairs a researcher names before looking (``[[mirror.hypotheses]]``), each with one
pre-specified confirmatory test that pays no screen multiplicity.

A hypothesis gives a few example phrases per source ("colis jamais livré" ↔ "trop de pression"). On each
side, a respondent **speaks of it** when one of their irritant segments either contains one of the
examples' *specific* words (a content lemma of the examples whose segments are, on average, at least
:data:`SPECIFICITY` more similar to the examples than the side's irritant segments are: "colis",
"transporteur", "stress", "charge" pass; "travail", "manque", "commande" do not) or is at least
:data:`STRONG_SIMILARITY` similar to an example (a paraphrase in other words). That rule uses the side's
own texts and the examples, never the other side nor the units, so the test below stays pre-specified.

The test is the mirror's unit test (:func:`~.linkage.unit_linkage`: empirical-Bayes shrunk rates on the
arcsine scale, units shuffled within blocks of similar size); the confirmatory family (every
hypothesis that is not a negative control) is adjusted by Holm. Each row also reports the effect size
with its interval, the correlation corrected for the rates' unreliability, ICC(1)/ICC(2) of both rates,
respondents per unit, and the power the data had for the meta-analytic ρ = 0.3 with the units that would
give 80% (:mod:`.reliability`).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..config import Hypothesis, MirrorConfig
from ..textfr import content_words
from ..respondent import respondents
from .linkage import unit_linkage
from .reliability import META_RHO, disattenuated, icc, power, r_interval, units_needed, warnings_for
from .stats import holm_adjusted

#: a content lemma of the examples counts when its segments are this much more similar to the examples
#: (cosine, on average) than the side's irritant segments are
SPECIFICITY = 0.10
#: an irritant segment this similar to one of the examples speaks of the hypothesis whatever its words
STRONG_SIMILARITY = 0.6
#: a lemma needs this many irritant segments to have its specificity measured
MIN_WORD_SEGMENTS = 3

HYPOTHESIS_COLUMNS = ["hypothesis", "control", "source_a", "source_b", "n_units", "r", "r_low", "r_high", "p", "p_holm",
                      "verdict", "r_corrected", "icc1_a", "icc2_a", "icc1_b", "icc2_b", "respondents_a", "respondents_b",
                      "speaks_a", "speaks_b", "words_a", "words_b", "power_meta", "units_for_80", "warnings"]


def speaks_of(texts: Sequence[str], x: np.ndarray, irritant: np.ndarray, examples: np.ndarray,
              phrases: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Which segments speak of a hypothesis (see the module doc), and the specific words used.
    ``x``: the side's segment embeddings (grid vectors), ``examples``: the phrases' embeddings."""
    irritant = np.asarray(irritant, bool)
    if not irritant.any():
        return np.zeros(len(x), bool), []
    sim = (np.asarray(x, np.float32) @ np.asarray(examples, np.float32).T).max(1).astype(np.float64)
    lemmas = [frozenset(content_words(t)) for t in texts]
    words = sorted({w for p in phrases for w in content_words(p)})
    base = sim[irritant].mean()
    specific = []
    for w in words:
        has = irritant & np.fromiter((w in s for s in lemmas), bool, len(lemmas))
        if has.sum() >= MIN_WORD_SEGMENTS and sim[has].mean() - base >= SPECIFICITY:
            specific.append(w)
    keep = frozenset(specific)
    lexical = np.fromiter((bool(s & keep) for s in lemmas), bool, len(lemmas))
    return irritant & (lexical | (sim >= STRONG_SIMILARITY)), specific


def hypothesis_counts(segments: pd.DataFrame, source: str, hits: np.ndarray, by: str
                      ) -> tuple[pd.Series, pd.Series]:
    """Per unit: respondents speaking of it (``k``) and respondents (``n``) of ``source``."""
    m = (segments["source"] == source).to_numpy()
    d = pd.DataFrame({"unit": segments[by].to_numpy()[m], "rec": respondents(segments).to_numpy()[m],
                      "hit": np.asarray(hits, bool)[m]}).dropna(subset=["unit"])
    per = d.groupby(["unit", "rec"], sort=True)["hit"].any().groupby(level=0).agg(["sum", "size"])
    return per["sum"].astype(float), per["size"].astype(float)


def test_hypotheses(segments: pd.DataFrame, embeddings: np.ndarray, irritant: np.ndarray, cfg: MirrorConfig,
                    by: str | None, embed_fn: Callable[[list[str]], np.ndarray] | None,
                    rng: np.random.Generator) -> pd.DataFrame:
    """One row per named hypothesis (:data:`HYPOTHESIS_COLUMNS`)."""
    rows = []
    if not cfg.hypotheses:
        return pd.DataFrame(columns=HYPOTHESIS_COLUMNS)
    if embed_fn is None:
        raise ValueError("named hypotheses need the encoder to embed their examples (embed_fn)")
    a, b = cfg.pair
    for h in cfg.hypotheses:
        rows.append(_one(segments, embeddings, irritant, cfg, by, embed_fn, rng, h, a, b))
    out = pd.DataFrame(rows, columns=HYPOTHESIS_COLUMNS)
    conf = (~out["control"]) & out["p"].notna()
    out.loc[conf, "p_holm"] = holm_adjusted(out.loc[conf, "p"].to_numpy())
    out.loc[out["control"], "p_holm"] = out.loc[out["control"], "p"]
    out["verdict"] = [_verdict(r, cfg.alpha) for r in out.itertuples()]
    return out


def _one(segments, embeddings, irritant, cfg, by, embed_fn, rng, h: Hypothesis, a: str, b: str) -> dict:
    row = {"hypothesis": h.name, "control": h.control, "source_a": a, "source_b": b, "n_units": 0, "p": np.nan,
           "r": np.nan, "warnings": ""}
    side = {}
    for s in (a, b):
        m = (segments["source"] == s).to_numpy()
        ex = np.asarray(embed_fn(list(h.phrases(s))), np.float32)
        hits = np.zeros(len(segments), bool)
        hm, words = speaks_of(segments["text"].astype(str).to_numpy()[m], np.asarray(embeddings)[m],
                              np.asarray(irritant, bool)[m], ex, h.phrases(s))
        hits[m] = hm
        side[s] = (hits, words)
    if by is None:
        return row | {"warnings": "no unit column: the hypothesis cannot be tested"}
    ka, na = hypothesis_counts(segments, a, side[a][0], by)
    kb, nb = hypothesis_counts(segments, b, side[b][0], by)
    units = sorted(set(na.index) & set(nb.index), key=str)
    ka, na, kb, nb = (v.reindex(units).to_numpy(float) for v in (ka, na, kb, nb))
    lk = unit_linkage(ka, na, kb, nb, rng, max(cfg.n_permutations, 9999), cfg.min_count, cfg.min_units,
                      cfg.alternative)
    used = (na >= cfg.min_count) & (nb >= cfg.min_count)
    i1a, i2a = icc(ka[used], na[used])
    i1b, i2b = icc(kb[used], nb[used])
    lo, hi = r_interval(lk["r"], lk["n_units"])
    row.update(n_units=lk["n_units"], r=lk["r"], p=lk["p"], r_low=lo, r_high=hi,
               r_corrected=disattenuated(lk["r"], i2a, i2b), icc1_a=i1a, icc2_a=i2a, icc1_b=i1b, icc2_b=i2b,
               respondents_a=float(na[used].mean()) if used.any() else np.nan,
               respondents_b=float(nb[used].mean()) if used.any() else np.nan,
               speaks_a=int(ka[used].sum()), speaks_b=int(kb[used].sum()),
               words_a=", ".join(side[a][1]), words_b=", ".join(side[b][1]),
               power_meta=power(META_RHO, lk["n_units"], i2a, i2b, cfg.alpha),
               units_for_80=units_needed(META_RHO, i2a, i2b, cfg.alpha),
               warnings="; ".join(warnings_for(lk["n_units"], i2a, i2b, (a, b))) if lk["status"] == "ok" else lk["status"])
    return row


def _verdict(r, alpha: float) -> str:
    if np.isnan(r.p):
        return "not tested"
    linked = r.p_holm < alpha and r.r > 0
    if r.control:
        return "control: linked (check the design)" if linked else "control: not linked, as expected"
    return "confirmed" if linked else "not confirmed"
