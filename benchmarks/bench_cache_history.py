"""Does the demo's answer depend on what the embedding cache went through before?

    .venv/bin/python benchmarks/bench_cache_history.py                 # 2 other cache histories
    .venv/bin/python benchmarks/bench_cache_history.py --histories 4 --batch 50

The ``use`` encoder's vectors change in the last bits (about 1e-7) with the texts they are encoded
beside, and the cache keeps the first vector a text got. A clean clone encodes the shipped sample's texts
shortest first, 256 per call; a cache filled by other runs holds vectors encoded beside other texts. This
fits the shipped sample as ``make demo`` does (its ``verbatim.toml``), once with an empty cache (the
baseline) and once per history: a cache filled first with the same texts encoded in a random order,
``--batch`` per call. Printed for each: topics per source, the agreement of the segments' topics with the
baseline (adjusted Rand index), the mirror's declared pairs (labels, r, verdict), the p-value nearest
alpha, and the symmetry index. No real data needed.
"""
from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def fit(cfg, verbatims: Path, cache: Path):
    from verbatim.mirror import Mirror
    from verbatim.pipeline import Pipeline

    pipe = Pipeline(cfg, cache=cache).fit([verbatims])
    return pipe, Mirror(cfg.mirror).fit(pipe)


def fill(cache: Path, texts: list[str], embedder: str, batch: int, seed: int) -> None:
    """The cache a different history leaves: every text encoded, in a random order, ``batch`` per call
    (each call through verbatim's own :func:`~verbatim.embed.embed_texts`, as a run of that size would)."""
    from verbatim.embed import EmbeddingCache, embed_texts, get_embedder

    emb = get_embedder(embedder)
    store = EmbeddingCache(cache, emb.id)
    order = np.random.default_rng(seed).permutation(len(texts))
    for start in range(0, len(order), batch):
        embed_texts([texts[i] for i in order[start:start + batch]], emb, cache=store, batch_size=batch,
                    progress=False)


def segment_topics(pipe) -> np.ndarray:
    seg = pipe.segments_
    return (seg["source"].astype(str) + ":" + seg["topic"].astype(str)).to_numpy()


def summary(name: str, pipe, mirror, base_topics: np.ndarray | None, alpha: float) -> str:
    from sklearn.metrics import adjusted_rand_score
    from verbatim.mirror import MIRRORED_VERDICTS

    pairs = mirror.pairs_
    declared = pairs[pairs["verdict"].isin(MIRRORED_VERDICTS)]
    shown = "; ".join(f"{r.label_a} ↔ {r.label_b} (r {r.linkage_r:+.2f}, {r.verdict})" for r in declared.itertuples())
    near = min(((abs(v - alpha), v, c, r) for c in ("q", "linkage_q", "partial_p")
                for v, r in zip(pairs[c], pairs.itertuples()) if v == v), default=None, key=lambda t: t[0])
    nearest = (f"{near[2]} {near[1]:.3f}: {near[3].label_a} ↔ {near[3].label_b} ({near[3].verdict})"
               if near else "-")
    topics = segment_topics(pipe)
    ari = adjusted_rand_score(base_topics, topics) if base_topics is not None else 1.0
    n_topics = pipe.topics_.groupby("source").size().to_dict()
    return (f"| {name} | {n_topics} | {ari:.3f} | {len(declared)}: {shown} | {nearest} "
            f"| {mirror.index_['index']:.1%} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", type=int, default=2, help="caches filled in other orders (seeds 1, 2…)")
    ap.add_argument("--batch", type=int, default=97, help="texts per encoder call when filling them")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sys.path.insert(0, str(ROOT / "src"))
    from verbatim.config import load_config
    from verbatim.ingest import ingest, write_ingest
    from verbatim.textprep import encoder_input

    cfg = load_config(ROOT / "data" / "raw" / "sample" / "verbatim.toml")
    print("| cache | topics | ARI vs empty cache | declared pairs | p-value nearest alpha (pair, verdict) | symmetry index |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        verbatims, _ = write_ingest(ingest(cfg.ingest.files, cfg.ingest), tmp / "verbatims.parquet")
        pipe, mirror = fit(cfg, verbatims, tmp / "empty")
        base = segment_topics(pipe)
        print(summary("empty (a clean clone)", pipe, mirror, None, cfg.mirror.alpha), flush=True)
        texts = sorted(set(encoder_input(pipe.segments_["text"], cfg.embed)))
        for seed in range(1, a.histories + 1):
            cache = tmp / f"history{seed}"
            fill(cache, texts, cfg.embed.embedder, a.batch, seed)
            pipe, mirror = fit(cfg, verbatims, cache)
            print(summary(f"filled in random order {seed}, {a.batch} per call", pipe, mirror, base,
                          cfg.mirror.alpha), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
