"""Benchmark of the mirror's statistics: calibration, power, the shipped sample, and (optional) cross-language.

    .venv/bin/python benchmarks/bench_mirror.py [--null 1000] [--power 500] [--cross-language]
    .venv/bin/python benchmarks/bench_mirror.py --skip-simulation --skip-sample --cross-language

1. **Simulation from real texts** (read from ../shared/data, never copied): French insurance reviews
   (customer side; irritant = rated 1–2) and French Glassdoor "cons" (employee side; irritants) are
   segmented, embedded (cached) and given topics by verbatim's own topic stage. One customer irritant
   topic and one employee irritant topic are chosen; each simulated dataset gives 30 synthetic units
   (6 months each) a number of customer and employee respondents, and sets how many of them carry the
   chosen irritant from unit-level latent rates correlated at ρ (0 = nothing planted, 0.5 = planted).
   The linkage test depends only on these counts, so the topic assignments are reused and each dataset
   is simulated at the count level. The decision is the one the mirror makes for a matched pair:
   unit-level permutation p, and its min-p combination with the unit × month cell test on the
   same unit shuffles (what the mirror declares).
   Targets: declared at α = 0.05 in 5% ± 2% of null datasets; ≥ 80% with ρ = 0.5 over 30 units.
   ``--size-spreads``: the same with each respondent drawn at random (binomial sampling), offices all alike
   and of different sizes (1 to 3 and 1 to 10 times the smallest, large on both sides): the mirror's
   shuffles within size blocks against free shuffles and a precision-weighted correlation, beside what
   binomial noise leaves of ρ (the attenuation bound).
   Also printed: the **similarity null** on the real embeddings (quantiles of the permutation null of
   a pair, and the share of pairs with p > 0.5), i.e. what the topic-match p-values are referred to.
2. **The shipped sample**: the planted pairs (1: A'→A, employee leading by a month; 2: B'↔B) found,
   pair 3 (C'/C) similar without linkage, D E G H I J one-sided — with the planted themes as topics
   (the statistics alone), and with the topics the pipeline found (the whole chain).
3. **Cross-language** (``--cross-language``): reviews (``avis``) and their English translations
   (``avis_en``) fitted as two sources, over ``--cross-language-seeds`` review samples. The reference is
   the best one-to-one assignment possible, the Hungarian assignment on translation overlap (how many
   verbatims of French topic i have their translation in English topic j); printed: the share of its
   pairs the alignment (the mirror's matching, no translations seen) reproduces (target
   ≥ 95%). Also printed, stricter: French topics matched to the English topic holding most of their
   translations, against the number of distinct majority topics; the share reached when secondary links
   count; the topic counts per language and the ARI of the two partitions.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from verbatim.config import MirrorConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, insurance_verbatims, require_shared  # noqa: E402

CACHE = ROOT / "data" / "processed" / "cache"
ALPHA = 0.05
EMBEDDER = "use"   # the default encoder (EmbedConfig.embedder)


# -- 1. simulation from real texts ------------------------------------------------------------------
def real_topic_pools(n_customer: int, n_employee: int, seed: int = 0, cfg=None) -> dict:
    """Topics of real customer and employee verbatims; per respondent, whether it carries the chosen
    customer / employee irritant topic. ``cfg`` (a :class:`~verbatim.config.Config`, default: the defaults) is
    what the whole fit runs with."""
    from verbatim.config import Config, FileSpec, IngestConfig
    from verbatim.ingest import ingest
    from verbatim.mirror.linkage import irritant_flags
    from verbatim.pipeline import Pipeline

    cust = insurance_verbatims(n_customer, seed=seed, rated_only=True)
    spec = FileSpec(path=str(require_shared() / "fr_glassdoor_employees.csv.gz"), source="employee",
                    text=("review_disadvantages:cons",), date="date", score="score")
    emp = ingest([spec], IngestConfig()).verbatims
    emp = emp.sample(n=min(n_employee, len(emp)), random_state=seed)
    verb = pd.concat([cust, emp], ignore_index=True)
    t0 = time.time()
    # the whole fit a user runs: segments, prepared text, the default encoder, polarity, topics per side
    pipe = Pipeline(cfg or Config(), cache=CACHE).fit(verb)
    seg, emb, table = pipe.segments_.copy(), pipe.embeddings_, pipe.topics_
    print(f"fitted {len(seg)} segments with '{pipe.embedder_id_}' in {time.time() - t0:.0f}s", flush=True)
    irr = irritant_flags(seg)
    seg["irr"] = irr
    null = similarity_null(seg, emb, table)
    pick = {}
    for src in ("customer", "employee"):
        s = seg[(seg["source"] == src) & (seg["topic"] >= 0)]
        share = s.groupby("topic")["irr"].mean()
        size = s.groupby("topic").size()
        ok = size[(share >= 0.5)].sort_values(ascending=False)
        pick[src] = int(ok.index[0])
    hits, all_rates = {}, {}
    cfg = MirrorConfig()
    for src in ("customer", "employee"):
        s = seg[seg["source"] == src]
        per = (s.assign(hit=(s["topic"] == pick[src]) & s["irr"]).groupby("record_id")["hit"].any())
        hits[src] = per.to_numpy()
        # every irritant topic the global test would use (the mirror's eligibility rule), chosen one first
        t = s[s["topic"] >= 0]
        ok = (t.groupby("topic").size() >= cfg.min_topic_size) & (t.groupby("topic")["irr"].mean() >= cfg.min_irritant_share)
        ids = [pick[src]] + [int(x) for x in ok[ok].index if int(x) != pick[src]]
        n_rec = s["record_id"].nunique()
        all_rates[src] = np.array([s.loc[(s["topic"] == x) & s["irr"], "record_id"].nunique() / n_rec for x in ids])
    labels = {(r.source, r.topic): r.label for r in table.itertuples()}
    return {"topic": pick, "label": {s: labels[(s, pick[s])] for s in pick}, "hits": hits, "rates": all_rates,
            "n_segments": len(seg), "n_topics": table.groupby("source").size().to_dict(), "similarity_null": null}


def similarity_null(seg: pd.DataFrame, emb: np.ndarray, table: pd.DataFrame, n_perm: int = 999) -> dict:
    """The topic-similarity permutation null on real embeddings: quantiles of one pair's null draws, and the
    p-values of every customer × employee topic pair (most are unrelated: many should be large)."""
    from verbatim.mirror.align import align
    from verbatim.mirror.stats import permutation_pvalues

    al = align(seg, emb, table.drop(columns="side", errors="ignore"), ("customer", "employee"))  # every topic
    ij = [(i, j) for i in range(al.a.k) for j in range(al.b.k)]
    t0 = time.time()
    p, null = permutation_pvalues(al.a, al.b, ij, n_perm, np.random.default_rng(0), return_null=True)
    hung = np.array([p[ij.index(m)] for m in al.matches])
    sim = al.similarity.to_numpy().ravel()
    return {"quantiles": np.quantile(null[:, ij.index(al.matches[0])], [0.05, 0.25, 0.5, 0.75, 0.95]),
            "observed": np.quantile(sim, [0.05, 0.5, 0.95]), "share_p_gt_half": float(np.mean(p > 0.5)),
            "share_p_lt_005": float(np.mean(p < 0.05)), "hungarian_p": hung, "n_pairs": len(ij),
            "k": (al.a.k, al.b.k), "seconds": time.time() - t0}


def simulate_counts(rng, base_c: float, base_e: float, rho: float, units: int = 30, months: int = 6,
                    n_c: int = 120, n_e: int = 60, sd: float = 0.6):
    """Per unit × month respondent and hit counts; unit latent logits correlated at ``rho``."""
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=units)
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    pc = 1 / (1 + np.exp(-(logit(base_c) + sd * z[:, 0])))
    pe = 1 / (1 + np.exp(-(logit(base_e) + sd * z[:, 1])))
    out = []
    for n, p in ((n_c, pc), (n_e, pe)):
        k = np.round(n * p).astype(int)             # how many of the unit's respondents carry the irritant
        N = rng.multinomial(n, [1 / months] * months, size=units)
        K = np.array([rng.multivariate_hypergeometric(Nu, ku) if ku else np.zeros(months, int)
                      for Nu, ku in zip(N, k)])
        out += [K, N]
    return out  # KC, NC, KE, NE


def decide(rng, KC, NC, KE, NE, n_perm: int, cells: bool) -> tuple[bool, bool]:
    """(unit test alone, the mirror's decision: unit and cell tests joined by min-p) at α."""
    from verbatim.mirror.linkage import linkage_test, unit_linkage

    cfg = MirrorConfig()
    if not cells:
        u = unit_linkage(KC.sum(1), NC.sum(1), KE.sum(1), NE.sum(1), rng, n_perm, cfg.min_count, cfg.min_units)
        return bool(u["p"] < ALPHA), bool(u["p"] < ALPHA)
    lk = linkage_test(KC.sum(1), NC.sum(1), KE.sum(1), NE.sum(1), KC, NC, KE, NE, rng, n_perm, cfg.min_count,
                      cfg.min_cell_count, cfg.min_units, cfg.max_lag)
    return bool(lk["p"] < ALPHA), bool(lk["joint_p"] < ALPHA)


def base_rates(pools: dict) -> tuple[float, float]:
    """The chosen topics' respondent rates (customer, employee), kept within 5–50% for the simulation."""
    return tuple(float(np.clip(pools["hits"][side].mean(), 0.05, 0.5)) for side in ("customer", "employee"))


def simulation(pools: dict, n_null: int, n_power: int, n_perm: int, n_cells: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    base_c, base_e = base_rates(pools)
    res = {"base_rates": (base_c, base_e)}
    for name, rho, n in (("null", 0.0, n_null), ("power", 0.5, n_power)):
        unit, comb, realised = [], [], []
        t0 = time.time()
        for i in range(n):
            KC, NC, KE, NE = simulate_counts(rng, base_c, base_e, rho)
            realised.append(np.corrcoef(KC.sum(1) / NC.sum(1), KE.sum(1) / NE.sum(1))[0, 1])
            u, c = decide(rng, KC, NC, KE, NE, n_perm, cells=i < n_cells)
            unit.append(u)
            if i < n_cells:
                comb.append(c)
        res[name] = {"datasets": n, "unit_rate": float(np.mean(unit)),
                     "combined_rate": float(np.mean(comb)) if comb else float("nan"),
                     "combined_datasets": len(comb), "realised_r": float(np.nanmean(realised)),
                     "seconds": time.time() - t0}
    return res


def weighted_corr_p(x: np.ndarray, y: np.ndarray, w: np.ndarray, perms: np.ndarray) -> float:
    """One-sided permutation p of a weighted Pearson r (``w`` stays with its unit, ``y`` is shuffled)."""
    w = w / w.sum()
    xc = x - w @ x
    yy = np.vstack([y, y[perms]])
    yc = yy - (yy @ w)[:, None]
    r = (yc @ (w * xc)) / np.sqrt((w @ xc ** 2) * ((yc ** 2) @ w))
    return float((1 + np.sum(r[1:] >= r[0] - 1e-12)) / len(r))


def attenuation_bound(base_c: float, base_e: float, n_c: np.ndarray, n_e: np.ndarray, rho: float = 0.5,
                      units: int = 30) -> tuple[float, float]:
    """What binomial sampling leaves of ρ: the expected correlation of the observed rates (ρ times the root of
    both sides' reliabilities, true-rate variance over observed-rate variance, logit sd 0.6 as simulated) and
    the power of a one-sided test at α over ``units`` units for that correlation (Fisher z, normal theory)."""
    from scipy.stats import norm

    rel = []
    for p, n in ((base_c, n_c), (base_e, n_e)):
        true_var = (0.6 * p * (1 - p)) ** 2
        rel.append(true_var / (true_var + p * (1 - p) * float(np.mean(1 / n))))
    r = rho * float(np.sqrt(rel[0] * rel[1]))
    return r, float(norm.sf(norm.isf(ALPHA) - np.arctanh(r) * np.sqrt(units - 3)))


def size_simulation(pools: dict, n_null: int, n_power: int, n_perm: int, spread: float, seed: int = 9) -> dict:
    """Offices of different sizes: 30 units whose respondents run from 1 to ``spread`` times the smallest
    (the same offices large on both sides, as in a real network; 1 = all the same size), each respondent
    carrying the irritant with its unit's probability (binomial sampling noise, larger in small offices). The
    unit test's declared share with the mirror's shuffles (within blocks of offices of similar size,
    ``stats.SIZE_BLOCK``), with free shuffles (the baseline) and, within blocks, a precision-weighted
    correlation (each office weighted by n_c·n_e / (n_c + n_e)), on the same datasets; and the attenuation
    bound (:func:`attenuation_bound`) that no test on these counts can pass by much."""
    from verbatim.mirror.linkage import linkage_rates, unit_linkage
    from verbatim.mirror.stats import size_blocks, unit_shuffles

    rng = np.random.default_rng(seed)
    cfg = MirrorConfig()
    base_c, base_e = base_rates(pools)
    scale = np.geomspace(1.0, spread, 30)
    scale /= scale.mean()
    n_c, n_e = np.round(120 * scale).astype(int), np.round(60 * scale).astype(int)
    weights = (n_c * n_e / (n_c + n_e)).astype(float)
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    res = {"spread": spread, "sizes": (int(n_c.min()), int(n_c.max())),
           "bound": attenuation_bound(base_c, base_e, n_c, n_e)}
    for name, rho, n in (("null", 0.0, n_null), ("power", 0.5, n_power)):
        hits = {"blocks": [], "free": [], "weighted": []}
        for _ in range(n):
            z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=30)
            kc = rng.binomial(n_c, 1 / (1 + np.exp(-(logit(base_c) + 0.6 * z[:, 0]))))
            ke = rng.binomial(n_e, 1 / (1 + np.exp(-(logit(base_e) + 0.6 * z[:, 1]))))
            for how, blocks in (("blocks", size_blocks(n_c)), ("free", None)):
                perms = unit_shuffles(rng, n_perm, 30, blocks)
                u = unit_linkage(kc, n_c, ke, n_e, rng, n_perm, cfg.min_count, cfg.min_units, perms=perms)
                hits[how].append(u["p"] < ALPHA)
                if how == "blocks":
                    p = weighted_corr_p(linkage_rates(kc, n_c), linkage_rates(ke, n_e), weights, perms)
                    hits["weighted"].append(p < ALPHA)
        res[name] = {how: float(np.mean(v)) for how, v in hits.items()} | {"datasets": n}
    return res


def simulate_profiles(rng, rates_c: np.ndarray, rates_e: np.ndarray, rho: float, linked: int = 1, units: int = 30,
                      n_c: int = 120, n_e: int = 60, sd: float = 0.6):
    """Per unit, respondents carrying each irritant topic (columns: topics; the first ``linked`` topics of
    each side linked pairwise at ``rho``, the others with independent unit effects), drawn as
    :func:`simulate_counts` draws one topic."""
    zc, ze = rng.normal(size=(units, len(rates_c))), rng.normal(size=(units, len(rates_e)))
    ze[:, :linked] = rho * zc[:, :linked] + np.sqrt(1 - rho ** 2) * ze[:, :linked]
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    out = []
    for n, base, z in ((n_c, rates_c, zc), (n_e, rates_e, ze)):
        p = 1 / (1 + np.exp(-(logit(np.clip(base, 0.01, 0.5)) + sd * z)))
        out.append(np.round(n * p))
    return out[0], np.full(units, float(n_c)), out[1], np.full(units, float(n_e))



def sample_check() -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_mirror import sample_with_theme_topics  # the planted themes as topics

    from verbatim.mirror import MIRRORED_VERDICTS, Mirror
    from verbatim.pipeline import Pipeline

    model = ROOT / "models" / "sample"
    if not (model / "manifest.json").is_file():
        return {"skipped": "models/sample missing: run `verbatim demo` first"}
    pipe = Pipeline.load(model)
    seg, topics = sample_with_theme_topics(pipe, ROOT / "data" / "raw" / "sample" / "labels.csv")
    t0 = time.time()
    m = Mirror().fit(segments=seg, embeddings=pipe.embeddings_, topics=topics)
    themes = m.pairs_[["label_a", "label_b", "similarity", "similarity_low", "p", "q", "linkage_r", "linkage_q",
                       "lead", "best_lag", "verdict"]]
    fitted = Mirror().fit(pipe)
    return {"themes": themes, "one_sided": sorted(m.one_sided_["label"]), "seconds": time.time() - t0,
            "global": m.global_.text("customer", "employee"), "fitted_global": fitted.global_.text("customer", "employee"),
            "fitted": fitted.pairs_, "fitted_mirrored": int(fitted.pairs_["verdict"].isin(MIRRORED_VERDICTS).sum())}


# -- 3. cross-language --------------------------------------------------------------------------------
def cross_language(n: int = 1500, seed: int = 0) -> dict:
    from verbatim.config import TopicsConfig
    from verbatim.embed import embed_texts, get_embedder
    from sklearn.metrics import adjusted_rand_score

    from verbatim.mirror.align import align, hungarian
    from verbatim.topics import fit_topics

    raw = pd.read_csv(require_shared() / "fr_insurance_reviews.csv.gz", usecols=["avis", "avis_en"]).dropna()
    raw = raw[(raw["avis"].str.len() > 20) & (raw["avis_en"].str.len() > 20)].sample(n=n, random_state=seed)
    rows = [{"id": f"fr{i}", "record_id": f"r{i}", "source": "fr", "text": a} for i, a in enumerate(raw["avis"])]
    rows += [{"id": f"en{i}", "record_id": f"r{i}", "source": "en", "text": b} for i, b in enumerate(raw["avis_en"])]
    seg = pd.DataFrame(rows)
    emb = embed_texts(seg["text"].tolist(), get_embedder(EMBEDDER), CACHE, progress=True)
    _, seg, table = fit_topics(seg, emb, TopicsConfig(), seed=42)
    al = align(seg, emb, table.drop(columns="side", errors="ignore"), ("fr", "en"))  # every topic
    fr = seg[seg["source"] == "fr"].set_index("record_id")["topic"]
    en = seg[seg["source"] == "en"].set_index("record_id")["topic"]
    both = pd.DataFrame({"fr": fr, "en": en}).dropna()
    both = both[(both["fr"] >= 0) & (both["en"] >= 0)]
    majority = both.groupby("fr")["en"].agg(lambda s: s.value_counts().index[0])
    matched = {int(al.a.topic_ids[i]): int(al.b.topic_ids[j]) for i, j in al.matches}
    overlap = pd.crosstab(both["fr"], both["en"])
    best = {int(overlap.index[i]): int(overlap.columns[j]) for i, j in hungarian(overlap.to_numpy().astype(float))}
    ok = [matched.get(int(t)) == int(e) for t, e in majority.items()]
    linked = {t: {m} for t, m in matched.items()}
    for r in al.links.itertuples():
        linked.setdefault(int(r.topic_a), set()).add(int(r.topic_b))
    ok_links = [int(e) in linked.get(int(t), set()) for t, e in majority.items()]
    return {"reference": len(best), "reproduced": sum(matched.get(t) == e for t, e in best.items()),
            "k": tuple(int((table["source"] == src).sum()) for src in ("fr", "en")),
            "fr_topics": len(majority), "agree": int(sum(ok)), "share": float(np.mean(ok)),
            # a one-to-one matching can at best reach the number of distinct majority topics
            "ceiling": int(majority.nunique()),
            "agree_links": int(sum(ok_links)), "links_per_topic": float(np.mean([len(v) for v in linked.values()])),
            "ari": float(adjusted_rand_score(both["fr"], both["en"]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--null", type=int, default=1000, help="null datasets (unit-level test)")
    ap.add_argument("--power", type=int, default=500, help="planted datasets (unit-level test)")
    ap.add_argument("--cells", type=int, default=300, help="datasets also run through the combined unit+cell rule")
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--size-spreads", type=float, nargs="*", default=[1.0, 3.0, 10.0], help="simulations with "
                    "binomial sampling, offices of different sizes (largest / smallest; 1: all alike; none to skip)")
    ap.add_argument("--customers", type=int, default=1200)
    ap.add_argument("--employees", type=int, default=800)
    ap.add_argument("--cross-language", action="store_true")
    ap.add_argument("--cross-language-seeds", type=int, default=3, help="review samples drawn for the check")
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--config", type=Path, help="a verbatim.toml the simulation's real comments are fitted "
                    "with (e.g. [segment] merge_content_free = false, the baseline); default: the defaults")
    ap.add_argument("--skip-simulation", action="store_true")
    args = ap.parse_args()

    if not args.skip_simulation:
        print("== 1. simulation from real texts ==", flush=True)
        from verbatim.config import load_config

        if args.config and not args.config.is_file():
            ap.exit(2, f"bench_mirror.py: error: --config '{args.config}' not found; give a verbatim.toml\n")
        pools = real_topic_pools(args.customers, args.employees, cfg=load_config(args.config) if args.config else None)
        print(f"{pools['n_segments']} segments, topics {pools['n_topics']}; chosen irritant topics: "
              f"customer {pools['topic']['customer']} “{pools['label']['customer']}”, "
              f"employee {pools['topic']['employee']} “{pools['label']['employee']}”", flush=True)
        sim = simulation(pools, args.null, args.power, args.permutations, args.cells)
        bc, be = sim["base_rates"]
        print(f"respondent rates of the chosen topics: customer {bc:.1%}, employee {be:.1%}; 30 units × 6 months, "
              f"120 customers and 60 employees per unit")
        for name, target in (("null", "5% ± 2%"), ("power", "≥ 80%")):
            r = sim[name]
            both = (f", {r['combined_rate']:.1%} of {r['combined_datasets']} (the mirror's unit + cell min-p rule)"
                    if r["combined_datasets"] else "")
            print(f"{name:>5} (mean realised unit r {r['realised_r']:+.2f}): declared in {r['unit_rate']:.1%} of "
                  f"{r['datasets']} datasets (unit test){both} — target {target} [{r['seconds']:.0f}s]")
        for spread in args.size_spreads:
            ss = size_simulation(pools, args.null, args.power, args.permutations, spread)
            print(f"offices {ss['sizes'][0]}–{ss['sizes'][1]} customers (×{spread:g}, the same offices large on both "
                  f"sides), binomial sampling: unit test declared under the null in {ss['null']['blocks']:.1%} with "
                  f"shuffles within size blocks (the mirror's), {ss['null']['free']:.1%} with free shuffles (baseline), "
                  f"of {ss['null']['datasets']}; at ρ = 0.5 in {ss['power']['blocks']:.1%} / {ss['power']['free']:.1%} "
                  f"of {ss['power']['datasets']} — target 5% ± 2% and ≥ 80%; precision-weighted correlation "
                  f"{ss['null']['weighted']:.1%} / {ss['power']['weighted']:.1%}; binomial noise leaves ρ = 0.5 an "
                  f"expected observed r of {ss['bound'][0]:+.2f}, which a one-sided test over 30 units detects "
                  f"{ss['bound'][1]:.0%} of the time (normal theory)", flush=True)
        nl = pools["similarity_null"]
        print(f"similarity null on real embeddings ({nl['k'][0]} × {nl['k'][1]} topics, {nl['seconds']:.0f}s): "
              f"null of the first Hungarian pair, quantiles 5/25/50/75/95% = {np.round(nl['quantiles'], 3).tolist()}; "
              f"observed similarities 5/50/95% = {np.round(nl['observed'], 3).tolist()}; of {nl['n_pairs']} pairs, "
              f"{nl['share_p_gt_half']:.0%} have p > 0.5 and {nl['share_p_lt_005']:.0%} p < 0.05; Hungarian pairs' p: "
              f"{np.round(np.sort(nl['hungarian_p']), 3).tolist()}")

    if not args.skip_sample:
        print("\n== 2. the shipped sample ==", flush=True)
        s = sample_check()
        if "skipped" in s:
            print(s["skipped"])
        else:
            with pd.option_context("display.width", 200, "display.max_columns", 20):
                print("planted themes as topics:")
                print(s["themes"].round(3).to_string(index=False))
                print(f"one-sided: {', '.join(s['one_sided'])}")
                print(s["global"])
                print(f"topics found by the pipeline: {len(s['fitted'])} pairs, {s['fitted_mirrored']} mirrored, "
                      f"{int(s['fitted']['topic_match'].sum())} topic matches; p of the Hungarian pairs: "
                      f"{np.round(np.sort(s['fitted'].loc[s['fitted']['kind'] == 'primary', 'p'].to_numpy()), 3).tolist()}")
                print(s["fitted_global"])

    if args.cross_language:
        print("\n== 3. cross-language (avis vs avis_en) ==", flush=True)
        done = [0, 0]
        for seed in range(args.cross_language_seeds):
            c = cross_language(seed=seed)
            done = [done[0] + c["reproduced"], done[1] + c["reference"]]
            print(f"seed {seed} ({c['k'][0]} French, {c['k'][1]} English topics): the alignment reproduces "
                  f"{c['reproduced']}/{c['reference']} pairs of the best one-to-one assignment (Hungarian on "
                  f"translation overlap); stricter: {c['agree']}/{c['fr_topics']} French topics matched to the "
                  f"English topic holding most of their translations, of {c['ceiling']} distinct majority topics; "
                  f"with secondary links {c['agree_links']}/{c['fr_topics']} at {c['links_per_topic']:.2f} links "
                  f"per topic; ARI of the two partitions {c['ari']:.2f}", flush=True)
        print(f"all samples: {done[0]}/{done[1]} = {done[0] / max(done[1], 1):.0%} of the reference pairs reproduced "
              f"(target ≥ 95%)")


if __name__ == "__main__":
    main()
