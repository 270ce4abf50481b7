"""The shipped sample for notebooks and docs: one fitted pipeline shared by every notebook, and the
planted themes (``data/raw/sample/labels.csv``) as topics, to look at the mirror's statistics apart from
the topic stage.

>>> pipe = sample_pipeline()            # loads models/sample (or $VERBATIM_MODEL); fits and saves it when absent
>>> seg, topics = planted_topics(pipe)  # segments relabelled with the planted themes (a check, not the product)
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from .paths import models_dir, sample_dir

log = logging.getLogger("verbatim")


def sample_model_dir() -> Path:
    """``$VERBATIM_MODEL`` when set, else ``models/sample`` (where ``verbatim demo`` saves its pipeline)."""
    env = os.environ.get("VERBATIM_MODEL")
    return Path(env) if env else models_dir() / "sample"


def sample_pipeline(model_dir: str | Path | None = None, config=None):
    """The pipeline fitted on the shipped sample: loaded from ``model_dir`` when it holds one, else fitted
    (a few minutes the first time; embeddings are cached) and saved there, so notebooks fit it once."""
    from .config import load_config
    from .ingest import ingest
    from .pipeline import Pipeline

    model_dir = Path(model_dir) if model_dir else sample_model_dir()
    if (model_dir / "manifest.json").is_file():
        return Pipeline.load(model_dir)
    cfg = config or load_config(sample_dir() / "verbatim.toml")
    log.info("no pipeline in %s: fitting the sample (embeddings are cached for next time)", model_dir)
    pipe = Pipeline(cfg).fit(ingest(cfg.ingest.files, cfg.ingest).verbatims)
    pipe.save(model_dir)
    return pipe


#: the sample's text columns → the suffix ingest gives each verbatim's id (one verbatim per column)
_FIELD_SUFFIX = {"commentaire": "", "ce_qui_irrite": "#cons", "ce_qui_va_bien": "#pros"}


def read_labels(labels_csv: str | Path | None = None) -> pd.DataFrame:
    """The sample's ``labels.csv`` (planted themes per text) with ``id``, the verbatim id ingest gives each text."""
    lab = pd.read_csv(labels_csv or sample_dir() / "labels.csv")
    return lab.assign(id=lab["ref"] + lab["field"].map(_FIELD_SUFFIX))


def topic_themes(segments: pd.DataFrame, labels_csv: str | Path | None = None) -> dict:
    """(source, topic) → the planted theme most of its segments from single-theme texts carry: how a
    reader with the sample's answer key would name each topic the pipeline found."""
    lab = read_labels(labels_csv or sample_dir() / "labels.csv")
    s = segments.assign(themes=segments["id"].map(dict(zip(lab["id"], lab["themes"]))))
    s = s[s["themes"].notna() & ~s["themes"].str.contains("|", regex=False) & (s["topic"] >= 0)]
    return {k: g["themes"].value_counts().index[0] for k, g in s.groupby(["source", "topic"])}


def declared_themes(m, segments: pd.DataFrame, labels_csv: str | Path | None = None) -> list[dict]:
    """The pairs a fitted :class:`~verbatim.mirror.Mirror` declares (mirrored or linked), named by the
    planted themes of their topics (:func:`topic_themes`), with r, q and the lead."""
    from .mirror.core import MIRRORED

    themes = topic_themes(segments, labels_csv)
    a, b = m.config_.pair
    return [{"customer": themes.get((a, int(r.topic_a)), "?"), "employee": themes.get((b, int(r.topic_b)), "?"),
             "r": r.linkage_r, "q": r.linkage_q, "lead": r.lead, "verdict": r.verdict}
            for r in m.pairs_[m.pairs_["verdict"].isin(MIRRORED)].itertuples()]


def planted_topics(pipe, labels_csv: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pipeline's segments with the sample's *planted themes* as topics (a segment of a text with several
    themes takes the theme whose centroid is nearest) and ``irritant`` = the theme is negative; and the topic
    table. Feed both to ``Mirror().fit(segments=…, embeddings=pipe.embeddings_, topics=…)`` to see what the
    statistics find when the topics are right: it checks the statistics, not the topic stage."""
    sdir = sample_dir()
    lab = read_labels(labels_csv or sdir / "labels.csv")
    truth = json.loads((sdir / "ground_truth.json").read_text(encoding="utf-8"))
    negative = {k for k, v in truth["themes"].items() if v.get("polarity") == "negative"}
    themes = dict(zip(lab["id"], lab["themes"].str.split("|")))
    seg, emb = pipe.segments_.copy(), np.asarray(pipe.embeddings_)
    th = seg["id"].map(themes)
    names = sorted({t for ts in themes.values() for t in ts})
    cent = {}
    for n in names:
        single = th.map(lambda t, n=n: isinstance(t, list) and t == [n]).to_numpy()
        if single.any():
            c = emb[single].mean(0)
            cent[n] = c / np.linalg.norm(c)
    pick = [max((t for t in ts if t in cent), key=lambda t, i=i: float(emb[i] @ cent[t]), default=None)
            if isinstance(ts, list) else None for i, ts in enumerate(th)]
    ids = {n: k for k, n in enumerate(names)}
    seg["topic"] = [ids[t] if t else -1 for t in pick]
    seg["topic_label"] = [t or "(outlier)" for t in pick]
    seg["irritant"] = [t in negative for t in pick]
    seg = seg.drop(columns=["irritant_p"], errors="ignore")
    topics = seg[seg["topic"] >= 0].groupby(["source", "topic"]).size().rename("size").reset_index()
    topics["label"] = [names[t] for t in topics["topic"]]
    topics["top_words"] = [[] for _ in range(len(topics))]
    return seg, topics
