"""Irritant rates (Wilson intervals), drivers of the score and spike alerts, on data with known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from verbatim.cli import main
from verbatim.drivers import driver_table, nps, ols_hc3, render_drivers_markdown, top_irritants
from verbatim.rates import irritant_rates, rate_tables, wilson_interval
from verbatim.spikes import spike_alerts, spike_table


@pytest.mark.parametrize("k,n,low,high", [
    (5, 10, 0.2366, 0.7634),  # textbook values
    (0, 10, 0.0, 0.2775),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),
])
def test_wilson_interval_known_values(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert float(lo) == pytest.approx(low, abs=1e-4) and float(hi) == pytest.approx(high, abs=1e-4)


def test_wilson_interval_empty_group_is_nan():
    lo, hi = wilson_interval(np.array([0]), np.array([0]))
    assert np.isnan(lo[0]) and np.isnan(hi[0])


def segments_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["a", "a", "b", "c", "d", "e"], "source": ["customer"] * 4 + ["employee"] * 2,
        "topic": [0, 1, 0, 1, 0, 0], "topic_label": ["attente", "prix", "attente", "prix", "effectif", "effectif"],
        "unit": ["Lyon", "Lyon", "Paris", None, "Lyon", "Lyon"],
        "date": pd.to_datetime(["2025-01-03", "2025-01-03", "2025-02-01", "2025-02-02", "2025-01-09", "2025-03-01"]),
        "irritant": [True, False, True, True, True, False], "irritant_p": [0.9, 0.2, 0.8, 0.7, 0.9, 0.1],
    })


def test_irritant_rates_counts_and_intervals():
    t = irritant_rates(segments_frame(), by=("topic",))
    row = t[(t.source == "customer") & (t.topic == 0)].iloc[0]
    assert row.topic_label == "attente" and row.n_segments == 2 and row.n_irritants == 2 and row.rate == 1.0
    assert row.n_verbatims == 2 and row.mean_p == pytest.approx(0.85)
    lo, hi = wilson_interval(2, 2)
    assert row.ci_low == pytest.approx(float(lo)) and row.ci_high == 1.0
    tables = rate_tables(segments_frame(), period="M")
    assert tables["unit"]["n_segments"].sum() == 5  # the segment without a unit is left out
    per = tables["period"]
    assert per[per.source == "employee"]["period"].tolist() == ["2025-01", "2025-03"]
    src = tables["source"].set_index("source")
    assert src.loc["customer", "rate"] == pytest.approx(0.75) and src.loc["employee", "n_irritants"] == 1


def synthetic_scores(n: int = 3000, seed: int = 0, scale: str = "1-5") -> pd.DataFrame:
    """Verbatims whose score drops by exactly 1.5 points (1-5) when they carry topic 0, 0.5 with topic 1,
    and not at all with topic 2; one segment per (verbatim, topic)."""
    rng = np.random.default_rng(seed)
    has = rng.random((n, 3)) < [0.3, 0.2, 0.25]
    base = 4.2 if scale == "1-5" else 8.5
    effect = np.array([1.5, 0.5, 0.0]) * (1 if scale == "1-5" else 2)
    score = base - has @ effect + rng.normal(0, 0.6, n)
    lo, hi = (1, 5) if scale == "1-5" else (0, 10)
    score = np.clip(score, lo, hi)
    rows = []
    for i in range(n):
        topics = np.flatnonzero(has[i]).tolist() or [3]
        for t in topics:
            rows.append({"id": f"v{i}", "source": "customer", "score": score[i], "topic": t,
                         "topic_label": f"t{t}", "irritant": t != 3})
    return pd.DataFrame(rows)


def test_driver_sign_and_size_on_synthetic_data():
    seg = synthetic_scores()
    table = driver_table(seg).set_index("topic")
    assert table.index.tolist()[0] == 0  # the costliest first
    assert table.loc[0, "coef_low"] < -1.5 * 0.95 and table.loc[0, "coef_high"] > -1.5 * 1.05
    assert table.loc[0, "coef"] == pytest.approx(-1.5, abs=0.1)
    assert table.loc[1, "coef"] == pytest.approx(-0.5, abs=0.1)
    assert table.loc[2, "coef_low"] < 0 < table.loc[2, "coef_high"]  # no effect: the interval holds 0
    assert table.loc[0, "gain_if_removed"] > table.loc[1, "gain_if_removed"] > 0
    assert table.loc[0, "impact"] == pytest.approx(1.5 * table.loc[0, "share"], rel=0.1)
    assert table["nps_gain_if_removed"].isna().all()  # 1-5: no NPS
    assert 3 not in table.index  # not an irritant
    md = render_drivers_markdown(table.reset_index())
    assert md.startswith("## customer (score 1-5)") and "| t0 |" in md


def test_driver_nps_on_0_10_scale():
    seg = synthetic_scores(scale="0-10")
    table = driver_table(seg).set_index("topic")
    assert table.loc[0, "scale"] == "0-10" and table.loc[0, "coef"] == pytest.approx(-3.0, abs=0.2)
    assert table.loc[0, "nps_gain_if_removed"] > 0
    assert nps(np.array([10, 9, 8, 7, 0])) == pytest.approx(20.0)


def test_drivers_group_pros_and_cons_fields_of_one_response():
    seg = pd.DataFrame({"id": ["r1#pros", "r1#cons", "r2#cons"], "record_id": ["r1", "r1", "r2"],
                        "source": "employee", "score": [8.0, 8.0, 2.0], "topic": [0, 1, 1],
                        "topic_label": ["a", "b", "b"], "irritant": [False, True, True]})
    table = driver_table(seg, min_responses=1)
    assert table["n_responses"].tolist() == [2]  # two respondents, not three verbatims


def test_ols_hc3_matches_known_fit():
    x = np.column_stack([np.ones(5), [0, 1, 0, 1, 1]])
    y = np.array([1.0, 3.0, 1.2, 2.8, 3.1])
    beta, se = ols_hc3(x, y)
    assert beta == pytest.approx([1.1, 8.9 / 3 - 1.1], abs=1e-9) and (se > 0).all()


def spike_segments(counts: list[int], volume: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for m, c in enumerate(counts):
        date = pd.Timestamp(2025, m + 1, 15)
        for i in range(volume):
            rows.append({"id": f"{m}-{i}", "source": "customer", "date": date, "topic": 0 if i < c else 1,
                         "topic_label": "attente" if i < c else "autre", "irritant": i < c or rng.random() < 0.1})
    return pd.DataFrame(rows)


def test_planted_spike_is_flagged_and_flat_series_is_not():
    spiky = spike_alerts(spike_segments([10, 12, 9, 11, 10, 30, 10]))
    assert spiky[["topic", "period"]].values.tolist() == [[0, "2025-06"]]
    assert spiky["count"].iloc[0] == 30 and spiky["p_value"].iloc[0] < 1e-4 and spiky["z"].iloc[0] > 2
    flat = spike_table(spike_segments([10, 12, 9, 11, 10, 12, 10]))
    assert not flat["flagged"].any() and len(flat) > 0
    # few irritants: no alert below the minimum count even for a big relative jump
    assert spike_alerts(spike_segments([0, 0, 1, 0, 0, 4, 0], volume=50), min_count=5).empty


def test_top_irritants_keeps_n_per_source():
    t = pd.DataFrame({"source": ["a"] * 7 + ["b"] * 2, "impact": range(9)})
    assert top_irritants(t, 5)["source"].value_counts().to_dict() == {"a": 5, "b": 2}


@pytest.fixture(scope="module")
def fake_run(sample_verbatims, tmp_path_factory):
    """A pipeline fitted with the fake embedder on 150 + 150 sample verbatims, saved."""
    from conftest import FakeEmbedder
    from verbatim.config import Config
    from verbatim.pipeline import Pipeline

    sub = sample_verbatims.groupby("source").sample(n=150, random_state=0)
    pipe = Pipeline(Config(seed=1), embedder=FakeEmbedder(), cache=False).fit(sub)
    path = tmp_path_factory.mktemp("fake-run") / "run"
    pipe.save(path)
    return pipe, path


def test_pipeline_wires_polarity_rates_and_manifest(fake_run):
    from verbatim.pipeline import Pipeline

    pipe, path = fake_run
    seg = pipe.segments_
    assert seg["irritant_p"].between(0, 1).all() and (seg["irritant"] == (seg["irritant_p"] >= 0.5)).all()
    assert pipe.verbatims_["irritant_p"].between(0, 1).all()  # every verbatim has segments
    rep = pipe.manifest_["polarity"]
    assert rep["customer"]["method"] == "classifier" and rep["customer"]["labels"] == "score"
    assert rep["employee"]["evidence"] == "tags+classifier" and 0.5 < rep["employee"]["cv_auc"] <= 1
    # employee fields tagged cons are irritants, pros are not (the tag is direct evidence)
    emp = seg[seg["source"] == "employee"]
    assert (emp["irritant"] == (emp["polarity_tag"] == "negative")).all()
    back = Pipeline.load(path)
    assert back.manifest_["polarity"]["customer"]["cv_auc"] == pytest.approx(rep["customer"]["cv_auc"])
    for name, t in pipe.rates_.items():
        pd.testing.assert_frame_equal(back.rates_[name].reset_index(drop=True), t.reset_index(drop=True),
                                      check_dtype=False)
    assert back.rates_["source"]["n_segments"].sum() == len(seg)


def test_cli_drivers_writes_csv_and_markdown(fake_run, tmp_path):
    _, path = fake_run
    r = CliRunner().invoke(main, ["drivers", str(path), "-o", str(tmp_path / "rep"), "--top", "3"])
    assert r.exit_code == 0, r.output
    assert "## customer (score 1-5)" in r.output and "## employee (score 0-10)" in r.output
    csv = pd.read_csv(tmp_path / "rep" / "drivers.csv")
    assert {"topic_label", "impact", "coef_low", "nps_gain_if_removed"} <= set(csv.columns)
    assert (tmp_path / "rep" / "drivers.md").read_text(encoding="utf-8").startswith("## customer")
    cust = csv[csv.source == "customer"]
    assert cust["impact"].is_monotonic_decreasing and (cust["coef"].head(3) < 0).all()  # irritants cost score
    r = CliRunner().invoke(main, ["drivers", str(tmp_path / "missing")])
    assert r.exit_code == 2 and "not a saved pipeline folder" in r.output
