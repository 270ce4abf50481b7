"""Topics per source: one :class:`SourceTopicModel` (a BERTopic inside) per source.

>>> models, segments, table = fit_topics(segments, embeddings, TopicsConfig())
>>> models["customer"].bertopic_.visualize_barchart()
"""
from __future__ import annotations

import copy
import logging
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..config import PrivacyConfig, TopicsConfig
from ..errors import ConfigError, did_you_mean
from ..respondent import respondents
from .model import OUTLIER, SourceTopicModel, load_bertopic, preload_bertopic

log = logging.getLogger("verbatim")

__all__ = ["fit_topics", "SourceTopicModel", "verbatim_topics", "OUTLIER", "load_bertopic", "preload_bertopic"]


def fit_topics(segments: pd.DataFrame, embeddings: np.ndarray, cfg: TopicsConfig | None = None,
               seed: int | None = None, embed_fn: Callable[[Sequence[str]], np.ndarray] | None = None,
               sides: np.ndarray | None = None, stability_seed: int = 0, privacy: PrivacyConfig | None = None,
               representation_model=None) -> tuple[dict[str, SourceTopicModel], pd.DataFrame, pd.DataFrame]:
    """Fit one topic model per source.

    Returns the models, ``segments`` with ``topic``, ``topic_label`` and
    ``topic_similarity`` columns, and the topic table of every source (with each topic's ``side``).
    ``sides`` (1 irritant, 0 other; one per segment; default: the ``irritant`` column when present)
    gives each polarity side its own topics. ``embed_fn`` embeds the taxonomy examples when
    ``cfg.taxonomy`` is set. The topics depend on the data alone; ``seed`` makes the clusterer's draws
    seeded instead (:class:`~verbatim.topics.cluster.TopicClusterer`'s ``random_state``). With
    ``cfg.stability_fits`` > 0 each model is refitted on subsamples of its respondents (``stability_seed``
    draws them; :meth:`SourceTopicModel.assess_stability`) and the table gets a ``stability`` column. Labels and
    descriptions are masked with ``privacy``; ``representation_model`` goes to each source's BERTopic (a fresh
    copy per source) and fills the table's ``representation`` column.
    """
    cfg = cfg or TopicsConfig()
    if len(segments) != len(embeddings):
        raise ValueError(f"{len(segments)} segments but {len(embeddings)} embeddings")
    guide = None
    present = sorted(segments["source"].unique())
    for t in cfg.taxonomy:
        for src in t.sources:
            if src not in present:
                raise ConfigError(f"[[topics.taxonomy]] '{t.name}': source '{src}' has no segments"
                                  f"{did_you_mean(src, present)}; sources present: {', '.join(present)}")
    if cfg.taxonomy:
        if embed_fn is None:
            raise ValueError("a taxonomy needs embed_fn to embed its examples")
        examples = [np.asarray(embed_fn(list(t.examples)), np.float32) for t in cfg.taxonomy]
        guide = np.stack([e.mean(0) for e in examples])
    if sides is None and "topic_side" in segments:   # the side a fitted pipeline recorded
        sides = (segments["topic_side"] == "irritant").to_numpy()
    elif sides is None and "irritant" in segments:
        sides = segments["irritant"].fillna(False).to_numpy(bool)
    sides = None if sides is None else np.asarray(sides).astype(np.int64)
    models: dict[str, SourceTopicModel] = {}
    seg = segments.copy()
    seg["topic"] = OUTLIER
    seg["topic_similarity"] = np.float32(0)
    tables = []
    for source in present:
        mask = (seg["source"] == source).to_numpy()
        own = [i for i, t in enumerate(cfg.taxonomy) if t.applies_to(source)]  # entries for this source
        m = SourceTopicModel(cfg, seed=seed, source=source,
                             guide_embeddings=guide[own] if guide is not None and own else None,
                             guide_names=[cfg.taxonomy[i].name for i in own],
                             guide_examples=[examples[i] for i in own] if guide is not None and own else None,
                             privacy=privacy,
                             representation_model=None if representation_model is None else copy.deepcopy(
                                 representation_model),
                             embed_fn=embed_fn if representation_model is not None else None)
        m.fit(seg.loc[mask, "text"].tolist(), embeddings[mask], None if sides is None else sides[mask])
        if cfg.stability_fits:
            groups = respondents(seg).to_numpy()[mask]
            m.assess_stability(embeddings[mask], None if sides is None else sides[mask], groups, cfg.stability_fits,
                               cfg.stability_share, stability_seed)
        models[source] = m
        seg.loc[mask, "topic"] = m.labels_
        seg.loc[mask, "topic_similarity"] = m.similarity_
        tables.append(m.topics_)
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    labels = {(r.source, r.topic): r.label for r in table.itertuples()}
    seg["topic"] = seg["topic"].astype("int64")
    if sides is not None:
        seg["topic_side"] = np.where(sides == 1, "irritant", "compliment")
    seg["topic_label"] = [labels.get((s, t), "(outlier)") for s, t in zip(seg["source"], seg["topic"])]
    return models, seg, table


def verbatim_topics(segments: pd.DataFrame) -> pd.DataFrame:
    """A verbatim's topics: the union of its segments' topics (outliers left out)."""
    s = segments[segments["topic"] != OUTLIER]
    out = s.groupby("id")["topic"].agg(lambda t: sorted(set(int(x) for x in t))).rename("topics")
    ids = segments.drop_duplicates("id").set_index("id")[["source"]]
    res = ids.join(out)
    res["topics"] = res["topics"].map(lambda v: v if isinstance(v, list) else [])
    return res.reset_index()
