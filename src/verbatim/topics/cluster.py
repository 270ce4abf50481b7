"""Stable, seeded clustering of L2-normalised embeddings into readable topics.

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

It follows the estimator rules: ``__init__`` stores, ``fit`` returns self,
fitted attributes end in ``_``.
"""
from __future__ import annotations

import logging

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

log = logging.getLogger("verbatim")


def _normalise(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (x / n).astype(np.float32)


def _cluster_sums(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Sum of the rows of ``x`` in each of ``k`` clusters (a sparse one-hot product: fast)."""
    onehot = sp.csr_matrix((np.ones(len(labels), np.float32), (labels, np.arange(len(labels)))),
                           shape=(k, len(labels)))
    return np.asarray(onehot @ x, dtype=np.float32)


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
    ks = [k] if np.isscalar(k) else list(k)
    out = cut_tree(tree, n_clusters=[min(max(1, kk), n) for kk in ks])
    return out[:, 0] if np.isscalar(k) else out


def choose_k(x: np.ndarray, point_labels: np.ndarray, tree: np.ndarray, k_range: tuple[int, int],
             rng: np.random.Generator, min_share: float = 0.03, sample: int = 3000
             ) -> tuple[int, dict[int, float]]:
    """The number of topics: the cut of the topic tree with the best cosine silhouette among the cuts
    whose every topic holds at least ``min_share`` of the segments (a topic must be large enough to
    give a rate per unit; on repetitive comments the silhouette alone keeps rising as topics shrink
    to near-duplicates). Among cuts within 0.005 of the best, the coarsest.

    Measured on every segment up to ``sample`` (a seeded draw above), so a last-bit change of the
    embeddings cannot move the choice through the sampling; returns the chosen k and the
    silhouette of each admissible k, so the choice can be reported.
    """
    from sklearn.metrics import silhouette_score

    n_points = len(tree) + 1
    lo, hi = max(2, k_range[0]), min(k_range[1], n_points)
    if hi < lo:
        return max(1, min(k_range[1], n_points)), {}
    idx = np.arange(len(x)) if len(x) <= sample else np.sort(rng.choice(len(x), size=sample, replace=False))
    counts = np.bincount(point_labels, minlength=n_points)
    ks = list(range(lo, hi + 1))
    groups_all = cut(tree, ks)
    scores = {}
    for col, k in enumerate(ks):
        groups = groups_all[:, col]
        if np.bincount(groups, weights=counts).min() < min_share * len(x):
            continue
        labels = groups[point_labels[idx]]
        if len(np.unique(labels)) < 2:
            continue
        scores[k] = float(silhouette_score(x[idx], labels, metric="cosine"))
    if not scores:
        return lo, scores
    best = max(scores.values())
    return min(k for k, v in scores.items() if v >= best - 0.005), scores


def topic_tree(x: np.ndarray, rng: np.random.Generator, k: int, exact_limit: int = 6000,
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
    labels, centers = spherical_kmeans(x, m, rng, n_init=n_init, max_iter=30)
    sizes = np.bincount(labels, minlength=len(centers)).astype(float)
    keep = sizes > 0
    remap = np.cumsum(keep) - 1
    return remap[labels], weighted_ward_tree(centers[keep], sizes[keep])


def spherical_kmeans(x: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 3,
                     max_iter: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """k-means++ seeded spherical k-means (cosine); best of ``n_init`` by total similarity."""
    n = len(x)
    k = min(k, n)
    best = (-np.inf, None, None)
    for _ in range(n_init):
        # k-means++ on cosine distance
        centers = np.empty((k, x.shape[1]), dtype=np.float32)
        centers[0] = x[rng.integers(n)]
        d = 1.0 - x @ centers[0]
        for j in range(1, k):
            p = np.clip(d, 0, None) ** 2
            s = p.sum()
            idx = rng.choice(n, p=p / s) if s > 0 else rng.integers(n)
            centers[j] = x[idx]
            d = np.minimum(d, 1.0 - x @ centers[j])
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

    def __init__(self, n_topics: int | str = 30, random_state: int = 0, micro_clusters: int | None = None,
                 outlier_quantile: float = 0.02, guide: np.ndarray | None = None,
                 guide_weight: float = 0.5, n_init: int = 1, max_refine: int = 100,
                 min_topic_size: int = 10, center: bool = False, k_range: tuple[int, int] = (5, 40),
                 min_topic_share: float = 0.03):
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

    def fit(self, x: np.ndarray, y=None) -> "TopicClusterer":
        x = _normalise(np.asarray(x, dtype=np.float32))
        self.mean_ = x.mean(0) if self.center else np.zeros(x.shape[1], np.float32)
        x = _normalise(x - self.mean_)
        n = len(x)
        rng = np.random.default_rng(self.random_state)
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
            k, self.k_scores_ = choose_k(x, point_labels, tree, self.k_range, rng, self.min_topic_share)
        groups = cut(tree, k)
        labels = groups[point_labels]
        n_groups = int(groups.max()) + 1
        centers = _normalise(_cluster_sums(x, labels, n_groups))
        # tiny groups (a few odd segments) are not topics: their members join the nearest topic
        big = np.bincount(labels, minlength=n_groups) >= min(self.min_topic_size, max(1, n // (2 * k)))
        if big.any() and not big.all():
            centers = centers[big]
        guide_idx = np.full(0, -1)
        if guide is not None:
            # each guide vector takes the most similar topic (one-to-one); a guide with no topic
            # close enough (cosine < 0.8 of its best) gets a topic of its own
            sims = guide @ centers.T
            rows, cols = linear_sum_assignment(-sims)
            guide_idx = np.full(len(guide), -1)
            guide_idx[rows] = cols
            for g in range(len(guide)):
                if guide_idx[g] < 0 or sims[g, guide_idx[g]] < 0.8:
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
        for _ in range(self.max_refine):
            sims = x @ centers.T
            new = sims.argmax(1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            sums = _cluster_sums(x, labels, len(centers))
            empty = ~sums.any(1)
            sums[empty] = centers[empty]
            if guide is not None:
                w = self.guide_weight
                for g, t in enumerate(guide_idx):  # a guided topic stays pulled toward its examples
                    sums[t] = (1 - w) * _normalise(sums[t:t + 1])[0] + w * guide[g]
            centers = _normalise(sums)
        sims = x @ centers.T
        labels = sims.argmax(1)
        return centers, labels, sims[np.arange(len(x)), labels]

    def predict(self, x: np.ndarray) -> np.ndarray:
        labels, _ = predict_nearest(x, self.cluster_centers_, self.threshold_, self.mean_)
        return labels


def predict_nearest(x: np.ndarray, centers: np.ndarray, threshold: float,
                    mean: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-centroid topics (−1 below ``threshold``) and the similarities (after centring on ``mean``)."""
    x = _normalise(np.asarray(x, dtype=np.float32))
    if mean is not None:
        x = _normalise(x - mean)
    sims = x @ np.asarray(centers, dtype=np.float32).T
    best = sims.argmax(1)
    s = sims[np.arange(len(x)), best]
    return np.where(s >= threshold, best, -1).astype(np.int64), s


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
        labels, _ = predict_sided(x, self.cluster_centers_, self.center_sides_, self.thresholds_, y)
        return labels


def predict_sided(x: np.ndarray, centers: np.ndarray, center_sides: np.ndarray, thresholds: np.ndarray,
                  sides: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid among the centroids of each segment's side (all centroids when ``sides`` is None);
    −1 below that centroid's side threshold. Returns topic indices and similarities."""
    x = _normalise(np.asarray(x, dtype=np.float32))
    sims = x @ np.asarray(centers, dtype=np.float32).T
    if sides is not None:
        sides = np.asarray(sides, np.int64)
        sims = np.where(center_sides[None, :] == sides[:, None], sims, -np.inf)
    best = sims.argmax(1)
    s = sims[np.arange(len(x)), best]
    ok = np.isfinite(s) & (s >= thresholds[best])
    return np.where(ok, best, -1).astype(np.int64), np.where(np.isfinite(s), s, 0).astype(np.float32)
