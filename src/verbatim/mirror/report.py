"""The mirror research report: one self-contained HTML file (Jinja2, autoescaped; plots as inline SVG).

Plots are drawn as SVG by this module (no plotting package needed): the
similarity heatmap, irritant rates side by side, one unit scatter per linked
pair, and the lead/lag curves. Every piece of text goes through escaping;
employee examples come only from units with at least
``anonymity_threshold`` employee respondents, and every example is masked
for PII (:func:`verbatim.mirror.privacy.mask_pii`).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from jinja2 import Environment
from markupsafe import Markup, escape

from .core import MIRRORED, Mirror, readable_table
from .privacy import mask_pii

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
                  f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
                  f'font-family="sans-serif" font-size="11">' + "".join(body) + "</svg>")


def _short(text: str, n: int = 28) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 1] + "…"


def heatmap_svg(sim: pd.DataFrame, labels_a: dict, labels_b: dict, marked: set) -> Markup:
    """Topic × topic similarity, blue (−) to red (+); matched cells outlined."""
    cell, left, top = 18, 190, 150
    w, h = left + cell * sim.shape[1] + 20, top + cell * sim.shape[0] + 20
    body = []
    for j, tb in enumerate(sim.columns):
        x = left + j * cell + cell / 2
        name = _short(f"{tb} {labels_b.get(int(tb), '')}")
        body.append(f'<text transform="translate({x + 4},{top - 6}) rotate(-60)">{escape(name)}</text>')
    for i, ta in enumerate(sim.index):
        y = top + i * cell
        name = _short(f"{ta} {labels_a.get(int(ta), '')}")
        body.append(f'<text x="{left - 6}" y="{y + cell * 0.7}" text-anchor="end">{escape(name)}</text>')
        for j, tb in enumerate(sim.columns):
            v = float(sim.iat[i, j])
            t = max(-1.0, min(1.0, v / 0.8))
            r, g, b = (255, int(255 * (1 - t)), int(255 * (1 - t))) if t >= 0 else (int(255 * (1 + t)), int(255 * (1 + t)), 255)
            tip = f"{ta} x {tb}: {v:.2f}"
            stroke = ' stroke="#000" stroke-width="2"' if (int(ta), int(tb)) in marked else ""
            body.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                        f'fill="rgb({r},{g},{b})"{stroke}><title>{escape(tip)}</title></rect>')
    return _svg(w, h, body, "similarity heatmap")


def bars_svg(pairs: pd.DataFrame, a: str, b: str) -> Markup:
    """Irritant rates (share of respondents) of both sides, one group of two bars per pair."""
    rows = pairs.dropna(subset=["rate_a", "rate_b"])
    if rows.empty:
        return Markup("<p><em>No pair with unit data.</em></p>")
    top = max(float(rows[["rate_a", "rate_b"]].max().max()), 0.01)
    bw, gap, left, height = 14, 16, 40, 180
    w = left + len(rows) * (2 * bw + gap) + 140
    body = [f'<line x1="{left}" y1="{height}" x2="{w - 130}" y2="{height}" stroke="#333"/>',
            f'<text x="{left - 4}" y="{height}" text-anchor="end">0</text>',
            f'<text x="{left - 4}" y="20" text-anchor="end">{top:.0%}</text>']
    for n, r in enumerate(rows.itertuples()):
        x = left + n * (2 * bw + gap)
        for k, (v, col) in enumerate(((r.rate_a, _PALETTE[0]), (r.rate_b, _PALETTE[1]))):
            hh = (height - 20) * float(v) / top
            tip = f"pair {r.pair}: {float(v):.1%}"
            body.append(f'<rect x="{x + k * bw}" y="{height - hh}" width="{bw - 1}" height="{hh}" fill="{col}">'
                        f'<title>{escape(tip)}</title></rect>')
        body.append(f'<text x="{x + bw}" y="{height + 14}" text-anchor="middle">{r.pair}</text>')
    for k, (name, col) in enumerate(((a, _PALETTE[0]), (b, _PALETTE[1]))):
        body.append(f'<rect x="{w - 120}" y="{20 + 16 * k}" width="10" height="10" fill="{col}"/>'
                    f'<text x="{w - 105}" y="{29 + 16 * k}">{escape(name)}</text>')
    return _svg(w, height + 24, body, "irritant rates")


def scatter_svg(units: pd.DataFrame, a: str, b: str, title: str) -> Markup:
    """Unit-level scatter: B's irritant rate (x) against A's (y), point size by respondents."""
    u = units[units.get("used", True) == True] if "used" in units else units  # noqa: E712
    if u.empty:
        return Markup("")
    x, y = u["rate_b"].to_numpy(float), u["rate_a"].to_numpy(float)
    size, pad = 220, 36
    mx, my = max(x.max(), 1e-3) * 1.1, max(y.max(), 1e-3) * 1.1
    body = [f'<rect x="{pad}" y="6" width="{size}" height="{size}" fill="none" stroke="#999"/>',
            f'<text x="{pad + size / 2}" y="{size + 30}" text-anchor="middle">{escape(b)} rate (0–{mx:.0%})</text>',
            f'<text transform="translate(10,{6 + size / 2}) rotate(-90)" text-anchor="middle">{escape(a)} rate (0–{my:.0%})</text>',
            f'<text x="{pad + 4}" y="18">{escape(title)}</text>']
    n = u["n_a"].to_numpy(float) + u["n_b"].to_numpy(float)
    for xi, yi, ni, name in zip(x, y, n, u["unit"].astype(str)):
        cx, cy = pad + size * xi / mx, 6 + size * (1 - yi / my)
        body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{2 + 2 * math.sqrt(ni / max(n.max(), 1)) * 3:.1f}" '
                    f'fill="{_PALETTE[0]}" fill-opacity="0.6"><title>{escape(name)}</title></circle>')
    return _svg(size + pad + 10, size + 40, body, title)


def lags_svg(linkage: dict, pairs: pd.DataFrame, b: str) -> Markup:
    """Cross-lagged correlation per pair; lag +k: the B side leads by k periods."""
    series = [(r.pair, linkage[r.pair]) for r in pairs.itertuples()
              if r.pair in linkage and linkage[r.pair].get("lags") and not all(np.isnan(linkage[r.pair]["lag_r"]))]
    if not series:
        return Markup("<p><em>No dated unit data for lead/lag.</em></p>")
    lags = series[0][1]["lags"]
    w, h, left, top = 420, 220, 40, 14
    lo = min(-0.3, min(np.nanmin(s["lag_r"]) for _, s in series))
    hi = max(0.3, max(np.nanmax(s["lag_r"]) for _, s in series))

    def px(k):
        return left + (w - left - 120) * (k - lags[0]) / max(lags[-1] - lags[0], 1)

    def py(v):
        return top + (h - top - 30) * (hi - v) / (hi - lo)

    body = [f'<line x1="{left}" y1="{py(0):.1f}" x2="{w - 120}" y2="{py(0):.1f}" stroke="#999"/>',
            f'<text x="{(left + w - 120) / 2}" y="{h - 4}" text-anchor="middle">lag (+k: {escape(b)} leads)</text>']
    for k in lags:
        body.append(f'<text x="{px(k):.1f}" y="{h - 18}" text-anchor="middle">{k:+d}</text>')
    body.append(f'<text x="{left - 4}" y="{py(hi) + 4:.1f}" text-anchor="end">{hi:.2f}</text>'
                f'<text x="{left - 4}" y="{py(lo):.1f}" text-anchor="end">{lo:.2f}</text>')
    for n, (pid, s) in enumerate(series[:6]):
        col = _PALETTE[n % len(_PALETTE)]
        pts = " ".join(f"{px(k):.1f},{py(v):.1f}" for k, v in zip(lags, s["lag_r"]) if not np.isnan(v))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{col}" stroke-width="2"/>')
        body.append(f'<text x="{w - 110}" y="{top + 14 * n + 8}" fill="{col}">pair {pid}</text>')
    return _svg(w, h, body, "lead/lag")


def examples(m: Mirror, source: str, topic: int, n: int = 2) -> list[str]:
    """Up to ``n`` masked irritant examples of a topic, closest to its centre; for the B side (and any
    source other than the first) only from units with enough respondents (the anonymity threshold)."""
    cfg = m.config_
    s = m.segments_
    sel = (s["source"] == source).to_numpy() & (s["topic"] == topic).to_numpy()
    irr = sel & m.irritant_
    if irr.any():
        sel = irr
    cand = s.loc[sel]
    if source != cfg.pair[0]:
        rec = s["record_id"] if "record_id" in s else s["id"]
        src = s["source"] == source
        if m.by_ is not None:
            counts = rec[src].groupby(s.loc[src, m.by_]).nunique()
            ok = counts[counts >= cfg.anonymity_threshold].index
            cand = cand[cand[m.by_].isin(ok)]
        elif rec[src].nunique() < cfg.anonymity_threshold:
            return []
    if "topic_similarity" in cand:
        cand = cand.sort_values("topic_similarity", ascending=False)
    texts = []
    for t in cand["text"].astype(str):
        t = mask_pii(t)
        if t not in texts:
            texts.append(t)
        if len(texts) >= n:
            break
    return texts


_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Miroir {{ a }} ↔ {{ b }} — verbatim</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}.v-mirrored,.v-linked{background:#e6f4ea}.ex{font-size:12px;color:#444}
.pair{border:1px solid #ddd;padding:.5em 1em;margin:1em 0}h2{border-bottom:1px solid #ccc}</style></head><body>
<h1>Miroir / Mirror: {{ a }} ↔ {{ b }}</h1>
<p><strong>Test global / global test</strong>: {{ global_test }}</p>
<p><strong>Indice de symétrie / symmetry index</strong>: {{ index }} — part du volume d'irritants « {{ a }} » dans des
thèmes miroirs d'irritants « {{ b }} » / share of {{ a }} irritant volume in topics mirrored by {{ b }} irritants
(IC 95 % par bootstrap des {{ resampled }} / 95% bootstrap CI over {{ resampled }}).</p>
<p>{{ n_pairs }} paires examinées / pairs examined; {{ n_mirrored }} miroir(s) / mirrored.</p>
<h2>Paires / Pairs</h2>
{{ table }}
<h2>Similarité des thèmes / Topic similarity</h2>
<p>Cosinus des centroïdes centrés ; cases encadrées = paires retenues. / Centred centroid cosine; outlined cells are the pairs kept.</p>
{{ heatmap }}
<h2>Taux d'irritants / Irritant rates</h2>{{ bars }}
<h2>Paires et verbatims / Pairs and verbatims</h2>
{% for p in cards %}<div class="pair"><h3>{{ p.title }}</h3><p>{{ p.stats }}</p>
<div style="display:flex;gap:2em"><div><strong>{{ a }}</strong><ul class="ex">{% for t in p.ex_a %}<li>{{ t }}</li>{% else %}<li><em>—</em></li>{% endfor %}</ul></div>
<div><strong>{{ b }}</strong><ul class="ex">{% for t in p.ex_b %}<li>{{ t }}</li>{% else %}<li><em>aucun exemple montrable (seuil d'anonymat) / none shown (anonymity threshold)</em></li>{% endfor %}</ul></div></div>
{{ p.scatter }}</div>{% endfor %}
<h2>Avance / retard — Lead / lag</h2>{{ lags }}
<h2>Thèmes sans miroir / One-sided topics</h2>{{ one_sided }}
{% if unit_index %}<h2>Indice par unité / Index per unit</h2>{{ unit_index }}{% endif %}
<h2>Méthodes</h2>
<p>Chaque source a ses propres thèmes. La similarité de deux thèmes est le cosinus de leurs centroïdes
(plongements des segments, centrés sur la moyenne des deux sources) ; l'appariement un-à-un est la méthode hongroise,
complétée par des liens secondaires au-dessus de {{ cfg.secondary_threshold }}. La valeur p d'une paire vient d'un test
par permutation ({{ cfg.n_permutations }} tirages) : les verbatims de chaque source sont redistribués au hasard entre
thèmes (tous leurs segments ensemble, tailles conservées ; chaque source centrée sur sa propre moyenne), et la paire est
comparée au meilleur partenaire aléatoire ; l'intervalle de confiance vient d'un bootstrap des verbatims ; les valeurs q contrôlent le taux de fausses découvertes
(Benjamini–Hochberg). Une paire est « similaire » si q &lt; {{ cfg.alpha }} et si la borne basse de l'intervalle dépasse
{{ cfg.min_similarity }}. Le lien par unité corrèle, entre unités, la part des répondants de chaque côté ayant un irritant
dans le thème (taux rétrécis par Bayes empirique, unités de moins de {{ cfg.min_count }} répondants écartées, au moins
{{ cfg.min_units }} unités, sinon « trop peu de données ») ; la valeur p vient de {{ cfg.n_permutations }} permutations
des unités ; le test par cellules unité × {{ cfg.period or "période" }} utilise les mêmes permutations, et la plus
petite des deux valeurs p est rapportée à sa propre distribution de permutation (min-p de Westfall–Young). Les paires de thèmes
différents sont criblées à part (famille exploratoire, {{ cfg.n_screen_permutations }} permutations, FDR propre).
Le test global corrèle, entre unités, les profils d'irritants des deux sources (coefficient RV entre les tableaux
unité × thème des taux rétrécis, {{ cfg.n_permutations }} permutations des unités) : une seule valeur p pour
l'hypothèse, quel que soit le découpage en thèmes. L'avance est le décalage de corrélation maximale entre taux centrés par unité ; elle n'est affirmée que si ce maximum est
significatif.</p>
<h2>Methods</h2>
<p>Each source has its own topics. Two topics' similarity is the cosine of their centroids (segment embeddings
centred on the mean of both sources); one-to-one matching is Hungarian, plus secondary links above
{{ cfg.secondary_threshold }}. A pair's p-value comes from a permutation test ({{ cfg.n_permutations }} draws): each
source's verbatims are reassigned to topics at random (all their segments together, sizes kept; each source centred on
its own mean) and the pair is compared with the best random partner; its confidence interval from a bootstrap of
verbatims; q-values control the false discovery rate
(Benjamini–Hochberg). A pair is "similar" when q &lt; {{ cfg.alpha }} and the interval's lower bound exceeds
{{ cfg.min_similarity }}. Unit linkage correlates, across units, the share of each side's respondents with an irritant
in the topic (empirical-Bayes shrunk rates; units under {{ cfg.min_count }} respondents left out; at least
{{ cfg.min_units }} units, else "too little data"); its p-value comes from {{ cfg.n_permutations }} unit shuffles,
and the unit × {{ cfg.period or "period" }} cell test uses the same shuffles; the smaller of the two p-values is
referred to its own permutation distribution (Westfall–Young min-p). Pairs of different topics are screened
separately (an exploratory family, {{ cfg.n_screen_permutations }} shuffles, its own FDR). The global test relates,
across units, the two sources' irritant profiles (RV coefficient between the unit × topic tables of shrunk rates,
{{ cfg.n_permutations }} unit shuffles): one p-value for the hypothesis, whatever the granularity of the topics. The
lead is the lag of largest correlation between within-unit centred rates, claimed only when that maximum is significant. Employee
examples come only from units with at least {{ cfg.anonymity_threshold }} respondents, and all examples are masked for
e-mails, phone numbers, IBANs and names. Seed: {{ cfg.seed }}.</p>
</body></html>
"""


def _html_table(df: pd.DataFrame) -> Markup:
    env = Environment(autoescape=True)
    t = env.from_string("<table><tr>{% for c in cols %}<th>{{ c }}</th>{% endfor %}</tr>{% for r in rows %}"
                        "<tr class='{{ r[-1] }}'>{% for v in r[:-1] %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>")

    def fmt(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.3g}"
        return "" if v is None or v is pd.NA else str(v)

    cls = ["v-mirrored" if str(v) in MIRRORED else "" for v in df.get("verdict", pd.Series([""] * len(df)))]
    rows = [[fmt(v) for v in row] + [c] for row, c in zip(df.itertuples(index=False), cls)]
    return Markup(t.render(cols=list(df.columns), rows=rows))


def render_report(m: Mirror) -> str:
    """The HTML report of a fitted :class:`Mirror`."""
    cfg = m.config_
    a, b = cfg.pair
    pairs = m.pairs_
    labels_a = {int(r.topic): r.label for r in m.topics_[m.topics_["source"] == a].itertuples()}
    labels_b = {int(r.topic): r.label for r in m.topics_[m.topics_["source"] == b].itertuples()}
    marked = {(int(r.topic_a), int(r.topic_b)) for r in pairs.itertuples() if r.topic_match or r.verdict in MIRRORED}
    cards = []
    for r in pairs[pairs["topic_match"] | pairs["verdict"].isin(MIRRORED)].itertuples():
        stats = (f"similarité / similarity {r.similarity:.2f}"
                 + (f" [{r.similarity_low:.2f}, {r.similarity_high:.2f}], q = {r.q:.3g}" if not pd.isna(r.q) else "")
                 + (f"; lien par unité / unit linkage r = {r.linkage_r:+.2f}, p = {r.linkage_p:.3g}" if not pd.isna(r.linkage_r) else "")
                 + (f"; avance / lead: {r.lead}" if r.lead else "") + f" — {r.verdict}")
        lk = m.linkage_.get(r.pair)
        scatter = scatter_svg(lk["units"], a, b, f"pair {r.pair}") if lk is not None and len(lk["units"]) else Markup("")
        cards.append({"title": f"{r.pair}. {a} « {r.label_a} » ↔ {b} « {r.label_b} »", "stats": stats,
                      "ex_a": examples(m, a, int(r.topic_a)), "ex_b": examples(m, b, int(r.topic_b)),
                      "scatter": scatter})
    table = readable_table(pairs).drop(columns=["topic_match"], errors="ignore")
    idx = m.index_
    index = (f"{idx['index']:.1%} [{idx['low']:.1%}, {idx['high']:.1%}]" if not pd.isna(idx["index"]) else "—")
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        a=a, b=b, cfg=cfg, index=index, global_test=m.global_.text(a, b), resampled=idx.get("resampled", ""), n_pairs=len(pairs),
        n_mirrored=int(pairs["verdict"].isin(MIRRORED).sum()), table=_html_table(table),
        heatmap=heatmap_svg(m.similarity_, labels_a, labels_b, marked), bars=bars_svg(pairs, a, b), cards=cards,
        lags=lags_svg(m.linkage_, pairs, b), one_sided=_html_table(m.one_sided_.round(3)),
        unit_index=_html_table(m.unit_index_.round(3)) if len(m.unit_index_) else "")
