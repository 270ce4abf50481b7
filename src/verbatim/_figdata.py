"""The tables behind the figures, shared by :mod:`verbatim.plots` (plotly) and :mod:`verbatim.figures`
(static SVG/PNG), so the notebook and the report draw the same numbers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .verdicts import MIRRORED as MIRRORED_VERDICTS


def short(text: object, n: int = 32) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def topic_sizes(topics: pd.DataFrame, top: int = 12) -> pd.DataFrame:
    """The ``top`` largest topics of each source: source, topic, label (shortened), size, share."""
    t = topics[topics["topic"] >= 0] if "topic" in topics else topics
    out = (t.sort_values(["source", "size"], ascending=[True, False]).groupby("source", sort=True).head(top)
           .reset_index(drop=True))
    out = out.assign(name=[f"{int(tp)} {short(lb, 36)}" for tp, lb in zip(out["topic"], out["label"])])
    if "share" not in out:
        out["share"] = out["size"] / out.groupby("source")["size"].transform("sum")
    return out[["source", "topic", "name", "label", "size", "share"]]


def topic_map(segments: pd.DataFrame, embeddings: np.ndarray, source: str) -> pd.DataFrame:
    """Topic centroids of one source projected on their first two principal axes (x, y), with size and label."""
    mask = (segments["source"] == source).to_numpy() & (segments["topic"] >= 0).to_numpy()
    seg = segments.loc[mask]
    emb = np.asarray(embeddings)[mask]
    rows, cents = [], []
    for topic, idx in seg.groupby("topic", sort=True).indices.items():
        c = emb[idx].mean(0)
        cents.append(c / (np.linalg.norm(c) or 1.0))
        lab = seg["topic_label"].iloc[idx[0]] if "topic_label" in seg else str(topic)
        rows.append({"topic": int(topic), "label": str(lab), "size": len(idx)})
    out = pd.DataFrame(rows, columns=["topic", "label", "size"])
    if len(cents) >= 2:
        x = np.vstack(cents)
        x = x - x.mean(0)
        u, s, _ = np.linalg.svd(x, full_matrices=False)
        xy = u[:, :2] * s[:2]
        out["x"], out["y"] = xy[:, 0], xy[:, 1] if xy.shape[1] > 1 else 0.0
    else:
        out["x"], out["y"] = 0.0, 0.0
    return out


def heatmap(m, max_topics: int = 25) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """The similarity matrix of a fitted Mirror with labelled rows (source A) and columns (source B), the
    rows and columns of the ``max_topics`` largest topics kept, and the (row, column) positions of the pairs kept."""
    sim = m.similarity_
    a, b = m.config_.pair
    tp = m.topics_
    lab_a = {int(r.topic): r.label for r in tp[tp["source"] == a].itertuples()}
    lab_b = {int(r.topic): r.label for r in tp[tp["source"] == b].itertuples()}
    size_a = {int(r.topic): r.size for r in tp[tp["source"] == a].itertuples()}
    size_b = {int(r.topic): r.size for r in tp[tp["source"] == b].itertuples()}
    rows = sorted(sim.index, key=lambda t: -size_a.get(int(t), 0))[:max_topics]
    cols = sorted(sim.columns, key=lambda t: -size_b.get(int(t), 0))[:max_topics]
    rows, cols = sorted(rows, key=int), sorted(cols, key=int)
    out = sim.loc[rows, cols].copy()
    out.index = [f"{int(t)} {short(lab_a.get(int(t), ''), 28)}" for t in rows]
    out.columns = [f"{int(t)} {short(lab_b.get(int(t), ''), 28)}" for t in cols]

    kept = m.pairs_[m.pairs_["topic_match"] | m.pairs_["verdict"].isin(MIRRORED_VERDICTS)]
    pos_r = {int(t): i for i, t in enumerate(rows)}
    pos_c = {int(t): j for j, t in enumerate(cols)}
    marked = [(pos_r[int(r.topic_a)], pos_c[int(r.topic_b)]) for r in kept.itertuples()
              if int(r.topic_a) in pos_r and int(r.topic_b) in pos_c]
    return out, marked


def scatter(m, pair: int) -> tuple[pd.DataFrame, str]:
    """The units of one pair's linkage (rate_a, rate_b, respondents; only the units the test used) and a title
    with the pair's labels, r and p."""
    lk = m.linkage_.get(pair)
    if lk is None or not len(lk.get("units", ())):
        raise KeyError(f"pair {pair} has no unit linkage; pairs with one: {sorted(m.linkage_)}")
    u = lk["units"]
    u = u[u["used"].astype(bool)] if "used" in u else u
    row = m.pairs_.set_index("pair").loc[pair]
    a, b = m.config_.pair
    title = (f"pair {pair}: {a} “{short(row['label_a'], 24)}” vs {b} “{short(row['label_b'], 24)}”"
             f" — r = {lk['r']:+.2f}, p = {lk['p']:.3g}, {len(u)} units")
    return u.assign(respondents=u["n_a"] + u["n_b"]), title


def lags(m) -> pd.DataFrame:
    """Long table of the cross-lagged correlations: pair, lag, r (lag +k: the second source leads by k periods)."""
    rows = []
    for pid, lk in sorted(m.linkage_.items()):
        for k, r in zip(lk.get("lags") or [], lk.get("lag_r") or []):
            if r is not None and not np.isnan(r):
                rows.append({"pair": int(pid), "lag": int(k), "r": float(r)})
    return pd.DataFrame(rows, columns=["pair", "lag", "r"])
