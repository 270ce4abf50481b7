"""Does the whole chain find a mirror planted between two themes of real comments, as often as knowing the
themes would? Null replicates: how often does it declare one that is not there?

Each replicate is a set of synthetic units made of real French comments (``_realunits``: retail reviews
with their own rating, Glassdoor/Indeed answers with their pros and cons), a unit-level link planted
between one customer theme and one employee theme (themes defined by rules on the texts, independently
of the pipeline) at latent correlation ``rho``; ``rho = 0`` is the null. Every replicate goes through
what a user runs: ``ingest`` of the two exports, ``Pipeline.fit`` (segments, embeddings from the cache,
polarity, topics per source and side), ``Mirror.fit`` with the planted pair named as a hypothesis
(``[[mirror.hypotheses]]`` with example phrases written from the theme's meaning). Arms, same replicate:

- **oracle**: the mirror's unit test (shrunk arcsine rates, size-blocked unit shuffles) on the true theme
  indicators; "detects" at p < 0.01;
- **chain**: verbatim's exploratory answer: a declared pair (verdict mirrored or linked) whose two sides are
  about the planted themes (most of each side's irritant respondents belong to its theme); the global test;
- **hypothesis**: the named pair's confirmatory test (p < alpha);
- **anchor**: BERTopic's defaults (UMAP + HDBSCAN, every segment of a source, seeded) in place of
  verbatim's topics, through the same mirror.

Embeddings are cached (``data/processed/cache``), so after the first replicates only the fit remains;
fitted replicates are kept under ``data/processed/bench_realmirror`` so a change of the mirror can be
measured again without refitting (``--refit`` ignores them).

    .venv/bin/python benchmarks/bench_realmirror.py --units 30 --rho 0.6 --replicates 40
    .venv/bin/python benchmarks/bench_realmirror.py --units 30 --rho 0 --replicates 100 --arms chain oracle hypothesis
    .venv/bin/python benchmarks/bench_realmirror.py --labels untagged --replicates 10     # employees untagged
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realunits import CUSTOMER_THEMES, EMPLOYEE_THEMES, HYPOTHESES, PAIRS, Design, draw_replicate, load_pools  # noqa: E402

warnings.filterwarnings("ignore", category=UserWarning)
ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "data" / "processed" / "bench_realmirror"


def ingest_replicate(rep, folder: Path, labels: str) -> pd.DataFrame:
    """The two exports as a user would ingest them. ``labels``: ``tagged`` (customers rated, employees'
    pros/cons tagged and rated), ``untagged`` (employees' two answers as untagged verbatims, no rating),
    ``none`` (nobody rated or tagged)."""
    from verbatim.config import FileSpec, IngestConfig
    from verbatim.ingest import ingest

    rep.customers.to_csv(folder / "clients.csv", index=False)
    rated = labels == "tagged"
    # untagged: the two answers as a free-text export would name them (no column name says which is which)
    rep.employees.rename(columns={} if rated else {"pros": "reponse_1", "cons": "reponse_2"}).to_csv(
        folder / "salaries.csv", index=False)
    specs = [FileSpec(path=str(folder / "clients.csv"), source="customer", text=("text",), id="id", date="date",
                      unit="unit", score="score" if labels != "none" else None),
             FileSpec(path=str(folder / "salaries.csv"), source="employee",
                      text=("pros:pros", "cons:cons") if rated else ("reponse_1", "reponse_2"), id="id", date="date",
                      unit="unit", score="score" if rated else None)]
    return ingest(specs, IngestConfig()).verbatims


def hypotheses_for(pair: str) -> tuple:
    from verbatim.config import Hypothesis

    ca, eb = PAIRS[pair]
    return (Hypothesis(name=f"{ca} ↔ {eb}", examples={"customer": tuple(HYPOTHESES[ca]),
                                                        "employee": tuple(HYPOTHESES[eb])}),)


def fitted(design: Design, labels: str, index: int, seed: int, config, refit: bool):
    """The replicate's data and its fitted pipeline (from the store when it was fitted before)."""
    from verbatim.pipeline import Pipeline

    pools = load_pools()
    rep = draw_replicate(pools, design, seed)
    key = f"{design.pair}-u{design.n_units}-c{design.customers_per_unit}-e{design.employees_per_unit}" \
          f"-rho{design.rho:g}-{labels}"
    folder = STORE / key / f"rep{index:04d}"
    if (folder / "manifest.json").is_file() and not refit:
        return rep, Pipeline.load(folder), 0.0
    with tempfile.TemporaryDirectory() as tmp:
        table = ingest_replicate(rep, Path(tmp), labels)
    t = time.perf_counter()
    pipe = Pipeline(config).fit(table)
    took = time.perf_counter() - t
    pipe.save(folder)
    return rep, pipe, took


# -- the arms ---------------------------------------------------------------------------------------
def oracle(rep, pair: str, n_permutations: int = 9999) -> dict:
    from verbatim.mirror.linkage import unit_linkage

    ca, eb = PAIRS[pair]
    t = rep.truth
    a = t[t["source"] == "customer"].groupby("unit")[ca].agg(["sum", "size"])
    b = t[t["source"] == "employee"].groupby("unit")[eb].agg(["sum", "size"])
    b = b.reindex(a.index)
    u = unit_linkage(a["sum"], a["size"], b["sum"], b["size"], np.random.default_rng(0), n_permutations)
    return {"oracle_r": float(u["r"]), "oracle_p": float(u["p"])}


def theme_shares(segments: pd.DataFrame, truth: pd.DataFrame, source: str, topics, themes) -> dict[str, float]:
    """Per theme: the share of an element's irritant respondents whose text belongs to it."""
    s = segments[(segments["source"] == source) & segments["topic"].isin(list(topics)) & segments["irritant"]]
    resp = pd.Index(s["record_id"].astype(str).unique())
    if not len(resp):
        return {th: 0.0 for th in themes}
    t = truth.set_index("id").reindex(resp)
    return {th: float(t[th].fillna(False).mean()) for th in themes}


def theme_of_element(segments: pd.DataFrame, truth: pd.DataFrame, source: str, topics, themes) -> tuple[str, float]:
    """The theme most of an element's irritant respondents belong to, and that share."""
    shares = theme_shares(segments, truth, source, topics, themes)
    best = max(shares, key=shares.get)
    return best, shares[best]


def about(segments, truth, source, topics, themes, theme: str, base: dict) -> tuple[bool, bool]:
    """Whether an element is about ``theme``: strictly (most of its irritant respondents belong to it), and
    by lift (it is the theme most over-represented in the element, at least twice its share of the side's
    irritant respondents)."""
    shares = theme_shares(segments, truth, source, topics, themes)
    lift = {th: shares[th] / base[th] if base[th] > 0 else 0.0 for th in themes}
    return shares[theme] >= 0.5, max(lift, key=lift.get) == theme and lift[theme] >= 2


def joins(pairs: pd.DataFrame, segments: pd.DataFrame, truth: pd.DataFrame, pair: str, verdicts) -> dict:
    """Declared pairs, and whether one joins the planted themes (strictly: each side's element mostly its
    theme; by lift: each side's element is about its theme, see :func:`about`)."""
    ca, eb = PAIRS[pair]
    base = {src: theme_shares(segments, truth, src, segments.loc[segments["source"] == src, "topic"].unique(), th)
            for src, th in (("customer", CUSTOMER_THEMES), ("employee", EMPLOYEE_THEMES))}
    out = {"declared": 0, "joined": False, "joined_lift": False, "wrong": 0}
    for r in pairs[pairs["verdict"].isin(verdicts)].itertuples():
        ta = getattr(r, "topics_a", None) or [int(r.topic_a)]
        tb = getattr(r, "topics_b", None) or [int(r.topic_b)]
        sa, la = about(segments, truth, "customer", ta, CUSTOMER_THEMES, ca, base["customer"])
        sb, lb = about(segments, truth, "employee", tb, EMPLOYEE_THEMES, eb, base["employee"])
        out["declared"] += 1
        out["joined"] |= sa and sb
        out["joined_lift"] |= la and lb
        out["wrong"] += int(not (la and lb))
    return out


def chain_arm(pipe, rep, pair: str, mirror_cfg) -> dict:
    from verbatim.mirror import MIRRORED_VERDICTS, Mirror

    t = time.perf_counter()
    m = Mirror(mirror_cfg).fit(pipe)
    res = {"mirror_s": time.perf_counter() - t, "global_p": float(m.global_.p) if m.global_.status == "ok" else None}
    res.update({f"chain_{k}": v for k, v in joins(m.pairs_, pipe.segments_, rep.truth, pair, MIRRORED_VERDICTS).items()})
    if not isinstance(m.screen_, str):   # the bar the screen set: would the true themes' own r clear it?
        res.update(screen_bar=m.screen_.critical(mirror_cfg.alpha), screen_pairs=int(m.screen_.r.size))
    h = getattr(m, "hypotheses_", None)
    if h is not None and len(h):
        row = h.iloc[0]
        res.update(hyp_p=float(row["p"]), hyp_r=float(row["r"]), hyp_low=float(row["r_low"]), hyp_high=float(row["r_high"]),
                   hyp_power=float(row.get("power_meta", np.nan)))
    return res


def anchor_arm(pipe, rep, pair: str, mirror_cfg, seed: int) -> dict:
    """BERTopic's defaults (UMAP + HDBSCAN on every segment of a source) in place of verbatim's topics."""
    from bertopic import BERTopic
    from umap import UMAP

    from verbatim.mirror import MIRRORED_VERDICTS, Mirror

    seg = pipe.segments_.copy()
    rows = []
    t = time.perf_counter()
    for source in ("customer", "employee"):
        m = (seg["source"] == source).to_numpy()
        tm = BERTopic(umap_model=UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed),
                      language="multilingual")
        topics, _ = tm.fit_transform(seg.loc[m, "text"].tolist(), embeddings=pipe.embeddings_[m])
        seg.loc[m, "topic"] = np.asarray(topics, dtype=np.int64)
        info = tm.get_topic_info()
        for r in info[info["Topic"] >= 0].itertuples():
            rows.append({"source": source, "topic": int(r.Topic), "label": str(r.Name), "size": int(r.Count)})
    topics = pd.DataFrame(rows)
    took = time.perf_counter() - t
    mir = Mirror(replace(mirror_cfg, hypotheses=())).fit(segments=seg.drop(columns=["topic_side"], errors="ignore"),
                                                         embeddings=pipe.embeddings_, topics=topics)
    out = {f"anchor_{k}": v for k, v in joins(mir.pairs_, seg, rep.truth, pair, MIRRORED_VERDICTS).items()}
    out.update(anchor_s=took, anchor_topics=len(topics))
    return out


def polarity_auc(pipe, rep) -> dict:
    """Verbatim-level AUC of the chain's irritant probability: employees cons against pros, customers 1-2
    against 4-5 stars (from the replicate's own data, whatever the chain was given)."""
    from sklearn.metrics import roc_auc_score

    v = pipe.verbatims_
    out = {}
    e = v[v["source"] == "employee"]
    # which answer it was (the cons / the second column), whatever the chain was told
    y = e["id"].astype(str).str.endswith(("#cons", "#reponse_2")).to_numpy()
    if 0 < y.sum() < len(y):
        out["auc_employee"] = float(roc_auc_score(y, e["irritant_p"]))
    c = v[v["source"] == "customer"]
    stars = c["record_id"].astype(str).map(rep.customers.set_index("id")["score"])
    keep = stars.isin([1, 2, 4, 5]).to_numpy()
    out["auc_customer"] = float(roc_auc_score(stars[keep] <= 2, c["irritant_p"].to_numpy()[keep]))
    out["polarity_methods"] = {s: r.get("method") for s, r in pipe.polarity_.report_.items()}
    return out


# -- the run -------------------------------------------------------------------------------------------
def run(args) -> list[dict]:
    from verbatim.config import Config, load_config

    base = load_config(args.config) if args.config else Config()
    base = replace(base, mirror=replace(base.mirror, hypotheses=hypotheses_for(args.pair)))
    results = []
    for units in args.units:
        per_c, per_e = (100, 50) if units <= 30 else (80, 25)
        design = Design(n_units=units, customers_per_unit=per_c, employees_per_unit=per_e, rho=args.rho, pair=args.pair)
        for k in range(args.start, args.start + args.replicates):
            seed = 10_000 * units + k + (0 if args.rho else 500_000)
            rep, pipe, fit_s = fitted(design, args.labels, k, seed, base, args.refit)
            row = {"units": units, "rho": args.rho, "pair": args.pair, "labels": args.labels, "replicate": k,
                   "seed": seed, "latent_r": rep.latent_r, "fit_s": fit_s}
            if "oracle" in args.arms:
                row.update(oracle(rep, args.pair))
            if "chain" in args.arms:
                row.update(chain_arm(pipe, rep, args.pair, base.mirror))
                if "oracle_r" in row and "screen_bar" in row:
                    row["oracle_clears_bar"] = bool(row["oracle_r"] >= row["screen_bar"])
                row.update(polarity_auc(pipe, rep))
            if "anchor" in args.arms:
                row.update(anchor_arm(pipe, rep, args.pair, base.mirror, seed))
            results.append(row)
            print(json.dumps(row, default=float), flush=True)
            if args.out:
                with open(args.out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(row, default=float) + "\n")
    return results


def share(g: pd.DataFrame, col: str, test) -> str:
    return f"{test(g[col]).mean():.0%}" if col in g else "–"


def summary(rows: list[dict], alpha: float = 0.05) -> str:
    df = pd.DataFrame(rows)
    lines = ["| units | rho | labels | n | oracle p<.01 | chain declares the pair (strict / lift) | … when the oracle "
             "does | global p<α | any pair declared | hypothesis p<α | … / oracle p<α | anchor declares the pair "
             "(strict / lift) |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (u, rho, lab), g in df.groupby(["units", "rho", "labels"]):
        det = g["oracle_p"] < 0.01 if "oracle_p" in g else pd.Series(False, index=g.index)
        f = lambda col, m=None: (f"{g.loc[m, col].mean():.0%}" if m is not None and m.any() else  # noqa: E731
                                 f"{g[col].mean():.0%}") if col in g else "–"
        hyp = (g["hyp_p"] < alpha) if "hyp_p" in g else None
        orc = (g["oracle_p"] < alpha) if "oracle_p" in g else None
        ratio = f"{hyp.mean() / orc.mean():.2f}" if hyp is not None and orc is not None and orc.mean() else "–"
        lines.append(f"| {u} | {rho:g} | {lab} | {len(g)} | {det.mean():.0%} | {f('chain_joined')} / "
                     f"{f('chain_joined_lift')} | {f('chain_joined', det)} / {f('chain_joined_lift', det)} | "
                     f"{share(g, 'global_p', lambda v: v.fillna(1) < alpha)} | "
                     f"{share(g, 'chain_declared', lambda v: v > 0)} | "
                     f"{hyp.mean() if hyp is not None else float('nan'):.0%} | {ratio} | "
                     f"{f('anchor_joined')} / {f('anchor_joined_lift')} |")
    if "oracle_clears_bar" in df:
        lines.append("")
        for (u, rho), g in df.groupby(["units", "rho"]):
            det = g["oracle_p"] < 0.01
            lines.append(f"{u} units, rho {rho:g}: the screen tests {g['screen_pairs'].median():.0f} pairs (median), its "
                         f"bar is r ≥ {g['screen_bar'].median():.2f}; the true themes' own r clears it in "
                         f"{g['oracle_clears_bar'].mean():.0%} of replicates ({g.loc[det, 'oracle_clears_bar'].mean():.0%} "
                         f"of those where the oracle's p < 0.01)")
    if "auc_employee" in df:
        lines.append("")
        lines.append(f"polarity, verbatim AUC: employees cons vs pros {df['auc_employee'].mean():.3f}, customers "
                     f"1-2 vs 4-5 stars {df['auc_customer'].mean():.3f} (mean of {len(df)} replicates)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", type=int, nargs="+", default=[30])
    ap.add_argument("--rho", type=float, default=0.6)
    ap.add_argument("--pair", choices=sorted(PAIRS), default="delivery-workload")
    ap.add_argument("--labels", choices=["tagged", "untagged", "none"], default="tagged")
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--arms", nargs="+", default=["oracle", "chain", "anchor"], choices=["oracle", "chain", "anchor"])
    ap.add_argument("--config", help="a verbatim.toml for the chain (default settings otherwise)")
    ap.add_argument("--refit", action="store_true", help="refit replicates kept from an earlier run")
    ap.add_argument("--out", help="append one JSON line per replicate to this file")
    ap.add_argument("--summarise", nargs="*", help="only print the summary of earlier --out files")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.summarise:
        rows = [json.loads(line) for f in args.summarise for line in open(f, encoding="utf-8") if line.strip()]
    else:
        rows = run(args)
    print(summary(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
