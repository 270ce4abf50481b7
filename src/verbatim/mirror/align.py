"""Topic alignment between two sources in the shared embedding space.

Two views of how close a topic of source A (customers) is to a topic of source
B (employees):

- **centroid view** (used for matching): cosine of the topic centroids, each
  source's centroids centred on *that source's* mean segment (sentence
  embeddings are anisotropic: raw cosines all sit near 0.8–0.9; centring
  spreads them out). Each side is centred on its own mean so that 0 means "no
  closer than two average segments of their sources", whatever separates the
  sources as a whole (language, register, length): a random group of a
  source's segments then has a centroid near 0 and a null cosine near 0, which
  is what makes the permutation test in :mod:`.stats` able to fail. (Centring
  both on the pooled mean pushed the null centroids of A and B towards
  opposite directions, null cosine near −1, every pair significant);
- **word view** (reported beside it): cosine of rank-weighted bags of the
  topics' top words (accents and case folded, bigrams split), so a reader can
  check that a match is not a quirk of the vectors. It is near 0 across
  languages, which is why it is not used for matching.

One-to-one matching (``matching``) is a Hungarian assignment (Greene et al.
2014), on one of two scores:

- ``"shared"`` (default): **cross-assignment counts**, how many segments of A's
  topic i have B's topic j as their nearest centroid, plus how many of B's topic
  j have A's topic i as theirs (centred cosines as above). It estimates how many
  verbatims the two topics share in meaning, which is what a matching should
  recover: on French reviews and their English translations (two partitions of
  the same verbatims) it reproduced 24 of 24 pairs of the best one-to-one
  assignment on the translations themselves over 6 samples, the centroid
  cosine 19 of 24 (``benchmarks/bench_mirror.py --cross-language``). Cosines
  alone treat a topic of 20 segments like one of 500, and when one side's
  partition is coarser, a broad topic's centroid sits between several of the
  other side's and loses to a narrow one;
- ``"centroid"``: the centroid cosine itself.

Other pairs above ``secondary_threshold`` (centroid cosine) are kept as
secondary links; topics whose match is not significant (see :mod:`.stats`) are
one-sided.
"""
from __future__ import annotations

import typing
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from ..config import Matching, MirrorConfig
from ..numerics import stable_order
from ..respondent import respondents
from ..textnorm import strip_accents


def group_sums(x: np.ndarray, labels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row sums of ``x`` and counts for labels ``0..k-1`` (labels < 0 are ignored)."""
    keep = labels >= 0
    idx = np.flatnonzero(keep)
    onehot = sp.csr_matrix((np.ones(len(idx), np.float64), (labels[keep], idx)), shape=(k, len(labels)))
    return np.asarray(onehot @ x, dtype=np.float64), np.asarray(onehot.sum(1)).ravel()


def centroids(x: np.ndarray, labels: np.ndarray, k: int, center: np.ndarray | None = None) -> np.ndarray:
    """Unit-length centroids of the ``k`` groups after subtracting ``center`` (rows of empty groups are 0)."""
    sums, n = group_sums(x, labels, k)
    c = sums / np.maximum(n, 1)[:, None]
    if center is not None:
        c = c - center[None, :]
    norm = np.linalg.norm(c, axis=1, keepdims=True)
    norm[norm == 0] = 1.0
    return c / norm


def cosine_matrix(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    return np.clip(ca @ cb.T, -1.0, 1.0)


def _word_bag(words) -> dict[str, float]:
    bag: dict[str, float] = {}
    for rank, w in enumerate(list(words if words is not None else [])):
        weight = 1.0 / (rank + 1)
        for tok in strip_accents(str(w)).casefold().split():
            bag[tok] = bag.get(tok, 0.0) + weight
    return bag


def word_similarity(words_a: list, words_b: list) -> np.ndarray:
    """Cosine of rank-weighted bags of top words, for every topic of A against every topic of B."""
    bags_a, bags_b = [_word_bag(w) for w in words_a], [_word_bag(w) for w in words_b]
    vocab = sorted({t for b in bags_a + bags_b for t in b})
    pos = {t: i for i, t in enumerate(vocab)}

    def mat(bags):
        m = np.zeros((len(bags), max(len(vocab), 1)))
        for i, b in enumerate(bags):
            for t, v in b.items():
                m[i, pos[t]] = v
        n = np.linalg.norm(m, axis=1, keepdims=True)
        n[n == 0] = 1.0
        return m / n

    return mat(bags_a) @ mat(bags_b).T


def cross_assignment(a: "SourceTopics", b: "SourceTopics", ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """``M[i, j]``: segments of A's topic i whose nearest B centroid is j, plus segments of B's topic j whose
    nearest A centroid is i (each side's segments and centroids centred on that side's mean)."""
    m = np.zeros((a.k, b.k))
    if a.k and b.k:
        np.add.at(m, (a.labels, np.argmax((a.embeddings - a.center.astype(np.float32)) @ cb.T, 1)), 1)
        np.add.at(m, (np.argmax((b.embeddings - b.center.astype(np.float32)) @ ca.T, 1), b.labels), 1)
    return m


def hungarian(sim: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one matching maximising total similarity (rectangular matrices allowed)."""
    if sim.size == 0:
        return []
    rows, cols = linear_sum_assignment(-sim)
    return sorted(zip(rows.tolist(), cols.tolist()))


def irritant_topic_ids(topics: pd.DataFrame, source: str) -> set[int] | None:
    """The topics of ``source`` the mirror compares: those with ``side == "irritant"`` when the topic table
    has a ``side`` column (topics fitted per polarity side), else ``None`` (every topic)."""
    if topics is None or "side" not in topics:
        return None
    t = topics[(topics["source"] == source) & (topics["side"] == "irritant")]
    return {int(x) for x in t["topic"]}


@dataclass
class SourceTopics:
    """The segments of one source that sit in a topic, as arrays the statistics can resample."""

    source: str
    topic_ids: np.ndarray       # topic id of each row/column of the similarity matrix
    labels: np.ndarray          # per segment: index into topic_ids (segments in no topic are dropped)
    embeddings: np.ndarray      # per segment
    groups: np.ndarray          # per segment: verbatim (record) code, for cluster resampling
    rows: np.ndarray            # per segment: row position in the pipeline's segments_

    @property
    def k(self) -> int:
        return len(self.topic_ids)

    @property
    def center(self) -> np.ndarray:
        """The source's own mean segment (the origin of its centroids)."""
        return self.embeddings.mean(0, dtype=np.float64) if len(self.embeddings) else np.zeros(self.embeddings.shape[1])

    def centroids(self) -> np.ndarray:
        return centroids(self.embeddings, self.labels, self.k, self.center)


def source_topics(segments: pd.DataFrame, embeddings: np.ndarray, source: str,
                  keep: set[int] | None = None) -> SourceTopics:
    """The segments of ``source`` in a topic (in ``keep`` when given)."""
    topic = segments["topic"].to_numpy()
    mask = (segments["source"].to_numpy() == source) & (topic >= 0)
    if keep is not None:
        mask &= np.isin(topic, np.array(sorted(keep), dtype=topic.dtype))
    rows = np.flatnonzero(mask)
    topics = segments["topic"].to_numpy()[rows]
    ids = np.unique(topics)
    labels = np.searchsorted(ids, topics)
    groups = pd.factorize(respondents(segments).to_numpy()[rows])[0]
    return SourceTopics(source, ids, labels, np.asarray(embeddings[rows], np.float32), groups, rows)


@dataclass
class Alignment:
    """Similarity of every topic of A to every topic of B, and the matching."""

    a: SourceTopics
    b: SourceTopics
    similarity: pd.DataFrame        # centroid view, index = A topic ids, columns = B topic ids
    word_similarity: pd.DataFrame   # word view, same shape
    shared: pd.DataFrame            # cross-assignment counts (:func:`cross_assignment`), same shape
    matches: list[tuple[int, int]]  # Hungarian pairs, as (row, column) positions
    links: pd.DataFrame             # secondary links above the threshold


def align(segments: pd.DataFrame, embeddings: np.ndarray, topics: pd.DataFrame,
          pair: tuple[str, str] = ("customer", "employee"), secondary_threshold: float = MirrorConfig.secondary_threshold,
          matching: str = "shared") -> Alignment:
    """Similarity matrices, Hungarian matches (on ``matching``: ``"shared"`` cross-assignment counts, ties
    broken by cosine, or ``"centroid"`` cosines) and secondary links between the topics of ``pair`` (only
    the irritant topics when the topic table has a ``side`` column)."""
    if matching not in typing.get_args(Matching):
        raise ValueError(f"matching must be one of {typing.get_args(Matching)}; got {matching!r}")
    a = source_topics(segments, embeddings, pair[0], irritant_topic_ids(topics, pair[0]))
    b = source_topics(segments, embeddings, pair[1], irritant_topic_ids(topics, pair[1]))
    ca, cb = a.centroids(), b.centroids()
    sim = cosine_matrix(ca, cb)
    shared = cross_assignment(a, b, ca, cb)
    words = {}
    for src, st in ((pair[0], a), (pair[1], b)):
        t = topics[topics["source"] == src].set_index("topic")
        words[src] = [t["top_words"].get(int(tid), []) if "top_words" in t else [] for tid in st.topic_ids]
    wsim = word_similarity(words[pair[0]], words[pair[1]])
    matches = hungarian(shared + 1e-3 * sim if matching == "shared" else sim)  # a count outweighs any cosine
    primary = set(matches)
    links = [{"topic_a": int(a.topic_ids[i]), "topic_b": int(b.topic_ids[j]), "similarity": float(sim[i, j]),
              "word_similarity": float(wsim[i, j])}
             for i in range(a.k) for j in range(b.k) if (i, j) not in primary and sim[i, j] >= secondary_threshold]
    links_df = pd.DataFrame(links, columns=["topic_a", "topic_b", "similarity", "word_similarity"])
    return Alignment(a, b,
                     pd.DataFrame(sim, index=a.topic_ids, columns=b.topic_ids),
                     pd.DataFrame(wsim, index=a.topic_ids, columns=b.topic_ids),
                     pd.DataFrame(shared, index=a.topic_ids, columns=b.topic_ids),
                     matches, links_df.iloc[stable_order(links_df["similarity"], descending=True)].reset_index(drop=True))
