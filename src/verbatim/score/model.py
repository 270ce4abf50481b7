"""The lean scorer: what a saved pipeline needs to score new comments, and nothing more.

:class:`ScoringModel` loads from an artefact folder only the manifest, the topic centroids of each
source, the polarity weights, the mirror's pair table and the topic labels; the embedder is rebuilt
from the id the manifest records. It never imports BERTopic, UMAP or torch and never reads the
training corpus, so a batch job starts in seconds.

:func:`score_verbatims` is the one scoring function: the single-process stream, the Dask workers and
``verbatim.score(df)`` all call it, so they agree row for row.
"""
from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..artefact import REFIT, read_manifest, read_part, remirror
from ..config import Config, from_saved
from ..embed import EmbeddingCache, embed_texts, get_embedder
from ..errors import ArtefactError, EmbedderError
from ..privacy import mask_label
from ..segment import segment
from ..textprep import encoder_input

log = logging.getLogger("verbatim")

OUTLIER = -1
#: columns :func:`score_verbatims` adds to each verbatim
VERBATIM_SCORE_COLUMNS = ["n_segments", "topic", "topic_label", "topics", "irritant_p", "irritant", "mirrored",
                          "mirror_topic", "mirror_label"]
#: columns of the segment table
SEGMENT_COLUMNS = ["row_key", "id", "source", "segment", "text", "topic", "topic_label", "topic_similarity",
                   "irritant_p", "irritant", "mirror_source", "mirror_topic", "mirror_label", "date", "unit"]


def assign_topics(model: "ScoringModel", sources: np.ndarray, embeddings: np.ndarray,
                  irritant_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each segment's topic and its similarity to the topic, by the rule ``fit`` used.

    The one place the assignment rule lives: the nearest centroid among the topics of the segment's
    source *and* polarity side (irritant when ``irritant_p >= polarity.threshold``, as in ``fit``),
    through :meth:`SourceTopicModel.transform`.
    """
    sides = (np.asarray(irritant_p) >= model.config_.polarity.threshold).astype(np.int64)
    topics = np.full(len(sources), OUTLIER, dtype=np.int64)
    sims = np.zeros(len(sources), dtype=np.float32)
    for source in pd.unique(sources):
        idx = np.flatnonzero(sources == source)
        m = model.topic_models_.get(source)
        if m is None:
            if source not in model.warned_:
                model.warned_.add(source)
                log.warning("source '%s' has no topic model in %s (fitted sources: %s); its segments get no topic",
                            source, model.path_, ", ".join(model.topic_models_))
            continue
        t, s = m.transform(embeddings[idx], sides[idx])
        topics[idx], sims[idx] = t, s
    return topics, sims


class ScoringModel:
    """A saved pipeline loaded for scoring (see module doc).

    ``ScoringModel.load(path)`` reads the artefact; ``embedder`` overrides the one the manifest names
    (its id must match, checked at load), ``cache`` is the embedding cache root (True: the project's
    cache, False/None: memory only). Topic labels (``labels_``, the mirror's) are masked by
    :func:`verbatim.privacy.mask_label` with the artefact's ``[privacy]`` settings (without the NER).
    """

    def __init__(self, path: str | Path | None = None, embedder: Any = None, cache: str | Path | bool | None = True):
        self.path = path
        self.embedder = embedder
        self.cache = cache

    @classmethod
    def load(cls, path: str | Path, embedder: Any = None, cache: str | Path | bool | None = True) -> "ScoringModel":
        from ..polarity import PolarityModel
        from ..topics.model import SourceTopicModel

        self = cls(path, embedder, cache)
        path = Path(path)
        manifest = read_manifest(path)
        try:
            self.config_: Config = from_saved(manifest["config"])
        except Exception as ex:  # noqa: BLE001 - a damaged manifest is the artefact's problem, said in one line
            raise ArtefactError(f"'{path}' has an unreadable configuration ({ex}); refit it") from None
        self.manifest_ = manifest
        self.path_ = path
        self.embedder_id_ = manifest["embedder"]
        # every fitted source has its topic model: one missing would leave its rows without a topic
        self.topic_models_ = {s: read_part(path / "sources" / s, SourceTopicModel.load) for s in manifest["counts"]}
        if not (path / "polarity").is_dir():
            raise ArtefactError(f"'{path}' has no polarity model (fitted by an older verbatim); refit it to score")
        self.polarity_ = read_part(path / "polarity", PolarityModel.load)
        self.dim_ = _vector_size(path, self.topic_models_)
        try:
            topics = pd.read_parquet(path / "topics.parquet", columns=["source", "topic", "label"])
        except (OSError, ValueError, KeyError) as ex:
            raise ArtefactError(f"'{path}' has no readable topics.parquet ({ex}); refit it") from None
        # labels are shown (console) and written (scored rows, segments, alerts): masked by the report's
        # masker and the artefact's privacy settings, its NER left out: spaCy would import torch and cost
        # seconds at every start, and labels are lowercase words, where the NER adds only first names that
        # are also ordinary words ("claire"); every known first name and surname in a label is masked
        privacy = replace(self.config_.privacy, ner=False)
        self.labels_ = {(str(s), int(t)): mask_label(str(lab), privacy) for s, t, lab in topics.itertuples(index=False)}
        self.mirror_ = {k: (other, t, mask_label(lab, privacy)) for k, (other, t, lab) in self._mirror_map(path).items()}
        self.warned_: set[str] = set()
        self._embedder = None
        self._cache = None
        if embedder is not None:
            self.embedder_  # noqa: B018 - an embedder given must be the one fit used, checked before any work
        return self

    @staticmethod
    def _mirror_map(path: Path) -> dict[tuple[str, int], tuple[str, int, str]]:
        """(source, topic) → (other source, other topic, its label) for the pairs the mirror found
        significant (verdict in ``MIRRORED``); the most similar pair wins when a topic has several."""
        from ..mirror.core import MIRRORED

        out: dict[tuple[str, int], tuple[str, int, str, float]] = {}
        files = sorted(path.glob("mirror*.parquet"))
        if not files:
            log.info("%s has no mirror.parquet (run `verbatim mirror %s`): no segment is marked mirrored", path, path)
        for f in files:
            read_part(f, lambda p: _add_pairs(out, pd.read_parquet(p), MIRRORED), remirror(path))
        return {k: v[:3] for k, v in out.items()}

    # -- the embedder and its cache, built on first use (a warm cache never loads the encoder) -----------
    @property
    def embedder_(self):
        if self._embedder is None:
            emb = get_embedder(self.embedder if self.embedder is not None else self._embedder_spec())
            if emb.id != self.embedder_id_:
                raise EmbedderError(f"'{self.path_}' was fitted with embedder '{self.embedder_id_}', not '{emb.id}'; "
                                    f"vectors of different models are not comparable: drop --embedder or refit")
            self._embedder = emb
        return self._embedder

    def _embedder_spec(self) -> str:
        spec = self.config_.embed.embedder  # the spec fit was given, when it rebuilds the recorded id
        try:
            if get_embedder(spec).id == self.embedder_id_:
                return spec
        except EmbedderError:
            pass
        return self.embedder_id_

    @property
    def cache_(self) -> EmbeddingCache:
        if self._cache is None:
            from ..paths import cache_dir

            root = None
            if self.cache not in (False, None) and self.config_.embed.cache:
                root = cache_dir() if self.cache is True else Path(self.cache)
            self._cache = EmbeddingCache(root, self.embedder_id_)
        return self._cache

    def __getstate__(self) -> dict:  # travels to Dask workers without a loaded encoder
        state = self.__dict__.copy()
        state["_embedder"] = None
        return state

    def embed(self, texts) -> np.ndarray:
        """Vectors of segment texts, prepared exactly as ``fit`` prepared them, through the cache."""
        cfg = self.config_.embed
        inverse, uniq = pd.factorize(pd.Series(list(texts), dtype=object).astype(str))
        if not len(uniq):
            return np.zeros((0, 0), dtype=np.float32)
        prepared = encoder_input(list(uniq), cfg)  # each distinct text prepared once
        vecs = embed_texts(prepared, _LazyEmbedder(self), cache=self.cache_, batch_size=cfg.batch_size,
                           progress=False)
        if self.dim_ is not None and vecs.shape[1] != self.dim_:
            raise ArtefactError(f"'{self.path_ / 'manifest.json'}' is damaged (its embedder '{self.embedder_id_}' "
                                f"gives vectors of {vecs.shape[1]} dimensions, its topic centroids have {self.dim_}); "
                                f"{REFIT}")
        return vecs[inverse]

    def fingerprint(self) -> dict:
        m = self.manifest_
        return {"path": str(Path(self.path_).resolve()), "created": m.get("created"), "embedder": self.embedder_id_}


def _add_pairs(out: dict, pairs: pd.DataFrame, mirrored) -> None:
    """Add the significant pairs of one stored mirror table to ``out`` (see :meth:`ScoringModel._mirror_map`)."""
    pairs = pairs[pairs["verdict"].isin(mirrored)]
    for r in pairs.itertuples(index=False):
        sim = float(r.similarity)
        for a, ta, b, tb, lb in ((r.source_a, r.topic_a, r.source_b, r.topic_b, r.label_b),
                                 (r.source_b, r.topic_b, r.source_a, r.topic_a, r.label_a)):
            key = (str(a), int(ta))
            if key not in out or sim > out[key][3]:
                out[key] = (str(b), int(tb), str(lb), sim)


def _vector_size(path: Path, topic_models: dict) -> int | None:
    """The size of the vectors the artefact was fitted on (its topic centroids'), the same for every source."""
    sizes = {s: int(m.centroids_.shape[1]) for s, m in topic_models.items() if np.ndim(m.centroids_) == 2}
    if len(set(sizes.values())) > 1:
        raise ArtefactError(f"'{path / 'sources'}' is damaged (topic centroids of different sizes: "
                            f"{', '.join(f'{s} {d}' for s, d in sizes.items())}); {REFIT}")
    return next(iter(sizes.values()), None)


class _LazyEmbedder:
    """The model's embedder, built only when a text is missing from the cache."""

    def __init__(self, model: ScoringModel):
        self.model = model
        self.id = model.embedder_id_

    def embed(self, texts):
        return self.model.embedder_.embed(texts)


def score_verbatims(verbatims: pd.DataFrame, model: ScoringModel,
                    row_keys: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score a verbatim table (the columns of ``verbatim ingest``: ``id``, ``source``, ``text``…).

    Returns the verbatims with :data:`VERBATIM_SCORE_COLUMNS` added (every input column kept, rows in
    order) and one row per segment. ``row_keys`` (default: 0..n-1) tells verbatims apart even when
    their ``id`` repeats.
    """
    cfg = model.config_
    v = verbatims.reset_index(drop=True)
    keys = np.arange(len(v)) if row_keys is None else np.asarray(row_keys)
    work = v.assign(id=[str(k) for k in keys], source=v["source"].astype(str))
    segs = segment(work, cfg.segment) if len(work) else pd.DataFrame(columns=["id", "source", "text", "position"])
    emb = model.embed(segs["text"].tolist())
    n = len(segs)
    src = segs["source"].astype(str).to_numpy()
    if n:
        seg_p = model.polarity_.predict_proba(segs, emb)
        topics, sims = assign_topics(model, src, emb, seg_p)
        verb_p = model.polarity_.verbatim_proba(segs, emb)
    else:
        seg_p, topics, sims = np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.float32)
        verb_p = pd.Series(dtype=float)
    thr = cfg.polarity.threshold
    labels = [model.labels_.get((s, int(t)), "(outlier)") if t >= 0 else "(outlier)" for s, t in zip(src, topics)]
    mirror = [model.mirror_.get((s, int(t))) for s, t in zip(src, topics)]
    seg_out = pd.DataFrame({
        "row_key": segs["id"].astype("int64").to_numpy() if n else np.zeros(0, np.int64),
        "id": np.asarray(v["id"].astype(str))[segs["id"].astype("int64").to_numpy()] if n else np.zeros(0, object),
        "source": src,
        "segment": segs["position"].astype("int64").to_numpy() if n else np.zeros(0, np.int64),
        "text": _obj(segs["text"]),
        "topic": topics.astype(np.int64),
        "topic_label": _obj(labels),
        "topic_similarity": np.asarray(sims, dtype=np.float32),
        "irritant_p": np.asarray(seg_p, dtype=np.float64),
        "irritant": np.asarray(seg_p) >= thr,
        "mirror_source": _obj(m[0] if m else None for m in mirror),
        "mirror_topic": pd.array([m[1] if m else None for m in mirror], dtype="Int64"),
        "mirror_label": _obj(m[2] if m else None for m in mirror),
    })
    seg_out["row_key"] = keys[seg_out["row_key"].to_numpy()] if n else seg_out["row_key"]
    for c in ("date", "unit"):
        seg_out[c] = (segs[c].to_numpy() if c == "date" else _obj(segs[c])) if c in segs else None
    return _verbatim_summary(v, keys, seg_out, verb_p, thr), seg_out


def _obj(values) -> pd.Series:
    """Text values as an ``object`` column (one dtype whether a batch holds labels, or only missing ones)."""
    return pd.Series(list(values), dtype=object)


def _verbatim_summary(v: pd.DataFrame, keys: np.ndarray, segs: pd.DataFrame, verb_p: pd.Series,
                      thr: float) -> pd.DataFrame:
    """Per verbatim: its main topic (that of its most irritant segment with a topic), all its topics,
    ``irritant_p`` (the verbatim-level probability), mirrored (any segment in a significant pair)."""
    out = v.copy()
    key_str = [str(k) for k in keys]
    if len(segs):
        order = segs.assign(_has=segs["topic"] >= 0).sort_values(["row_key", "_has", "irritant_p"],
                                                                 ascending=[True, False, False], kind="stable")
        main = order.drop_duplicates("row_key").set_index("row_key")
        with_topic = segs.loc[segs["topic"] >= 0, ["row_key", "topic"]].drop_duplicates().sort_values(
            ["row_key", "topic"], kind="stable")
        rk, tp = with_topic["row_key"].to_numpy(), with_topic["topic"].to_numpy()
        starts = np.flatnonzero(np.r_[True, rk[1:] != rk[:-1]]) if len(rk) else np.zeros(0, int)
        ends = np.r_[starts[1:], len(rk)]
        topic_lists = pd.Series([";".join(map(str, tp[a:b])) for a, b in zip(starts, ends)], index=rk[starts],
                                dtype=object)
        mirrored = segs["mirror_topic"].notna().groupby(segs["row_key"]).any()
        nseg = segs.groupby("row_key").size()
    else:
        main = pd.DataFrame(columns=["topic", "topic_label", "mirror_topic", "mirror_label"])
        topic_lists = mirrored = nseg = pd.Series(dtype=object)
    out["n_segments"] = pd.Series(keys).map(nseg).fillna(0).astype("int64").to_numpy()
    out["topic"] = pd.Series(keys).map(main["topic"]).fillna(OUTLIER).astype("int64").to_numpy()
    out["topic_label"] = _obj(pd.Series(keys).map(main["topic_label"]).fillna("(outlier)")).set_axis(out.index)
    out["topics"] = _obj(v if isinstance(v, str) else "" for v in pd.Series(keys).map(topic_lists)).set_axis(out.index)
    out["irritant_p"] = pd.Series(key_str).map(verb_p).astype("float64").to_numpy()
    out["irritant"] = out["irritant_p"].to_numpy() >= thr
    out["mirrored"] = pd.Series(keys).map(mirrored).fillna(False).astype(bool).to_numpy()
    out["mirror_topic"] = pd.array(pd.Series(keys).map(main["mirror_topic"]).to_numpy(dtype=object), dtype="Int64")
    out["mirror_label"] = _obj(None if not isinstance(x, str) else x
                               for x in pd.Series(keys).map(main["mirror_label"])).set_axis(out.index)
    return out


def model_summary(model: ScoringModel) -> str:
    srcs = ", ".join(f"{s} ({len(m.topic_ids_)} topics)" for s, m in model.topic_models_.items())
    return f"{model.path_}: {srcs}; embedder {model.embedder_id_}; {len(model.mirror_) // 2} mirrored pair(s)"


def manifest_json(model: ScoringModel) -> str:
    return json.dumps(model.fingerprint(), sort_keys=True)
