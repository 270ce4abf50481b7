"""Interactive figures for notebooks (plotly): every function takes verbatim's tables or fitted objects and
returns a ``plotly.graph_objects.Figure``. The static twins for ``report.html`` are in :mod:`verbatim.figures`.

>>> from verbatim import plots
>>> plots.topic_sizes(pipe.topics_)                         # largest topics per source
>>> plots.topic_map(pipe, "customer")                       # topic centroids on two principal axes
>>> plots.irritant_rates_over_time(pipe.rates_["period"])   # per source, with Wilson intervals
>>> plots.irritant_rates_by_unit(pipe.rates_["unit"])
>>> plots.similarity_heatmap(m); plots.unit_scatter(m, pair=1); plots.lead_lag(m)

BERTopic's own figures stay reachable: ``pipe.bertopic("customer").visualize_barchart()``.
"""
from __future__ import annotations

import pandas as pd

from . import _figdata

COLORS = {"customer": "#1f77b4", "employee": "#d62728"}


def _go():
    import plotly.graph_objects as go  # imported when a figure is drawn

    return go


def topic_sizes(topics: pd.DataFrame, top: int = 12):
    """Horizontal bars: the ``top`` largest topics of each source (one panel per source)."""
    from plotly.subplots import make_subplots

    go = _go()
    data = _figdata.topic_sizes(topics, top)
    sources = list(dict.fromkeys(data["source"]))
    fig = make_subplots(rows=1, cols=max(1, len(sources)), subplot_titles=sources, horizontal_spacing=0.3)
    for k, src in enumerate(sources, start=1):
        d = data[data["source"] == src].iloc[::-1]
        fig.add_trace(go.Bar(x=d["size"], y=d["name"], orientation="h", name=src,
                             marker_color=COLORS.get(src), hovertext=d["label"],
                             customdata=d["share"], hovertemplate="%{hovertext}<br>%{x} segments "
                             "(%{customdata:.1%})<extra></extra>"), row=1, col=k)
    fig.update_layout(title="Topic sizes per source (segments)", showlegend=False,
                      height=max(300, 24 * top + 120), margin=dict(l=10, r=10, t=60, b=30))
    return fig


def topic_map(pipe, source: str):
    """Bubbles: one per topic of ``source`` at its centroid's first two principal axes, sized by segments."""
    go = _go()
    d = _figdata.topic_map(pipe.segments_, pipe.embeddings_, source)
    fig = go.Figure(go.Scatter(x=d["x"], y=d["y"], mode="markers+text", text=d["topic"].astype(str),
                               hovertext=d["label"] + "<br>" + d["size"].astype(str) + " segments",
                               hoverinfo="text", marker=dict(size=d["size"], sizemode="area",
                                                             sizeref=2.0 * d["size"].max() / 50 ** 2 if len(d) else 1,
                                                             color=COLORS.get(source, "#555"), opacity=0.6)))
    fig.update_layout(title=f"Topic map of {source} (centroids, two principal axes)", xaxis_title="axis 1",
                      yaxis_title="axis 2", height=480)
    return fig


def irritant_rates_over_time(rates: pd.DataFrame):
    """Lines: irritant rate per period and source (``pipe.rates_["period"]``) with its Wilson interval."""
    go = _go()
    fig = go.Figure()
    for src, d in rates.groupby("source", sort=True):
        d = d.sort_values("period")
        col = COLORS.get(src)
        fig.add_trace(go.Scatter(x=d["period"], y=d["rate"], mode="lines+markers", name=src, line_color=col,
                                 error_y=dict(type="data", symmetric=False, array=d["ci_high"] - d["rate"],
                                              arrayminus=d["rate"] - d["ci_low"], thickness=1),
                                 customdata=d["n_segments"],
                                 hovertemplate="%{x}: %{y:.1%} of %{customdata} segments<extra>" + src + "</extra>"))
    fig.update_layout(title="Irritant rate over time (share of segments; 95% Wilson intervals)",
                      yaxis_tickformat=".0%", xaxis_title="period", height=400)
    return fig


def irritant_rates_by_unit(rates: pd.DataFrame):
    """Grouped bars: irritant rate per unit and source (``pipe.rates_["unit"]``) with its Wilson interval."""
    go = _go()
    fig = go.Figure()
    for src, d in rates.groupby("source", sort=True):
        d = d.sort_values("unit")
        fig.add_trace(go.Bar(x=d["unit"], y=d["rate"], name=src, marker_color=COLORS.get(src),
                             error_y=dict(type="data", symmetric=False, array=d["ci_high"] - d["rate"],
                                          arrayminus=d["rate"] - d["ci_low"])))
    fig.update_layout(title="Irritant rate by unit (share of segments; 95% Wilson intervals)", barmode="group",
                      yaxis_tickformat=".0%", height=420, xaxis_tickangle=-40)
    return fig


def similarity_heatmap(m, max_topics: int = 25):
    """Heatmap of a fitted Mirror's topic × topic similarity; the pairs kept are outlined."""
    go = _go()
    sim, marked = _figdata.heatmap(m, max_topics)
    a, b = m.config_.pair
    lim = max(0.3, float(abs(sim.to_numpy()).max()))
    fig = go.Figure(go.Heatmap(z=sim.to_numpy(), x=list(sim.columns), y=list(sim.index), colorscale="RdBu_r",
                               zmin=-lim, zmax=lim, colorbar_title="cosine",
                               hovertemplate=f"{a}: %{{y}}<br>{b}: %{{x}}<br>similarity %{{z:.2f}}<extra></extra>"))
    for i, j in marked:
        fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5, line=dict(color="black", width=2))
    fig.update_layout(title=f"Topic similarity: {a} (rows) × {b} (columns); outlined: pairs kept",
                      height=max(420, 22 * len(sim) + 220), xaxis_tickangle=-50, yaxis_autorange="reversed")
    return fig


def unit_scatter(m, pair: int):
    """One pair's units: the second source's irritant rate (x) against the first's (y), sized by respondents,
    with the linkage r and p in the title."""
    go = _go()
    u, title = _figdata.scatter(m, pair)
    a, b = m.config_.pair
    fig = go.Figure(go.Scatter(x=u["rate_b"], y=u["rate_a"], mode="markers", text=u["unit"],
                               marker=dict(size=u["respondents"], sizemode="area",
                                           sizeref=2.0 * u["respondents"].max() / 30 ** 2, opacity=0.7),
                               hovertemplate="%{text}<br>" + b + " %{x:.1%}<br>" + a + " %{y:.1%}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=f"{b} irritant rate in the topic", yaxis_title=f"{a} irritant rate",
                      xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=450)
    return fig


def lead_lag(m):
    """Cross-lagged correlation per linked pair; lag +k: the second source leads by k periods."""
    go = _go()
    d = _figdata.lags(m)
    b = m.config_.pair[1]
    fig = go.Figure()
    for pid, g in d.groupby("pair", sort=True):
        fig.add_trace(go.Scatter(x=g["lag"], y=g["r"], mode="lines+markers", name=f"pair {pid}"))
    fig.add_hline(y=0, line_color="#999")
    fig.update_layout(title=f"Lead / lag (lag +k: {b} leads by k periods)", xaxis_title="lag", yaxis_title="r",
                      xaxis_dtick=1, height=380)
    return fig
