"""The mirror: alignment, statistics, linkage, index, report — on data where the truth is known."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from verbatim.cli import main
from verbatim.errors import ConfigError
from verbatim.mirror import Mirror, MirrorConfig, mask_pii
from verbatim.mirror.align import hungarian, word_similarity
from verbatim.mirror.linkage import (cell_linkage, eb_prior, eb_shrink, irritant_flags, lead_of, linkage_test,
                                     shrunk_error_var, stabilised, unit_linkage)
from verbatim.mirror.report import render_report
from verbatim.mirror.align import align, source_topics
from verbatim.mirror.stats import (RecordShuffler, bh_qvalues, bootstrap_similarity, min_p_combined, permutation_corr,
                                   permutation_pvalues, sequential_pvalues, size_blocks, unit_shuffles)

ROOT = Path(__file__).resolve().parents[1]


# -- statistics -------------------------------------------------------------------------------------
def test_bh_qvalues_match_a_hand_computation():
    p = [0.01, 0.04, 0.03, 0.20, np.nan]
    # sorted 0.01, 0.03, 0.04, 0.20 (m=4): 0.04, 0.06, 0.0533, 0.20 → step-up minimum from the top
    q = bh_qvalues(p)
    np.testing.assert_allclose(q[:4], [0.04, 0.05333333, 0.05333333, 0.20], rtol=1e-6)
    assert np.isnan(q[4])


def test_hungarian_finds_the_known_best_assignment():
    sim = np.array([[0.9, 0.8, 0.1], [0.85, 0.2, 0.3], [0.1, 0.3, 0.7], [0.0, 0.1, 0.2]])
    # greedy would take (0,0); the optimum is (0,1), (1,0), (2,2), row 3 unmatched
    assert hungarian(sim) == [(0, 1), (1, 0), (2, 2)]


def _two_partitions(rng, d: int = 32, clusters: int = 6):
    """The same verbatims in two "languages" (a constant offset and noise), each side partitioned into 4
    topics by merging 6 clusters of unequal sizes differently: the translation overlap is known."""
    base = rng.normal(size=(clusters, d))
    which = np.repeat(np.arange(clusters), rng.integers(15, 150, size=clusters))
    x = base[which] + 0.9 * rng.normal(size=(len(which), d))
    y = x + 3.0 * rng.normal(size=d) + 0.3 * rng.normal(size=x.shape)

    def merge():
        while len(set(m := rng.integers(0, 4, size=clusters))) < 4:
            pass
        return m

    merge_a, merge_b = merge(), merge()
    ids = [f"r{i}" for i in range(len(which))]
    seg = pd.DataFrame({"id": [f"a{i}" for i in ids] + [f"b{i}" for i in ids], "record_id": ids + ids,
                        "source": ["customer"] * len(ids) + ["employee"] * len(ids),
                        "topic": np.concatenate([merge_a[which], merge_b[which]])})
    emb = np.vstack([x, y]).astype(np.float32)
    topics = seg.groupby(["source", "topic"]).size().rename("size").reset_index()
    overlap = pd.crosstab(merge_a[which], merge_b[which])
    return seg, emb / np.linalg.norm(emb, axis=1, keepdims=True), topics, overlap


def test_shared_matching_recovers_the_best_assignment_on_translation_overlap():
    """Matching on cross-assignment counts finds a one-to-one assignment sharing as many verbatims as the
    best one on the known overlap of two partitions of the same verbatims, across random mergings (the
    centroid cosine need not)."""
    rng = np.random.default_rng(3)
    hits = {"shared": 0, "centroid": 0}
    for _ in range(20):
        seg, emb, topics, overlap = _two_partitions(rng)
        ov = overlap.to_numpy()
        best = sum(ov[i, j] for i, j in hungarian(ov.astype(float)))  # ties: several assignments may reach it
        for how in hits:
            al = align(seg, emb, topics, matching=how)
            hits[how] += sum(ov[i, j] for i, j in al.matches) == best
            assert al.shared.to_numpy().sum() == 2 * len(seg) / 2  # every segment of both sides counted once
    assert hits["shared"] >= 17 and hits["shared"] >= hits["centroid"] + 3, hits  # measured 19 and 15


def test_matching_setting_is_checked():
    with pytest.raises(Exception, match="mirror.matching"):
        MirrorConfig(matching="words")


def test_word_view_sees_shared_words_and_folds_accents():
    w = word_similarity([["attente", "guichet"], ["colis"]], [["Attenté", "guichet"], ["tarif"]])
    assert w[0, 0] == pytest.approx(1.0) and w[1, 1] == 0 and w[0, 1] == 0


def test_planted_correlation_gives_small_p_and_independent_rates_roughly_uniform_p():
    rng = np.random.default_rng(1)
    x = rng.normal(size=30)
    y = 0.8 * x + 0.6 * rng.normal(size=30)
    r, p = permutation_corr(x, y, 999, rng)
    assert r > 0.6 and p < 0.01
    ps = np.array([permutation_corr(rng.normal(size=20), rng.normal(size=20), 199, rng)[1] for _ in range(300)])
    assert 0.02 <= (ps < 0.05).mean() <= 0.09
    assert 0.42 <= ps.mean() <= 0.58


def test_min_p_joins_two_statistics_without_losing_calibration():
    rng = np.random.default_rng(4)
    x = rng.normal(size=25)
    perms = unit_shuffles(rng, 999, 25)
    _, p1, null1 = permutation_corr(x, 0.5 * x + rng.normal(size=25), 999, rng, perms=perms, return_null=True)
    # one statistic, or the same one twice: the ordinary permutation p
    assert min_p_combined([0.3], [null1]) == pytest.approx(_p := (1 + np.sum(null1 >= 0.3 - 1e-12)) / 1000)
    assert min_p_combined([0.3, 0.3], [null1, null1]) == pytest.approx(_p)
    # nothing planted: two correlated statistics (r of the values and r of their ranks) on shared shuffles
    hits, joint, single = 0, [], []
    for _ in range(300):
        a, b = rng.normal(size=20), rng.normal(size=20)
        pm = unit_shuffles(rng, 199, 20)
        r1, q1, n1 = permutation_corr(a, b, 199, rng, perms=pm, return_null=True)
        r2, q2, n2 = permutation_corr(np.argsort(np.argsort(a)), np.argsort(np.argsort(b)), 199, rng, perms=pm,
                                      return_null=True)
        joint.append(min_p_combined([r1, r2], [n1, n2]))
        single.append(min(q1, q2))
        hits += joint[-1] < 0.05
    joint, single = np.array(joint), np.array(single)
    assert 0.02 <= hits / 300 <= 0.09
    assert np.all(joint >= single - 1e-12) and np.all(joint <= 2 * single + 0.02)   # between min p and Bonferroni


def test_weighted_min_p_keeps_its_level_and_favours_the_heavier_statistic():
    """Weights (the unit test 3 to 1 in the mirror) keep the exact null; a signal only the first
    statistic sees gets a smaller joint p than with equal weights, one only the second sees a larger."""
    rng = np.random.default_rng(6)
    w = (0.75, 0.25)
    level, first, second = [], [], []
    for i in range(300):
        a, b, c, d = (rng.normal(size=20) for _ in range(4))
        pm = unit_shuffles(rng, 199, 20)
        tests = [permutation_corr(x, y, 199, rng, perms=pm, return_null=True) for x, y in ((a, b), (c, d))]
        level.append(min_p_combined([t[0] for t in tests], [t[2] for t in tests], weights=w) < 0.05)
        planted = [permutation_corr(x, y, 199, rng, perms=pm, return_null=True)
                   for x, y in ((a, 0.6 * a + b), (c, d))]
        obs, nulls = [t[0] for t in planted], [t[2] for t in planted]
        equal = min_p_combined(obs, nulls) < 0.05
        first.append((min_p_combined(obs, nulls, weights=w) < 0.05, equal))
        second.append((min_p_combined(obs[::-1], nulls[::-1], weights=w) < 0.05, equal))
    assert 0.02 <= np.mean(level) <= 0.09
    (w_first, eq_first), (w_second, eq_second) = np.mean(first, 0), np.mean(second, 0)
    assert w_first > eq_first + 0.02 and w_second < eq_second - 0.1, (first, second)


def test_stabilised_rates_have_about_the_same_noise_at_every_level():
    """Arcsine square root: binomial proportions of 100 respondents have a variance near 1/(4·100) at
    rates 5%, 20% and 50%, where the rates themselves differ fivefold."""
    rng = np.random.default_rng(7)
    raw = {p: (rng.binomial(100, p, size=20_000) / 100) for p in (0.05, 0.2, 0.5)}
    var_raw = np.array([v.var() for v in raw.values()])
    var_st = np.array([stabilised(v).var() for v in raw.values()])
    assert var_raw.max() / var_raw.min() > 4
    assert var_st.max() / var_st.min() < 1.5 and np.allclose(var_st, 1 / 400, rtol=0.35)
    assert stabilised([0.0, 0.25, 1.0]) == pytest.approx([0.0, np.pi / 6, np.pi / 2])


def test_shuffles_within_size_blocks_keep_units_in_their_block():
    sizes = np.array([50, 400, 60, 380, 55, 390, 70, 410, 65, 420, 52, 399, 58, 405, 61, 415.0])
    blocks = size_blocks(sizes, 4)
    assert len(np.unique(blocks)) == 4
    assert set(blocks[sizes < 100]) == {0, 1} and set(blocks[sizes > 100]) == {2, 3}
    perms = unit_shuffles(np.random.default_rng(0), 500, len(sizes), blocks)
    assert (np.sort(perms, 1) == np.arange(len(sizes))).all()          # permutations
    assert (blocks[perms] == blocks).all() and (perms != np.arange(len(sizes))).any()
    assert size_blocks(sizes[:7], 4) is None and size_blocks(sizes, 0) is None


def test_unit_test_keeps_its_level_when_both_sides_share_the_offices_sizes():
    """A large office is large on both sides: both sides' sampling noise is smaller there. With free unit
    shuffles the permutation null understates the spread of r (both sides noisy in the same units) and
    unrelated topics pass too often; shuffling within blocks of offices of similar size keeps the level.
    2,000 null datasets of 40 offices with 30–600 customers (half as many employees), each side's topic
    rate pure sampling noise."""
    rng = np.random.default_rng(11)
    na = np.geomspace(30, 600, 40).round()
    nb = (na / 2).round()
    free, blocked = [], []
    for _ in range(2000):
        ka, kb = rng.binomial(na.astype(int), 0.1), rng.binomial(nb.astype(int), 0.2)
        blocked.append(linkage_test(ka, na, kb, nb, None, None, None, None, rng, 999)["joint_p"] < 0.05)
        u = unit_linkage(ka, na, kb, nb, rng, 999)
        free.append(u["p"] < 0.05)
    assert 0.035 <= np.mean(blocked) <= 0.065, np.mean(blocked)
    assert np.mean(free) > 0.07, np.mean(free)                           # what the blocks correct


def test_linkage_test_detects_a_planted_unit_linkage_and_not_an_absent_one():
    rng = np.random.default_rng(5)
    u, t = 30, 6

    def counts(rho):
        z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=u)
        pc, pe = (1 / (1 + np.exp(-(-1.5 + 0.7 * z[:, i]))) for i in (0, 1))
        nc, ne = np.full((u, t), 20), np.full((u, t), 10)
        return rng.binomial(nc, pc[:, None]), nc, rng.binomial(ne, pe[:, None]), ne

    kc, nc, ke, ne = counts(0.9)
    res = linkage_test(kc.sum(1), nc.sum(1), ke.sum(1), ne.sum(1), kc, nc, ke, ne, rng, 499)
    assert res["r"] > 0.5 and res["joint_p"] < 0.01 and res["p"] < 0.01
    kc, nc, ke, ne = counts(0.0)
    res = linkage_test(kc.sum(1), nc.sum(1), ke.sum(1), ne.sum(1), None, None, None, None, rng, 499)
    assert res["joint_p"] == res["p"] and np.isnan(res["cell_p"])   # no cells: the unit test alone


def test_eb_shrinkage_pulls_small_units_more():
    k, n = np.array([1, 30, 5]), np.array([2, 100, 50])
    s = eb_shrink(k, n)
    pooled = k.sum() / n.sum()
    assert abs(s[0] - pooled) < abs(0.5 - pooled)  # 1/2 is pulled far toward the pooled rate
    assert abs(s[1] - 0.30) < 0.05


def test_too_few_units_is_an_explicit_verdict():
    rng = np.random.default_rng(0)
    res = unit_linkage([3, 4, 5], [20, 20, 20], [1, 2, 3], [20, 20, 20], rng, min_units=8)
    assert res["status"] == "too little data" and np.isnan(res["p"])


def test_cross_lagged_correlation_finds_the_leading_side():
    rng = np.random.default_rng(3)
    u, t = 30, 14
    latent = rng.normal(size=(u, t + 1))
    pe = 1 / (1 + np.exp(-(-1 + 0.9 * latent[:, 1:])))      # employee at t
    pc = 1 / (1 + np.exp(-(-1 + 0.9 * latent[:, :-1])))     # customer at t copies employee at t-1
    ne, nc = np.full((u, t), 40), np.full((u, t), 60)
    ke, kc = rng.binomial(ne, pe), rng.binomial(nc, pc)
    res = cell_linkage(kc, nc, ke, ne, rng, n_permutations=199, max_lag=2)
    assert res["best_lag"] == 1 and res["lead_lag"] == 1 and res["lag_p"] < 0.01
    assert lead_of(res["lead_lag"], res["lag_p"], 0.05, "customer", "employee") == "employee"
    swapped = cell_linkage(ke, ne, kc, nc, rng, n_permutations=199, max_lag=2)  # the other way round
    assert swapped["lead_lag"] == -1 and lead_of(swapped["lead_lag"], swapped["lag_p"], 0.05, "employee",
                                                 "customer") == "employee"


def _lead_data(rng, lead: bool, u: int = 30, t: int = 12):
    latent = rng.normal(size=(u, t + 1))
    pe = 1 / (1 + np.exp(-(-1 + 0.9 * latent[:, 1:])))
    pc = 1 / (1 + np.exp(-(-1 + 0.9 * (latent[:, :-1] if lead else latent[:, 1:]))))
    ne, nc = rng.integers(2, 12, (u, t)), rng.integers(4, 20, (u, t))
    return rng.binomial(nc, pc), nc, rng.binomial(ne, pe), ne


def test_lead_test_holds_its_level_when_both_sides_move_in_the_same_month():
    """Strongly linked in the same month, nobody leading: the time-reversal test rejects at about its level."""
    from verbatim.mirror.lead import lead_test

    rng = np.random.default_rng(11)
    ps = np.array([lead_test(*_lead_data(rng, lead=False), rng, 999, 2)[1] for _ in range(300)])
    assert 0.02 <= (ps < 0.05).mean() <= 0.09  # 300 runs: SE 1.3 points around 5%
    power = np.array([lead_test(*_lead_data(rng, lead=True), rng, 999, 2)[1] for _ in range(40)])
    assert (power < 0.05).mean() > 0.8


def test_lead_test_reads_the_lag_where_the_lead_is():
    """A one-period lead with lags 1 to 3 examined: the test names lag +1, and taking the largest
    standardised lag finds the lead more often than summing the three lags would."""
    from verbatim.mirror.lead import lead_test, residuals

    rng = np.random.default_rng(5)
    found, summed = [], []
    for _ in range(60):
        ka, na, kb, nb = _lead_data(rng, lead=True, u=20, t=12)
        _, p, lag = lead_test(ka, na, kb, nb, rng, 999, 3)
        found.append(p < 0.05 and lag == 1)
        ea, eb = residuals(ka, na), residuals(kb, nb)
        d = sum((ea[:, k:] * eb[:, :-k]).sum(1) - (ea[:, :-k] * eb[:, k:]).sum(1) for k in (1, 2, 3))
        null = rng.choice([-1.0, 1.0], size=(999, len(d))) @ d
        summed.append((1 + (np.abs(null) >= abs(d.sum())).sum()) / 1000 < 0.05 and d.sum() > 0)
    assert np.mean(found) > 0.6 and np.mean(found) > np.mean(summed)


def test_an_echo_through_two_other_topics_is_explained_by_the_stronger_pair():
    """Two topics that each hold a part of a linked pair's themes move together across units; given
    the stronger pair's two topics they mostly do not, and a real second link still does (100 draws of
    60 units)."""
    from verbatim.mirror.stats import partial_corr_test, permutation_corr

    rng = np.random.default_rng(8)
    raw, echo, real = [], [], []
    for _ in range(100):
        x, y = rng.normal(size=60), rng.normal(size=60)   # the strong pair's unit profile; another link's
        a1, b1 = x + 0.3 * rng.normal(size=60), x + 0.3 * rng.normal(size=60)
        a2, b2 = 0.7 * x + rng.normal(size=60), 0.7 * x + rng.normal(size=60)   # echoes of x
        a3, b3 = y + 0.5 * rng.normal(size=60), y + 0.5 * rng.normal(size=60)
        raw.append(permutation_corr(a2, b2, 199, rng)[1] < 0.05)
        echo.append(partial_corr_test(a2, b2, np.c_[a1, b1], 199, rng)[1] < 0.05)
        real.append(partial_corr_test(a3, b3, np.c_[a1, b1], 199, rng)[1] < 0.05)
    assert np.mean(raw) > 0.7 and np.mean(echo) < 0.15 and np.mean(real) > 0.95, (raw, echo, real)


def test_the_partial_test_allows_for_the_noise_left_in_the_stronger_pairs_rates():
    """Binomial counts over 40 offices: X holds some comments of the theme that drives the stronger pair
    (Za, Zb) and nothing else of the other side. Given Za's shrunk rates, the residuals of X and Zb still
    share Za's error, so the plain partial test keeps the echo far above its level; allowing for the
    shrunk rates' posterior variance brings it to the level (benchmarks/bench_echo.py: 8-45% against
    1.9-3.3% over 1,000 datasets), and a second, real link is still found."""
    from verbatim.mirror.stats import partial_corr_test

    rng = np.random.default_rng(11)
    naive, fixed, real = [], [], []
    for _ in range(150):
        t, s, c = rng.normal(size=(3, 40))
        n_e = rng.integers(60, 240, 40)
        n_c = 2 * n_e

        def draw(n, p):
            k = rng.binomial(n, np.clip(p, 0.005, 0.95))
            return stabilised(eb_shrink(k, n)), shrunk_error_var(k, n)

        za, err = draw(n_c, 0.18 + 0.05 * t)
        zb, _ = draw(n_e, 0.20 + 0.05 * t)
        x, _ = draw(n_c, 0.08 + 0.03 * c + 0.05 * t)
        zb2, _ = draw(n_e, 0.20 + 0.05 * t + 0.04 * s)
        x2, _ = draw(n_c, 0.08 + 0.03 * c + 0.05 * t + 0.03 * s)
        naive.append(partial_corr_test(x, zb, za, 199, rng)[1] < 0.05)
        r, p = partial_corr_test(x, zb, za, 199, rng, z_error_var=err)
        assert -1 <= r <= 1  # the corrected correlation is reported within a correlation's range
        fixed.append(p < 0.05)
        real.append(partial_corr_test(x2, zb2, za, 199, rng, z_error_var=err)[1] < 0.05)
    assert np.mean(naive) > 0.3 and np.mean(fixed) < 0.08 and np.mean(real) > 0.5, (np.mean(naive), np.mean(fixed),
                                                                                     np.mean(real))


def test_shrunk_error_var_is_the_posterior_variance_on_the_stabilised_scale():
    k, n = np.array([5, 20, 40, 80]), np.array([50, 100, 200, 400])
    p, m = eb_prior(k, n)
    assert np.allclose(shrunk_error_var(k, n), 1 / (4 * (n + m + 1)))
    assert np.all(np.diff(shrunk_error_var(k, n)) < 0)              # larger offices: smaller error
    assert np.all(shrunk_error_var(np.array([10, 10]), np.array([100, 100])) < 1e-6)   # nothing varies


def test_irritant_flags_fall_back_to_tags_then_scores():
    seg = pd.DataFrame({"source": ["customer", "customer", "employee", "employee"],
                        "polarity_tag": [None, None, "negative", "positive"], "score": [1.0, 5.0, 9.0, 2.0]})
    assert irritant_flags(seg).tolist() == [True, False, True, False]
    assert irritant_flags(seg.assign(irritant=[False, True, False, True])).tolist() == [False, True, False, True]


def test_pii_is_masked():
    text = "Écrivez à jeanne.martin@exemple.fr ou au 06 12 34 56 78, IBAN FR76 3000 6000 0112 3456 7890 189, vu avec Mme Lefèvre"
    out = mask_pii(text)
    for leaked in ("jeanne", "06 12", "FR76", "Lefèvre"):
        assert leaked not in out
    assert "[email]" in out and "[téléphone]" in out and "[iban]" in out and "[nom]" in out


# -- topic similarity: a null that can fail, resampling by verbatim -------------------------------------
def _two_sources(seed: int, k: int = 6, d: int = 64, n_rec: int = 300, shared: int = 0):
    """Two sources with ``k`` topics each; the first ``shared`` topics share a direction across sources, the
    others are unrelated. Embeddings carry a common direction (anisotropy), a per-source offset (as a
    language would) and a per-verbatim style shared by the verbatim's 1–3 segments."""
    rng = np.random.default_rng(seed)
    common, rows, emb = rng.normal(size=d) * 3, [], []
    base = rng.normal(size=(k, d)) * 0.6
    for src in ("customer", "employee"):
        offset = rng.normal(size=d)
        dirs = rng.normal(size=(k, d)) * 0.6
        dirs[:shared] = base[:shared] + 0.1 * rng.normal(size=(shared, d))
        for r in range(n_rec):
            style = rng.normal(size=d) * 0.5
            for s in range(int(rng.integers(1, 4))):
                t = int(rng.integers(0, k))
                rows.append({"id": f"{src}{r}-{s}", "record_id": f"{src}{r}", "source": src, "topic": t})
                emb.append(common + offset + dirs[t] + style + rng.normal(size=d))
    seg = pd.DataFrame(rows)
    topics = seg.groupby(["source", "topic"]).size().rename("size").reset_index()
    return seg, np.array(emb, np.float32), topics.assign(label=topics["topic"].astype(str), top_words=[[]] * len(topics))


def test_similarity_null_gives_unrelated_topics_large_p_values_and_related_ones_small():
    ps = []
    for seed in range(3):
        seg, emb, topics = _two_sources(seed, shared=1)
        al = align(seg, emb, topics)
        ij = [(i, j) for i in range(al.a.k) for j in range(al.b.k)]
        p, null = permutation_pvalues(al.a, al.b, ij, 199, np.random.default_rng(seed), return_null=True)
        assert -0.2 < np.median(null) < 0.5            # centred on its own sources: not pulled towards −1
        assert p[ij.index((0, 0))] <= 0.01             # the shared topic is found
        ps += [pv for (i, j), pv in zip(ij, p) if (i, j) != (0, 0)]
    ps = np.array(ps)
    assert len(ps) >= 50
    assert (ps > 0.5).mean() >= 0.2 and (ps < 0.05).mean() <= 0.1


def test_similarity_test_draws_more_shuffles_only_for_a_verdict_near_alpha():
    seg, emb, topics = _two_sources(0, shared=1)
    al = align(seg, emb, topics)
    p, n = sequential_pvalues(al.a, al.b, [(0, 0)], 199, 1999, 0.05, np.random.default_rng(0))
    assert n == 199 and p[0] <= 0.01                     # the shared topic: clear at the first 199 shuffles
    grid = [(i, j) for i in range(1, al.a.k) for j in range(1, al.b.k)]
    ps = permutation_pvalues(al.a, al.b, grid, 1999, np.random.default_rng(1))
    ij, p_ref = grid[int(np.argmin(np.abs(ps - 0.3)))], float(ps[np.argmin(np.abs(ps - 0.3))])
    assert 0.1 < p_ref < 0.5                             # an unrelated pair, tested at its own p as alpha:
    p, n = sequential_pvalues(al.a, al.b, [ij], 199, 1999, p_ref, np.random.default_rng(2))
    assert n == 1999                                     # undecided, so every allowed shuffle is drawn
    hits = p[0] * (1 + n) - 1
    assert abs(hits - round(hits)) < 1e-6 and abs(p[0] - p_ref) < 0.05   # a permutation p over all n draws


def test_record_shuffler_moves_whole_verbatims_and_keeps_topic_sizes():
    groups = np.repeat(np.arange(40), 3)                # 40 verbatims of 3 segments, each in one topic
    labels = np.repeat(np.arange(40) % 4, 3)
    draw = RecordShuffler(groups, labels).draw(np.random.default_rng(0))
    assert np.array_equal(np.bincount(draw), np.bincount(labels))
    assert (draw.reshape(40, 3) == draw.reshape(40, 3)[:, :1]).all()   # a verbatim's segments kept together
    assert not np.array_equal(draw, labels)


def test_bootstrap_resamples_verbatims_not_segments():
    """One topic per side made of 8 verbatims of 25 near-identical segments: its centroid varies as much
    as 8 draws do, so the interval is much wider than when every segment counts as independent."""
    rng = np.random.default_rng(3)
    d, rows, emb = 16, [], []
    for src in ("customer", "employee"):
        for r in range(30):
            t = r % 2
            v = rng.normal(size=d) + 2 * np.eye(d)[t]
            for s in range(25):
                rows.append({"id": f"{src}{r}-{s}", "record_id": f"{src}{r}", "source": src, "topic": t})
                emb.append(v + 0.01 * rng.normal(size=d))
    seg, emb = pd.DataFrame(rows), np.array(emb, np.float32)
    a, b = source_topics(seg, emb, "customer"), source_topics(seg, emb, "employee")
    lo, hi = bootstrap_similarity(a, b, [(0, 0), (1, 1)], 200, np.random.default_rng(0))
    flat = [source_topics(seg.assign(record_id=seg["id"]), emb, s) for s in ("customer", "employee")]
    lo2, hi2 = bootstrap_similarity(*flat, [(0, 0), (1, 1)], 200, np.random.default_rng(0))
    assert np.all(hi - lo > 3 * (hi2 - lo2))
    assert np.all(lo <= hi) and np.all((lo > -1) & (hi < 1))


# -- the global test ----------------------------------------------------------------------------------
def test_mirror_reports_the_global_test_first():
    seg, emb, topics = _synthetic(seed=2, linked=True)
    m = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics)
    assert m.global_.status == "ok" and m.global_.p < 0.01 and m.global_.n_units == 24
    assert m.global_.to_frame().shape == (1, 13)
    assert repr(m).splitlines()[1].startswith("global test: customer and employee irritant profiles co-vary")
    assert "global test" in m._repr_html_() and "<table" in m._repr_html_()
    assert "global test" in render_report(m).split("<h2>")[0]
    seg, emb, topics = _synthetic(seed=2, linked=False)
    m = Mirror(**FAST, variation_filter=1).fit(segments=seg, embeddings=emb, topics=topics)
    assert m.global_.p > 0.05 and not m.global_.significant
    # with the default filter no employee topic varies across units beyond binomial noise: the filter keeps
    # them all rather than silence the test, which runs and claims nothing
    m = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics)
    assert m.global_.status == "ok" and not m.global_.significant and m.global_.n_topics_b > 0


def test_only_irritant_side_topics_are_compared_when_topics_have_a_side():
    seg, emb, topics = _synthetic(seed=0, linked=True)
    side = np.where(topics["topic"] == 2, "compliment", "irritant")
    m = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics.assign(side=side))
    assert list(m.similarity_.index) == [0, 1] and list(m.similarity_.columns) == [0, 1]
    assert 2 not in set(m.pairs_["topic_a"]) | set(m.pairs_["topic_b"]) | set(m.one_sided_["topic"])
    assert m.pairs_.set_index(["topic_a", "topic_b"]).loc[(0, 0), "verdict"] == "mirrored"
    assert m.global_.n_topics_b == 2


# -- the estimator on synthetic data --------------------------------------------------------------
def _synthetic(seed: int = 0, linked: bool = True, units: int = 24, months: int = 6):
    """Two sources, three topics each in a shared 32-d space: topic 0 ↔ 0 similar (and linked when
    ``linked``), 1 ↔ 1 similar, customer 2 (not an irritant) and employee 2 dissimilar to everything."""
    rng = np.random.default_rng(seed)
    d = 32
    base = rng.normal(size=(5, d))
    dirs = {("customer", 0): base[0], ("employee", 0): base[0] + 0.3 * rng.normal(size=d),
            ("customer", 1): base[1], ("employee", 1): base[1] + 0.3 * rng.normal(size=d),
            ("customer", 2): base[2], ("employee", 2): base[3]}
    strength = rng.uniform(0.05, 0.6, size=units)
    rows, emb = [], []
    for u in range(units):
        for m in range(months):
            for src, n in (("customer", 30), ("employee", 15)):
                for r in range(n):
                    p0 = strength[u] if (linked or src == "customer") else rng.uniform(0.05, 0.6)
                    topic = 0 if rng.random() < p0 else int(rng.integers(1, 3))
                    rid = f"{src[0]}{u}-{m}-{r}"
                    rows.append({"id": rid, "record_id": rid, "source": src, "unit": f"U{u:02d}",
                                 "date": pd.Timestamp(2025, m + 1, 1), "topic": topic, "irritant": topic != 2 or src == "employee",
                                 "text": f"<script>alert({topic})</script> texte {src} {topic}", "topic_similarity": 0.9})
                    v = dirs[(src, topic)] + 0.8 * rng.normal(size=d)
                    emb.append(v / np.linalg.norm(v))
    seg = pd.DataFrame(rows)
    topics = seg.groupby(["source", "topic"]).size().rename("size").reset_index()
    topics["label"] = [f"<b>{s}-{t}</b>" for s, t in zip(topics["source"], topics["topic"])]
    topics["top_words"] = [[f"mot{t}"] for t in topics["topic"]]
    return seg, np.array(emb, np.float32), topics


FAST = dict(n_permutations=199, n_bootstrap=50, n_screen_permutations=999, max_lag=1)


def test_step_down_max_t_holds_the_family_wise_error_over_nested_themes():
    """400 null datasets of 30 units, 6 × 6 columns of which some are sums of others (themes and their
    topics): the share of runs declaring any pair stays near alpha (exact under the null: within 3 SE);
    adjusted p-values are never below raw ones; a planted link is found."""
    from verbatim.mirror.screen import _z, step_down_max_t
    from verbatim.mirror.stats import unit_shuffles

    rng = np.random.default_rng(11)

    def table(u=30):
        t = rng.standard_normal((u, 4))
        return np.column_stack([t, t[:, 0] + t[:, 1], t[:, :3].sum(1)])

    any_hit = []
    for _ in range(400):
        a, b = table(), table()
        r, raw, adj, _ = step_down_max_t(_z(a), _z(b), unit_shuffles(rng, 199, 30))
        assert (adj >= raw - 1e-12).all()
        any_hit.append((adj < 0.05).any())
    assert 0.05 - 3 * 0.011 <= np.mean(any_hit) <= 0.05 + 3 * 0.011
    a, b = table(), table()
    b[:, 0] = 0.8 * a[:, 0] + 0.6 * b[:, 0]
    r, raw, adj, _ = step_down_max_t(_z(a), _z(b), unit_shuffles(rng, 999, 30))
    assert adj[0, 0] < 0.05 and np.unravel_index(np.argmax(r), r.shape) == (0, 0)


def test_a_theme_spread_over_two_topics_is_tested_as_one():
    """A customer theme split into two topics (each holding half of it) is linked with an employee topic:
    the theme element (the tree node joining the two) carries more of the signal than either topic."""
    from verbatim.mirror.themes import Element, element_counts, elements, eligible_topics

    rng = np.random.default_rng(5)
    units, per = 30, 40
    latent = rng.standard_normal(units)
    rows, vecs = [], []
    centers = {0: np.eye(8)[0], 1: 0.9 * np.eye(8)[0] + 0.44 * np.eye(8)[1], 2: np.eye(8)[5], 3: np.eye(8)[6]}
    for u in range(units):
        p_theme = 1 / (1 + np.exp(-(-1.5 + 0.8 * latent[u])))
        for i in range(per):
            t = rng.choice([0, 1]) if rng.random() < p_theme else rng.choice([2, 3])
            rows.append({"id": f"c{u}-{i}", "record_id": f"c{u}-{i}", "source": "customer", "unit": f"u{u}",
                         "topic": t, "irritant": True})
            vecs.append(centers[t] + 0.05 * rng.standard_normal(8))
    seg = pd.DataFrame(rows)
    x = np.asarray(vecs, np.float32)
    topics = eligible_topics(seg, "customer", [0, 1, 2, 3], seg["irritant"].to_numpy(), 20, 0.2)
    els = elements(seg, x, "customer", topics, seg["irritant"].to_numpy(), max_share=0.6)
    theme = [e for e in els if set(e.topics) == {0, 1}]
    assert len(theme) == 1 and theme[0].kind == "theme" and isinstance(theme[0], Element)
    k, n, names = element_counts(seg, "customer", els, "unit", seg["irritant"].to_numpy())
    rates = k / n[:, None]
    z = latent[[int(u[1:]) for u in names]]
    corr = [np.corrcoef(rates[:, j], z)[0, 1] for j in range(len(els))]
    j_theme = els.index(theme[0])
    assert corr[j_theme] > max(corr[j] for j, e in enumerate(els) if e.topics in ((0,), (1,))) + 0.03  # 0.07 here


def test_holm_keeps_the_chance_of_any_false_rejection_under_alpha():
    """Weighted Holm: a hand computation, and 2,000 runs of 40 uniform p-values (5 of them weighted 8
    times more): the share of runs with any adjusted p below 0.05 stays under 5% (SE about 0.5 point)."""
    from verbatim.mirror.stats import holm_adjusted

    assert np.allclose(holm_adjusted([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    assert np.allclose(holm_adjusted([0.01, 0.04, np.nan, 0.005], [1, 1, 1, 2])[[0, 1, 3]], [0.02, 0.04, 0.01])
    rng = np.random.default_rng(3)
    w = np.r_[np.full(5, 8.0), np.ones(35)]
    hits = np.array([(holm_adjusted(rng.random(40), w) < 0.05).any() for _ in range(2000)])
    assert 0.03 <= hits.mean() <= 0.06
    # a strong signal among the heavy hypotheses survives; Holm rejects no more than BH
    p = np.r_[1e-4, rng.random(39)]
    assert holm_adjusted(p, w)[0] < 0.05 and (holm_adjusted(p) >= bh_qvalues(p) - 1e-12).all()


def test_mirror_finds_the_planted_pair_and_leaves_one_sided_topics():
    seg, emb, topics = _synthetic(linked=True)
    m = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics)
    pairs = m.pairs_.set_index(["topic_a", "topic_b"])
    assert pairs.loc[(0, 0), "verdict"] == "mirrored"
    assert pairs.loc[(0, 0), "linkage_r"] > 0.5
    assert pairs.loc[(1, 1), "topic_match"]
    assert ("customer", 2) in set(zip(m.one_sided_["source"], m.one_sided_["topic"]))
    assert 0 < m.index_["low"] <= m.index_["index"] <= m.index_["high"] <= 1
    # same seed, same numbers
    again = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics)
    pd.testing.assert_frame_equal(m.pairs_, again.pairs_)


def test_mirror_does_not_declare_a_linkage_that_was_not_planted():
    seg, emb, topics = _synthetic(seed=2, linked=False)
    m = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics)
    assert not (m.pairs_["verdict"] == "mirrored").any()
    assert m.pairs_.set_index(["topic_a", "topic_b"]).loc[(0, 0), "topic_match"]


def test_report_escapes_text_and_is_self_contained():
    seg, emb, topics = _synthetic()
    m = Mirror(**FAST).fit(segments=seg, embeddings=emb, topics=topics)
    html = render_report(m)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>customer-0</b>" not in html
    assert "<svg" in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "Méthodes" in html and "Methods" in html


def test_mirror_config_errors_name_the_setting():
    with pytest.raises(Exception, match="mirror.period must be one of"):
        MirrorConfig(period="day")
    seg, emb, topics = _synthetic()
    with pytest.raises(Exception, match="source 'manager' has no segments"):
        Mirror(pair=("manager", "employee")).fit(segments=seg, embeddings=emb, topics=topics)


def test_cli_mirror_rejects_a_bad_pair_in_one_line(tmp_path):
    r = CliRunner().invoke(main, ["mirror", str(tmp_path), "--pair", "customer", "-o", str(tmp_path / "r")])
    assert r.exit_code == 2 and "--pair must be two sources" in r.output and "Traceback" not in r.output


# -- integration: the shipped sample ----------------------------------------------------------------
@pytest.mark.integration
def test_sample_chain_declares_the_planted_pairs_with_the_employee_lead(sample_pipeline):
    """What `make demo` answers, read with the sample's answer key: on the topics the pipeline found, the
    mirror declares waiting ↔ understaffing with the employee side leading and lost parcels ↔ scanners,
    not closing hours ↔ rotas (similar words, no unit linkage) and nothing about a one-sided theme; the
    global test at p < 0.01; the named hypothesis (waiting ↔ understaffing) confirmed and its negative
    control not linked. (Margins, the same on every machine: the two pairs' adjusted p = 0.0001 against
    0.05, the lead p = 0.0001, the hypothesis p = 0.0001 and the control's p = 0.32.)"""
    from verbatim.sample import declared_themes

    m = Mirror(sample_pipeline.config.mirror).fit(sample_pipeline)
    h = m.hypotheses_.set_index("control")
    assert h.loc[False, "verdict"] == "confirmed" and h.loc[False, "p_holm"] < 0.01
    assert h.loc[True, "verdict"] == "control: not linked, as expected" and h.loc[True, "p"] > 0.2
    declared = declared_themes(m, sample_pipeline.segments_)
    named = {(d["customer"], d["employee"]) for d in declared}
    assert any(d["lead"] == "employee" for d in declared if (d["customer"], d["employee"]) == ("A", "A'"))
    assert ("B", "B'") in named and ("C", "C'") not in named
    assert not {t for pair in named for t in pair} & {"D", "E", "G", "H", "I", "J"}, declared
    assert m.global_.p < 0.01


@pytest.mark.integration
def test_sample_planted_pair_1_is_mirrored_with_the_employee_side_leading(sample_pipeline):
    pipe = sample_pipeline
    from verbatim.sample import planted_topics

    seg, topics = planted_topics(pipe, ROOT / "data" / "raw" / "sample" / "labels.csv")
    m = Mirror(n_permutations=499, n_bootstrap=100, n_screen_permutations=4999).fit(
        segments=seg, embeddings=pipe.embeddings_, topics=topics)
    p = m.pairs_.assign(a=m.pairs_["label_a"], b=m.pairs_["label_b"]).set_index(["a", "b"])
    assert p.loc[("A", "A'"), "verdict"] in ("mirrored", "linked, different topics")
    assert p.loc[("A", "A'"), "linkage_r"] > 0.6
    assert p.loc[("A", "A'"), "lead"] == "employee" and p.loc[("A", "A'"), "best_lag"] == 1
    # pair 2: its linkage is asserted (the chain test above asserts what the mirror declares)
    assert p.loc[("B", "B'"), "topic_match"] and p.loc[("B", "B'"), "linkage_r"] > 0.3
    assert p.loc[("B", "B'"), "linkage_p"] < 0.05
    assert p.loc[("C", "C'"), "verdict"] == "similar topics, no unit linkage"
    assert m.global_.significant and m.global_.p < 0.01            # the hypothesis itself
    one = set(m.one_sided_["label"])
    assert {"D", "E", "G", "H", "I", "J"} <= one


# -- every [mirror] setting takes effect -------------------------------------------------------------
class _FakePipeline:
    """What :class:`Mirror` reads from a fitted pipeline: three tables and the configuration."""

    def __init__(self, config=None, seed: int = 2):
        from verbatim.config import Config

        self.segments_, self.embeddings_, self.topics_ = _synthetic(seed=seed, linked=True)
        self.config = config or Config()


def _toml(tmp_path, body: str) -> Path:
    p = tmp_path / "verbatim.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_mirror_reads_the_pipelines_mirror_section_and_settings_override_it(tmp_path):
    from verbatim.config import load_config

    cfg = load_config(_toml(tmp_path, "[mirror]\nalpha = 0.01\nn_permutations = 99\nn_bootstrap = 20\n"
                                      "n_screen_permutations = 99\nseed = 7\nmin_units = 30\nmax_lag = 1\n"))
    m = Mirror().fit(_FakePipeline(cfg))
    assert (m.config_.alpha, m.config_.n_permutations, m.config_.seed) == (0.01, 99, 7)
    draws = [n for n in (99, 297, 891, 999)        # 99 shuffles, tripled while a q is near alpha, at most 10×
             if np.allclose(m.pairs_["p"] * (n + 1), np.rint(m.pairs_["p"] * (n + 1)))]
    assert draws and (m.pairs_["p"] >= 1 / (draws[0] + 1)).all()
    assert m.global_.status == "too little data" and m.global_.alpha == 0.01   # min_units = 30 > 24 units
    assert (m.pairs_["verdict"] != "mirrored").all()
    m2 = Mirror(min_units=8, n_permutations=199).fit(_FakePipeline(cfg))   # keywords replace the section's values
    assert m2.config_.alpha == 0.01 and m2.config_.n_permutations == 199 and m2.global_.status == "ok"
    with pytest.raises(Exception, match=r"Mirror has no setting 'n_permutation' \(did you mean 'n_permutations'\?\)"):
        Mirror(n_permutation=9).fit(_FakePipeline(cfg))


def test_cli_mirror_uses_the_config_file_and_its_flags_override_it(tmp_path, monkeypatch):
    import verbatim.pipeline

    monkeypatch.setattr(verbatim.pipeline.Pipeline, "load", classmethod(lambda cls, path, *a, **k: _FakePipeline()))
    toml = _toml(tmp_path, "[mirror]\nn_permutations = 49\nn_bootstrap = 10\nn_screen_permutations = 99\n"
                           "max_lag = 1\nalpha = 0.02\n[privacy]\nanonymity_threshold = 6\n")
    out = tmp_path / "r"
    r = CliRunner().invoke(main, ["mirror", str(tmp_path), "--config", str(toml), "--seed", "5", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[0].startswith("global test:")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "same 99 unit shuffles" in html and "at least 6 respondents" in html and "Seed: 5." in html \
        and "q &lt; 0.02" in html
    bad = _toml(tmp_path, "[mirror]\nn_permutation = 49\n")
    r = CliRunner().invoke(main, ["mirror", str(tmp_path), "--config", str(bad), "-o", str(out)])
    assert r.exit_code != 0 and "[mirror] has an unknown key 'n_permutation'" in r.output and "Traceback" not in r.output


def test_every_mirror_setting_is_read_somewhere():
    """A setting that nothing reads is a lie to the user: each MirrorConfig field appears in the mirror's code."""
    from dataclasses import fields

    code = "".join((ROOT / "src" / "verbatim" / "mirror" / f).read_text(encoding="utf-8")
                   for f in ("core.py", "linkage.py", "report.py", "run.py", "stats.py", "index.py", "align.py"))
    for f in fields(MirrorConfig):
        assert f"cfg.{f.name}" in code, f"mirror.{f.name} is read nowhere"


def test_global_test_says_why_it_was_not_run():
    seg, emb, topics = _synthetic(seed=1)
    m = Mirror(**FAST, by=None).fit(segments=seg, embeddings=emb, topics=topics)
    assert m.global_.status == "no unit column" and np.isnan(m.global_.p) and not m.global_.significant
    assert m.global_.text("customer", "employee").startswith("global test: not run, no unit column")
    assert m.pairs_["linkage_r"].isna().all()



def test_heterogeneity_filter_keeps_topics_that_vary_across_units_and_is_blind_to_unit_order():
    from verbatim.mirror.linkage import heterogeneity_p

    rng = np.random.default_rng(2)
    n = rng.integers(30, 120, 40)
    flat = rng.binomial(n, 0.2)
    varied = rng.binomial(n, rng.uniform(0.05, 0.5, 40))
    assert heterogeneity_p(varied, n) < 0.001 and heterogeneity_p(flat, n) > 0.05
    perm = rng.permutation(40)
    assert heterogeneity_p(varied[perm], n[perm]) == pytest.approx(heterogeneity_p(varied, n))
    # under homogeneity its p is uniform: the filter keeps about variation_filter of the flat topics
    ps = np.array([heterogeneity_p(rng.binomial(n, 0.2), n) for _ in range(400)])
    assert 0.06 <= (ps < 0.1).mean() <= 0.15
    assert heterogeneity_p([0, 0], [20, 20]) == 1.0 and heterogeneity_p([3], [20]) == 1.0


# -- named hypotheses -------------------------------------------------------------------------------
def _hypothesis_data(seed: int, rho: float, units: int = 30, per: int = 60):
    """Two sources whose respondents write about one of four themes (each a few short phrases), the share of
    theme 0 per unit following a latent that correlates ``rho`` across the sides."""
    rng = np.random.default_rng(seed)
    phrases = {"customer": [["colis jamais livré", "livraison en retard"], ["prix trop élevés"], ["site lent"],
                            ["accueil froid"]],
               "employee": [["trop de pression", "stress permanent"], ["salaire bas"], ["locaux vétustes"],
                            ["formation absente"]]}
    z = rng.standard_normal(units)
    latent = {"customer": z, "employee": rho * z + np.sqrt(1 - rho ** 2) * rng.standard_normal(units)}
    rows = []
    for src, lat in latent.items():
        for u in range(units):
            p0 = 1 / (1 + np.exp(-(-1.4 + 0.9 * lat[u])))
            for i in range(per):
                t = 0 if rng.random() < p0 else int(rng.integers(1, 4))
                rows.append({"id": f"{src[0]}{u}-{i}", "record_id": f"{src[0]}{u}-{i}", "source": src,
                             "unit": f"u{u:02d}", "text": str(rng.choice(phrases[src][t])), "irritant": True})
    return pd.DataFrame(rows)


def _toy_embed(texts):
    """Deterministic vectors: one direction per word (so a phrase is close to the phrases sharing its words)."""
    import hashlib

    out = np.zeros((len(texts), 64), np.float32)
    for i, t in enumerate(texts):
        for w in str(t).lower().replace("'", " ").split():
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def test_a_named_hypothesis_is_tested_once_and_holds_its_level():
    """A named pair finds its planted link (ρ = 0.7) far more often than not, and under the null (ρ = 0) its
    p-value is below 0.05 in about 5% of 60 datasets; each row carries its effect size, interval and
    reliabilities; a negative control is reported as one."""
    from verbatim.config import Hypothesis
    from verbatim.mirror.hypotheses import test_hypotheses

    hyp = (Hypothesis("delivery ↔ workload", {"customer": ("colis jamais livré",), "employee": ("trop de pression",)}),
           Hypothesis("prices ↔ premises", {"customer": ("prix trop élevés",), "employee": ("locaux vétustes",)},
                      control=True))
    cfg = MirrorConfig(hypotheses=hyp, n_permutations=999)
    ps = {0.7: [], 0.0: []}
    for rho in ps:
        for seed in range(60 if rho == 0 else 20):
            seg = _hypothesis_data(seed, rho)
            t = test_hypotheses(seg, _toy_embed(seg["text"]), seg["irritant"].to_numpy(), cfg, "unit", _toy_embed,
                                np.random.default_rng(seed))
            ps[rho].append(t)
    power = np.mean([t.iloc[0]["p"] < 0.05 for t in ps[0.7]])
    level = np.mean([t.iloc[0]["p"] < 0.05 for t in ps[0.0]])
    assert power >= 0.8 and level <= 0.05 + 3 * 0.028
    row = ps[0.7][0].iloc[0]
    assert row["verdict"] in ("confirmed", "not confirmed") and row["r_low"] < row["r"] < row["r_high"]
    assert 0 < row["icc2_a"] < 1 and 0 < row["icc2_b"] < 1 and row["respondents_a"] == 60
    assert "colis" in row["words_a"] and "pression" in row["words_b"]
    ctrl = ps[0.7][0].iloc[1]
    assert bool(ctrl["control"]) and ctrl["verdict"].startswith("control:")


def test_hypothesis_configuration_names_both_sources():
    from verbatim.config import from_dict

    c = from_dict({"mirror": {"hypotheses": [{"name": "a", "customer": ["x"], "employee": ["y"], "control": True}]}})
    assert c.mirror.hypotheses[0].phrases("employee") == ("y",) and c.mirror.hypotheses[0].control
    with pytest.raises(ConfigError, match="needs example phrases for each source"):
        from_dict({"mirror": {"hypotheses": [{"name": "a", "customer": ["x"]}]}})
    with pytest.raises(ConfigError, match="names must differ"):
        from_dict({"mirror": {"hypotheses": [{"name": "a", "customer": ["x"], "employee": ["y"]}] * 2}})
    with pytest.raises(ConfigError, match="error_control no longer exists"):
        from_dict({"mirror": {"error_control": "run"}})


def test_icc_and_power_follow_their_formulas():
    from verbatim.mirror.reliability import icc, power, units_needed

    rng = np.random.default_rng(0)
    p = 1 / (1 + np.exp(-(-1 + 0.8 * rng.standard_normal(200))))
    n = np.full(200, 50.0)
    k = rng.binomial(50, p).astype(float)
    i1, i2 = icc(k, n)
    # ICC(2) is the Spearman–Brown step-up of ICC(1) for groups of 50
    assert 0 < i1 < i2 < 1 and abs(i2 - 50 * i1 / (1 + 49 * i1)) < 1e-9
    assert np.isnan(icc(np.full(10, 5.0), np.full(10, 50.0))[0])   # no between-unit variance
    assert power(0.3, 200, 1, 1) > power(0.3, 50, 1, 1) > power(0.3, 50, 0.5, 0.5)
    assert units_needed(0.3, 1, 1) == pytest.approx(((1.6449 + 0.8416) / np.arctanh(0.3)) ** 2 + 3, abs=1)
