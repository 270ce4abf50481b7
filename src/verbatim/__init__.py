"""verbatim: customer and employee verbatims → evidence (la symétrie des attentions) and meeting digests.

The public API is DataFrame-first; each pipeline stage is a module:
``verbatim.ingest`` → ``verbatim.segment`` → ``verbatim.embed`` → ``verbatim.topics`` …
Importing this package loads nothing heavy.
"""
__version__ = "0.1.0"

from .config import Config, FileSpec, IngestConfig, TextField, load_config  # noqa: E402
from .errors import VerbatimError  # noqa: E402

__all__ = ["Config", "FileSpec", "IngestConfig", "TextField", "load_config", "VerbatimError", "__version__", "score"]


def __getattr__(name: str):
    """``verbatim.score(df, model=...)`` without loading the scorer at ``import verbatim``."""
    if name == "score":
        import importlib

        return importlib.import_module(".score", __name__)
    raise AttributeError(f"module 'verbatim' has no attribute {name!r}")
