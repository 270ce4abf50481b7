"""Score: new comments through a saved pipeline, at any volume (``verbatim score``).

- :mod:`.model`: the lean scorer (:class:`ScoringModel`, :func:`score_verbatims`, :func:`assign_topics`):
  centroids, polarity weights, the mirror's pairs and the embedder named by the manifest; never BERTopic;
- :mod:`.stream`: files read in chunks (bounded memory), mapped like ``verbatim ingest``;
- :mod:`.resume`: one committed part per chunk, ``--resume`` after a kill, the output assembled atomically;
- :mod:`.distributed`: the same chunk function mapped on a Dask cluster (``--dask local:N`` or an address);
- :mod:`.run`: :func:`score_files` (the CLI's engine) and :func:`score` (a DataFrame, for notebooks).

>>> from verbatim import score
>>> scored = score(df, model="models/run1")
"""
from __future__ import annotations

from .model import ScoringModel, assign_topics, score_verbatims
from .run import ScoreResult, render_alerts, score, score_files

__all__ = ["ScoringModel", "ScoreResult", "assign_topics", "render_alerts", "score", "score_files", "score_verbatims"]


class _CallableModule(__import__("types").ModuleType):
    """``verbatim.score`` is this package *and* the function: ``verbatim.score(df, model=...)``."""

    def __call__(self, *args, **kwargs):
        return score(*args, **kwargs)


__import__("sys").modules[__name__].__class__ = _CallableModule
