"""The whole chain on generated samples: does verbatim find the mirror that is there, and only it?

    .venv/bin/python benchmarks/bench_chain.py                      # the shipped sample + 5 seeds + 5 null samples
    .venv/bin/python benchmarks/bench_chain.py --seeds 1 2 3 4 5 --nulls 20
    .venv/bin/python benchmarks/bench_chain.py --shipped-only
    .venv/bin/python benchmarks/bench_chain.py --nulls 0 --lead-draws 20   # the lead's power analysis
    .venv/bin/python benchmarks/bench_chain.py --no-shipped --nulls 30 --null-start 141 --shuffled-order
    .venv/bin/python benchmarks/bench_chain.py --config my.toml     # another configuration of the chain

Each sample is written by ``scripts/make_sample.py`` (the shipped one, other ``--seed`` values with
the shipped sizes, and ``--no-mirrors`` null samples where the employee side has latent strengths of
its own; ``--shuffled-order`` composes the generated samples' respondents in a random order, which
removes an office-order tie between the two sides, see ``benchmarks/bench_sample_order.py``), then
run exactly as a user runs it: ingest → fit (embedder, polarity, topics per source and side) → mirror
with the sample's own ``verbatim.toml``. Nothing from the ground truth reaches
the chain. Afterwards each declared pair's topics are named by the planted theme most of their
single-theme segments carry (``labels.csv``), and the verdicts are scored against the plan:

- pair 1 (A' ↔ A, employee side leading) and pair 2 (B' ↔ B) declared;
- pair 3 (C' ↔ C) not declared; no declared pair involving D, E, G (customer-only) or H, I, J
  (employee-only); L ↔ A (incivility follows waiting) is planted too and may be declared;
- the global test at p < 0.01;
- "lead on themes": the lead test on the planted themes themselves (the ceiling of what the topics
  can show: a topic holding a fraction of a theme holds that fraction of its respondents); with
  ``--lead-draws N``, its power when pure topics hold 100/80/60/40/25% of each theme;
- on null samples: no pair declared (target: at most 1 null sample of 20 declares any pair).
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench_sample_order import make_sample  # the generator in a child process

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "raw" / "sample"
ONLY_ONE_SIDE = set("DEGHIJ")


def generate(out: Path, seed: int | None, mirrors: bool = True, shuffled: bool = False,
             config: Path | None = None) -> Path:
    """A sample folder (the shipped files when ``seed`` is None) with the shipped configuration, or
    ``config`` in its place (its paths are read relative to the sample folder); ``shuffled`` composes
    the generated samples' texts in a random order (``--shuffled-order``)."""
    if seed is None:
        shutil.copytree(SAMPLE, out)
    else:
        make_sample(out, "--seed", str(seed), *([] if mirrors else ["--no-mirrors"]),
                    *(["--shuffled-order"] if shuffled else []))
    shutil.copy(config or SAMPLE / "verbatim.toml", out / "verbatim.toml")
    return out


SHARES = (1.0, 0.8, 0.6, 0.4, 0.25)  # shares of a theme's irritant verbatims for the lead's power


def theme_lead(segments: pd.DataFrame, labels_csv: Path, max_lag: int = 1, draws: int = 0) -> tuple[float, dict]:
    """p of the lead test (:func:`verbatim.mirror.lead.lead_test`) on the planted themes A ↔ A'
    (segments flagged irritant by the pipeline, themes from ``labels.csv``): what the lead test can
    do when a topic holds all of a theme, the ceiling for the topics the chain finds. With ``draws``,
    also the power analysis: for each share in :data:`SHARES`, how often (of ``draws`` random subsets
    of each side's theme verbatims, a pure topic holding that share) the test at the mirror's default
    ``max_lag`` of 2 claims the employee lead at p < 0.05."""
    import numpy as np

    from verbatim.mirror.lead import lead_test
    from verbatim.mirror.linkage import count_matrices, irritant_flags
    from verbatim.sample import read_labels

    lab = read_labels(labels_csv)
    themes = segments["id"].map(dict(zip(lab["id"], lab["themes"]))).fillna("").str.split("|")
    s = segments.assign(_irr=irritant_flags(segments), _month=pd.to_datetime(segments["date"]).dt.to_period("M"))
    sides = []
    for source, theme in (("customer", "A"), ("employee", "A'")):
        m = (s["source"] == source).to_numpy()
        sides.append(s[m].assign(hit=themes[m].map(lambda t: theme in t) & s["_irr"][m]))

    def lead(keep, rng, lag):
        tables = [side.assign(hit=side["hit"] & side["record_id"].isin(k) if k is not None else side["hit"])
                  .groupby(["unit", "_month", "record_id"])["hit"].any()
                  .groupby(["unit", "_month"]).agg(k="sum", n="size")
                  for side, k in zip(sides, keep)]
        return lead_test(*count_matrices(*tables)[2], rng, 4999 if draws else 9999, lag)

    p = lead((None, None), np.random.default_rng(0), max_lag)[1]
    rng, power = np.random.default_rng(1), {}
    for share in SHARES if draws else ():
        hits = 0
        for _ in range(draws if share < 1 else 1):
            keep = [{r for r in side.loc[side["hit"], "record_id"].unique() if rng.random() < share} for side in sides]
            _, lp, lag = lead(keep, rng, 2)
            hits += lp < 0.05 and lag > 0
        power[share] = (hits, draws if share < 1 else 1)
    return p, power


def run_chain(folder: Path, lead_draws: int = 0, **mirror_settings) -> dict:
    """ingest → fit → mirror on ``folder``; the declared pairs as planted themes, and the global test."""
    from verbatim.config import load_config
    from verbatim.ingest import ingest
    from verbatim.mirror import Mirror
    from verbatim.pipeline import Pipeline
    from verbatim.sample import declared_themes

    t0 = time.perf_counter()
    cfg = load_config(folder / "verbatim.toml")
    pipe = Pipeline(cfg).fit(ingest(cfg.ingest.files, cfg.ingest).verbatims)
    m = Mirror(cfg.mirror, **mirror_settings).fit(pipe)
    declared = declared_themes(m, pipe.segments_, folder / "labels.csv")
    g = getattr(m, "global_", None)
    return {"declared": declared, "global_p": getattr(g, "p", float("nan")), "seconds": time.perf_counter() - t0,
            **dict(zip(("theme_lead_p", "lead_power"), theme_lead(pipe.segments_, folder / "labels.csv",
                                                                 draws=lead_draws))),
            "topics": {s: int((pipe.topics_["source"] == s).sum()) for s in ("customer", "employee")}}


def score(res: dict) -> dict:
    pairs = {(d["customer"], d["employee"]): d for d in res["declared"]}
    p1 = [d for d in res["declared"] if (d["customer"], d["employee"]) == ("A", "A'")]
    return {"pair1": bool(p1), "pair1_lead": any(d["lead"] == "employee" for d in p1),
            "pair2": ("B", "B'") in pairs, "pair3": ("C", "C'") in pairs,
            "one_sided": sorted({t for c, e in pairs for t in (c, e.rstrip("'")) if t in ONLY_ONE_SIDE}),
            "global": res["global_p"] < 0.01, "any": bool(pairs)}


def describe(res: dict) -> str:
    return "; ".join(f"{d['customer']}↔{d['employee']} r={d['r']:+.2f} q={d['q']:.3f} lead={d['lead'] or '-'}"
                     for d in res["declared"]) or "(none)"


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT / "src"))

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5], help="other generator seeds")
    ap.add_argument("--nulls", type=int, default=5, help="null samples (--no-mirrors), seeds 101, 102…")
    ap.add_argument("--null-start", type=int, default=101, help="seed of the first null sample")
    ap.add_argument("--shipped-only", action="store_true")
    ap.add_argument("--no-shipped", action="store_true", help="skip the shipped sample")
    ap.add_argument("--config", type=Path, help="a verbatim.toml to use instead of the sample's (e.g. with "
                    "[segment] min_words = 6); its file paths are read relative to each sample folder")
    ap.add_argument("--shuffled-order", action="store_true", help="generate samples with make_sample.py "
                    "--shuffled-order (texts composed in a random order, not office by office)")
    ap.add_argument("--lead-draws", type=int, default=0, help="power analysis of the lead on each planted sample: "
                    "random subsets per share of the theme (0: skip)")
    a = ap.parse_args(argv)
    if a.config and not a.config.is_file():
        ap.error(f"--config {a.config}: no such file; give the path of a verbatim.toml")
    logging.basicConfig(level=logging.ERROR)
    runs = [] if a.no_shipped else [("shipped", None, True)]
    if not a.shipped_only:
        runs += [(f"seed {s}", s, True) for s in a.seeds] + [(f"null {a.null_start + i}", a.null_start + i, False)
                                                                    for i in range(a.nulls)]
    rows, power = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, seed, mirrors in runs:
            folder = generate(Path(tmp) / name.replace(" ", "_"), seed, mirrors, a.shuffled_order, a.config)
            res = run_chain(folder, a.lead_draws if mirrors else 0)
            for share, (hits, n) in res["lead_power"].items():
                power[share] = [x + y for x, y in zip(power.get(share, (0, 0)), (hits, n))]
            sc = score(res)
            rows.append({"sample": name, **sc, "global_p": res["global_p"], "s": round(res["seconds"]),
                         "theme_lead_p": res["theme_lead_p"]})
            print(f"{name:9} {res['seconds']:5.0f}s topics {res['topics']} global p={res['global_p']:.3f} | "
                  f"{describe(res)}", flush=True)
    df = pd.DataFrame(rows)
    planted = df[~df["sample"].str.startswith("null")]
    ok = planted["pair1"] & planted["pair2"] & ~planted["pair3"] & (planted["one_sided"].map(len) == 0)
    print("\n| sample | pair 1 | employee leads | lead on themes (p) | pair 2 | pair 3 (should not) "
          "| one-sided themes (should be none) | global p |")
    print("|---|---|---|---|---|---|---|---|")
    for r in planted.itertuples():
        print(f"| {r.sample} | {'yes' if r.pair1 else 'no'} | {'yes' if r.pair1_lead else 'no'} | "
              f"{r.theme_lead_p:.4f} | {'yes' if r.pair2 else 'no'} | {'yes' if r.pair3 else 'no'} | "
              f"{', '.join(r.one_sided) or '-'} | {r.global_p:.3f} |")
    print(f"\nplanted samples meeting the plan: {int(ok.sum())}/{len(planted)} "
          f"(global p < 0.01 in {int(planted['global'].sum())}/{len(planted)})")
    for share, (hits, n) in power.items():
        print(f"lead power: a pure topic holding {share:.0%} of theme A and of theme A' — employee lead claimed "
              f"(p < 0.05, max_lag 2) in {hits}/{n} = {hits / n:.0%}")
    nulls = df[df["sample"].str.startswith("null")]
    if len(nulls):
        print(f"null samples declaring any pair: {int(nulls['any'].sum())}/{len(nulls)}; "
              f"global p < 0.05 in {int((nulls['global_p'] < 0.05).sum())}/{len(nulls)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
