"""Where things live: computed from the working directory or ``VERBATIM_HOME``, never at import."""
from __future__ import annotations

import os
from pathlib import Path


def project_dir() -> Path:
    """``$VERBATIM_HOME`` if set, else the current working directory."""
    return Path(os.environ.get("VERBATIM_HOME") or Path.cwd())


def processed_dir() -> Path:
    return project_dir() / "data" / "processed"


def sample_dir() -> Path:
    return project_dir() / "data" / "raw" / "sample"


def models_dir() -> Path:
    return project_dir() / "models"


def cache_dir() -> Path:
    """Embedding cache: ``$VERBATIM_CACHE_DIR`` or ``data/processed/cache``."""
    env = os.environ.get("VERBATIM_CACHE_DIR")
    return Path(env) if env else processed_dir() / "cache"
