"""report.html: leads with the answer, a compact pair table linking the full CSV, escaped and masked text,
no horizontal overflow (checked in a real browser when one is installed)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from verbatim.mirror import Mirror
from verbatim.mirror.report import CSV_NAME, MAX_ROWS, render_report
from verbatim.mirror.run import run_mirror

from test_mirror import _synthetic

ROOT = Path(__file__).resolve().parents[1]
INJECTED = "<script>alert('x')</script> attente"
#: small and quick: two months of 24 units, few permutations (the planted pair is still found)
QUICK = dict(n_permutations=99, n_bootstrap=20, n_screen_permutations=199, max_lag=1)


@pytest.fixture(scope="module")
def fitted():
    seg, emb, topics = _synthetic(months=2)
    topics.loc[(topics["source"] == "employee") & (topics["topic"] == 1), "label"] = INJECTED
    topics.loc[(topics["source"] == "customer") & (topics["topic"] == 1), "label"] = "écrire à jean.dupont@example.com"
    return Mirror(**QUICK).fit(segments=seg, embeddings=emb, topics=topics)


@pytest.fixture(scope="module")
def html(fitted):
    return render_report(fitted)


def _answer(html: str) -> str:
    return html[: re.search(r"<h2[ >]", html).start()]


def test_report_leads_with_the_global_test_the_index_and_the_mirrored_pairs(fitted, html):
    answer = _answer(html)
    assert "Oui / Yes" in answer and "customer and employee irritant profiles co-vary across units" in answer
    idx = fitted.index_
    assert f"{idx['index']:.1%}" in answer and f"[{idx['low']:.1%}, {idx['high']:.1%}]" in answer
    # the mirrored pairs in plain words, one list item each
    items = re.findall(r"<li>(.*?)</li>", answer[answer.index("Mirrored pairs"):], flags=re.S)
    n = int(fitted.pairs_["verdict"].isin(("mirrored", "linked, different topics")).sum())
    assert n >= 1 and len(items) == n
    assert "the same irritant on both sides" in items[0] and "over 24 units" in items[0]
    # then the table, the figures, the details, the methods and the limits, in that order
    marks = ['id="pairs"', 'class="pairs"', CSV_NAME, 'id="figures"', "<figure", "<figcaption>Figure 1.",
             'id="details"', 'id="methods"', 'id="limits"']
    pos = [html.index(k) for k in marks]
    assert pos == sorted(pos)


def test_compact_table_has_at_most_ten_columns_and_links_the_full_csv(fitted, html):
    table = re.search(r'<table class="pairs">.*?</table>', html, flags=re.S).group(0)
    heads = re.findall(r"<th>", table)
    assert 5 <= len(heads) <= 10
    assert len(re.findall(r"<tr[ >]", table)) - 1 == min(len(fitted.pairs_), MAX_ROWS)
    assert re.findall(r'<tr class="([^"]*)">', table)[0] == "v-mirrored"  # mirrored pairs first
    assert f'<a href="{CSV_NAME}" download>' in html


def test_run_mirror_writes_the_linked_csv_beside_the_report(tmp_path):
    from verbatim.config import Config

    seg, emb, topics = _synthetic(months=2)
    pipe = SimpleNamespace(segments_=seg, embeddings_=emb, topics_=topics, config=Config())
    out = run_mirror(tmp_path, tmp_path / "r", pipeline=pipe, store=False, **QUICK)
    page = Path(out["html"]).read_text(encoding="utf-8")
    assert Path(out["csv"]).parent == Path(out["html"]).parent and Path(out["csv"]).name == CSV_NAME
    assert f'href="{CSV_NAME}"' in page
    assert "topic sizes" in page  # the pipeline's figures come with it


def test_injected_labels_are_escaped_and_masked_everywhere(html):
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "jean.dupont@example.com" not in html and "dupont" not in html.lower()
    assert "<b>customer-0</b>" not in html
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    rest = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in rest and "https://" not in rest


def test_a_null_result_says_so_in_plain_words():
    seg, emb, topics = _synthetic(seed=2, linked=False, months=2)
    answer = _answer(render_report(Mirror(**QUICK).fit(segments=seg, embeddings=emb, topics=topics)))
    assert "Non démontré / Not shown" in answer and "no evidence that" in answer


@pytest.mark.skipif(not any(map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
                    reason="no Chromium to measure the page")
def test_no_horizontal_overflow_at_1280_and_800_px(tmp_path, html):
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_overflow.py"), str(page), "--widths", "1280", "800"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("fits") == 2
