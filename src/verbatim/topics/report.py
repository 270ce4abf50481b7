"""Plain-text renderings of topic tables (for the CLI and the demo)."""
from __future__ import annotations

import pandas as pd

from .stability import MIN_STABILITY


def render_top_topics(topics: pd.DataFrame, segments: pd.DataFrame | None = None, n: int = 8) -> str:
    """The ``n`` largest topics of each source with label, size and share, plus outlier counts."""
    lines = []
    for source, t in topics.groupby("source", sort=True):
        total = int(t["size"].sum())
        outl = ""
        if segments is not None:
            s = segments[segments["source"] == source]
            total = len(s)
            outl = f", {int((s['topic'] < 0).sum())} outliers"
        lines.append(f"== {source}: {len(t)} topics over {total} segments{outl} ==")
        for r in t.sort_values(["size", "topic"], ascending=[False, True], kind="stable").head(n).itertuples():
            st = getattr(r, "stability", float("nan"))
            stab = "" if pd.isna(st) else f"  stability {st:.2f}{' ⚠' if st < MIN_STABILITY else ''}"
            lines.append(f"  {r.topic:>3}  {r.size:>5}  {100 * r.share:5.1f}%  {r.label}{stab}")
    return "\n".join(lines)
