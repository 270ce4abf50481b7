"""Shared loading of real French reviews for the benchmarks (read from ../shared/data, never copied)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("VERBATIM_SHARED_DATA", ROOT.parent / "shared" / "data"))


def require_shared() -> Path:
    if not SHARED.is_dir():
        sys.exit(f"benchmark skipped: {SHARED} not found (set VERBATIM_SHARED_DATA to the folder of real corpora)")
    return SHARED


def insurance_verbatims(n: int | None = None, seed: int = 0, rated_only: bool = False) -> pd.DataFrame:
    """French insurance reviews as verbatims (customer side), a seeded subsample of ``n`` rows."""
    from verbatim.config import FileSpec, IngestConfig
    from verbatim.ingest import ingest

    spec = FileSpec(path=str(require_shared() / "fr_insurance_reviews.csv.gz"), source="customer",
                    text=("avis",), date="date_publication", score="note", unit="assureur")
    df = ingest([spec], IngestConfig()).verbatims
    if rated_only:
        df = df[df["score"].notna()]
    if n is not None and n < len(df):
        df = df.sample(n=n, random_state=seed)
    return df.reset_index(drop=True)


def glassdoor_fr_cons_spec():
    """The cons of French Glassdoor reviews as employee verbatims (unit = employer), untagged."""
    from verbatim.config import FileSpec

    return FileSpec(path=str(require_shared() / "fr_glassdoor_employees.csv.gz"), source="employee",
                    text=("review_disadvantages",), date="date", score="score", unit="enterprise_name")


def insurance_segments(n_reviews: int, seed: int = 0, offset: int = 0) -> pd.DataFrame:
    """Clause segments of ``n_reviews`` reviews; ``offset`` skips reviews (for held-out sets)."""
    from verbatim.segment import segment

    df = insurance_verbatims(seed=seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(df))
    df = df.iloc[order[offset:offset + n_reviews]].reset_index(drop=True)
    return segment(df)
