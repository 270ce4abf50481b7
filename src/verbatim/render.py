"""One table, several renderings: DataFrame → Markdown / HTML / JSON, and a Jupyter-friendly view.

Every result of verbatim is a DataFrame or a small object holding DataFrames. This module renders
them the same way everywhere (notebooks, reports, the CLI) without extra packages:

>>> to_markdown(pipe.topics_[["source", "label", "size"]])       # a GitHub-flavoured table
>>> to_html(m.pairs_, max_rows=20)                                # escaped, compact <table>
>>> to_json(m.pairs_)                                             # records, NaN → null
>>> view(m)                                                       # a short summary + tables in Jupyter

:class:`ReprMixin` gives a fitted object a one-screen ``repr`` and an HTML ``_repr_html_`` from two
methods it defines: ``_summary_lines_()`` (plain sentences) and ``_tables_()`` (name → DataFrame).
Objects that do not (yet) inherit it are summarised by :func:`view`, which knows the
:class:`~verbatim.pipeline.Pipeline` and :class:`~verbatim.mirror.Mirror` by their fitted attributes.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from html import escape
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .verdicts import MIRRORED as MIRRORED_VERDICTS

__all__ = ["ReprMixin", "View", "format_value", "mirror_tables", "to_frame", "to_html", "to_json", "to_markdown",
           "view"]


def format_value(v: Any, digits: int = 3) -> str:
    """A cell as text: floats to ``digits`` significant digits, missing values empty, lists joined."""
    if v is None or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(v) else f"{float(v):.{digits}g}"
    if isinstance(v, (np.integer,)):
        return str(int(v))
    if isinstance(v, (list, tuple, np.ndarray)):
        return ", ".join(format_value(x, digits) for x in list(v)[:10])
    return str(v)


def to_frame(obj: Any, name: str | None = None) -> pd.DataFrame:
    """The table behind ``obj``: a DataFrame as is, a dict of scalars as one row, an object's
    ``to_frame()`` or its first table (:meth:`ReprMixin._tables_`), or the named table of ``view(obj)``."""
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, pd.Series):
        return obj.to_frame()
    if isinstance(obj, Mapping):
        if all(isinstance(v, pd.DataFrame) for v in obj.values()) and obj:
            return obj[name] if name else next(iter(obj.values()))
        return pd.DataFrame([dict(obj)])
    if isinstance(obj, View):
        tables = obj.tables
    elif hasattr(obj, "_tables_"):
        tables = obj._tables_()
    else:
        tables = view(obj).tables
    if not tables:
        raise ValueError(f"{type(obj).__name__} has no table to show")
    return tables[name] if name else next(iter(tables.values()))


def _rows(df: pd.DataFrame, max_rows: int | None) -> tuple[pd.DataFrame, int]:
    if max_rows is not None and len(df) > max_rows:
        return df.head(max_rows), len(df) - max_rows
    return df, 0


def to_markdown(df: pd.DataFrame, max_rows: int | None = None, digits: int = 3, index: bool = False) -> str:
    """A GitHub-flavoured Markdown table (``|`` in cells escaped, newlines turned into spaces)."""
    df = to_frame(df)
    if index:
        df = df.reset_index()
    shown, more = _rows(df, max_rows)

    def cell(v):
        return format_value(v, digits).replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(cell(c) for c in shown.columns) + " |"
    rule = "|" + "|".join("---:" if pd.api.types.is_numeric_dtype(shown[c]) else "---" for c in shown.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    tail = [f"\n*… {more} more rows*"] if more else []
    return "\n".join([head, rule, *body, *tail])


def to_html(df: pd.DataFrame, max_rows: int | None = None, digits: int = 3, caption: str | None = None,
            index: bool = False, css_class: str = "verbatim-table", row_class: str | None = None) -> str:
    """An escaped, compact HTML ``<table>``; ``row_class`` names a column whose value becomes each row's class
    (the column itself is not shown)."""
    df = to_frame(df)
    if index:
        df = df.reset_index()
    shown, more = _rows(df, max_rows)
    cols = [c for c in shown.columns if c != row_class]
    out = [f'<table class="{escape(css_class)}">']
    if caption:
        out.append(f"<caption>{escape(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f"<th>{escape(str(c))}</th>" for c in cols) + "</tr></thead><tbody>")
    numeric = {c: pd.api.types.is_numeric_dtype(shown[c]) for c in cols}
    for _, row in shown.iterrows():
        cls = f' class="{escape(str(row[row_class]))}"' if row_class else ""
        cells = "".join(f'<td{" style=text-align:right" if numeric[c] else ""}>{escape(format_value(row[c], digits))}</td>'
                        for c in cols)
        out.append(f"<tr{cls}>{cells}</tr>")
    out.append("</tbody></table>")
    if more:
        out.append(f"<p><em>… {more} more rows</em></p>")
    return "".join(out)


def _plain(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (pd.Timestamp, pd.Period)):
        return str(v)
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    return v


def to_json(df: pd.DataFrame | Mapping, indent: int | None = None) -> str:
    """Records (one object per row) as JSON; NaN and NA become ``null``; a dict of tables becomes an object
    of record lists."""
    if isinstance(df, Mapping) and all(isinstance(v, pd.DataFrame) for v in df.values()):
        return json.dumps({k: [_plain(r) for r in v.to_dict("records")] for k, v in df.items()},
                          ensure_ascii=False, indent=indent)
    df = to_frame(df)
    return json.dumps([_plain(r) for r in df.to_dict("records")], ensure_ascii=False, indent=indent)


_CSS = ("<style>.verbatim-view table.verbatim-table{border-collapse:collapse;font-size:12px;margin:.3em 0 1em}"
        ".verbatim-view td,.verbatim-view th{border:1px solid #ddd;padding:2px 6px;text-align:left}"
        ".verbatim-view th{background:#f5f5f5}.verbatim-view{max-width:100%;overflow-x:auto}</style>")


@dataclass
class View:
    """A title, a few sentences and named tables; shown as text by ``repr`` and as HTML in Jupyter."""

    title: str
    lines: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    max_rows: int = 10

    def __repr__(self) -> str:
        parts = [self.title, *("  " + line for line in self.lines)]
        for name, t in self.tables.items():
            parts.append(f"  {name}: {len(t)} rows × {t.shape[1]} columns")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        html = [_CSS, '<div class="verbatim-view">', f"<strong>{escape(self.title)}</strong>"]
        if self.lines:
            html.append("<ul>" + "".join(f"<li>{escape(line)}</li>" for line in self.lines) + "</ul>")
        for name, t in self.tables.items():
            html.append(to_html(t, max_rows=self.max_rows, caption=f"{name} ({len(t)} rows)"))
        html.append("</div>")
        return "".join(html)

    def to_markdown(self) -> str:
        parts = [f"**{self.title}**", "", *(f"- {line}" for line in self.lines)]
        for name, t in self.tables.items():
            parts += ["", f"*{name}*", "", to_markdown(t, max_rows=self.max_rows)]
        return "\n".join(parts)

    def to_html(self) -> str:
        return self._repr_html_()

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps({"title": self.title, "lines": self.lines,
                           "tables": {k: json.loads(to_json(v)) for k, v in self.tables.items()}},
                          ensure_ascii=False, indent=indent)

    def to_frame(self, name: str | None = None) -> pd.DataFrame:
        return to_frame(self.tables, name)


class ReprMixin:
    """Gives a fitted object ``repr``/``_repr_html_``/``to_markdown``/``to_html``/``to_json``/``to_frame``.

    Define ``_summary_lines_()`` (a few sentences) and ``_tables_()`` (name → DataFrame, the first one being
    the main table). Before fitting, ``repr`` shows the class name and its constructor arguments.
    """

    _view_title_: str | None = None

    def _summary_lines_(self) -> list[str]:  # pragma: no cover - overridden
        return []

    def _tables_(self) -> dict[str, pd.DataFrame]:  # pragma: no cover - overridden
        return {}

    def _is_fitted_(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

    def _view_(self) -> View:
        title = self._view_title_ or type(self).__name__
        if not self._is_fitted_():
            return View(f"{title} (not fitted)")
        return View(title, self._summary_lines_(), self._tables_())

    def __repr__(self) -> str:
        return repr(self._view_())

    def _repr_html_(self) -> str:
        return self._view_()._repr_html_()

    def to_markdown(self) -> str:
        return self._view_().to_markdown()

    def to_html(self) -> str:
        return self._view_().to_html()

    def to_json(self, indent: int | None = None) -> str:
        return self._view_().to_json(indent)

    def to_frame(self, name: str | None = None) -> pd.DataFrame:
        return self._view_().to_frame(name)


# -- views of today's fitted objects (duck-typed: no import of the stages) ----------------------------------

def _pipeline_view(pipe) -> View:
    segs, topics = pipe.segments_, pipe.topics_
    lines = [f"embedder {getattr(pipe, 'embedder_id_', '?')}; {len(pipe.verbatims_)} verbatims → {len(segs)} segments"]
    for source, g in segs.groupby("source", sort=True):
        t = topics[topics["source"] == source]
        line = f"{source}: {g['id'].nunique()} verbatims, {len(g)} segments, {len(t)} topics, " \
               f"{int((g['topic'] < 0).sum())} outliers"
        if "irritant" in g:
            line += f", irritant rate {g['irritant'].mean():.1%}"
        lines.append(line)
    cols = [c for c in ("source", "topic", "label", "size", "share") if c in topics]
    tables = {"topics": topics[cols]}
    if hasattr(pipe, "rates_") and "source" in pipe.rates_:
        tables["irritant rates per source"] = pipe.rates_["source"]
    return View("Pipeline", lines, tables)


def _mirror_view(m) -> View:

    pairs, cfg = m.pairs_, m.config_
    a, b = cfg.pair
    found = pairs[pairs["verdict"].isin(MIRRORED_VERDICTS)]
    idx = m.index_
    lines = [f"{a} ↔ {b}: {len(pairs)} pairs examined, {len(found)} mirrored"]
    if idx and not pd.isna(idx.get("index", np.nan)):
        lines.append(f"symmetry index {idx['index']:.1%} [{idx['low']:.1%}, {idx['high']:.1%}] of {a} irritant volume "
                     f"(bootstrap over {idx.get('resampled', '')})")
    for r in found.itertuples():
        link = f", units r = {r.linkage_r:+.2f} (adjusted p = {r.linkage_q:.3g})" if not pd.isna(r.linkage_r) else ""
        lead = f", lead: {r.lead}" if r.lead else ""
        lines.append(f"pair {r.pair}: {a} “{r.label_a}” ↔ {b} “{r.label_b}”{link}{lead} → {r.verdict}")
    g = getattr(m, "global_", None)
    if g is not None and hasattr(g, "text"):
        lines.insert(1, g.text(a, b))
    hyp = getattr(m, "hypotheses_", None)
    if hyp is not None and len(hyp):
        lines[1:1] = [f"hypothesis “{h.hypothesis}”: {h.verdict}, r = {format_value(h.r)} "
                      f"[{format_value(h.r_low)}, {format_value(h.r_high)}], p = {format_value(h.p_holm)}"
                      for h in hyp.itertuples()]
    cols = ["pair", "kind", "label_a", "label_b", "similarity", "q", "linkage_r", "linkage_q", "lead", "verdict"]
    tables = {"pairs": pairs[[c for c in cols if c in pairs]], "one-sided topics": m.one_sided_}
    if hyp is not None and len(hyp):
        tables = {"named hypotheses": hyp, **tables}
    return View(f"Mirror {a} ↔ {b}", lines, tables)


_LINK_STATS = ("status", "n_units", "r", "p", "cell_r", "cell_p", "n_cells", "joint_p", "best_lag", "lag_p", "lead",
               "rate_a", "rate_b")


def mirror_tables(m) -> dict[str, pd.DataFrame]:
    """Every result of a fitted Mirror as a DataFrame: ``global`` (the global test, one row), ``hypotheses``
    (the named hypotheses' confirmatory tests), ``pairs``, ``index`` (the symmetry index, one row),
    ``unit_index``, ``linkage`` (one row per pair with a unit test), ``units`` (every pair's units, long),
    ``lags`` (every pair's lagged correlations, long), ``one_sided``, ``links`` (secondary links)."""
    link_rows, unit_frames, lag_rows = [], [], []
    for pid, lk in sorted(m.linkage_.items()):
        link_rows.append({"pair": int(pid), **{k: _plain(lk.get(k)) for k in _LINK_STATS if k in lk}})
        u = lk.get("units")
        if isinstance(u, pd.DataFrame) and len(u):
            unit_frames.append(u.assign(pair=int(pid))[["pair", *u.columns]])
        for k, r in zip(lk.get("lags") or [], lk.get("lag_r") or []):
            lag_rows.append({"pair": int(pid), "lag": int(k), "r": _plain(r)})
    out = {"pairs": m.pairs_,
           "index": pd.DataFrame([{k: _plain(v) for k, v in (m.index_ or {}).items()}]),
           "unit_index": getattr(m, "unit_index_", pd.DataFrame()),
           "linkage": pd.DataFrame(link_rows, columns=["pair", *[k for k in _LINK_STATS]]) if not link_rows
           else pd.DataFrame(link_rows),
           "units": pd.concat(unit_frames, ignore_index=True) if unit_frames else pd.DataFrame(columns=["pair", "unit"]),
           "lags": pd.DataFrame(lag_rows, columns=["pair", "lag", "r"]),
           "one_sided": m.one_sided_,
           "links": getattr(m, "links_", pd.DataFrame())}
    g = getattr(m, "global_", None)
    if hasattr(g, "to_frame"):
        out["global"] = g.to_frame()
    elif isinstance(g, Mapping):
        out["global"] = pd.DataFrame([{k: _plain(v) for k, v in g.items()}])
    if getattr(m, "hypotheses_", None) is not None:
        out["hypotheses"] = m.hypotheses_
    return out


def view(obj: Any, max_rows: int = 10) -> View:
    """A short summary of a fitted Pipeline or Mirror (or of anything :class:`ReprMixin`, a DataFrame,
    a dict of DataFrames), shown as text by ``repr`` and as HTML in Jupyter."""
    if isinstance(obj, View):
        v = obj
    elif isinstance(obj, ReprMixin):
        v = obj._view_()
    elif hasattr(obj, "pairs_") and hasattr(obj, "config_"):
        v = _mirror_view(obj)
    elif hasattr(obj, "segments_") and hasattr(obj, "topics_"):
        v = _pipeline_view(obj)
    elif isinstance(obj, pd.DataFrame):
        v = View("table", [f"{len(obj)} rows"], {"table": obj})
    elif isinstance(obj, Mapping) and all(isinstance(x, pd.DataFrame) for x in obj.values()):
        v = View("tables", [], dict(obj))
    elif hasattr(obj, "fit"):
        v = View(f"{type(obj).__name__} (not fitted)")
    else:
        raise TypeError(f"view() takes a fitted Pipeline or Mirror, a DataFrame or a dict of DataFrames; "
                        f"got {type(obj).__name__}")
    v.max_rows = max_rows
    return v
