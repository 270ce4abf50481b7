"""Stable clustering of unit embeddings into readable topics, the same on every machine and seed.

BERTopic's default (UMAP + HDBSCAN) leaves many outliers, changes with the
seed, and ``transform`` disagrees with ``fit``. Here instead:

0. optionally (``center=True``) embeddings are centred on their source's mean:
   on the sample this makes topics purer (0.63 → 0.69 customer) but spreads
   each planted theme over more topics (top-2 share 0.51 → 0.47), which hurts
   the mirror; off by default;
1. a Ward tree over the segments (exact up to 6,000 segments: deterministic and
   stable under last-bit changes of the embeddings; above, over size-weighted
   spherical k-means micro-clusters);
2. the tree cut into ``n_topics`` topics, or ``auto``: the cut with the best
   silhouette among those whose topics all hold ``min_topic_share`` of the
   segments (:func:`choose_k`);
3. optional guidance toward a taxonomy: each seed phrase set is a centroid
   pulled toward its examples;
4. Lloyd refinement until every segment sits with its nearest centroid, so
   ``predict`` (nearest centroid) reproduces ``fit`` exactly;
5. a similarity floor: segments less similar to every centroid than the
   ``outlier_quantile`` of fitted similarities are outliers (-1).

Every vector and centroid lives on the grid of :mod:`verbatim.numerics`, so each similarity is
computed exactly and each nearest centroid, tree merge and threshold is the same on every CPU. Where a
draw is needed (micro-cluster seeds, the silhouette's sample), rows are taken in the order of a fixed
pseudo-random key of their vector (:func:`keyed_order`): the topics depend on the data alone, not on
the seed, the row order or the machine (``random_state`` makes the draws seeded instead).

It follows the estimator rules: ``__init__`` stores, ``fit`` returns self,
fitted attributes end in ``_``.
"""
from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from ..config import TopicsConfig
from ..numerics import GRID, rounded, unit_snap

log = logging.getLogger("verbatim")

_normalise = unit_snap  # every vector and centroid of this module is a unit vector on the grid


def _cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of ``x`` in each of ``k`` clusters (a sparse one-hot product, summed in row order: for
    grid vectors the sums are multiples of 2⁻⁷, exact in float32 up to clusters of 600,000 segments)."""
    onehot = sp.csr_matrix((np.ones(len(labels), np.float32), (labels, np.arange(len(labels)))), shape=(k, len(labels)))
    return np.asarray(onehot @ np.asarray(x, dtype=np.float32), dtype=np.float64)


def keyed_order(x: np.ndarray) -> np.ndarray:
    """Row indices in the order of a fixed pseudo-random function of each row's grid values (an integer
    product, exact on every machine): a draw that depends on the vectors alone. Equal rows are adjacent."""
    m = np.rint(np.asarray(x, dtype=np.float64) / GRID).astype(np.int64)
    weights = np.random.default_rng(0x5EED).integers(-(2 ** 20), 2 ** 20, size=m.shape[1])
    key = (m @ weights) * np.int64(0x9E3779B1) % np.int64(2 ** 31 - 1)
    return np.lexsort((np.arange(len(m)), key))


def _draw(x: np.ndarray, k: int, rng: np.random.Generator | None) -> np.ndarray:
    """``k`` row indices: seeded when ``rng`` is given, else the first rows of :func:`keyed_order`."""
    if rng is not None:
        return rng.choice(len(x), size=k, replace=False)
    return keyed_order(x)[:k]


def _distinct_rows(x: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` distinct vectors in :func:`keyed_order` (repeated texts give one seed), padded with
    repeats when there are fewer."""
    order = keyed_order(x)
    xs = x[order]
    new = np.r_[True, (xs[1:] != xs[:-1]).any(1)]
    first = order[new]
    return first[:k] if len(first) >= k else np.r_[first, order[~new][: k - len(first)]]


def weighted_ward_tree(centers: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ward agglomeration of weighted points (micro-centroids weighted by their sizes), as a SciPy
    linkage matrix (``scipy.cluster.hierarchy`` format: merged ids, cost, size).

    Merging clusters a and b costs ``w_a w_b / (w_a + w_b) · ‖c_a − c_b‖²`` (Lance–Williams updates),
    the increase of the within-cluster sum of squares of the underlying segments: a micro-cluster of
    one odd segment joins a neighbour cheaply instead of becoming a topic of its own.
    """
    m = len(centers)
    c = centers.astype(np.float64)
    w = weights.astype(np.float64)
    sq = np.maximum((c * c).sum(1)[:, None] + (c * c).sum(1)[None, :] - 2 * c @ c.T, 0)
    d = (w[:, None] * w[None, :] / (w[:, None] + w[None, :])) * sq
    np.fill_diagonal(d, np.inf)
    size = w.copy()
    ident = np.arange(m)          # SciPy id of the cluster held in row i
    z = np.zeros((max(m - 1, 0), 4))
    for step in range(m - 1):
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if i > j:
            i, j = j, i
        z[step] = (min(ident[i], ident[j]), max(ident[i], ident[j]), np.sqrt(2 * d[i, j]), size[i] + size[j])
        ni, nj, nk = size[i], size[j], size
        new = ((ni + nk) * d[i] + (nj + nk) * d[j] - nk * d[i, j]) / (ni + nj + nk)
        d[i], d[:, i] = new, new
        d[i, i] = np.inf
        d[j, :], d[:, j] = np.inf, np.inf
        size[i] = ni + nj
        ident[i] = m + step
    z[:, 2] = np.maximum.accumulate(z[:, 2]) if len(z) else z[:, 2]  # monotone heights for SciPy
    return z


def cut(tree: np.ndarray, k: int | list[int]) -> np.ndarray:
    """Group of each point of the tree when cut into ``k`` groups (a list of k: one column each)."""
    from scipy.cluster.hierarchy import cut_tree

    n = len(tree) + 1
    tree = _leaf_counts(tree)
    ks = [k] if np.isscalar(k) else list(k)
    out = cut_tree(tree, n_clusters=[min(max(1, kk), n) for kk in ks])
    return out[:, 0] if np.isscalar(k) else out


def _leaf_counts(tree: np.ndarray) -> np.ndarray:
    """The tree with its fourth column counting leaves (a weighted tree records segment weights there, which
    SciPy's tree functions refuse)."""
    n = len(tree) + 1
    counts = np.ones(2 * n - 1)
    for i, (a, b, _, _) in enumerate(tree):
        counts[n + i] = counts[int(a)] + counts[int(b)]
    out = np.array(tree, dtype=np.float64, copy=True)
    if len(out):
        out[:, 3] = counts[n:]
    return out


def size_aware_partitions(tree: np.ndarray, counts: np.ndarray, min_size: float, k_max: int) -> list[np.ndarray]:
    """Partitions of the tree's points into 1, 2, … ``k_max`` topics, splitting top-down: each step
    splits the highest node of the frontier whose two branches both hold ``min_size`` segments.

    A plain cut of a Ward tree splits off small dense groups (near-identical sentences) long before it
    splits a large mixed topic; here a node whose one branch is small passes through to its large
    branch (the small branch's points are left unassigned, −1, and join their nearest topic later),
    so every topic is large enough to give a rate per unit and large topics keep being split.
    """
    n = len(tree) + 1
    size = np.concatenate([counts.astype(float), np.zeros(n - 1)])
    for i, (a, b, _, _) in enumerate(tree):
        size[n + i] = size[int(a)] + size[int(b)]

    def settle(node: int) -> int:
        """Descend through splits that shed only a small branch."""
        while node >= n:
            a, b = (int(v) for v in tree[node - n, :2])
            if size[a] >= min_size and size[b] >= min_size:
                return node
            node = a if size[a] >= size[b] else b
        return node

    def leaves(node: int) -> list[int]:
        stack, out = [node], []
        while stack:
            v = stack.pop()
            if v < n:
                out.append(v)
            else:
                stack.extend(int(c) for c in tree[v - n, :2])
        return out

    frontier = [settle(2 * n - 2)] if n > 1 else [0]
    parts = []
    while True:
        groups = np.full(n, -1, np.int64)
        for g, node in enumerate(frontier):
            groups[leaves(node)] = g
        parts.append(groups)
        splittable = [v for v in frontier if v >= n]
        if len(frontier) >= k_max or not splittable:
            return parts
        top = max(splittable, key=lambda v: tree[v - n, 2])
        a, b = (int(c) for c in tree[top - n, :2])
        i = frontier.index(top)
        frontier[i:i + 1] = [settle(a), settle(b)]


def match_examples(x: np.ndarray, labels: np.ndarray, sims: np.ndarray, examples: list[np.ndarray],
                   guide_topics: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """A seeded taxonomy holds its theme: every segment at least ``threshold`` similar (cosine) to one of
    an entry's example phrases joins that entry's topic, wherever clustering put it (the closest entry
    wins). Returns the labels and each segment's similarity to its topic."""
    ex = _normalise(np.vstack(examples))
    owner = np.repeat(np.asarray(guide_topics), [len(e) for e in examples])
    s = x @ ex.T
    best = s.argmax(1)
    hit = s[np.arange(len(x)), best] >= threshold
    labels, sims = labels.copy(), sims.copy()
    labels[hit] = owner[best[hit]]
    sims[hit] = s[np.arange(len(x)), best][hit]
    return labels, sims


def _attach_orphans(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Points without a topic (−1) join the topic whose centroid is nearest."""
    if (labels >= 0).all():
        return labels
    k = int(labels.max()) + 1
    centers = _normalise(_cluster_sums(x[labels >= 0], labels[labels >= 0], k))
    out = labels.copy()
    out[labels < 0] = (x[labels < 0] @ centers.T).argmax(1)
    return out


def choose_k(x: np.ndarray, point_labels: np.ndarray, tree: np.ndarray, k_range: tuple[int, int],
             rng: np.random.Generator | None, min_share: float = 0.03, sample: int = 3000, min_size: int = 10
             ) -> tuple[np.ndarray, dict[int, float]]:
    """The topics when their number is ``auto``: among the size-aware partitions of the tree
    (:func:`size_aware_partitions`: every topic holds ``min_share`` of the segments, so it can give a
    rate per unit), the one with the best cosine silhouette; among those within 0.005 of the best, the
    coarsest. Returns each segment's topic and the silhouette of each k tried, so the choice can be
    reported.

    Measured on every segment up to ``sample`` (above, a draw: :func:`_draw`); scores within 0.005 of the
    best are compared after rounding (:func:`~verbatim.numerics.rounded`).
    """
    from sklearn.metrics import silhouette_score

    counts = np.bincount(point_labels, minlength=len(tree) + 1)
    floor = max(min_share * len(x), min(min_size, len(x) // 4))  # and never topics of a few segments
    parts = size_aware_partitions(tree, counts, floor, k_range[1])
    idx = np.arange(len(x)) if len(x) <= sample else np.sort(_draw(x, sample, rng))
    xs = x[idx].astype(np.float64)
    dist = np.clip(1.0 - xs @ xs.T, 0.0, 2.0)  # cosine distances, computed once for every candidate
    np.fill_diagonal(dist, 0.0)
    scores, labels_of = {}, {}
    for groups in parts:
        k = int(groups.max()) + 1
        if k < max(2, k_range[0]):
            continue
        labels_of[k] = _attach_orphans(x, groups[point_labels])
        if not 2 <= len(np.unique(labels_of[k][idx])) < len(idx):  # silhouette needs 2..n−1 groups
            continue
        scores[k] = float(rounded(silhouette_score(dist, labels_of[k][idx], metric="precomputed")))
    if not scores:
        return _attach_orphans(x, parts[-1][point_labels]), scores
    best = max(scores.values())
    return labels_of[min(k for k, v in scores.items() if rounded(v - best + 0.005) >= 0)], scores


def topic_tree(x: np.ndarray, rng: np.random.Generator | None, k: int, exact_limit: int = 6000,
               n_init: int = 1, micro_clusters: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The agglomerative tree the topics are cut from: ``(point_labels, tree)``.

    Up to ``exact_limit`` segments, exact Ward on the segments themselves (deterministic: a 1e-4
    perturbation of the embeddings leaves the partition unchanged, measured, where k-means
    micro-clusters changed it; ARI 0.4–0.7 between two seeds). Above, Ward on size-weighted spherical
    k-means micro-clusters (at most 2,000), so memory stays bounded at any volume.
    """
    n = len(x)
    if n <= exact_limit and micro_clusters is None:
        from scipy.cluster.hierarchy import linkage

        return np.arange(n), linkage(x.astype(np.float64), method="ward")
    m = micro_clusters or int(min(max(4 * k, 200), n // 20, 2000))
    m = max(k, min(m, n))
    # micro-clusters only summarise the segments for Ward: random seeds and ten Lloyd steps (k-means++
    # seeding and 30 steps took 4× the time for the same mean similarity to the centre, 0.693 vs 0.694)
    labels, centers = spherical_kmeans(x, m, rng, n_init=n_init, max_iter=10)
    sizes = np.bincount(labels, minlength=len(centers)).astype(float)
    keep = sizes > 0
    remap = np.cumsum(keep) - 1
    return remap[labels], weighted_ward_tree(centers[keep], sizes[keep])


def spherical_kmeans(x: np.ndarray, k: int, rng: np.random.Generator | None, n_init: int = 3,
                     max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means (cosine) of grid vectors, started from k segments (:func:`_draw`: distinct
    vectors when ``rng`` is None); best of ``n_init`` seeded starts by total similarity (one start
    without ``rng``)."""
    n = len(x)
    k = min(k, n)
    best = (-np.inf, None, None)
    for _ in range(n_init if rng is not None else 1):
        start = _draw(x, k, rng) if rng is not None else _distinct_rows(x, k)
        centers = x[start].copy()
        labels = None
        for _ in range(max_iter):
            sims = x @ centers.T
            new = sims.argmax(1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            sums = _cluster_sums(x, labels, k)
            empty = ~sums.any(1)
            sums[empty] = centers[empty]
            centers = _normalise(sums)
        score = float(sims[np.arange(n), labels].sum())
        if score > best[0]:
            best = (score, labels.copy(), centers.copy())
    return best[1], best[2]


class TopicClusterer:
    """Cluster embeddings into ``n_topics`` topics (see module doc); BERTopic-compatible
    (``fit``, ``predict``, ``labels_``)."""

    def __init__(self, n_topics: int | str = 30, random_state: int | None = None, micro_clusters: int | None = None,
                 outlier_quantile: float = 0.02, guide: np.ndarray | None = None,
                 guide_weight: float = 0.5, n_init: int = 1, max_refine: int = 100,
                 min_topic_size: int = 10, center: bool = False, k_range: tuple[int, int] = (TopicsConfig.min_topics, TopicsConfig.max_topics),
                 min_topic_share: float = 0.03, guide_examples: list[np.ndarray] | None = None,
                 guide_similarity: float = 0.5):
        self.n_topics = n_topics
        self.random_state = random_state
        self.micro_clusters = micro_clusters
        self.outlier_quantile = outlier_quantile
        self.guide = guide
        self.guide_weight = guide_weight
        self.n_init = n_init
        self.max_refine = max_refine
        self.min_topic_size = min_topic_size
        self.center = center
        self.k_range = k_range
        self.min_topic_share = min_topic_share
        self.guide_examples = guide_examples
        self.guide_similarity = guide_similarity

    def fit(self, x: np.ndarray, y=None) -> "TopicClusterer":
        x = _normalise(x)
        self.mean_ = x.astype(np.float64).mean(0) if self.center else np.zeros(x.shape[1])
        x = _normalise(x - self.mean_)
        n = len(x)
        rng = None if self.random_state is None else np.random.default_rng(self.random_state)
        auto = self.n_topics == "auto"
        k = max(1, min(self.k_range[1] if auto else int(self.n_topics), n))
        guide = None if self.guide is None or len(self.guide) == 0 else _normalise(np.asarray(self.guide))
        if guide is not None:  # guides live in the same centred space as the segments
            guide = _normalise(guide - self.mean_)
        point_labels, tree = topic_tree(x, rng, k, n_init=self.n_init, micro_clusters=self.micro_clusters)
        self.tree_ = tree                # the topic tree (SciPy linkage matrix over points_)
        self.points_ = point_labels      # per segment: its point (itself, or its micro-cluster) in the tree
        self.k_scores_ = {}
        if auto:
            labels, self.k_scores_ = choose_k(x, point_labels, tree, self.k_range, rng, self.min_topic_share,
                                              min_size=self.min_topic_size)
        else:
            labels = cut(tree, k)[point_labels]
        n_groups = int(labels.max()) + 1
        centers = _normalise(_cluster_sums(x, labels, n_groups))
        # tiny groups (a few odd segments) are not topics: their members join the nearest topic
        big = np.bincount(labels, minlength=n_groups) >= min(self.min_topic_size, max(1, n // (2 * k)))
        if big.any() and not big.all():
            centers = centers[big]
        guide_idx = np.full(0, -1)
        if guide is not None:
            # each guide vector takes the most similar topic (one-to-one); a guide with no topic
            # close enough (cosine < 0.8 of its best) gets a topic of its own
            # each guide takes its nearest topic; two guides nearest to one topic: the closer keeps it
            # (a one-to-one assignment), the other gets a topic of its own
            sims = guide @ centers.T
            rows, cols = linear_sum_assignment(-sims)
            guide_idx = np.full(len(guide), -1)
            guide_idx[rows] = cols
            for g in range(len(guide)):
                if guide_idx[g] < 0 or guide_idx[g] != sims[g].argmax():
                    centers = np.vstack([centers, guide[g:g + 1]])
                    guide_idx[g] = len(centers) - 1
        centers, labels, sims_best = self._refine(x, centers, guide, guide_idx)
        # drop topics left empty by refinement (keeping guided ones)
        used = np.bincount(labels, minlength=len(centers)) > 0
        if guide is not None:
            used[guide_idx] = True
        if not used.all():
            remap = np.cumsum(used) - 1
            centers = centers[used]
            labels = remap[labels]
            guide_idx = remap[guide_idx] if guide is not None else guide_idx
        if guide is not None and self.guide_examples is not None:
            labels, sims_best = match_examples(x, labels, sims_best, self.guide_examples, guide_idx,
                                               self.guide_similarity)
        self.cluster_centers_ = centers
        self.guide_topics_ = guide_idx
        self.threshold_ = float(np.quantile(sims_best, self.outlier_quantile)) if self.outlier_quantile > 0 else -1.0
        self.labels_ = np.where(sims_best >= self.threshold_, labels, -1).astype(np.int64)
        self.similarity_ = sims_best
        log.debug("clustered %d segments into %d topics (tree over %d points), %.1f%% outliers", n,
                  len(centers), len(tree) + 1, 100 * (self.labels_ < 0).mean())
        return self

    def _refine(self, x, centers, guide, guide_idx):
        labels = None
        # converged when no segment moves; above 10,000 segments, when at most 1 in 1,000 still does
        # (the last few hundred steps each moved a handful of 100,000 segments)
        settle = 0 if len(x) <= 10_000 else len(x) // 1_000
        for _ in range(self.max_refine):
            sims = x @ centers.T
            new = sims.argmax(1)
            if labels is not None and np.count_nonzero(new != labels) <= settle:
                break
            labels = new
            sums = _cluster_sums(x, labels, len(centers))
            empty = ~sums.any(1)
            sums[empty] = centers[empty]
            if guide is not None:
                w = self.guide_weight
                for g, t in enumerate(guide_idx):  # a guided topic stays pulled toward its examples
                    sums[t] = (1 - w) * _normalise(sums[t:t + 1])[0] + w * np.asarray(guide[g], np.float64)
            centers = _normalise(sums)
        sims = x @ centers.T
        labels = sims.argmax(1)
        return centers, labels, sims[np.arange(len(x)), labels]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Nearest topic (−1 below the outlier threshold), in the space ``fit`` clustered in."""
        x = _normalise(_normalise(x) - self.mean_)
        k = len(self.cluster_centers_)
        labels, _ = _nearest_sided(x, self.cluster_centers_, np.zeros(k, np.int64), np.full(k, self.threshold_), None)
        return labels


class SidedClusterer:
    """Topics found separately on each side of a split of the segments (``y``: 1 irritant, 0 the rest),
    numbered one side after the other; BERTopic-compatible (``fit(x, y)``, ``labels_``).

    A source's comments mix praise and complaints; clustered together, the many ways of praising
    ("équipe soudée", "collègues solidaires") take most topics and every complaint of the staff lands
    in one or two (measured on the sample). Split by polarity, each side gets topics at its own
    granularity. ``clusterers`` maps each side to the (unfitted) :class:`TopicClusterer` to use, so
    a researcher can inject their own settings per side.
    """

    def __init__(self, clusterers: dict[int, TopicClusterer]):
        self.clusterers = clusterers

    def fit(self, x: np.ndarray, y=None) -> "SidedClusterer":
        x = np.asarray(x, dtype=np.float32)
        y = np.zeros(len(x), np.int64) if y is None else np.asarray(y, np.int64)
        labels = np.full(len(x), -1, np.int64)
        sims = np.zeros(len(x), np.float32)
        centers, sides, thresholds, guide_topics = [], [], [], np.full(0, -1)
        self.fitted_ = {}
        for side in sorted(set(y.tolist())):
            mask = y == side
            c = self.clusterers[side]
            if mask.sum() < 2:
                continue
            c.fit(x[mask])
            offset = sum(len(cc) for cc in centers)
            labels[mask] = np.where(c.labels_ >= 0, c.labels_ + offset, -1)
            sims[mask] = c.similarity_
            centers.append(c.cluster_centers_)
            sides += [side] * len(c.cluster_centers_)
            thresholds += [c.threshold_] * len(c.cluster_centers_)
            if c.guide is not None and len(c.guide_topics_):
                guide_topics = np.asarray(c.guide_topics_) + offset
                if c.guide_examples is not None:  # the example rule, for predict (see match_examples)
                    self.example_x_ = _normalise(np.vstack(c.guide_examples))
                    self.example_topics_ = np.repeat(guide_topics, [len(e) for e in c.guide_examples])
                    self.example_side_, self.example_threshold_ = side, c.guide_similarity
            self.fitted_[side] = c
        self.cluster_centers_ = np.vstack(centers).astype(np.float32)
        self.center_sides_ = np.asarray(sides, np.int64)
        self.thresholds_ = np.asarray(thresholds, np.float32)
        self.guide_topics_ = guide_topics
        self.mean_ = np.zeros(x.shape[1], np.float32)
        self.labels_ = labels
        self.similarity_ = sims
        return self

    def predict(self, x: np.ndarray, y=None) -> np.ndarray:
        ex = None
        if hasattr(self, "example_x_"):
            ex = (self.example_x_, self.example_topics_, self.example_side_, self.example_threshold_)
        labels, _ = predict_sided(x, self.cluster_centers_, self.center_sides_, self.thresholds_, y, ex)
        return labels


def predict_sided(x: np.ndarray, centers: np.ndarray, center_sides: np.ndarray, thresholds: np.ndarray,
                  sides: np.ndarray | None = None, examples: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid among the centroids of each segment's side (all centroids when ``sides`` is None);
    −1 below that centroid's side threshold; then the taxonomy's example rule (``examples``: the example
    vectors, the topic index of each, the side they apply to, the threshold; see :func:`match_examples`).
    Returns topic indices and similarities."""
    x = _normalise(np.asarray(x, dtype=np.float32))
    idx, s = _nearest_sided(x, centers, center_sides, thresholds, sides)
    if examples is not None:
        ex, owner, side, threshold = examples
        on = np.ones(len(x), bool) if sides is None else (np.asarray(sides) == side)
        sim = x[on] @ np.asarray(ex, np.float32).T
        best = sim.argmax(1)
        bs = sim[np.arange(len(best)), best]
        hit = bs >= threshold
        rows = np.flatnonzero(on)[hit]
        idx[rows], s[rows] = owner[best[hit]], bs[hit]
    return idx, s


def _nearest_sided(x, centers, center_sides, thresholds, sides):
    sims = x @ np.asarray(centers, dtype=np.float32).T
    if sides is not None:
        sides = np.asarray(sides, np.int64)
        sims = np.where(center_sides[None, :] == sides[:, None], sims, -np.inf)
    best = sims.argmax(1)
    s = sims[np.arange(len(x)), best]
    ok = np.isfinite(s) & (s >= thresholds[best])
    return np.where(ok, best, -1).astype(np.int64), np.where(np.isfinite(s), s, 0).astype(np.float32)
