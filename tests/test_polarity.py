"""Polarity: labels from scores and tags, a calibrated classifier, the lexicon fallback, persistence,
and (with the real model) the classifier against the sample's ground truth."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from verbatim.config import ConfigError, PolarityConfig, from_dict
from verbatim.polarity import (LexiconScorer, PolarityModel, auc, expected_calibration_error, fit_classifier,
                               infer_scale, segment_labels)

from conftest import SAMPLE


def synthetic(n: int = 600, dim: int = 16, seed: int = 0, source: str = "customer", scale: str = "1-5",
              tags: bool = False) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Segments whose embedding carries their (hidden) polarity along axis 0, one segment per verbatim."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.4
    x = rng.normal(size=(n, dim))
    x[:, 0] += np.where(truth, 1.5, -1.5)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    if scale == "1-5":
        score = np.where(truth, rng.choice([1, 2], n), rng.choice([4, 5], n)).astype(float)
        score[rng.random(n) < 0.1] = 3
    else:
        score = np.where(truth, rng.integers(0, 7, n), rng.integers(9, 11, n)).astype(float)
    df = pd.DataFrame({"id": [f"{source}{i}" for i in range(n)], "source": source, "score": score,
                       "n_segments": 1, "text": ["texte"] * n,
                       "polarity_tag": np.where(truth, "negative", "positive") if tags else None})
    return df, x.astype(np.float32), truth


def test_infer_scale():
    assert infer_scale(pd.Series([1, 5, 3.0])).name == "1-5"
    assert infer_scale(pd.Series([0, 7, 10])).name == "0-10"
    assert infer_scale(pd.Series([np.nan, None])) is None
    assert infer_scale(pd.Series([-1, 50])) is None


def test_labels_leave_the_middle_out_and_weight_by_segment_count():
    seg = pd.DataFrame({"score": [1, 3, 5, 2, 6, 9], "n_segments": [1, 1, 1, 4, 1, 1],
                        "polarity_tag": [None, None, None, None, None, None]})
    y, w, tagged = segment_labels(seg.iloc[:4], infer_scale(seg["score"].iloc[:4]))
    assert y.tolist() == [1, -1, 0, 1] and w.tolist() == [1, 0, 1, 0.25] and not tagged.any()
    y, _, _ = segment_labels(seg.iloc[4:], infer_scale(pd.Series([0, 10])))
    assert y.tolist() == [1, 0]  # 6 is a detractor, 9 a promoter on 0-10
    # a tag wins over the score
    seg = pd.DataFrame({"score": [9, 2], "n_segments": [2, 2], "polarity_tag": ["negative", "positive"]})
    y, w, tagged = segment_labels(seg, infer_scale(pd.Series([0, 10])))
    assert y.tolist() == [1, 0] and w.tolist() == [1, 1] and tagged.all()


def test_classifier_is_accurate_and_calibrated():
    df, x, truth = synthetic(1500)
    y, w, _ = segment_labels(df, infer_scale(df["score"]))
    m = y >= 0
    clf, rep = fit_classifier(x[m], y[m], w[m], df["id"].to_numpy()[m], seed=1)
    assert rep["cv_auc"] > 0.95 and rep["cv_ece"] < 0.05
    test, xt, truth_t = synthetic(2000, seed=5)
    p = clf.predict_proba(xt)
    assert auc(truth_t, p) > 0.95
    assert expected_calibration_error(truth_t, p) < 0.05  # probabilities mean what they say


def test_expected_calibration_error():
    assert expected_calibration_error(np.array([0, 1] * 50), np.full(100, 0.5)) == pytest.approx(0)
    assert expected_calibration_error(np.ones(10), np.full(10, 0.7)) == pytest.approx(0.3)


def test_model_sources_tags_borrowing_and_lexicon():
    cust, xc, _ = synthetic(400, seed=1)
    emp, xe, truth_e = synthetic(300, seed=2, source="employee", scale="0-10", tags=True)
    other, xo, _ = synthetic(50, seed=3, source="manager")
    other["score"] = np.nan
    seg = pd.concat([cust, emp, other], ignore_index=True)
    x = np.vstack([xc, xe, xo])
    pol = PolarityModel(PolarityConfig(tag_weight=0.8), seed=0).fit(seg, x)
    rep = pol.report_
    assert rep["customer"]["method"] == "classifier" and rep["customer"]["labels"] == "score"
    assert rep["employee"]["labels"] == "tags" and rep["employee"]["evidence"] == "tags+classifier"
    assert rep["manager"]["method"] == "classifier (borrowed)"
    assert rep["manager"]["trained_on"] == ["customer", "employee"]
    p = pol.predict_proba(seg, x)
    pe = p[seg["source"] == "employee"]
    assert (pe[truth_e] >= 0.8).all() and (pe[~truth_e] <= 0.2).all()  # the tag is direct evidence
    # no labels anywhere: the lexicon, reported as the weaker source
    seg2 = other.assign(text=["Service nul, attente interminable", "Très bon accueil, merci"] * 25)
    pol2 = PolarityModel(PolarityConfig()).fit(seg2, xo)
    assert pol2.report_["manager"]["method"] == "lexicon" and "weaker" in pol2.report_["manager"]["note"]
    if LexiconScorer.available():
        p2 = pol2.predict_proba(seg2, xo)
        assert (p2[0::2] > 0.5).all() and (p2[1::2] < 0.5).all()
    # method = lexicon is obeyed even with labels
    assert PolarityModel(PolarityConfig(method="lexicon")).fit(cust, xc).report_["customer"]["method"] == "lexicon"


def test_save_load_without_pickles(tmp_path):
    seg, x, _ = synthetic(300)
    pol = PolarityModel(PolarityConfig(calibration="isotonic"), seed=3).fit(seg, x)
    pol.save(tmp_path / "pol")
    assert sorted(p.name for p in (tmp_path / "pol").iterdir()) == ["polarity.json", "polarity.safetensors"]
    back = PolarityModel.load(tmp_path / "pol")
    np.testing.assert_allclose(back.predict_proba(seg, x), pol.predict_proba(seg, x), atol=1e-12)
    assert back.report_ == json.loads(json.dumps(pol.report_))
    assert back.config.calibration == "isotonic"


def test_config_messages():
    with pytest.raises(ConfigError, match=r"polarity.calibration must be one of 'sigmoid', 'isotonic'; got 'platt'"):
        from_dict({"polarity": {"calibration": "platt"}})
    with pytest.raises(ConfigError, match="polarity.tag_weight must be between 0 and 1"):
        PolarityConfig(tag_weight=2)
    assert from_dict({"polarity": {"period": "W"}}).polarity.period == "W"


# -- the real model on the shipped sample ------------------------------------------------------
def _verbatim_p(segments: pd.DataFrame) -> pd.Series:
    """A verbatim's irritant probability: the mean of its segments' (as in the benchmark)."""
    return segments.groupby("id")["irritant_p"].mean()


def test_real_pipeline_polarity_against_sample_truth(small_pipeline, tmp_path):
    pipe = small_pipeline
    seg = pipe.segments_
    assert {"irritant_p", "irritant"} <= set(seg.columns)
    assert seg["irritant_p"].between(0, 1).all()
    rep = pipe.manifest_["polarity"]
    assert rep["customer"]["method"] == "classifier" and rep["customer"]["cv_auc"] > 0.85
    assert rep["employee"]["labels"] == "tags" and rep["employee"]["cv_auc"] > 0.9
    labels = pd.read_csv(SAMPLE / "labels.csv")
    truth = labels.set_index("ref")["polarity"]

    # honest: train on half the customer verbatims, score the other half against labels.csv
    cust = seg[seg["source"] == "customer"]
    ids = np.array(sorted(cust["id"].unique()))
    rng = np.random.default_rng(0)
    held = set(rng.choice(ids, len(ids) // 2, replace=False))
    tr = (seg["source"] == "customer") & ~seg["id"].isin(held)
    te = (seg["source"] == "customer") & seg["id"].isin(held)
    pol = PolarityModel(PolarityConfig(), seed=0).fit(seg[tr], pipe.embeddings_[tr.to_numpy()])
    held_seg = seg[te].assign(irritant_p=pol.predict_proba(seg[te], pipe.embeddings_[te.to_numpy()]))
    vp = _verbatim_p(held_seg)
    t = truth.reindex(vp.index)
    m = t.isin(["negative", "positive"])
    assert m.sum() > 80
    assert auc((t[m] == "negative").to_numpy(), vp[m].to_numpy()) >= 0.95  # measured 0.99
    # mixed verbatims lie between: above the positive ones on average, below the negative ones
    assert vp[t == "positive"].mean() < vp[t == "mixed"].mean() < vp[t == "negative"].mean()
    # the lexicon is the weaker source on the same verbatims
    lex = LexiconScorer()
    if lex.available():
        held_seg = held_seg.assign(irritant_p=lex.predict_proba(held_seg["text"].tolist()))
        vl = _verbatim_p(held_seg)
        assert auc((t[m] == "negative").to_numpy(), vl[m].to_numpy()) < auc((t[m] == "negative").to_numpy(),
                                                                           vp[m].to_numpy())

    # saved with the artefact and loaded back
    pipe.save(tmp_path / "run")
    back = type(pipe).load(tmp_path / "run")
    assert back.manifest_["polarity"] == json.loads(json.dumps(rep))
    assert set(back.rates_) == {"source", "topic", "unit", "period", "topic_period"}
    p = back.polarity_.predict_proba(back.segments_, back.embeddings_)
    np.testing.assert_allclose(p, seg["irritant_p"].to_numpy(), atol=5e-3)  # float16 embeddings on disk
