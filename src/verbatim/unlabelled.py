"""Irritant probability for a source with no labels at all: no score, no pros/cons tag, no donor.

:mod:`verbatim.polarity` learns ``irritant_p`` from the user's labels and, without any, falls back to
a French VADER lexicon (verbatim AUC about 0.75–0.82 on real French reviews). This module does
better with nothing but the source's own segments and the encoder, in three steps:

1. **prototypes** — each segment's mean cosine similarity to a fixed list of short, domain-general
   irritant phrases (:data:`IRRITANT_PROTOTYPES`: complaints, lacks, delays, rudeness, "pas de…",
   "manque de…", "trop…") minus its mean similarity to compliment phrases
   (:data:`COMPLIMENT_PROTOTYPES`), both lists in French and English and embedded with the same
   encoder as the segments. The mean is a direction in the embedding space; the maximum or a softmax
   over the phrases ranked worse (measured). A segment that negates a complaint ("aucun problème",
   "jamais déçu", "rien à redire", "RAS": :data:`NEGATED_COMPLAINT`) is put on the compliment side:
   the encoder places it next to the complaint it negates;
2. **self-training** — the irritant share of the source is estimated from the prototype scores
   (adjusted classify-and-count: the share of verbatims on the irritant side of 0, corrected by
   the rates :data:`PROTOTYPE_TPR` / :data:`PROTOTYPE_FPR` measured on labelled corpora), the
   verbatims at both confident ends become pseudo-labels (the top ``pseudo_share`` of the estimated
   irritants, the bottom ``pseudo_share`` of the others, so a source with few irritants does not
   get compliments as irritant labels), and a logistic regression on the segment embeddings learns
   from them (segments weighted ``1 / n_segments`` like :func:`verbatim.polarity.fit_classifier`).
   It is **cross-fitted**: folds grouped by verbatim, every segment is scored by a model that never
   saw its own pseudo-label;
3. **calibration** — a Platt slope fitted on the pseudo-labels and an intercept set so that the mean
   probability equals the estimated irritant share (per verbatim; per segment, the segment-weighted
   share of the verbatim probabilities).

>>> model = UnlabelledIrritantModel(seed=0).fit(texts, embeddings, embed_fn, groups=verbatim_ids)
>>> model.proba_                        # one irritant probability per segment (cross-fitted)
>>> model.verbatim_proba()              # one per verbatim (mean decision value, calibrated)
>>> irritant_scores(texts, embeddings, embed_fn, groups=verbatim_ids)   # the same proba_, in one call

Measured (``benchmarks/bench_unlabelled.py``, multilingual USE v3, verbatim AUC, no label used):

============================  =======  ================  ==========  ============
corpus                        lexicon  borrowed (other   prototypes  self-trained
                                       side's labels)    + negation  (this module)
============================  =======  ================  ==========  ============
employee answers, half A      0.748    0.784             0.904       0.926
French insurance reviews      0.816    0.846             0.944       0.965
employee answers, half B *    0.755    0.735             0.885       0.907
French retail reviews *       0.773    0.754             0.915       0.952
============================  =======  ================  ==========  ============

(* held out: the constants here — prototype lists, negation handling, pseudo-label share, ``C``, the
adjusted-count rates — were chosen on the insurance reviews and half A; the negated-complaint rule
was written after reading the errors on another 5,000 retail reviews of the same pool.) A classifier
trained on the corpus's own labels reaches 0.944 (employees), 0.969 (insurance) and 0.962 (retail) in
cross-validation. At p >= 0.5, 86–92% of the irritant verbatims and 8–18% of the others are judged
irritants (verbatim ECE 0.05–0.10). With a borrowed classifier from the other customer corpus
averaged in, 0.967 (insurance) and 0.960 (retail).

Cost: the prototypes are embedded once (about 90 short phrases); the rest is one matrix product and
``folds + 1`` logistic regressions on at most ``max_train`` pseudo-labelled segments, a few seconds
on 100,000 segments (the encoder needs minutes for them).

Only numpy, pandas, scikit-learn, :mod:`verbatim.numerics` and :mod:`verbatim.textprep` are imported.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .numerics import rounded
from .textprep import prepare

#: Short irritant phrases, domain-general (customers and employees; retail, insurance, public
#: services), French first and a few in English. Written from the meaning; a few were added after reading
#: the worst errors on the tuning corpora (lists of benefits, delays, negated complaints), none copied.
IRRITANT_PROTOTYPES: tuple[str, ...] = (
    "c'est nul", "très déçu", "je ne suis pas satisfait", "je ne recommande pas", "une honte, inadmissible",
    "service catastrophique", "personnel désagréable et impoli", "on n'est pas écouté", "aucune considération",
    "pas de réponse", "impossible de joindre quelqu'un", "pas de suivi", "manque de personnel",
    "manque de communication", "manque de reconnaissance", "manque d'organisation", "trop d'attente",
    "trop cher", "trop de pression", "délais beaucoup trop longs", "toujours en retard", "problème jamais résolu",
    "mauvaise gestion", "mauvaise qualité", "ça ne marche pas", "rien n'avance", "c'est de pire en pire",
    "je regrette", "pas assez d'avantages", "aucune perspective d'évolution", "rythme de travail épuisant",
    "conditions de travail difficiles", "j'attends toujours", "des promesses non tenues", "des frais abusifs",
    "aucune aide", "on nous prend pour des pigeons",
    "terrible service", "very disappointed", "rude staff", "too slow", "lack of communication",
    "poor management", "waste of time", "not worth it",
)

#: Short compliment phrases, same scope as :data:`IRRITANT_PROTOTYPES`.
COMPLIMENT_PROTOTYPES: tuple[str, ...] = (
    "très bien", "très satisfait", "je recommande", "excellent service", "parfait, rien à redire",
    "personnel aimable et souriant", "une équipe à l'écoute", "bonne ambiance", "rapide et efficace",
    "très bon accueil", "super", "bonne entente", "bonne communication", "des conseils de qualité",
    "prix raisonnables", "bien organisé", "problème résolu rapidement", "merci pour votre aide",
    "service de qualité", "travail intéressant", "des avantages intéressants", "on apprend beaucoup",
    "horaires flexibles", "tout s'est bien passé", "je suis content", "professionnel et sérieux",
    "c'est un plaisir", "tickets restaurant, mutuelle et primes", "des possibilités d'évolution",
    "bonnes conditions de travail", "reçu dans les délais", "conforme à mes attentes", "aucun problème",
    "jamais déçu", "facile et pratique", "bon rapport qualité prix",
    "great service", "very satisfied", "friendly staff", "quick and efficient", "good atmosphere",
    "highly recommend", "good benefits", "nice people", "easy and convenient",
)

_NEG_WORD = (r"(?:probleme|soucis?|deception|decue?s?|plaintes?|reproches?|regrets?|bemols?|difficultes?"
             r"|incidents?|retards?|accrocs?|encombres?|mauvaises? surprises?|complications?|litiges?|ennuis?"
             r"|erreurs?|anomalies?|problems?|issues?|complaints?|disappointed|trouble|hassle)")
#: A negated complaint, on casefolded accent-free text: "aucun problème", "jamais déçu", "sans souci",
#: "pas eu le moindre retard", "rien à redire", "RAS", "no complaints"… The encoder puts these next to
#: the complaint they negate (measured on French retail reviews: 10% of the segments match, and of the
#: one-segment reviews that match, 0.5% are rated 1–2).
NEGATED_COMPLAINT = re.compile(
    r"\b(?:pas|jamais|aucune?s?|sans|zero|no|never|not|without)\s+"
    r"(?:(?:de|d'|du|des|un|une|le|la|eu|ete|un seul|une seule|la moindre|le moindre|any|a)\s*){0,3}"
    + _NEG_WORD + r"\b"
    r"|\brien a (?:dire|redire|signaler|reprocher|declarer|deplorer)\b|\bras\b|\bnothing to complain"
    r"|\b(?:pas|jamais|rien) (?:eu )?a (?:me|nous|se) plaindre\b")

#: A negated complaint's prototype score is mirrored to the compliment side (:func:`adjust_negated`), and
#: its self-trained decision value is lowered by this many standard deviations of the decision values
#: (the logistic regression on the embeddings cannot tell "aucun problème" from "problème" either).
NEGATION_DECISION_SHIFT = 1.0
#: Share of verbatims on the irritant side (prototype score > 0) among irritants and among the others,
#: measured with multilingual USE v3 on French insurance reviews (1–2 vs 4–5 stars) and half of the
#: French employee answers (cons vs pros); they turn the raw share into an estimate (adjusted count).
PROTOTYPE_TPR, PROTOTYPE_FPR = 0.86, 0.14
#: A borrowed classifier is averaged in (z-scored decision values, weight BORROW_WEIGHT against 1) when the
#: Spearman correlation of its verbatim decisions with the self-trained ones reaches BORROW_MIN_AGREEMENT.
#: Measured: 0.76–0.89 between the two French customer corpora (the average helped, +0.002 to +0.008
#: verbatim AUC), 0.62–0.71 between customers and employees (averaged in, it cost 0.005 to 0.03).
BORROW_MIN_AGREEMENT, BORROW_WEIGHT = 0.75, 0.5
#: Platt calibration of a verbatim's mean prototype score (negated complaints mirrored), fitted on the same
#: labelled corpora, classes balanced: used alone for a source too small to self-train.
PROTOTYPE_PLATT = (63.6, 0.20)
#: Fewest pseudo-labelled verbatims per class for self-training; below, the prototype score alone.
MIN_PSEUDO = 25


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", str(text).casefold().replace("\u2019", "'")).encode("ascii", "ignore").decode()


def negated_complaint(texts: Sequence[str]) -> np.ndarray:
    """True for a text that negates a complaint ("aucun problème", "jamais déçu", "rien à redire")."""
    return np.fromiter((bool(NEGATED_COMPLAINT.search(_fold(t))) for t in texts), dtype=bool, count=len(texts))


def adjust_negated(score: np.ndarray, negated: np.ndarray) -> np.ndarray:
    """Prototype scores with each negated complaint put on the compliment side, as far from 0 as the
    complaint it negates ("rien à redire" scores +0.15 with USE, closer to the irritants than "nul")."""
    return np.where(negated, -np.abs(score), score)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(n > 0, n, 1.0)


def prototype_vectors(embed_fn: Callable[[list[str]], np.ndarray],
                      irritants: Sequence[str] = IRRITANT_PROTOTYPES,
                      compliments: Sequence[str] = COMPLIMENT_PROTOTYPES) -> tuple[np.ndarray, np.ndarray]:
    """The prototypes embedded by ``embed_fn`` (the segments' encoder), L2-normalised. The phrases are
    given as the encoder would see them after :func:`verbatim.textprep.prepare` (they are already in
    that form, so an ``embed_fn`` that prepares its input again changes nothing)."""
    vecs = np.asarray(embed_fn([prepare(t) for t in list(irritants) + list(compliments)]))
    vecs = _unit(vecs.reshape(len(irritants) + len(compliments), -1))
    return vecs[:len(irritants)], vecs[len(irritants):]


def prototype_score(embeddings: np.ndarray, irritant_vecs: np.ndarray, compliment_vecs: np.ndarray) -> np.ndarray:
    """Mean cosine similarity to the irritant prototypes minus to the compliment ones (> 0: irritant side)."""
    x = _unit(embeddings)
    return x @ irritant_vecs.mean(0) - x @ compliment_vecs.mean(0)


def estimate_irritant_share(verbatim_scores: np.ndarray, tpr: float = PROTOTYPE_TPR,
                            fpr: float = PROTOTYPE_FPR) -> float:
    """Irritant share of a source from its verbatims' prototype scores: adjusted classify-and-count,
    ``(share above 0 − fpr) / (tpr − fpr)``, clipped to [0.02, 0.98]."""
    raw = float(np.mean(np.asarray(verbatim_scores) > 0)) if len(verbatim_scores) else 0.5
    return float(np.clip((raw - fpr) / (tpr - fpr), 0.02, 0.98))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _intercept_for_mean(a: float, f: np.ndarray, target: float) -> float:
    """``b`` such that ``mean(sigmoid(a f + b)) == target`` (bisection; the mean increases with b)."""
    lo, hi = -60.0, 60.0
    for _ in range(80):
        mid = (lo + hi) / 2
        if _sigmoid(a * f + mid).mean() > target:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _group_keys(names: Sequence[str], seed: int) -> np.ndarray:
    """A seeded 64-bit hash of each verbatim id: folds and draws depend on the verbatims, not on the row order."""
    salt = str(seed).encode() + b"\x00"
    return np.array([int.from_bytes(hashlib.blake2b(salt + str(u).encode(), digest_size=8).digest(), "big")
                     for u in names], dtype=np.uint64)


def _rank01(a: np.ndarray) -> np.ndarray:
    order = np.argsort(a, kind="stable")
    r = np.empty(len(a))
    r[order] = (np.arange(len(a)) + 0.5) / max(len(a), 1)
    return r


class UnlabelledIrritantModel:
    """Irritant probability per segment of one unlabelled source (see the module doc).

    Fitted attributes: ``decision_`` (cross-fitted decision value per segment), ``proba_`` (its
    probability), ``prototype_score_``, ``negated_`` (negated complaints), ``groups_``,
    ``irritant_share_`` (estimated share of irritant verbatims), ``slope_``, ``intercept_`` and
    ``verbatim_intercept_`` (the calibrators), ``coef_`` / ``bias_`` (the model trained on every
    pseudo-label, for new segments: :meth:`predict_proba`), ``method_`` ("self-trained", "self-trained +
    borrowed", or "prototypes" for a source too small to learn from), ``borrowed_used_`` and ``report_``
    (counts, estimated share, pseudo-labels, borrowed agreement).
    """

    def __init__(self, seed: int = 0, pseudo_share: float = 0.5, C: float = 1.0, folds: int = 5,
                 max_train: int = 40_000, negation: bool = True):
        self.seed = seed
        self.negation = negation
        self.pseudo_share = pseudo_share
        self.C = C
        self.folds = folds
        self.max_train = max_train

    # -- fitting ----------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], embeddings: np.ndarray, embed_fn: Callable[[list[str]], np.ndarray] | None = None,
            groups: Sequence[Any] | None = None, prototypes: tuple[np.ndarray, np.ndarray] | None = None,
            borrowed_decision: np.ndarray | None = None) -> "UnlabelledIrritantModel":
        """Fit on one source's segments. ``texts``: the segments' texts (as stored; used for negated
        complaints); ``embeddings``: their vectors (rows in the same order); ``embed_fn``: embeds a list
        of strings with the same encoder (for the prototypes; or give ``prototypes`` already embedded,
        as from :func:`prototype_vectors`); ``groups``: each segment's verbatim id (None: every segment
        is a verbatim of its own); ``borrowed_decision``: the decision values of a classifier trained on
        another source's labels (:meth:`verbatim.polarity.LinearIrritantClassifier.decision`), averaged
        in (weight :data:`BORROW_WEIGHT`) when its verbatim ranking agrees with the self-trained one
        (Spearman ≥ :data:`BORROW_MIN_AGREEMENT`), ignored otherwise."""
        from sklearn.linear_model import LogisticRegression

        texts = [t if isinstance(t, str) else str(t) for t in texts]
        x = np.asarray(embeddings, dtype=np.float64)
        n = len(texts)
        if x.ndim != 2 or len(x) != n:
            raise ValueError(f"{n} texts but embeddings of shape {x.shape}")
        if n == 0:
            raise ValueError("no segments to score")
        if prototypes is None:
            if embed_fn is None:
                raise ValueError("give embed_fn (the segments' encoder) or prototypes=prototype_vectors(embed_fn)")
            prototypes = prototype_vectors(embed_fn)
        if groups is None:
            gid, names = np.arange(n), np.arange(n).astype(str)
        else:
            gid, names = pd.factorize(pd.Series(list(groups), dtype="object").astype(str))
        n_groups = int(gid.max()) + 1 if n else 0
        nseg = np.bincount(gid, minlength=n_groups).astype(float)
        self.groups_ = None if groups is None else np.asarray(list(groups), dtype=object)
        self._gid = gid

        neg = negated_complaint(texts) if self.negation else np.zeros(n, dtype=bool)
        s0 = adjust_negated(prototype_score(x, *prototypes), neg)
        # rounded: repeated texts tie exactly whatever the BLAS kernel, and keep their order in the ranking
        v0 = rounded(np.bincount(gid, s0, n_groups) / np.maximum(nseg, 1))
        share = estimate_irritant_share(v0)
        self.prototype_score_, self.negated_, self.irritant_share_ = s0, neg, share
        self.prototypes_ = prototypes

        # pseudo-labels of verbatims: the confident ends of the prototype score, sized by the estimated share
        r = _rank01(v0)
        vlab = np.full(n_groups, -1, dtype=np.int64)
        vlab[r >= 1 - self.pseudo_share * share] = 1
        vlab[r <= self.pseudo_share * (1 - share)] = 0
        counts = np.bincount(vlab[vlab >= 0], minlength=2)
        self.report_: dict[str, Any] = {
            "n_segments": n, "n_verbatims": n_groups, "irritant_share": share,
            "negated_complaints": float(neg.mean()) if n else 0.0,
            "pseudo_irritants": int(counts[1]), "pseudo_others": int(counts[0])}
        if counts.min() < MIN_PSEUDO or n_groups < 2 * self.folds:
            # too small to learn from: the prototype score alone, calibrated as measured with USE
            self.method_ = "prototypes"
            f = s0.copy()
            self.coef_, self.bias_ = None, 0.0
        else:
            self.method_ = "self-trained"
            order = np.argsort(_group_keys(names, self.seed), kind="stable")  # a seeded shuffle of the verbatims
            fold_of_group = np.empty(n_groups, dtype=np.int64)
            fold_of_group[order] = np.arange(n_groups) % self.folds
            fold = fold_of_group[gid]
            lab = vlab[gid]
            w = 1.0 / nseg[gid]
            labelled = lab >= 0
            # bound the cost: at most max_train pseudo-labelled segments (a seeded draw of verbatims)
            if labelled.sum() > self.max_train:
                keep_groups = order[vlab[order] >= 0]
                cum = np.cumsum(nseg[keep_groups])
                chosen = np.zeros(n_groups, dtype=bool)
                chosen[keep_groups[cum <= self.max_train]] = True
                train_rows = labelled & chosen[gid]
            else:
                train_rows = labelled
            f = np.zeros(n)
            for k in range(self.folds):
                tr = train_rows & (fold != k)
                te = fold == k
                lr = LogisticRegression(C=self.C, max_iter=1000).fit(x[tr], lab[tr], sample_weight=w[tr])
                f[te] = lr.decision_function(x[te])
            full = LogisticRegression(C=self.C, max_iter=1000).fit(x[train_rows], lab[train_rows],
                                                                     sample_weight=w[train_rows])
            self.coef_, self.bias_ = full.coef_[0].copy(), float(full.intercept_[0])
            self._decision_std = float(f.std()) or 1.0
            f = f - NEGATION_DECISION_SHIFT * self._decision_std * neg
        # a borrowed classifier (another source's labels): averaged in only where it agrees with this one
        self.borrowed_used_ = False
        if borrowed_decision is not None:
            fb = np.asarray(borrowed_decision, dtype=np.float64)
            if fb.shape != (n,):
                raise ValueError(f"borrowed_decision has shape {fb.shape}; expected ({n},)")
            fbv = rounded(np.bincount(gid, fb, n_groups) / np.maximum(nseg, 1))
            fv0 = rounded(np.bincount(gid, f, n_groups) / np.maximum(nseg, 1))
            agreement = float(np.corrcoef(_rank01(fbv), _rank01(fv0))[0, 1]) if n_groups > 2 else 0.0
            self.report_["borrowed_agreement"] = agreement
            if self.method_ == "self-trained" and agreement >= BORROW_MIN_AGREEMENT:
                self._mix = (float(f.std()) or 1.0, float(fb.mean()), float(fb.std()) or 1.0)
                f = self._mix_decisions(f, fb)
                self.borrowed_used_ = True
                self.method_ = "self-trained + borrowed"
            self.report_["borrowed_used"] = self.borrowed_used_
        self.decision_ = f
        if self.method_ == "prototypes":
            a, b = PROTOTYPE_PLATT
            self.slope_, self.intercept_, self.verbatim_intercept_ = a, b, b
            self.proba_ = _sigmoid(a * f + b)
            self.report_.update(method=self.method_, slope=a)
        else:
            self._calibrate(vlab)
        return self

    def _mix_decisions(self, f: np.ndarray, fb: np.ndarray) -> np.ndarray:
        f_std, fb_mean, fb_std = self._mix
        return f / f_std + BORROW_WEIGHT * (fb - fb_mean) / fb_std

    def _calibrate(self, vlab: np.ndarray) -> None:
        """Platt slope on the pseudo-labelled verbatims' mean decision values; intercepts such that the mean
        verbatim probability is the estimated irritant share, and the mean segment probability the
        segment-weighted mean of the verbatim probabilities."""
        from sklearn.linear_model import LogisticRegression

        f, gid, share = self.decision_, self._gid, self.irritant_share_
        n_groups = int(gid.max()) + 1 if len(gid) else 0
        nseg = np.bincount(gid, minlength=n_groups).astype(float)
        fv = np.bincount(gid, f, n_groups) / np.maximum(nseg, 1)
        m = vlab >= 0
        a = 1.0
        if m.any() and len(np.unique(vlab[m])) == 2:
            from sklearn.metrics import roc_auc_score

            a = float(LogisticRegression(C=1e6, max_iter=1000).fit(fv[m, None], vlab[m]).coef_[0, 0])
            # agreement of the cross-fitted model with its own pseudo-labels (a self-check, not an accuracy)
            self.report_["pseudo_label_auc"] = float(roc_auc_score(vlab[m], fv[m]))
        a = a if a > 0 else 1.0
        self.slope_ = a
        self.verbatim_intercept_ = _intercept_for_mean(a, fv, share)
        pv = _sigmoid(a * fv + self.verbatim_intercept_)
        self.intercept_ = _intercept_for_mean(a, f, float(pv[gid].mean()) if len(f) else share)
        self.proba_ = _sigmoid(a * f + self.intercept_)
        self.report_.update(method=self.method_, slope=a)

    # -- outputs ------------------------------------------------------------------------------------
    def verbatim_decision(self, how: str = "mean") -> pd.Series:
        """Each verbatim's decision value from its segments' (``mean``; ``max``)."""
        f = pd.Series(self.decision_, index=self._keys())
        g = f.groupby(level=0, sort=False)
        return g.max() if how == "max" else g.mean()

    def verbatim_proba(self) -> pd.Series:
        """Each verbatim's irritant probability: its segments' mean decision value, calibrated so that
        the mean probability is the estimated irritant share."""
        fv = self.verbatim_decision("mean")
        return pd.Series(_sigmoid(self.slope_ * fv.to_numpy() + self.verbatim_intercept_), index=fv.index,
                         name="irritant_p")

    def _keys(self) -> np.ndarray:
        return self._gid if self.groups_ is None else self.groups_

    def decision(self, texts: Sequence[str], embeddings: np.ndarray,
                 borrowed_decision: np.ndarray | None = None) -> np.ndarray:
        """Decision values for new segments (the model trained on every pseudo-label; the fitted segments
        themselves should use the cross-fitted :attr:`decision_`). When the fit averaged a borrowed
        classifier in, give its decision values on the new segments too."""
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        x = np.asarray(embeddings, dtype=np.float64)
        neg = negated_complaint(texts) if self.negation else np.zeros(len(texts), dtype=bool)
        if self.coef_ is None:
            return adjust_negated(prototype_score(x, *self.prototypes_), neg)
        f = x @ self.coef_ + self.bias_ - NEGATION_DECISION_SHIFT * self._decision_std * neg
        if self.borrowed_used_:
            if borrowed_decision is None:
                raise ValueError("this model averages a borrowed classifier in: give borrowed_decision")
            f = self._mix_decisions(f, np.asarray(borrowed_decision, dtype=np.float64))
        return f

    def predict_proba(self, texts: Sequence[str], embeddings: np.ndarray,
                      borrowed_decision: np.ndarray | None = None) -> np.ndarray:
        """Irritant probability of new segments of the same source."""
        return _sigmoid(self.slope_ * self.decision(texts, embeddings, borrowed_decision) + self.intercept_)


def irritant_scores(texts: Sequence[str], embeddings: np.ndarray, embed_fn: Callable[[list[str]], np.ndarray],
                    seed: int = 0, groups: Sequence[Any] | None = None) -> np.ndarray:
    """Irritant probability in [0, 1] of each segment of one unlabelled source (cross-fitted; see the
    module doc). ``embed_fn(list_of_str) -> array`` embeds with the segments' encoder; ``groups``:
    each segment's verbatim id (recommended: pseudo-labels are drawn per verbatim)."""
    return UnlabelledIrritantModel(seed=seed).fit(texts, embeddings, embed_fn, groups=groups).proba_
