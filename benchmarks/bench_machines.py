"""One answer on any machine: ``verbatim demo`` from an empty cache under other CPUs' kernels, thread counts,
cache histories and seeds, compared with the default run.

Each variant runs the demo in a fresh folder of its own (a copy of the shipped sample, ``VERBATIM_HOME``
pointing at it, an empty embedding cache), in a child process with its environment:

- ``haswell``, ``sandybridge``, ``zen``: ``OPENBLAS_CORETYPE`` (another CPU's BLAS kernels on this machine);
- ``threads1``: ``OPENBLAS_NUM_THREADS=1``;
- ``avx2``: numpy's AVX-512 code paths switched off (``NPY_DISABLE_CPU_FEATURES``: what an AVX2 CPU runs)
  and the Haswell BLAS kernel;
- ``history``: the cache filled first by encoding the sample's texts in a random order, 97 per call;
- ``seed1`` … ``seed4``: the sample's configuration with another ``seed``.

For each, compared with ``default``: the printed answer (hypotheses, global test, pairs, symmetry index;
paths left out), the digest file byte for byte, the partition (ARI of the segments' topics) and the largest
difference of a stored irritant probability. Seeds change only the Monte Carlo draws (permutations,
bootstraps, stability refits), so the answer lines may differ in a permutation p-value's last digits: for
them the check is the set of declared pairs and that each run's symmetry-index interval covers every run's
estimate.

    .venv/bin/python benchmarks/bench_machines.py                     # every variant (about 1 minute each)
    .venv/bin/python benchmarks/bench_machines.py --variants haswell threads1
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = Path(sys.executable)
AVX512 = "AVX512F AVX512CD AVX512_SKX AVX512_CLX AVX512_CNL AVX512_ICL AVX512_SPR"
VARIANTS = {
    "default": {},
    "haswell": {"OPENBLAS_CORETYPE": "Haswell"},
    "sandybridge": {"OPENBLAS_CORETYPE": "Sandybridge"},
    "zen": {"OPENBLAS_CORETYPE": "Zen"},
    "threads1": {"OPENBLAS_NUM_THREADS": "1"},
    "avx2": {"NPY_DISABLE_CPU_FEATURES": AVX512, "OPENBLAS_CORETYPE": "Haswell"},
    "history": {},
    "seed1": {}, "seed2": {}, "seed3": {}, "seed4": {},
}

FILL_CACHE = """
import random, sys
import pandas as pd
from verbatim.config import load_config
from verbatim.embed import embed_texts, get_embedder
from verbatim.ingest import ingest
from verbatim.paths import cache_dir
from verbatim.segment import segment
from verbatim.textprep import encoder_input
cfg = load_config(sys.argv[1])
v = ingest(cfg.ingest.files, cfg.ingest).verbatims
texts = sorted(set(encoder_input(segment(v, cfg.segment)["text"], cfg.embed)))
random.Random(int(sys.argv[2])).shuffle(texts)
emb = get_embedder(cfg.embed.embedder)
for i in range(0, len(texts), 97):
    embed_texts(texts[i:i + 97], emb, cache_dir(), progress=False)
"""


def prepare(home: Path, variant: str) -> None:
    (home / "data" / "raw").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "raw" / "sample", home / "data" / "raw" / "sample")
    if variant.startswith("seed"):
        toml = home / "data" / "raw" / "sample" / "verbatim.toml"
        toml.write_text(re.sub(r"^seed = \d+", f"seed = {variant[4:]}", toml.read_text(encoding="utf-8"), flags=re.M),
                        encoding="utf-8")


def run_demo(home: Path, variant: str) -> dict:
    env = {**os.environ, "VERBATIM_HOME": str(home), **VARIANTS[variant]}
    env.pop("VERBATIM_CACHE_DIR", None)
    t = time.perf_counter()
    if variant == "history":
        subprocess.run([str(PY), "-c", FILL_CACHE, str(home / "data/raw/sample/verbatim.toml"), "7"], env=env,
                       cwd=home, check=True, capture_output=True)
    out = subprocess.run([str(PY.parent / "verbatim"), "demo"], env=env, cwd=home, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{variant}: the demo failed:\n{out.stderr[-2000:]}")
    digest = next((home / "reports" / "sample").glob("digest-*.html"))
    return {"seconds": time.perf_counter() - t, "answer": answer_lines(out.stdout, home),
            "digest_sha": hashlib.sha256(digest.read_bytes()).hexdigest()}


def answer_lines(stdout: str, home: Path) -> list[str]:
    """The demo's answer: from the mirror heading to the symmetry index, paths removed."""
    text = stdout.split("== mirror", 1)[-1].split("\n== meeting digest", 1)[0]
    return [line.replace(str(home), "<home>") for line in text.splitlines()[1:] if line and not line.startswith("wrote")]


def compare(home_a: Path, home_b: Path) -> dict:
    import numpy as np
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    a = pd.read_parquet(home_a / "models" / "sample" / "segments.parquet")
    b = pd.read_parquet(home_b / "models" / "sample" / "segments.parquet")
    return {"ari_customer": adjusted_rand_score(a.loc[a.source == "customer", "topic"], b.loc[b.source == "customer", "topic"]),
            "ari_employee": adjusted_rand_score(a.loc[a.source == "employee", "topic"], b.loc[b.source == "employee", "topic"]),
            "topics_identical": bool(np.array_equal(a["topic"].to_numpy(), b["topic"].to_numpy())),
            "max_irritant_p_diff": float(np.abs(a["irritant_p"].to_numpy() - b["irritant_p"].to_numpy()).max())}


def index_of(lines: list[str]) -> tuple[float, float, float]:
    line = next(x for x in lines if x.startswith("symmetry index"))
    x, lo, hi = (float(v) / 100 for v in re.findall(r"([\d.]+)%", line)[:3])
    return x, lo, hi


def declared(lines: list[str]) -> list[str]:
    return sorted(re.sub(r"q=[\d.]+|\(adjusted p=[^)]*\)|found in \d+% of refits|\[[^\]]*\]|r=[+-][\d.]+", "", x).strip()
                  for x in lines if x.startswith("  "))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args(argv)
    variants = ["default"] + [v for v in args.variants if v != "default"]
    with tempfile.TemporaryDirectory() as tmp:
        res, homes = {}, {}
        for v in variants:
            homes[v] = Path(tmp) / v
            prepare(homes[v], v)
            res[v] = run_demo(homes[v], v)
            print(f"{v}: {res[v]['seconds']:.0f} s", flush=True)
        base = res["default"]
        print("\n| variant | answer lines | digest | topics | ARI customer / employee | max Δ irritant_p | declared pairs | index |")
        print("|---|---|---|---|---|---|---|---|")
        indices = {v: index_of(r["answer"]) for v, r in res.items()}
        for v in variants:
            c = compare(homes["default"], homes[v])
            x, lo, hi = indices[v]
            covers = all(lo <= xi <= hi for xi, _, _ in indices.values())
            print(f"| {v} | {'same' if res[v]['answer'] == base['answer'] else 'DIFFERENT'} | "
                  f"{'same bytes' if res[v]['digest_sha'] == base['digest_sha'] else 'DIFFERENT'} | "
                  f"{'identical' if c['topics_identical'] else 'differ'} | {c['ari_customer']:.4f} / {c['ari_employee']:.4f} | "
                  f"{c['max_irritant_p_diff']:.1e} | {'same' if declared(res[v]['answer']) == declared(base['answer']) else 'DIFFERENT'} | "
                  f"{x:.1%} [{lo:.1%}, {hi:.1%}]{' covers all' if covers else ' does NOT cover all'} |")
        print("\nthe default run's answer:")
        print("\n".join(base["answer"]))
        print(json.dumps({v: r["answer"] for v, r in res.items() if r["answer"] != base["answer"]}, ensure_ascii=False,
                         indent=1)[:6000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
