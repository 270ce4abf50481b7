"""Static figures for ``report.html`` (matplotlib → inline SVG, or PNG as a data URI): the same figures as
the notebooks' :mod:`verbatim.plots`, drawn from the same tables (:mod:`verbatim._figdata`).

Every ``*_fig`` function returns a matplotlib ``Figure``; :func:`svg` turns one into an inline ``<svg>``
string that scales to its container (no fixed width: no horizontal overflow at 800 px), :func:`png_uri`
into an ``<img>``-ready data URI, and :func:`figure_html` wraps either in a ``<figure>`` with a caption.
:func:`report_figures` gives the report's whole set at once:

>>> from verbatim import figures
>>> figs = figures.report_figures(m, pipe)          # name → (inline SVG, caption)
>>> html = "".join(figures.figure_html(s, c) for s, c in figs.values())   # or figures.figures_html(m, pipe)

The backend is Agg (no display needed); nothing is imported until a figure is drawn.
"""
from __future__ import annotations

import base64
import io
import re
from html import escape

import numpy as np
import pandas as pd

from . import _figdata
from .verdicts import MIRRORED as MIRRORED_VERDICTS

COLORS = {"customer": "#1f77b4", "employee": "#d62728"}
_OTHER = ("#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _color(src: str, k: int = 0) -> str:
    return COLORS.get(src, _OTHER[k % len(_OTHER)])


def _figure(width: float, height: float):
    plt = _plt()
    fig = plt.figure(figsize=(width, height), dpi=100)
    fig.set_layout_engine("constrained")
    return fig


def svg(fig, title: str | None = None) -> str:
    """The figure as an inline ``<svg>`` string that shrinks with the page (no fixed width: never wider than its
    container) and grows no larger than its drawn size."""
    plt = _plt()
    buf = io.StringIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "verbatim"}):  # text stays text; stable ids
        fig.savefig(buf, format="svg", metadata={"Date": None})  # no date: same figure, same bytes
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    head, rest = text.split(">", 1)
    w = re.search(r'\swidth="([\d.]+)(pt|px)?"', head)
    natural = round(float(w.group(1)) * (4 / 3 if w.group(2) == "pt" else 1)) if w else None
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    label = f' role="img" aria-label="{escape(title)}"' if title else ""
    cap = f"max-width:min(100%,{natural}px)" if natural else "max-width:100%"
    return f'{head} style="width:100%;{cap};height:auto"{label}>{rest}'


def png_uri(fig, dpi: int = 120) -> str:
    """The figure as a ``data:image/png;base64,…`` URI."""
    plt = _plt()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_html(image: str, caption: str) -> str:
    """``<figure>`` with the image (inline SVG, or a PNG data URI) and its escaped caption."""
    body = image if image.lstrip().startswith("<svg") else f'<img src="{escape(image)}" alt="{escape(caption)}" style="max-width:100%">'
    return f'<figure style="margin:1em 0;max-width:100%">{body}<figcaption>{escape(caption)}</figcaption></figure>'


# -- the figures ----------------------------------------------------------------------------------------------

def topic_sizes_fig(topics: pd.DataFrame, top: int = 12):
    """Horizontal bars: the largest topics of each source, one panel per source."""
    data = _figdata.topic_sizes(topics, top)
    sources = list(dict.fromkeys(data["source"])) or ["(none)"]
    fig = _figure(4.2 * len(sources), 0.28 * top + 1.2)
    axes = fig.subplots(1, len(sources), squeeze=False)[0]
    for k, (ax, src) in enumerate(zip(axes, sources)):
        d = data[data["source"] == src].iloc[::-1]
        ax.barh(d["name"], d["size"], color=_color(src, k))
        ax.set_title(src, fontsize=10)
        ax.set_xlabel("segments", fontsize=8)
        ax.tick_params(labelsize=7)
    return fig


def irritant_rates_over_time_fig(rates: pd.DataFrame):
    """Irritant rate per period and source with its Wilson interval (``pipe.rates_["period"]``)."""
    fig = _figure(6.5, 3.2)
    ax = fig.subplots()
    for k, (src, d) in enumerate(rates.groupby("source", sort=True)):
        d = d.sort_values("period")
        x = np.arange(len(d))
        ax.plot(x, d["rate"], marker="o", ms=3, color=_color(src, k), label=src)
        ax.fill_between(x, d["ci_low"], d["ci_high"], color=_color(src, k), alpha=0.15)
        ax.set_xticks(x, d["period"].astype(str), rotation=45, ha="right", fontsize=7)
    ax.yaxis.set_major_formatter(_pct())
    ax.set_ylabel("irritant rate", fontsize=8)
    ax.legend(fontsize=8)
    return fig


def irritant_rates_by_unit_fig(rates: pd.DataFrame):
    """Irritant rate per unit, one bar per source, with its Wilson interval (``pipe.rates_["unit"]``)."""
    units = sorted(rates["unit"].astype(str).unique())
    sources = sorted(rates["source"].unique())
    fig = _figure(max(5.0, 0.45 * len(units) + 1.5), 3.4)
    ax = fig.subplots()
    w = 0.8 / max(1, len(sources))
    for k, src in enumerate(sources):
        d = rates[rates["source"] == src].set_index(rates.loc[rates["source"] == src, "unit"].astype(str)).reindex(units)
        x = np.arange(len(units)) + (k - (len(sources) - 1) / 2) * w
        err = np.vstack([(d["rate"] - d["ci_low"]).to_numpy(float), (d["ci_high"] - d["rate"]).to_numpy(float)])
        ax.bar(x, d["rate"], width=w, color=_color(src, k), label=src, yerr=err, error_kw={"lw": 0.7})
    ax.set_xticks(np.arange(len(units)), units, rotation=50, ha="right", fontsize=7)
    ax.yaxis.set_major_formatter(_pct())
    ax.set_ylabel("irritant rate", fontsize=8)
    ax.legend(fontsize=8)
    return fig


def similarity_heatmap_fig(m, max_topics: int = 25):
    """Topic × topic similarity of a fitted Mirror (blue − to red +); the pairs kept are outlined."""
    sim, marked = _figdata.heatmap(m, max_topics)
    a, b = m.config_.pair
    fig = _figure(0.22 * sim.shape[1] + 3.2, 0.22 * sim.shape[0] + 2.4)
    ax = fig.subplots()
    lim = max(0.3, float(np.abs(sim.to_numpy()).max()))
    im = ax.imshow(sim.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.set_xticks(range(sim.shape[1]), sim.columns, rotation=70, ha="right", fontsize=6)
    ax.set_yticks(range(sim.shape[0]), sim.index, fontsize=6)
    ax.set_xlabel(b, fontsize=8)
    ax.set_ylabel(a, fontsize=8)
    for i, j in marked:
        ax.add_patch(_plt().Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=1.5, ec="black"))
    fig.colorbar(im, ax=ax, shrink=0.6).ax.tick_params(labelsize=7)
    return fig


def unit_scatter_fig(m, pair: int):
    """One pair's units: B's irritant rate (x) against A's (y), sized by respondents; r and p in the title."""
    u, title = _figdata.scatter(m, pair)
    a, b = m.config_.pair
    fig = _figure(4.2, 3.6)
    ax = fig.subplots()
    size = 200 * u["respondents"] / max(1, u["respondents"].max())
    ax.scatter(u["rate_b"], u["rate_a"], s=size, alpha=0.6, color=_color(a))
    if len(u) >= 2 and u["rate_b"].std() > 0:
        k, c = np.polyfit(u["rate_b"].astype(float), u["rate_a"].astype(float), 1)
        xs = np.linspace(u["rate_b"].min(), u["rate_b"].max(), 10)
        ax.plot(xs, k * xs + c, color="#555", lw=1)
    ax.xaxis.set_major_formatter(_pct())
    ax.yaxis.set_major_formatter(_pct())
    ax.set_xlabel(f"{b} irritant rate", fontsize=8)
    ax.set_ylabel(f"{a} irritant rate", fontsize=8)
    ax.set_title(_wrap(title, 60), fontsize=8)
    ax.tick_params(labelsize=7)
    return fig


def lead_lag_fig(m):
    """Cross-lagged correlation per linked pair; lag +k: the second source leads by k periods."""
    d = _figdata.lags(m)
    b = m.config_.pair[1]
    fig = _figure(5.0, 3.0)
    ax = fig.subplots()
    for k, (pid, g) in enumerate(d.groupby("pair", sort=True)):
        ax.plot(g["lag"], g["r"], marker="o", ms=3, label=f"pair {pid}", color=_OTHER[k % len(_OTHER)] if k else "#1f77b4")
    ax.axhline(0, color="#999", lw=0.8)
    ax.set_xlabel(f"lag (+k: {b} leads by k periods)", fontsize=8)
    ax.set_ylabel("r", fontsize=8)
    if len(d):
        ax.set_xticks(sorted(d["lag"].unique()))
        ax.legend(fontsize=7)
    ax.tick_params(labelsize=7)
    return fig


def report_figures(m, pipe=None, max_scatters: int = 6) -> dict[str, tuple[str, str]]:
    """The report's figures as ``name → (inline SVG, caption)``: the similarity heatmap, one unit scatter per
    pair with unit linkage (mirrored pairs first, at most ``max_scatters``), lead/lag, and — with the pipeline —
    topic sizes and irritant rates over time and by unit."""
    a, b = m.config_.pair
    out: dict[str, tuple[str, str]] = {}
    out["heatmap"] = (svg(similarity_heatmap_fig(m), "similarity heatmap"),
                      f"Similarity of {a} topics (rows) and {b} topics (columns): cosine of centred centroids; "
                      "outlined cells are the pairs kept (topic match or mirror).")

    order = m.pairs_.assign(_m=~m.pairs_["verdict"].isin(MIRRORED_VERDICTS)).sort_values(["_m", "pair"])
    shown = [int(p) for p in order["pair"] if int(p) in m.linkage_ and len(m.linkage_[int(p)].get("units", ()))]
    for p in shown[:max_scatters]:
        verdict = m.pairs_.set_index("pair").loc[p, "verdict"]
        out[f"scatter_{p}"] = (svg(unit_scatter_fig(m, p), f"pair {p} units"),
                               f"Pair {p} ({verdict}): one point per unit, sized by respondents; the line is a "
                               "least-squares fit, r and p in the title come from the unit-permutation test.")
    if len(_figdata.lags(m)):
        out["lead_lag"] = (svg(lead_lag_fig(m), "lead and lag"),
                           f"Cross-lagged correlation of within-unit centred irritant rates; at lag +k {b} leads by "
                           "k periods. A lead is claimed only when the largest correlation is significant.")
    if pipe is not None:
        out["topic_sizes"] = (svg(topic_sizes_fig(pipe.topics_), "topic sizes"),
                              "The largest topics of each source (segments per topic).")
        rates = getattr(pipe, "rates_", {})
        if "period" in rates and len(rates["period"]):
            out["rates_time"] = (svg(irritant_rates_over_time_fig(rates["period"]), "irritant rates over time"),
                                 "Irritant rate per period (share of segments), with 95% Wilson intervals.")
        if "unit" in rates and len(rates["unit"]):
            out["rates_unit"] = (svg(irritant_rates_by_unit_fig(rates["unit"]), "irritant rates by unit"),
                                 "Irritant rate per unit (share of segments), with 95% Wilson intervals.")
    return out


def figures_html(m, pipe=None, names: tuple[str, ...] | None = None) -> str:
    """The report's figures (all, or ``names`` in that order) as ``<figure>`` elements, ready to drop into a page."""
    figs = report_figures(m, pipe)
    keys = [k for k in (names or figs) if k in figs]
    return "".join(figure_html(*figs[k]) for k in keys)


def _pct():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


def _wrap(text: str, n: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, n))
