"""verbatim.render (one table → Markdown / HTML / JSON, the Jupyter view), verbatim.figures (static SVG for
the report) and verbatim.plots (plotly for notebooks), on a small synthetic mirror with a planted pair."""
from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from verbatim import figures, plots, render
from verbatim.mirror import Mirror


def _synthetic(seed: int = 0, units: int = 16, months: int = 4):
    """The mirror tests' synthetic sources (topic 0 ↔ 0 similar and linked across units), smaller."""
    from test_mirror import _synthetic as synthetic

    seg, emb, topics = synthetic(seed=seed, units=units, months=months)
    topics = topics.assign(label=[f"<b>{s}-{t}</b> | x" for s, t in zip(topics["source"], topics["topic"])],
                           top_words=[[f"mot{t}"] for t in topics["topic"]])
    return seg, emb, topics


@pytest.fixture(scope="module")
def mirror():
    seg, emb, topics = _synthetic()
    return Mirror(n_permutations=99, n_bootstrap=30, n_screen_permutations=199, max_lag=1).fit(
        segments=seg, embeddings=emb, topics=topics)


TABLE = pd.DataFrame({"label": ["a|b", "<i>x</i>", None], "p": [0.012345, np.nan, 1.0], "n": [1, 2, 3]})


def test_markdown_escapes_pipes_and_rounds():
    md = render.to_markdown(TABLE)
    lines = md.splitlines()
    assert lines[0] == "| label | p | n |" and lines[1] == "|---|---:|---:|"
    assert "a\\|b" in lines[2] and "0.0123" in lines[2]
    assert lines[4].startswith("|  |") or "| 1 | 3 |" in lines[4]
    assert "1 more rows" in render.to_markdown(TABLE, max_rows=2)


def test_html_escapes_text_and_json_writes_null_for_nan():
    html = render.to_html(TABLE, caption="<t>")
    assert "<i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html and "&lt;t&gt;" in html
    data = json.loads(render.to_json(TABLE))
    assert data[1]["p"] is None and data[2]["label"] is None and data[0]["n"] == 1


def test_view_of_a_mirror_leads_with_the_answer(mirror):
    v = render.view(mirror)
    text = repr(v)
    assert text.startswith("Mirror customer ↔ employee")
    assert "pairs examined" in text and "symmetry index" in text
    assert text.splitlines()[2].strip() == mirror.global_.text("customer", "employee")  # the answer, after the heading
    html = v._repr_html_()
    assert "<table" in html and "<b>" not in html  # labels are escaped
    assert set(json.loads(v.to_json())["tables"]) == {"pairs", "one-sided topics"}
    assert render.to_frame(v).equals(v.tables["pairs"])


def test_repr_mixin_before_and_after_fit():
    class Thing(render.ReprMixin):
        def __init__(self, k=1):
            self.k = k

        def fit(self):
            self.table_ = pd.DataFrame({"a": [1, 2]})
            return self

        def _summary_lines_(self):
            return [f"{len(self.table_)} rows"]

        def _tables_(self):
            return {"table": self.table_}

    assert repr(Thing()) == "Thing (not fitted)"
    t = Thing().fit()
    assert "2 rows" in repr(t) and "<table" in t._repr_html_()
    assert t.to_frame().equals(t.table_) and "| a |" in t.to_markdown()


def test_static_figures_are_inline_svg_that_scale(mirror):
    figs = figures.report_figures(mirror)
    assert "heatmap" in figs
    linked = [p for p in mirror.linkage_ if len(mirror.linkage_[p]["units"])]
    assert linked and f"scatter_{linked[0]}" in figs
    for name, (svg, caption) in figs.items():
        head = svg[: svg.index(">")]
        assert svg.startswith("<svg") and "max-width:min(100%," in head, name
        assert not re.search(r'\swidth="\d', head), f"{name}: a fixed width would overflow narrow pages"
        assert caption
    assert "<b>" not in figs["heatmap"][0]  # labels escaped inside the SVG
    html = figures.figure_html(*figs["heatmap"])
    assert html.startswith("<figure") and "<figcaption>" in html
    assert figures.png_uri(figures.lead_lag_fig(mirror)).startswith("data:image/png;base64,")


def test_static_figures_are_reproducible(mirror):
    a = figures.svg(figures.similarity_heatmap_fig(mirror))
    b = figures.svg(figures.similarity_heatmap_fig(mirror))
    assert a == b


def test_scatter_title_carries_r_and_p(mirror):
    p = sorted(mirror.linkage_)[0]
    fig = plots.unit_scatter(mirror, p)
    lk = mirror.linkage_[p]
    assert f"r = {lk['r']:+.2f}" in fig.layout.title.text and "p = " in fig.layout.title.text
    assert len(fig.data[0].x) == int(lk["units"]["used"].sum())
    with pytest.raises(KeyError, match="no unit linkage"):
        plots.unit_scatter(mirror, 999)


def test_interactive_figures_draw_the_tables(mirror):
    heat = plots.similarity_heatmap(mirror)
    assert np.allclose(np.asarray(heat.data[0].z), mirror.similarity_.to_numpy())
    assert len(heat.layout.shapes) >= 1  # the planted pair is outlined
    lags = plots.lead_lag(mirror)
    assert len(lags.data) == len({p for p, lk in mirror.linkage_.items() if lk.get("lags")})
    rates = pd.DataFrame({"source": ["customer", "customer", "employee"], "period": ["2025-01", "2025-02", "2025-01"],
                          "unit": ["A", "B", "A"], "rate": [0.2, 0.3, 0.4], "ci_low": [0.1, 0.2, 0.3],
                          "ci_high": [0.3, 0.4, 0.5], "n_segments": [10, 10, 10]})
    assert len(plots.irritant_rates_over_time(rates).data) == 2
    assert len(plots.irritant_rates_by_unit(rates).data) == 2
    topics = mirror.topics_
    fig = plots.topic_sizes(topics, top=2)
    assert [len(t.y) for t in fig.data] == [2, 2]
    assert figures.svg(figures.topic_sizes_fig(topics)).startswith("<svg")
    assert figures.svg(figures.irritant_rates_over_time_fig(rates)).startswith("<svg")
    assert figures.svg(figures.irritant_rates_by_unit_fig(rates)).startswith("<svg")


def test_figures_page_fits_800_and_1280_px_in_a_real_browser(mirror, tmp_path):
    """Headless Chromium (skipped where none is installed): the figures never make a page scroll sideways."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("check_overflow", root / "scripts" / "check_overflow.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    exe = mod.browser()
    if exe is None:
        pytest.skip("no Chromium/Chrome installed")
    page = tmp_path / "figures.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'></head><body style='max-width:1100px;"
                    "margin:2em auto'>" + figures.figures_html(mirror) + "</body></html>", encoding="utf-8")
    for width in (1280, 800):
        scroll, client = mod.page_width(page, width, exe)
        assert scroll <= client, f"{scroll} px of content in a {client} px window"


def test_mirror_tables_flatten_the_dicts_into_dataframes(mirror):
    t = render.mirror_tables(mirror)
    assert all(isinstance(v, pd.DataFrame) for v in t.values())
    assert len(t["global"]) == 1 and t["global"]["p"].iat[0] == pytest.approx(mirror.global_.p)
    assert t["index"]["index"].iat[0] == pytest.approx(mirror.index_["index"])
    assert sorted(t["linkage"]["pair"]) == sorted(mirror.linkage_)
    p = sorted(mirror.linkage_)[0]
    assert len(t["units"][t["units"]["pair"] == p]) == len(mirror.linkage_[p]["units"])
    assert t["linkage"].set_index("pair").loc[p, "r"] == pytest.approx(mirror.linkage_[p]["r"])
    json.loads(render.to_json(t))  # every table serialises
