"""One source's topic model: our clusterer inside a real BERTopic, plus a light scorer.

``SourceTopicModel`` follows the estimator rules. After ``fit``:

- ``bertopic_`` is the fitted BERTopic object (its visualisations work:
  ``visualize_barchart``, ``visualize_topics``, ``get_topic_info``…);
- ``centroids_`` (topics × dim), ``topic_sides_``, ``thresholds_`` and ``topic_ids_`` are all
  that ``transform`` needs: nearest centroid of the segment's side, no BERTopic, no UMAP, so
  scoring new comments starts in well under a second and reproduces ``fit``;
- ``topics_`` is the topic table (id, phrase label, size, share, top words, description,
  representative segments; ``representation`` with a ``representation_model``), ``labels_`` the topic
  of each fitted segment.

``representation_model`` is handed to BERTopic as is (``KeyBERTInspired()``, ``MaximalMarginalRelevance()``,
``PartOfSpeech("fr_core_news_md")``…); those that embed words embed them with ``embed_fn``.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import logging
import sys
import threading
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..config import TopicsConfig
from ..errors import ArtefactError
from ..numerics import stable_order
from ..textfr import TopicAnalyzer, top_terms_label
from .cluster import SidedClusterer, TopicClusterer, predict_sided
from .labels import phrase_labels
from .stability import mean_stability, subsample

log = logging.getLogger("verbatim")

OUTLIER = -1
#: the two sides topics are found on: segments judged irritants (1) and the rest (0)
SIDES = {1: "irritant", 0: "compliment"}


@contextlib.contextmanager
def _quiet_bertopic():
    """Import/use BERTopic without letting it silence warnings process-wide or log noise."""
    saved = warnings.filters[:]
    blog = logging.getLogger("BERTopic")
    level = blog.level
    blog.setLevel(logging.ERROR)
    try:
        yield
    finally:
        warnings.filters[:] = saved
        blog.setLevel(level)


_PRELOAD: "threading.Thread | None" = None


def preload_bertopic() -> None:
    """Start importing BERTopic in a background thread. It imports sentence-transformers and torch (about 6 s
    on 2 cores), which the topics stage would otherwise wait for. :class:`~verbatim.pipeline.Pipeline` has
    :func:`~verbatim.embed.embed_texts` call this when worker processes encode, so the import overlaps
    the encoding; with nothing to encode it would only compete with the stages that follow."""
    global _PRELOAD
    if _PRELOAD is None and "bertopic" not in sys.modules:
        _PRELOAD = threading.Thread(target=_import_bertopic, name="verbatim-import-bertopic", daemon=True)
        _PRELOAD.start()
        atexit.register(_PRELOAD.join, 60)  # never leave the interpreter while torch is half imported


def _import_bertopic():
    with _quiet_bertopic():
        from bertopic import BERTopic

    return BERTopic


def _bertopic():
    if _PRELOAD is not None:
        _PRELOAD.join()
    return _import_bertopic()


class SourceTopicModel:
    """Topics of one source's segments (see module doc)."""

    def __init__(self, config: TopicsConfig | None = None, seed: int | None = None, source: str = "",
                 guide_embeddings: np.ndarray | None = None, guide_names: Sequence[str] = (),
                 guide_examples: Sequence[np.ndarray] | None = None, privacy=None, representation_model=None,
                 embed_fn=None):
        self.config = config
        self.seed = seed
        self.source = source
        self.guide_embeddings = guide_embeddings
        self.guide_names = guide_names
        self.guide_examples = guide_examples
        self.privacy = privacy
        self.representation_model = representation_model
        self.embed_fn = embed_fn

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], embeddings: np.ndarray, sides: Sequence[int] | None = None
            ) -> "SourceTopicModel":
        """Fit on one source's segments; ``sides`` (1 irritant, 0 other, from the polarity stage) splits
        them so that each side gets its own topics (see :class:`~verbatim.topics.cluster.SidedClusterer`)."""
        cfg = self.config or TopicsConfig()
        texts = list(texts)
        if len(texts) != len(embeddings):
            raise ValueError(f"{len(texts)} texts but {len(embeddings)} embeddings")
        if len(texts) < 2:
            raise ArtefactError(f"source '{self.source}' has {len(texts)} segment(s); topics need at least 2")
        from bertopic.dimensionality import BaseDimensionalityReduction
        from bertopic.vectorizers import ClassTfidfTransformer
        from sklearn.feature_extraction.text import CountVectorizer

        BERTopic = _bertopic()
        y = np.zeros(len(texts), np.int64) if sides is None else np.asarray(sides, np.int64)
        guided_side = 1 if (y == 1).any() else 0  # a taxonomy is a list of irritants
        clusterer = SidedClusterer({side: self._clusterer(cfg, int((y == side).sum()), side == guided_side)
                                    for side in (0, 1)})
        analyzer = TopicAnalyzer(ngram_max=cfg.ngram_max)
        min_df = 2 if len(texts) >= 200 else 1
        vectorizer = CountVectorizer(analyzer=analyzer, min_df=min_df)
        with _quiet_bertopic():
            tm = _stable_ids(BERTopic(
                umap_model=BaseDimensionalityReduction(),
                hdbscan_model=clusterer,
                vectorizer_model=vectorizer,
                ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
                top_n_words=cfg.top_n_words,
                representation_model=self.representation_model,
                embedding_model=_Embedder(self.embed_fn) if self.embed_fn is not None else None,
                calculate_probabilities=False,
                language="multilingual",  # "english" would strip every accented letter from topic words
                verbose=False,
            ))
            assigned = np.asarray(tm.fit_transform(texts, embeddings=np.asarray(embeddings, np.float32), y=y)[0])
        # BERTopic renumbers clusters by size: carry our centroids over to its numbering
        mapping = {}
        for o, t in zip(clusterer.labels_, assigned):
            if o >= 0:
                mapping.setdefault(int(o), int(t))
        ids = sorted(mapping.values())
        inv = {t: o for o, t in mapping.items()}
        order = [inv[t] for t in ids]
        self.bertopic_ = tm
        self.topic_ids_ = np.asarray(ids, dtype=np.int64)
        self.centroids_ = clusterer.cluster_centers_[order].astype(np.float32)
        self.topic_sides_ = clusterer.center_sides_[order]
        self.thresholds_ = clusterer.thresholds_[order]
        self.labels_ = assigned.astype(np.int64)
        self.similarity_ = clusterer.similarity_.astype(np.float32)
        self.k_scores_ = {SIDES[sd]: c.k_scores_ for sd, c in clusterer.fitted_.items()}
        self.guided_labels_ = {mapping[int(o)]: self.guide_names[g] for g, o in enumerate(clusterer.guide_topics_)
                               if int(o) in mapping and g < len(self.guide_names)}
        self.examples_ = None  # the taxonomy's example rule, in topic ids (transform applies it as fit did)
        if hasattr(clusterer, "example_x_"):
            keep = np.array([int(o) in mapping for o in clusterer.example_topics_])
            if keep.any():
                self.examples_ = (clusterer.example_x_[keep],
                                  np.array([mapping[int(o)] for o in clusterer.example_topics_[keep]]),
                                  int(clusterer.example_side_), float(clusterer.example_threshold_))
        self.topics_ = self._topic_table(texts, cfg, analyzer)
        n_out = int((self.labels_ == OUTLIER).sum())
        log.info("%s: %d segments → %d topics (%s), %d outliers (%.1f%%)", self.source or "topics", len(texts),
                 len(ids), ", ".join(f"{(self.topic_sides_ == sd).sum()} {SIDES[sd]}" for sd in (1, 0)),
                 n_out, 100 * n_out / len(texts))
        return self

    def assess_stability(self, embeddings: np.ndarray, sides: Sequence[int] | None, groups: Sequence,
                         n_fits: int, share: float, seed: int) -> "SourceTopicModel":
        """Refit this source's clusterers, with the numbers of topics this fit found, on ``n_fits`` subsamples of
        ``share`` of its respondents (``groups``: each segment's respondent) and assign every segment to each
        refit's nearest centroid (:mod:`.stability`). Sets ``refits_`` (fits × segments, refit cluster ids) and ``stability_`` (topic →
        mean best Jaccard index over the refits)."""
        from joblib import Parallel, delayed

        from ..embed.base import available_cores

        cfg = self.config or TopicsConfig()
        x = np.asarray(embeddings, np.float32)
        y = np.zeros(len(x), np.int64) if sides is None else np.asarray(sides, np.int64)
        guided_side = 1 if (y == 1).any() else 0
        # each refit keeps the side's number of topics (Hennig's cluster-wise stability: the same method, the same
        # k, on other samples), which also spares it the silhouette search
        k = {side: int((self.topic_sides_ == side).sum()) for side in (0, 1)}
        clusterers = {side: replace_k(self._clusterer(cfg, int((y == side).sum()), side == guided_side), k[side])
                      for side in (0, 1)}
        # a refit learns from at most MAX_REFIT_SEGMENTS segments of a side (a smaller share of a large corpus):
        # the stability of 200,000 segments is measured at the cost of 20,000
        share = min(share, MAX_REFIT_SEGMENTS / max(1, max(int((y == side).sum()) for side in (0, 1))))
        keeps = [subsample(np.asarray(groups), share, seed, b) for b in range(n_fits)]
        jobs = min(n_fits, available_cores()) if len(x) >= 5_000 else 1   # processes cost a second to start
        rows = Parallel(n_jobs=jobs, backend="loky")(delayed(_refit)(clusterers, x, y, keep) for keep in keeps)
        self.refits_ = np.vstack(rows) if rows else np.full((0, len(x)), OUTLIER, np.int32)
        self.stability_ = mean_stability(self.labels_, self.refits_)
        if len(self.topics_):
            self.topics_["stability"] = [round(self.stability_.get(int(t), np.nan), 3) for t in self.topics_["topic"]]
        return self

    def _clusterer(self, cfg: TopicsConfig, n: int, guided: bool) -> TopicClusterer:
        """The clusterer of one side: a fixed number of topics, or ``auto`` (best silhouette of the tree)."""
        auto = cfg.n_topics == "auto"
        return TopicClusterer(n_topics="auto" if auto else int(cfg.n_topics), random_state=self.seed,
                              outlier_quantile=cfg.outlier_quantile, k_range=(cfg.min_topics, cfg.max_topics),
                              min_topic_share=cfg.min_topic_share,
                              guide=self.guide_embeddings if guided else None, guide_weight=cfg.guide_weight,
                              guide_examples=list(self.guide_examples) if guided and self.guide_examples else None,
                              guide_similarity=cfg.guide_similarity)

    def _topic_table(self, texts: list[str], cfg: TopicsConfig, analyzer: TopicAnalyzer) -> pd.DataFrame:
        """One row per topic: its phrase ``label`` (:mod:`.labels`; the keyword list when no phrase is found),
        its ``top_words``, its most typical segment as ``description`` and its representative segments, label and
        description masked (:func:`verbatim.privacy.mask_label`, ``self.privacy``)."""
        from ..privacy import mask_label, mask_pii

        rows = []
        n = len(texts)
        sims = self.similarity_
        vocab = self.bertopic_.vectorizer_model.get_feature_names_out()
        words = {int(t): top_words(self.bertopic_, vocab, int(t), cfg.top_n_words) for t in self.topic_ids_}
        typical = {}
        for tid in self.topic_ids_:
            members = np.flatnonzero(self.labels_ == tid)
            typical[int(tid)] = members[stable_order(sims[members], descending=True)]
        sides = {int(t): SIDES[int(sd)] for t, sd in zip(self.topic_ids_, self.topic_sides_)}
        phrases = phrase_labels(texts, self.labels_, sides, words, typical, outlier=OUTLIER)
        reps = self.representation_words_()
        for tid in self.topic_ids_:
            tid = int(tid)
            top = typical[tid][: cfg.n_representative]
            keywords = top_terms_label([analyzer.surface(w) for w in words[tid]])
            label = (phrases.get(tid) or [keywords])[0] or _snippet(texts, top)
            guided = self.guided_labels_.get(tid)
            row = {
                "source": self.source,
                "topic": tid,
                "label": mask_label(f"{guided} ({label})" if guided else label, self.privacy),
                "taxonomy": guided,
                "side": sides[tid],
                "size": int(len(typical[tid])),
                "share": round(len(typical[tid]) / n, 4),
                "top_words": words[tid],
                "description": mask_pii(" ".join(str(texts[top[0]]).split()), self.privacy) if len(top) else "",
                "representative": [texts[i] for i in top],
            }
            if reps is not None:
                row["representation"] = reps.get(tid, [])
            rows.append(row)
        return pd.DataFrame(rows)

    def representation_words_(self) -> dict[int, list[str]] | None:
        """Each topic's words as the BERTopic ``representation_model`` given to the constructor found them
        (``None`` without one)."""
        if self.representation_model is None:
            return None
        return {int(t): [str(w) for w, _ in (self.bertopic_.get_topic(int(t)) or [])] for t in self.topic_ids_}

    # -- using -------------------------------------------------------------------------------
    def transform(self, embeddings: np.ndarray, sides: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Topic ids (−1 for outliers) and similarity to the topic, for new segment embeddings: the nearest
        centroid among the topics of each segment's side (1 irritant, 0 other) — the rule ``fit`` used."""
        if not hasattr(self, "centroids_"):
            raise ArtefactError("this topic model is not fitted; call fit() or load a saved pipeline")
        ex = None
        if getattr(self, "examples_", None) is not None:  # example topics are ids: map them to centroid rows
            x, ids, side, thr = self.examples_
            row = {int(t): i for i, t in enumerate(self.topic_ids_)}
            ex = (x, np.array([row[int(t)] for t in ids]), side, thr)
        idx, sims = predict_sided(embeddings, self.centroids_, self.topic_sides_, self.thresholds_, sides, ex)
        return np.where(idx >= 0, self.topic_ids_[np.clip(idx, 0, None)], OUTLIER), sims

    # -- persistence (safetensors + JSON; no pickles) ---------------------------------------
    def save(self, folder: str | Path) -> None:
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"centroids": np.ascontiguousarray(self.centroids_), "sides": np.ascontiguousarray(self.topic_sides_),
                   "thresholds": np.ascontiguousarray(self.thresholds_),
                   "topic_ids": np.ascontiguousarray(self.topic_ids_),
                   **({"example_x": np.ascontiguousarray(self.examples_[0], dtype=np.float32),
                       "example_topics": np.ascontiguousarray(self.examples_[1], dtype=np.int64)}
                      if getattr(self, "examples_", None) is not None else {})},
                  str(folder / "centroids.safetensors"))
        meta = {"source": self.source, "seed": self.seed, "k_scores": self.k_scores_,
                "example_rule": list(self.examples_[2:]) if getattr(self, "examples_", None) is not None else None,
                "guided_labels": {str(k): v for k, v in self.guided_labels_.items()}}
        (folder / "topic_model.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        if getattr(self, "refits_", None) is not None:
            save_file({"refits": np.ascontiguousarray(self.refits_, dtype=np.int32)}, str(folder / "refits.safetensors"))
        with _quiet_bertopic():
            self.bertopic_.save(folder / "bertopic", serialization="safetensors", save_ctfidf=True,
                                save_embedding_model=False)

    @classmethod
    def load(cls, folder: str | Path, with_bertopic: bool = False) -> "SourceTopicModel":
        """Load the scorer (fast); ``with_bertopic=True`` also loads the BERTopic object."""
        from safetensors.numpy import load_file

        folder = Path(folder)
        try:
            meta = json.loads((folder / "topic_model.json").read_text(encoding="utf-8"))
            tensors = load_file(str(folder / "centroids.safetensors"))
        except (OSError, ValueError) as ex:
            raise ArtefactError(f"topic model in '{folder}' is missing or damaged ({ex}); refit with `verbatim fit`") from None
        self = cls(seed=meta["seed"], source=meta["source"])
        self.centroids_ = tensors["centroids"]
        self.topic_ids_ = tensors["topic_ids"]
        self.topic_sides_ = tensors["sides"]
        self.thresholds_ = tensors["thresholds"]
        self.k_scores_ = meta.get("k_scores", {})
        rule = meta.get("example_rule")
        self.examples_ = ((tensors["example_x"], tensors["example_topics"], int(rule[0]), float(rule[1]))
                          if rule and "example_x" in tensors else None)
        self.guided_labels_ = {int(k): v for k, v in meta.get("guided_labels", {}).items()}
        if (folder / "refits.safetensors").is_file():
            self.refits_ = load_file(str(folder / "refits.safetensors"))["refits"]
        if with_bertopic:
            self.bertopic_ = load_bertopic(folder / "bertopic")
        return self


class _Embedder:
    """``embed_fn`` (texts → vectors) as the embedding backend BERTopic's representation models embed words with."""

    def __new__(cls, embed_fn):
        from bertopic.backend import BaseEmbedder

        class Embedder(BaseEmbedder):
            def embed(self, documents, verbose=False):
                return np.asarray(embed_fn(list(documents)), np.float32)

        return Embedder()


def _stable_ids(tm):
    """``tm`` numbering its topics by size with equal sizes in the order of our own topic numbers (BERTopic's
    own sort of the sizes orders equal sizes differently on AVX-512 and AVX2 machines)."""
    import types

    def sort_by_frequency(self, documents: pd.DataFrame) -> pd.DataFrame:
        self._update_topic_size(documents)
        df = pd.DataFrame(sorted(self.topic_sizes_.items()), columns=["Old_Topic", "Size"])
        df = df[df.Old_Topic != -1].sort_values(["Size", "Old_Topic"], ascending=[False, True], kind="stable")
        mapping = {-1: -1, **dict(zip(df.Old_Topic, range(len(df))))}
        self.topic_mapper_.add_mappings(mapping, topic_model=self)
        documents.Topic = documents.Topic.map(mapping).fillna(documents.Topic).astype(int)
        self._update_topic_size(documents)
        return documents

    tm._sort_mappings_by_frequency = types.MethodType(sort_by_frequency, tm)
    return tm


def top_words(tm, vocab: np.ndarray, topic: int, n: int) -> list[str]:
    """A topic's ``n`` words of highest c-TF-IDF, read from the BERTopic object's matrix with ties broken by
    the word (BERTopic's ``get_topic`` orders equal scores as numpy's unstable sort does, which differs
    between AVX-512 and AVX2 machines)."""
    row = tm.c_tf_idf_[topic + tm._outliers].tocoo()
    keep = row.data > 0
    cols, vals = row.col[keep], row.data[keep]
    order = stable_order(vals, vocab[cols], descending=(True, False))[:n]
    return [str(vocab[c]) for c in cols[order]]


#: the most segments of one side a stability refit learns from (its share is lowered for larger sides)
MAX_REFIT_SEGMENTS = 20_000


def replace_k(c: TopicClusterer, k: int) -> TopicClusterer:
    """``c`` with a fixed number of topics ``k`` (at least 1)."""
    c.n_topics = max(1, k)
    return c


def _refit(clusterers: dict, x: np.ndarray, y: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """One stability refit: each side's clusterer (a fresh copy) fitted on the kept rows, every row of the side
    assigned to its nearest refit centroid; cluster ids numbered side after side."""
    import copy

    out = np.full(len(x), OUTLIER, np.int32)
    offset = 0
    for side in (0, 1):
        m = y == side
        if (m & keep).sum() < 2:
            continue
        c = copy.deepcopy(clusterers[side]).fit(x[m & keep])
        lab = c.predict(x[m])
        out[m] = np.where(lab >= 0, lab + offset, OUTLIER)
        offset += len(c.cluster_centers_)
    return out


def _snippet(texts: list[str], members: np.ndarray, width: int = 40) -> str:
    """A label for a topic with no distinctive words: its most typical segment, shortened."""
    if not len(members):
        return "(empty topic)"
    t = " ".join(str(texts[int(members[0])]).split())
    return t if len(t) <= width else t[: width - 1].rsplit(" ", 1)[0] + "…"


def load_bertopic(folder: str | Path):
    """The saved BERTopic object (no embedding model attached: vectors come from verbatim's embedder)."""
    BERTopic = _bertopic()
    with _quiet_bertopic():
        return BERTopic.load(str(folder))
