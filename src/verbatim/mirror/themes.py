"""The level a theme holds: each side's irritant topics and the nodes of the tree they form.

A theme a person would name ("delivery", "workload") is often spread over several topics of one side: on
real retail reviews a delivery complaint falls in topics of late parcels, relay points, carriers and
refunds, and a unit rate of any one of them carries a fraction of the theme's signal. The mirror therefore
tests **elements**: every eligible irritant topic, and every node of a Ward tree over those topics'
centroids (weighted by their sizes) that holds at most ``max_share`` of the side's irritant segments.
An element's rate in a unit is the share of the unit's respondents with an irritant segment in any of its
topics (:func:`element_counts`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..numerics import unit_snap
from ..topics.cluster import weighted_ward_tree
from ..respondent import respondents


@dataclass(frozen=True)
class Element:
    """A topic (``kind = "topic"``) or a node of the side's topic tree (``"theme"``) of one source."""

    source: str
    topics: tuple[int, ...]
    kind: str
    segments: int      # irritant segments in its topics
    share: float       # of the side's irritant segments in eligible topics

    @property
    def topic(self) -> int:
        """The element's largest topic (the one its row is filed under)."""
        return self.topics[0]


def eligible_topics(segments: pd.DataFrame, source: str, topic_ids, irritant: np.ndarray, min_size: int,
                    min_irritant_share: float) -> dict[int, int]:
    """The topics of ``topic_ids`` with at least ``min_size`` segments and an irritant share of at least
    ``min_irritant_share``: topic → irritant segments, largest first (ties by topic)."""
    m = (segments["source"] == source).to_numpy()
    s = pd.DataFrame({"topic": segments["topic"].to_numpy()[m], "irr": np.asarray(irritant, bool)[m]})
    s = s[s["topic"].isin([int(t) for t in topic_ids])]
    g = s.groupby("topic")["irr"].agg(["size", "sum", "mean"])
    g = g[(g["size"] >= min_size) & (g["mean"] >= min_irritant_share) & (g["sum"] > 0)]
    g = g.reset_index().sort_values(["sum", "topic"], ascending=[False, True], kind="stable")
    return {int(t): int(k) for t, k in zip(g["topic"], g["sum"])}


def elements(segments: pd.DataFrame, embeddings: np.ndarray, source: str, topics: dict[int, int],
             irritant: np.ndarray, max_share: float = 0.5) -> list[Element]:
    """The side's elements: each topic of ``topics`` (topic → irritant segments, from :func:`eligible_topics`)
    and each node of their tree holding at most ``max_share`` of those segments."""
    ids = list(topics)
    total = float(sum(topics.values())) or 1.0
    out = [Element(source, (t,), "topic", topics[t], topics[t] / total) for t in ids]
    if len(ids) < 3 or max_share <= 0:
        return out
    m = (segments["source"] == source).to_numpy() & np.asarray(irritant, bool)
    topic = segments["topic"].to_numpy()[m]
    x = np.asarray(embeddings)[m]
    centers = unit_snap(np.stack([x[topic == t].astype(np.float64).sum(0) for t in ids]))
    tree = weighted_ward_tree(centers, np.array([topics[t] for t in ids], float))
    members = {i: (t,) for i, t in enumerate(ids)}
    for k, (a, b, _, _) in enumerate(tree):
        node = members[int(a)] + members[int(b)]
        members[len(ids) + k] = node
        size = sum(topics[t] for t in node)
        if size <= max_share * total:
            ordered = tuple(sorted(node, key=lambda t: (-topics[t], t)))
            out.append(Element(source, ordered, "theme", size, size / total))
    return out


def element_counts(segments: pd.DataFrame, source: str, els: list[Element], by: str, irritant: np.ndarray,
                   units: list | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """Per unit (rows, in ``units`` order, default every unit of the source, sorted): respondents ``n`` and,
    per element (columns), respondents with an irritant segment in one of its topics."""
    m = (segments["source"] == source).to_numpy()
    s = pd.DataFrame({"unit": segments[by].to_numpy()[m], "rec": respondents(segments).to_numpy()[m],
                      "topic": segments["topic"].to_numpy()[m], "irr": np.asarray(irritant, bool)[m]})
    s = s[s["unit"].notna()]
    if units is None:
        units = sorted(s["unit"].unique(), key=str)
    upos = {u: i for i, u in enumerate(units)}
    s = s[s["unit"].isin(upos)]
    rec_codes, rec_names = pd.factorize(s["unit"].astype(str) + "\x00" + s["rec"])
    rec_unit = np.zeros(len(rec_names), np.int64)
    rec_unit[rec_codes] = s["unit"].map(upos).to_numpy()
    n = np.bincount(rec_unit, minlength=len(units)).astype(float)
    topic_ids = sorted({t for e in els for t in e.topics})
    tpos = {t: j for j, t in enumerate(topic_ids)}
    hit = s["irr"].to_numpy() & s["topic"].isin(tpos).to_numpy()
    rt = sp.csr_matrix((np.ones(int(hit.sum())), (rec_codes[hit], s["topic"].to_numpy()[hit].astype(np.int64))),
                       shape=(len(rec_names), int(max(topic_ids, default=0)) + 1)) if topic_ids else None
    k = np.zeros((len(units), len(els)))
    if rt is None:
        return k, n, units
    rows = np.repeat(np.arange(len(els)), [len(e.topics) for e in els])
    cols = np.concatenate([np.asarray(e.topics, np.int64) for e in els]) if els else np.zeros(0, np.int64)
    te = sp.csr_matrix((np.ones(len(cols)), (cols, rows)), shape=(rt.shape[1], len(els)))
    resp_el = (rt @ te) > 0                                       # respondent × element
    unit_of = sp.csr_matrix((np.ones(len(rec_unit)), (rec_unit, np.arange(len(rec_unit)))),
                            shape=(len(units), len(rec_unit)))
    k = np.asarray((unit_of @ resp_el.astype(float)).todense())
    return k, n, units


def element_label(e: Element, labels: dict) -> str:
    """A topic's label; a theme's: its two largest topics' labels, and how many more it holds."""
    names = [str(labels.get((e.source, t), t)) for t in e.topics]
    if len(names) == 1:
        return names[0]
    more = f" (+{len(names) - 2})" if len(names) > 2 else ""
    return " / ".join(names[:2]) + more
