"""Polarity: the probability that a segment is an irritant (``irritant_p``), per source.

Three sources of evidence, best first:

1. **classifier** — a logistic regression on the segment embeddings, trained
   on the user's own labels and calibrated (Platt or isotonic on
   cross-validated decision values, folds grouped by verbatim). Labels come
   from the verbatim's score (low → irritant, high → not, the middle left
   out; the scale is inferred per source) weighted by ``1 / n_segments``
   because a verbatim's score is a noisy label for each of its segments, and
   from pros/cons tags (weight 1). A source without enough labels borrows
   the classifier trained on the other sources' labels.
2. **tags** — a segment of a "cons" field is direct evidence of an irritant,
   a "pros" one of the opposite: ``irritant_p`` of a tagged segment is
   ``tag_weight * tag + (1 - tag_weight) * classifier``.
3. **lexicon** — the French VADER lexicon (``vadersentiment-fr``, with its
   English word list merged in) when there is nothing to learn from; it is
   uncalibrated and much weaker (AUC about 0.75 on French insurance reviews
   against 0.98 for the classifier), and is reported as such.

>>> pol = PolarityModel(PolarityConfig()).fit(segments, embeddings)
>>> segments["irritant_p"] = pol.predict_proba(segments, embeddings)
>>> pol.report_["customer"]     # method, labels used, cross-validated AUC and ECE
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import PolarityConfig, to_dict
from .errors import ArtefactError

log = logging.getLogger("verbatim")

NEGATIVE, POSITIVE = "negative", "positive"


# -- score scales ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreScale:
    """A rating scale: scores ≤ ``low`` are irritant labels, ≥ ``high`` are not."""

    name: str
    low: float
    high: float
    nps: bool  # 0–10: NPS = % promoters (9–10) − % detractors (0–6)


SCALES = {"1-5": ScoreScale("1-5", 2, 4, False), "0-10": ScoreScale("0-10", 6, 9, True)}


def infer_scale(scores: pd.Series | np.ndarray, declared: pd.Series | None = None) -> ScoreScale | None:
    """The scale of a source's scores: ``1-5`` when every score lies in [0, 5], ``0-10`` in [0, 10];
    None for no scores or another range (then scores give no polarity labels).

    ``declared`` (the ``score_scale`` column ingest writes: declared in the mapping or inferred per
    file) wins when it names one scale for every scored row."""
    s = pd.to_numeric(pd.Series(scores), errors="coerce").dropna()
    if s.empty:
        return None
    if declared is not None:
        names = pd.Series(declared).dropna().astype(str).unique()
        if len(names) == 1:
            m = re.match(r"^(-?[\d.]+)-(-?[\d.]+)$", names[0])
            if m and float(m.group(1)) >= 0:
                hi = float(m.group(2))
                return SCALES["1-5"] if hi <= 5 else SCALES["0-10"] if hi <= 10 else None
    lo, hi = float(s.min()), float(s.max())
    if lo < 0:
        return None
    if hi <= 5:
        return SCALES["1-5"]
    if hi <= 10:
        return SCALES["0-10"]
    return None


def segment_labels(segments: pd.DataFrame, scale: ScoreScale | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per segment: label (1 irritant, 0 not, -1 none), weight and whether it came from a tag.

    A tag (``polarity_tag`` negative/positive) wins over the score; a score labels each of its
    verbatim's segments with weight ``1 / n_segments``.
    """
    n = len(segments)
    y = np.full(n, -1, dtype=np.int8)
    w = np.zeros(n, dtype=np.float64)
    if scale is not None and "score" in segments:
        score = pd.to_numeric(segments["score"], errors="coerce").to_numpy(dtype=float)
        nseg = segments["n_segments"].to_numpy(dtype=float) if "n_segments" in segments else np.ones(n)
        nseg = np.where(np.isfinite(nseg) & (nseg >= 1), nseg, 1.0)
        y[score <= scale.low] = 1
        y[score >= scale.high] = 0
        w[y >= 0] = 1.0 / nseg[y >= 0]
    tagged = np.zeros(n, dtype=bool)
    if "polarity_tag" in segments:
        tag = segments["polarity_tag"].astype("string").fillna("").to_numpy(dtype=object)
        neg, pos = tag == NEGATIVE, tag == POSITIVE
        y[neg], y[pos] = 1, 0
        w[neg | pos] = 1.0
        tagged = neg | pos
    return y, w, tagged


def tag_evidence(segments: pd.DataFrame) -> np.ndarray:
    """1.0 for a negative tag, 0.0 for a positive one, NaN otherwise."""
    out = np.full(len(segments), np.nan)
    if "polarity_tag" in segments:
        tag = segments["polarity_tag"].astype("string").fillna("").to_numpy(dtype=object)
        out[tag == NEGATIVE] = 1.0
        out[tag == POSITIVE] = 0.0
    return out


# -- metrics -----------------------------------------------------------------------------------
def auc(y: np.ndarray, p: np.ndarray, weight: np.ndarray | None = None) -> float | None:
    """ROC AUC (None when one class is missing)."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    return float(roc_auc_score(y, p, sample_weight=weight))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10,
                               weight: np.ndarray | None = None) -> float:
    """ECE: the (weighted) mean gap between predicted probability and observed frequency over
    ``n_bins`` equal-width bins."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    w = np.ones_like(p) if weight is None else np.asarray(weight, dtype=float)
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    total, err = w.sum(), 0.0
    for b in range(n_bins):
        m = bins == b
        if m.any():
            wb = w[m].sum()
            err += wb / total * abs(np.average(y[m], weights=w[m]) - np.average(p[m], weights=w[m]))
    return float(err)


# -- the calibrated classifier -----------------------------------------------------------------
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


@dataclass
class LinearIrritantClassifier:
    """``p = calibrate(x · coef + intercept)``; plain arrays, saved without pickles.

    ``negation`` (the self-trained classifier of an unlabelled source, :mod:`verbatim.unlabelled`): a segment
    that negates a complaint ("aucun problème") has its decision lowered by ``negation_shift``
    (``"shift"``) or sent to the compliment side (``"mirror"``: ``-|f|``); the encoder alone places it
    next to the complaint it negates."""

    coef: np.ndarray
    intercept: float
    calibration: str  # "sigmoid" (cal = [a, b]) or "isotonic" (cal_x, cal_y)
    cal_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cal_y: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Platt [a, b] of a verbatim's mean decision value against its label (empty: not fitted)
    verbatim_cal: np.ndarray = field(default_factory=lambda: np.zeros(0))
    negation: str = ""
    negation_shift: float = 0.0

    def decision(self, x: np.ndarray, texts: "list[str] | None" = None) -> np.ndarray:
        f = np.asarray(x, dtype=np.float64) @ self.coef + self.intercept
        if self.negation and texts is not None:
            from .unlabelled import negated_complaint

            neg = negated_complaint(texts)
            f = np.where(neg, -np.abs(f), f) if self.negation == "mirror" else f - self.negation_shift * neg
        return f

    def calibrate(self, f: np.ndarray) -> np.ndarray:
        if self.calibration == "sigmoid":
            a, b = self.cal_x
            return _sigmoid(a * f + b)
        return np.interp(f, self.cal_x, self.cal_y)

    def predict_proba(self, x: np.ndarray, texts: "list[str] | None" = None) -> np.ndarray:
        return self.calibrate(self.decision(x, texts))

    def verbatim_proba(self, mean_decision: np.ndarray) -> np.ndarray:
        """A verbatim's probability from the mean decision value of its segments."""
        if len(self.verbatim_cal) != 2:
            return self.calibrate(mean_decision)
        a, b = self.verbatim_cal
        return _sigmoid(a * np.asarray(mean_decision) + b)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}.coef": self.coef.astype(np.float64),
                f"{prefix}.intercept": np.array([self.intercept], dtype=np.float64),
                f"{prefix}.cal_x": np.asarray(self.cal_x, dtype=np.float64),
                f"{prefix}.cal_y": np.asarray(self.cal_y, dtype=np.float64),
                f"{prefix}.verbatim_cal": np.asarray(self.verbatim_cal, dtype=np.float64),
                f"{prefix}.negation_shift": np.array([self.negation_shift], dtype=np.float64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, calibration: str,
                    negation: str = "") -> "LinearIrritantClassifier":
        return cls(arrays[f"{prefix}.coef"], float(arrays[f"{prefix}.intercept"][0]), calibration,
                   arrays[f"{prefix}.cal_x"], arrays[f"{prefix}.cal_y"],
                   arrays.get(f"{prefix}.verbatim_cal", np.zeros(0)), negation,
                   float(arrays.get(f"{prefix}.negation_shift", np.zeros(1))[0]))


def self_trained_classifier(texts: list[str], x: np.ndarray, groups: np.ndarray, embed_fn,
                            donor: "LinearIrritantClassifier | None" = None
                            ) -> tuple[LinearIrritantClassifier, dict[str, Any]]:
    """The irritant classifier of a source with no labels (:class:`verbatim.unlabelled.UnlabelledIrritantModel`:
    prototypes, then self-training on the source's own segments, cross-fitted), as one linear classifier:
    its decision, mixed with ``donor``'s (another source's labelled classifier) when their rankings agree,
    is linear in the embedding. ``oof_`` holds each segment's cross-fitted probability."""
    from .unlabelled import NEGATION_DECISION_SHIFT, UnlabelledIrritantModel

    borrowed = donor.decision(x) if donor is not None else None
    m = UnlabelledIrritantModel().fit(texts, x, embed_fn, groups=groups, borrowed_decision=borrowed)
    cal = np.array([m.slope_, m.intercept_])
    vcal = np.array([m.slope_, m.verbatim_intercept_])
    if m.coef_ is None:  # too small to learn from: the prototype direction, negated complaints mirrored
        irr, comp = m.prototypes_
        coef, icpt, neg, shift = irr.mean(0) - comp.mean(0), 0.0, "mirror", 0.0
    else:
        coef, icpt = m.coef_.astype(np.float64), float(m.bias_)
        neg, shift = "shift", NEGATION_DECISION_SHIFT * m._decision_std
        if m.borrowed_used_:  # f / sd_f + w (f_donor - mean) / sd_donor, still linear in x
            from .unlabelled import BORROW_WEIGHT

            f_std, fb_mean, fb_std = m._mix
            coef = coef / f_std + BORROW_WEIGHT * donor.coef / fb_std
            icpt = icpt / f_std + BORROW_WEIGHT * (donor.intercept - fb_mean) / fb_std
            shift = shift / f_std
    clf = LinearIrritantClassifier(coef, icpt, "sigmoid", cal, np.zeros(0), vcal, neg, shift)
    clf.oof_ = m.proba_
    rep = {k: v for k, v in m.report_.items() if k not in ("method",)}
    return clf, {"self_training": rep, "unlabelled_method": m.method_}


def _fit_calibrator(f: np.ndarray, y: np.ndarray, w: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    if method == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=1e6, max_iter=1000).fit(f[:, None], y, sample_weight=w)
        return np.array([lr.coef_[0, 0], lr.intercept_[0]]), np.zeros(0)
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(f, y, sample_weight=w)
    return np.asarray(iso.X_thresholds_, dtype=float), np.asarray(iso.y_thresholds_, dtype=float)


LARGE = 20_000  # verbatims: above, warm-started fold models (same optimum, 3× faster)


def _folds(y: np.ndarray, groups: np.ndarray | None, folds: int, seed: int | None = None
           ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds, stratified by label and grouped by verbatim (``groups``): groups are ordered
    by a hash of their id (``seed``: shuffled instead), then by their majority label, and dealt to the
    folds in turn, so every fold gets the same share of each label, no verbatim straddles two folds, and
    the folds depend on the verbatims alone (not on the row order or the machine). Without groups (or
    fewer groups than folds), rows are dealt on their own the same way."""
    names = np.arange(len(y)).astype(str) if groups is None else np.asarray(groups).astype(str)
    uniq, codes = np.unique(names, return_inverse=True)
    codes = codes.ravel()
    if len(uniq) < folds:  # too few verbatims to group: rows are dealt on their own
        uniq, codes = np.arange(len(y)).astype(str), np.arange(len(y))
    n_groups = len(uniq)
    majority = np.bincount(codes, weights=y, minlength=n_groups) * 2 >= np.bincount(codes, minlength=n_groups)
    if seed is None:
        key = np.array([int.from_bytes(hashlib.blake2b(u.encode(), digest_size=8).digest(), "big") for u in uniq],
                       dtype=np.uint64)
        order = np.argsort(key, kind="stable")
    else:
        order = np.random.default_rng(seed).permutation(n_groups)
    order = order[np.argsort(majority[order], kind="stable")]
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    fold_of_group[order] = np.arange(n_groups) % folds
    fold = fold_of_group[codes]
    return [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(folds)]


def fit_classifier(x: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray | None = None,
                   C: float = 10.0, calibration: str = "sigmoid", cv_folds: int = 5,
                   seed: int | None = None) -> tuple[LinearIrritantClassifier, dict[str, Any]]:
    """Fit a weighted logistic regression and its calibrator on cross-validated decision values
    (folds grouped by verbatim so segments of one verbatim never straddle train and test).

    Returns the classifier (trained on all rows) and its cross-validated AUC / ECE.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=int)
    w = np.asarray(w, dtype=np.float64)
    n_min = int(min(np.bincount(y, minlength=2)))
    folds = max(2, min(cv_folds, n_min))
    full = LogisticRegression(C=C, max_iter=2000).fit(x, y, sample_weight=w)
    # on large data each fold's model starts from the full model's weights: the same optimum within the
    # solver's tolerance, far fewer iterations (small data keep the cold start: identical results)
    large = (len(np.unique(groups)) if groups is not None else len(y)) > LARGE
    oof = np.zeros(len(y))
    for tr, te in _folds(y, groups, folds, seed):
        if len(np.unique(y[tr])) < 2:
            continue
        lr = LogisticRegression(C=C, max_iter=2000, warm_start=large)
        if large:
            lr.coef_, lr.intercept_ = full.coef_.copy(), full.intercept_.copy()
        oof[te] = lr.fit(x[tr], y[tr], sample_weight=w[tr]).decision_function(x[te])
    # Calibrate on clean labels only: a tag, or a verbatim of one segment (weight 1). A segment of a
    # longer verbatim inherits its verbatim's rating, a noisy label that would flatten the probabilities.
    clean = w >= 0.999
    if clean.sum() < 50 or len(np.unique(y[clean])) < 2:
        clean = np.ones(len(y), bool)
    cal_x, cal_y = _fit_calibrator(oof[clean], y[clean], w[clean], calibration)
    clf = LinearIrritantClassifier(full.coef_[0].astype(np.float64), float(full.intercept_[0]), calibration,
                                   cal_x, cal_y)
    p_oof = clf.calibrate(oof)
    clf.oof_ = p_oof  # each training row's probability from the fold that did not see it (cross-fitting)
    report = {"cv_folds": folds, "cv_auc": auc(y, oof, w), "cv_ece": expected_calibration_error(y, p_oof, weight=w),
              "calibrated_on": int(clean.sum()),
              "cv_ece_clean": expected_calibration_error(y[clean], p_oof[clean], weight=w[clean])}
    if groups is not None:
        # verbatim level: the mean decision of a verbatim's segments, calibrated against its label
        v = pd.DataFrame({"g": groups, "f": oof, "y": y}).groupby("g", sort=False).agg(f=("f", "mean"), y=("y", "first"))
        if v["y"].nunique() == 2:
            clf.verbatim_cal, _ = _fit_calibrator(v["f"].to_numpy(), v["y"].to_numpy(), np.ones(len(v)), "sigmoid")
            pv = clf.verbatim_proba(v["f"].to_numpy())
            report.update(cv_auc_verbatim=auc(v["y"].to_numpy(), v["f"].to_numpy()),
                          cv_ece_verbatim=expected_calibration_error(v["y"].to_numpy(), pv))
    return clf, report


# -- the lexicon fallback ----------------------------------------------------------------------
class LexiconScorer:
    """VADER compound polarity in [-1, 1] with the French lexicon of ``vadersentiment-fr`` and its
    English word list merged in; ``irritant_p = 1 / (1 + exp(4 * compound))`` (uncalibrated)."""

    slope = 4.0

    def __init__(self):
        self._analyzer = None

    @staticmethod
    def available() -> bool:
        try:
            import vaderSentiment_fr  # noqa: F401
        except ImportError:
            return False
        return True

    def _load(self):
        if self._analyzer is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # fuzzywuzzy warns about its pure-python matcher
                from vaderSentiment_fr import vaderSentiment as vs
            a = vs.SentimentIntensityAnalyzer()
            english = Path(vs.__file__).with_name("vader_lexicon.txt")
            if english.is_file():
                for line in english.read_text(encoding="utf-8").splitlines():
                    parts = line.split("\t")
                    if len(parts) >= 2 and parts[0] not in a.lexicon:
                        try:
                            a.lexicon[parts[0]] = float(parts[1])
                        except ValueError:
                            continue
            self._analyzer = a
        return self._analyzer

    def compound(self, texts: list[str]) -> np.ndarray:
        a = self._load()
        out = np.zeros(len(texts))
        for i, t in enumerate(texts):
            try:
                out[i] = a.polarity_scores(str(t))["compound"]
            except Exception:  # noqa: BLE001 - a text the lexicon cannot parse is neutral
                out[i] = 0.0
        return out

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        if not self.available():
            log.warning("the lexicon fallback needs the vadersentiment-fr package (pip install vadersentiment-fr); "
                        "irritant_p is left at 0.5 (unknown)")
            return np.full(len(texts), 0.5)
        return _sigmoid(-self.slope * self.compound(texts))


# -- the estimator -----------------------------------------------------------------------------
class PolarityModel:
    """Irritant probability per segment, one model per source (estimator rules: ``fit`` returns self,
    fitted state ends in ``_``).

    ``report_[source]`` records the method used (``classifier``, ``classifier (borrowed)``,
    ``lexicon``), the labels it learnt from, their counts, and the cross-validated AUC and ECE.
    """

    def __init__(self, config: PolarityConfig | None = None, seed: int | None = None):
        self.config = config
        self.seed = seed

    def fit(self, segments: pd.DataFrame, embeddings: np.ndarray, embed_fn=None) -> "PolarityModel":
        """Fit one classifier per source. ``embed_fn`` (the segments' encoder) lets a source with no labels
        self-train from prototype phrases (:func:`self_trained_classifier`); without it such a source
        borrows the other sources' classifier, or falls back to the lexicon."""
        cfg = self.config or PolarityConfig()
        embeddings = np.asarray(embeddings)
        if len(segments) != len(embeddings):
            raise ValueError(f"{len(segments)} segments but {len(embeddings)} embedding rows")
        self.classifiers_: dict[str, LinearIrritantClassifier] = {}
        self.report_: dict[str, dict[str, Any]] = {}
        self.scales_: dict[str, str | None] = {}
        self.cross_fit_: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # rows a classifier saw → out-of-fold p
        sources = list(pd.unique(segments["source"].astype(str)))
        labelled: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        src_col = segments["source"].astype(str).to_numpy()
        for source in sources:
            idx = np.flatnonzero(src_col == source)
            s = segments.iloc[idx]
            scale = infer_scale(s["score"], s.get("score_scale")) if "score" in s else None
            self.scales_[source] = scale.name if scale else None
            y, w, tagged = segment_labels(s, scale)
            has = y >= 0
            counts = np.bincount(y[has], minlength=2)
            kinds = [k for k, m in (("score", has & ~tagged), ("tags", tagged)) if m.any()]
            rep: dict[str, Any] = {"scale": scale.name if scale else None, "labels": "+".join(kinds) or None,
                                   "n_irritant_labels": int(counts[1]), "n_other_labels": int(counts[0]),
                                   "n_tagged": int(tagged.sum())}
            labelled[source] = (idx[has], y[has], w[has], s["id"].astype(str).to_numpy()[has])
            if cfg.method != "lexicon" and counts.min() >= cfg.min_labels:
                clf, cv = fit_classifier(embeddings[idx[has]], y[has], w[has], labelled[source][3], C=float(cfg.C),
                                         calibration=cfg.calibration, cv_folds=cfg.cv_folds, seed=self.seed)
                self.classifiers_[source] = clf
                self.cross_fit_[source] = (idx[has], clf.oof_)
                rep.update(method="classifier", trained_on=[source], calibration=cfg.calibration, **cv)
            self.report_[source] = rep
        # sources without enough labels: borrow a classifier trained on every other source's labels
        missing = [s for s in sources if s not in self.classifiers_]
        donors = [s for s in sources if s in self.classifiers_]
        borrowed = None
        if missing and donors and cfg.method != "lexicon":
            idx = np.concatenate([labelled[s][0] for s in donors])
            y = np.concatenate([labelled[s][1] for s in donors])
            w = np.concatenate([labelled[s][2] for s in donors])
            g = np.concatenate([labelled[s][3] for s in donors])
            borrowed = fit_classifier(embeddings[idx], y, w, g, C=float(cfg.C), calibration=cfg.calibration,
                                      cv_folds=cfg.cv_folds, seed=self.seed)
        for source in missing:
            rep = self.report_[source]
            if embed_fn is not None and cfg.method != "lexicon":
                idx = np.flatnonzero(src_col == source)
                s = segments.iloc[idx]
                clf, extra = self_trained_classifier(s["text"].astype(str).tolist(), embeddings[idx],
                                                     s["id"].astype(str).to_numpy(), embed_fn,
                                                     borrowed[0] if borrowed is not None else None)
                self.classifiers_[source] = clf
                self.cross_fit_[source] = (idx, clf.oof_)
                how = extra.pop("unlabelled_method")
                rep.update(method=f"{how} (no labels)", trained_on=[source] + (donors if "borrowed" in how else []),
                           calibration="sigmoid", cv_folds=None, cv_auc=None, cv_ece=None, **extra,
                           note="no score or tag in this source: prototype phrases, then self-training on its own "
                                "segments (verbatim.unlabelled)")
                continue
            if borrowed is not None:
                self.classifiers_[source] = borrowed[0]
                rep.update(method="classifier (borrowed)", trained_on=donors, calibration=cfg.calibration,
                           **borrowed[1])
            else:
                rep.update(method="lexicon", trained_on=[], calibration=None, cv_folds=None, cv_auc=None,
                           cv_ece=None, note="weaker source: an uncalibrated French/English lexicon "
                                             "(vadersentiment-fr); give scores or pros/cons tags to train a classifier")
            if cfg.method == "classifier" and borrowed is None:
                log.warning("polarity: source '%s' has too few labels to train a classifier (needs %d per class); "
                            "using the lexicon", source, cfg.min_labels)
        # how good is the lexicon where labels exist: reported next to the classifier, for comparison
        lex = LexiconScorer()
        for source in sources:
            idx, y, w, _ = labelled[source]
            rep = self.report_[source]
            rep["evidence"] = ("tags+" if rep["n_tagged"] and cfg.tag_weight > 0 else "") + rep["method"].split(" ")[0]
            if rep["method"].endswith("(no labels)") and len(np.unique(y)) == 2:  # the few labels there are
                rows, p = self.cross_fit_[source]
                pos = pd.Series(np.arange(len(rows)), index=rows)
                rep["cv_auc"] = auc(y, p[pos.loc[idx].to_numpy()], w)
                rep["note"] += "; cv_auc is measured on the few labels there are"
            if rep["method"] == "lexicon" and len(np.unique(y)) == 2 and lex.available():
                rep["cv_auc"] = auc(y, lex.predict_proba(segments["text"].iloc[idx].astype(str).tolist()), w)
                rep["note"] += "; cv_auc is the lexicon's AUC on the few labels there are"
            log.info("polarity of %s: %s (labels: %s, AUC %s)", source, rep["method"], rep["labels"],
                     "n/a" if rep.get("cv_auc") is None else f"{rep['cv_auc']:.3f}")
        self.lexicon_ = lex
        return self

    def _check(self) -> None:
        if not hasattr(self, "report_"):
            raise ArtefactError("this polarity model is not fitted; call fit() first")

    def fit_proba(self, segments: pd.DataFrame, embeddings: np.ndarray) -> np.ndarray:
        """``irritant_p`` of the segments ``fit`` was given, cross-fitted: a row a classifier was trained on
        gets the probability of the fold that did not see it, so drivers and linkage never read the
        classifier's own fit (rows without a label, and new rows, get :meth:`predict_proba`)."""
        return self.predict_proba(segments, embeddings, cross_fit=True)

    def predict_proba(self, segments: pd.DataFrame, embeddings: np.ndarray, use_tags: bool = True,
                      cross_fit: bool = False) -> np.ndarray:
        """``irritant_p`` of each segment: its source's classifier (or the lexicon), combined with its
        pros/cons tag (weight ``tag_weight``) when it has one and ``use_tags``; ``cross_fit`` (only for
        the very segments given to ``fit``) uses the out-of-fold probabilities of training rows."""
        self._check()
        cfg = self.config or PolarityConfig()
        out = np.full(len(segments), 0.5)
        src = segments["source"].astype(str).to_numpy()
        for source in pd.unique(src):
            idx = np.flatnonzero(src == source)
            clf = self.classifiers_.get(source)
            if clf is None and self.classifiers_ and cfg.method != "lexicon":
                # a source unseen at fit: the classifier of the sources seen, if they share one
                clf = next(iter(self.classifiers_.values()))
            if clf is not None:
                out[idx] = clf.predict_proba(np.asarray(embeddings)[idx], segments["text"].iloc[idx].astype(str).tolist())
            else:
                lex = getattr(self, "lexicon_", None) or LexiconScorer()
                out[idx] = lex.predict_proba(segments["text"].iloc[idx].astype(str).tolist())
        if cross_fit:
            for rows, p in getattr(self, "cross_fit_", {}).values():
                out[rows] = p
        if use_tags and cfg.tag_weight > 0:
            tag = tag_evidence(segments)
            m = ~np.isnan(tag)
            out[m] = cfg.tag_weight * tag[m] + (1 - cfg.tag_weight) * out[m]
        return out

    def verbatim_proba(self, segments: pd.DataFrame, embeddings: np.ndarray, use_tags: bool = True) -> pd.Series:
        """Each verbatim's irritant probability (indexed by ``id``): its segments' mean decision value
        through the verbatim-level calibrator (the mean of ``irritant_p`` for the lexicon), combined
        with its pros/cons tag like a segment's."""
        self._check()
        cfg = self.config or PolarityConfig()
        ids = segments["id"].astype(str).to_numpy()
        src = segments["source"].astype(str).to_numpy()
        parts = []
        for source in pd.unique(src):
            m = src == source
            clf = self.classifiers_.get(source)
            if clf is None and self.classifiers_ and cfg.method != "lexicon":
                clf = next(iter(self.classifiers_.values()))
            if clf is not None:
                f = pd.Series(clf.decision(np.asarray(embeddings)[m], segments["text"][m].astype(str).tolist()),
                              index=ids[m]).groupby(level=0, sort=False).mean()
                parts.append(pd.Series(clf.verbatim_proba(f.to_numpy()), index=f.index))
            else:
                p = self.predict_proba(segments[m], np.asarray(embeddings)[m], use_tags=False)
                parts.append(pd.Series(p, index=ids[m]).groupby(level=0, sort=False).mean())
        out = pd.concat(parts) if parts else pd.Series(dtype=float)
        if use_tags and cfg.tag_weight > 0:
            tag = pd.Series(tag_evidence(segments), index=ids).groupby(level=0, sort=False).mean().reindex(out.index)
            has = tag.notna()
            out[has] = cfg.tag_weight * tag[has] + (1 - cfg.tag_weight) * out[has]
        out.index.name = "id"
        return out.rename("irritant_p")

    # -- persistence (safetensors + JSON, no pickles) ----------------------------------------
    def save(self, folder: str | Path) -> None:
        from safetensors.numpy import save_file

        self._check()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        arrays, names = {}, {}
        for i, (source, clf) in enumerate(self.classifiers_.items()):
            key = f"m{i}"
            names[source] = {"key": key, "calibration": clf.calibration, "negation": clf.negation}
            arrays.update(clf.arrays(key))
        if arrays:
            save_file(arrays, str(folder / "polarity.safetensors"))
        meta = {"config": to_dict(self.config or PolarityConfig()), "seed": self.seed, "classifiers": names,
                "scales": self.scales_, "report": self.report_}
        (folder / "polarity.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=_json_default),
                                              encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> "PolarityModel":
        from safetensors.numpy import load_file

        from .config import from_dict

        folder = Path(folder)
        try:
            meta = json.loads((folder / "polarity.json").read_text(encoding="utf-8"))
            arrays = load_file(str(folder / "polarity.safetensors")) if meta["classifiers"] else {}
            self = cls(from_dict({"polarity": meta["config"]}).polarity, seed=meta["seed"])
            self.classifiers_ = {s: LinearIrritantClassifier.from_arrays(arrays, d["key"], d["calibration"],
                                                                         d.get("negation", ""))
                                 for s, d in meta["classifiers"].items()}
        except (OSError, KeyError, ValueError) as ex:
            raise ArtefactError(f"polarity model in '{folder}' is missing or damaged ({type(ex).__name__}: {ex}); "
                                f"refit the pipeline") from None
        self.scales_ = meta["scales"]
        self.report_ = meta["report"]
        self.lexicon_ = LexiconScorer()
        return self


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        f = float(o)
        return None if math.isnan(f) else f
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
