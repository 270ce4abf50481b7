"""Does the sample generator tie the two sides together through the order it composes texts in?

    .venv/bin/python benchmarks/bench_sample_order.py               # 10 null samples, both orders
    .venv/bin/python benchmarks/bench_sample_order.py --samples 25 --start 141

``scripts/make_sample.py`` must give every text once, so the later a text is composed the more clauses
it tends to get. Composed office by office (the shipped sample's order), the last offices of the loop
get longer texts on both sides: more segments per respondent, so every topic's per-unit rate rises with
the office's rank on both sides, and a null sample (``--no-mirrors``) is not quite null. For each null
sample, generated once office by office and once with ``--shuffled-order``, this prints the Spearman
correlation between an office's rank in the loop and its mean number of segments per respondent (the
pipeline's own segmenter, with the sample's settings), per side.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
SIDES = {"customer": ("clients.csv", "bureau", ["commentaire"]),
         "employee": ("postiers.csv", "site", ["ce_qui_va_bien", "ce_qui_irrite"])}


def make_sample(out: Path, *flags: str) -> Path:
    """``scripts/make_sample.py --out out *flags`` in a child process (the generator keeps its settings in
    module constants), for the benchmarks and tests that generate samples."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample.py"), "--out", str(out), *flags],
                   check=True, capture_output=True)
    return out


def office_ranks(n_units: int) -> dict[str, int]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_sample

    return {name: i for i, (name, _) in enumerate(make_sample.network(n_units))}


def rank_correlations(folder: Path, ranks: dict[str, int]) -> dict[str, tuple[float, float]]:
    """side → (Spearman rho, p) of segments per respondent against the office's rank in the loop."""
    from verbatim.config import load_config
    from verbatim.segment import split_text

    cfg, out = load_config(ROOT / "data" / "raw" / "sample" / "verbatim.toml").segment, {}
    for side, (name, unit, fields) in SIDES.items():
        df = pd.read_csv(folder / name, sep=";", dtype=str).fillna("")
        n_seg = sum(df[f].map(lambda t: len(split_text(t, cfg)) if t.strip() else 0) for f in fields)
        per_office = n_seg.groupby(df[unit]).mean()
        rho, p = spearmanr(per_office.index.map(ranks), per_office.to_numpy())
        out[side] = (float(rho), float(p))
    return out


def main(argv=None) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10, help="null samples per order")
    ap.add_argument("--start", type=int, default=141, help="generator seed of the first sample")
    a = ap.parse_args(argv)
    ranks, rows = office_ranks(40), []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(a.start, a.start + a.samples):
            for order, flag in (("office by office", []), ("shuffled", ["--shuffled-order"])):
                out = make_sample(Path(tmp) / f"{seed}-{len(flag)}", "--seed", str(seed), "--no-mirrors", *flag)
                for side, (rho, p) in rank_correlations(out, ranks).items():
                    rows.append({"seed": seed, "order": order, "side": side, "rho": rho, "p": p})
                print(f"seed {seed} {order:16} " + "  ".join(f"{r['side']} rho={r['rho']:+.2f}" for r in rows[-2:]),
                      flush=True)
    df = pd.DataFrame(rows)
    print("\n| order | side | mean Spearman rho (office rank vs segments per respondent) | samples with p < 0.05 |")
    print("|---|---|---|---|")
    for (order, side), g in df.groupby(["order", "side"], sort=False):
        print(f"| {order} | {side} | {g['rho'].mean():+.2f} | {int((g['p'] < 0.05).sum())}/{len(g)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
