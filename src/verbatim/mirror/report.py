"""The mirror research report: one self-contained HTML file (Jinja2, autoescaped; figures as inline SVG).

The page leads with the answer — the global test, the symmetry index with its interval, the mirrored pairs
in plain words — then a compact pair table (the full table is ``mirror.csv``, written beside the report by
:func:`~.run.run_mirror` and linked), the figures of :mod:`verbatim.figures` with captions, one card per
pair kept (its examples and unit scatter), the methods and the limits. The layout shrinks to the window:
no horizontal scrolling at 1280 px nor at 800 px (``scripts/check_overflow.py``).

Every piece of text goes through escaping; examples of a protected source (``[privacy] protected_sources``,
default employee) come only from groups with at least ``anonymity_threshold`` respondents, and every example
and topic label (tables, sentences and figures alike) is masked for PII: both rules live in
:mod:`verbatim.privacy`.
"""
from __future__ import annotations

import copy
import logging
import re
from types import SimpleNamespace

import pandas as pd
from jinja2 import Environment
from markupsafe import Markup

from ..config import PrivacyConfig
from ..numerics import stable_order
from ..privacy import group_columns, mask_labels, mask_pii, shown_allowed
from ..render import to_html
from .core import MIRRORED, VERDICTS, Mirror, readable_table
from .linkage import NO_VARIATION
from .stability import unstable

log = logging.getLogger("verbatim")

#: the downloadable full pair table, written next to report.html by run_mirror
CSV_NAME = "mirror.csv"
#: rows of the compact pair table shown in the page (the CSV has them all)
MAX_ROWS = 20


def _num(v, fmt: str) -> str:
    return "" if v is None or pd.isna(v) else format(float(v), fmt)


def _lead_words(r, a: str, b: str, period: str | None) -> str:
    """``"employee leads by 1 month"``, or ``""`` when no lead was claimed."""
    if r.lead in (a, b) and not pd.isna(r.best_lag):
        k = abs(int(r.best_lag))
        return f"{r.lead} leads by {k} {period or 'period'}{'s' if k > 1 else ''}"
    return ""


def pair_sentence(r, a: str, b: str, period: str | None = None) -> str:
    """A mirrored pair in plain words (labels already masked)."""
    name = f"{a} « {r.label_a} » ↔ {b} « {r.label_b} »"
    ci = "" if pd.isna(getattr(r, "r_low", float("nan"))) else f" [{_num(r.r_low, '+.2f')}, {_num(r.r_high, '+.2f')}]"
    st = getattr(r, "stability", float("nan"))
    stab = "" if pd.isna(st) else (f"; ⚠ unstable: found in {st:.0%} of the model's refits" if unstable(st)
                                   else f"; found in {st:.0%} of the model's refits")
    link = (f"r = {_num(r.linkage_r, '+.2f')}{ci} over {int(r.n_units)} units, adjusted p = {_num(r.linkage_q, '.2g')}"
            f"{stab}" if not pd.isna(r.linkage_r) else "")
    if r.verdict == "mirrored":
        ci = "" if pd.isna(r.similarity_low) else \
            f" [{_num(r.similarity_low, '.2f')}, {_num(r.similarity_high, '.2f')}]"
        text = (f"{name}: the same irritant on both sides (similarity {_num(r.similarity, '.2f')}{ci}), "
                f"and units where it is more frequent among {b} have it more often among {a} ({link})")
    else:  # linked, different topics
        text = (f"{name}: different topics, but units with more {b} irritants on the one have more {a} "
                f"irritants on the other ({link}; exploratory screen)")
    lead = _lead_words(r, a, b, period)
    return text + (f"; {lead}." if lead else ".")


def compact_table(pairs: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """The pair table as shown in the page: nine columns, mirrored pairs first (then by verdict, then pair
    number); ``_cls`` is each row's CSS class (not shown)."""
    order = {v: i for i, v in enumerate(VERDICTS)}
    p = pairs.assign(_o=pairs["verdict"].map(order).fillna(len(order))).sort_values(["_o", "pair"], kind="stable")
    ci = [f"{_num(s, '.2f')} [{_num(lo, '.2f')}, {_num(hi, '.2f')}]" if not pd.isna(lo) else _num(s, ".2f")
          for s, lo, hi in zip(p["similarity"], p["similarity_low"], p["similarity_high"])]
    return pd.DataFrame({
        "#": p["pair"].astype(int).to_numpy(),
        f"{a} topic": [f"{int(t)} {lab}" for t, lab in zip(p["topic_a"], p["label_a"])],
        f"{b} topic": [f"{int(t)} {lab}" for t, lab in zip(p["topic_b"], p["label_b"])],
        "similarity [95% CI]": ci,
        "units": p["n_units"].astype(int).to_numpy(),
        "unit r": [_num(v, "+.2f") for v in p["linkage_r"]],
        "q (units)": [_num(v, ".2g") for v in p["linkage_q"]],
        "stability": [_num(v, ".0%") for v in (p["stability"] if "stability" in p else [float("nan")] * len(p))],
        "lead": p["lead"].astype(str).to_numpy(),
        "verdict": p["verdict"].astype(str).to_numpy(),
        "_cls": ["v-mirrored" if v in MIRRORED else "v-linked" if v.startswith("linked") else ""
                 for v in p["verdict"].astype(str)],
    })


def hypothesis_sentence(h) -> str:
    """A named hypothesis's result in plain words."""
    if pd.isna(h.p):
        return f"not tested ({h.warnings})" if h.warnings else "not tested"
    corr = "" if pd.isna(h.r_corrected) else f", {_num(h.r_corrected, '+.2f')} corrected for unreliability"
    return (f"r = {_num(h.r, '+.2f')} [{_num(h.r_low, '+.2f')}, {_num(h.r_high, '+.2f')}] over {int(h.n_units)} units{corr} "
            f"(p = {_num(h.p, '.2g')}, Holm {_num(h.p_holm, '.2g')}); ICC(2) {_num(h.icc2_a, '.2f')} / "
            f"{_num(h.icc2_b, '.2f')}; {int(h.speaks_a)} and {int(h.speaks_b)} respondents speak of it (words: "
            f"{h.words_a or '—'} / {h.words_b or '—'}); power for ρ = 0.3: {_num(h.power_meta, '.0%')}, "
            f"{_num(h.units_for_80, '.0f')} units for 80%")


def hypothesis_items(table: pd.DataFrame | None) -> list[dict]:
    if table is None or not len(table):
        return []
    return [{"name": h.hypothesis + (" (contrôle négatif / negative control)" if h.control else ""),
             "verdict": h.verdict, "yes": h.verdict in ("confirmed", "control: not linked, as expected"),
             "text": hypothesis_sentence(h), "warnings": h.warnings} for h in table.itertuples()]


def polarity_methods(pipeline) -> str:
    """Which evidence served each source's irritant probability (the polarity report of the fit)."""
    rep = getattr(getattr(pipeline, "polarity_", None), "report_", None) or {}
    if not rep:
        return "see the artefact's polarity report"
    return "; ".join(f"{s}: {r.get('method')}" + (f", AUC {r['cv_auc']:.2f}" if r.get("cv_auc") is not None else "")
                     for s, r in rep.items())


def _inline(svg: str) -> str:
    """A figure's SVG made fit for an inline, self-contained page: no metadata block, no namespace URLs
    the HTML parser does not need (``xlink:href`` is understood without its declaration)."""
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.S)
    return svg.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "", 1)


def report_figures(m: Mirror, pairs: pd.DataFrame, privacy: PrivacyConfig, pipeline=None) -> dict:
    """``name → (inline SVG, caption)`` from :func:`verbatim.figures.report_figures`, drawn on copies whose
    topic labels are masked (the figures print labels); ``{}`` (and a warning) if drawing fails."""
    from .. import figures

    shown = copy.copy(m)
    shown.pairs_ = pairs
    shown.topics_ = mask_labels(m.topics_, ("label",), privacy)
    pipe = None
    if pipeline is not None and hasattr(pipeline, "topics_"):
        pipe = SimpleNamespace(topics_=mask_labels(pipeline.topics_, ("label",), privacy),
                               rates_=getattr(pipeline, "rates_", None) or {})
    try:
        figs = figures.report_figures(shown, pipe)
    except Exception as e:  # a report without figures beats no report
        log.warning("report figures not drawn: %s", e)
        return {}
    return {k: (_inline(s), c) for k, (s, c) in figs.items()}



def examples(m: Mirror, source: str, topic: int, n: int = 2, privacy: PrivacyConfig | None = None) -> list[str]:
    """Up to ``n`` masked irritant examples of a topic, closest to its centre; a protected source's examples
    only from groups with enough respondents (:func:`verbatim.privacy.shown_allowed`, whatever ``--pair``
    and ``--by`` say)."""
    s = m.segments_
    sel = (s["source"] == source).to_numpy() & (s["topic"] == topic).to_numpy()
    irr = sel & m.irritant_
    if irr.any():
        sel = irr
    cand = s.loc[sel]
    cand = cand[shown_allowed(cand, privacy, population=s).to_numpy()]
    if "topic_similarity" in cand:
        cand = cand.iloc[stable_order(cand["topic_similarity"], descending=True)]
    texts, seen = [], set()
    for t in cand["text"].astype(str):
        if t in seen:  # the same comment again: masking it again would give the same text
            continue
        seen.add(t)
        t = mask_pii(t, privacy)
        if t not in texts:
            texts.append(t)
        if len(texts) >= n:
            break
    return texts


_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Miroir {{ a }} ↔ {{ b }} — verbatim</title>
<style>
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:0 auto;padding:1.2em 1.5em 3em;
color:#222;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6em;margin:.3em 0}h2{border-bottom:1px solid #ccc;margin-top:2em;font-size:1.3em}h3{font-size:1.05em}
.question{color:#555;margin-top:0}
nav{font-size:13px;margin:.5em 0 1em}nav a{margin-right:.9em;white-space:nowrap}
.answer{background:#f4f8fd;border-left:5px solid #1f77b4;padding:.6em 1.2em;margin:1em 0}
.answer .k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#555;margin:.9em 0 .1em}
.answer .v{font-size:1.15em;margin:0}.answer .big{font-size:1.5em;font-weight:600}
.answer .detail{font-size:12px;color:#555;margin:.2em 0}
.answer ol{margin:.3em 0;padding-left:1.4em}.answer li{margin:.25em 0}
.yes{color:#1a7f37}.no{color:#9a6700}
.tablewrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:12px;max-width:100%}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
td{overflow-wrap:anywhere}table.pairs td:not(:nth-child(2)):not(:nth-child(3)){overflow-wrap:normal}
table.pairs td:nth-child(2),table.pairs td:nth-child(3){overflow-wrap:break-word;min-width:8em}
th{background:#f3f3f3}tr.v-mirrored td{background:#e6f4ea}tr.v-linked td{background:#f4f9f5}
caption{caption-side:bottom;text-align:left;font-size:12px;color:#555;padding-top:.3em}
.download{font-size:14px}
figure{margin:1.2em 0;max-width:100%}figure svg{max-width:100%;height:auto}
figcaption{font-size:13px;color:#444;margin-top:.3em}
.pair{border:1px solid #ddd;border-radius:4px;padding:.2em 1em .8em;margin:1em 0}
.pair .stats{font-size:13px;color:#333}
.cols{display:flex;flex-wrap:wrap;gap:.5em 2em}.cols>div{flex:1 1 280px;min-width:0}
.ex{font-size:12px;color:#444;padding-left:1.2em}
.methods p,.limits li{font-size:14px}
summary{cursor:pointer;color:#1f4f8a;margin:.3em 0}
</style></head><body>
<h1>Miroir / Mirror : {{ a }} ↔ {{ b }}</h1>
<p class="question">Les irritants « {{ a }} » reflètent-ils les irritants « {{ b }} », unité par unité ? /
Do {{ a }} irritants mirror {{ b }} irritants, unit by unit?</p>
<nav><a href="#pairs">Paires / Pairs</a><a href="#figures">Figures</a><a href="#details">Détail / Details</a>
<a href="#methods">Méthodes / Methods</a><a href="#limits">Limites / Limits</a></nav>
<div class="answer">
{% if hypotheses %}<p class="k">Hypothèses nommées (confirmatoires) / Named hypotheses (confirmatory)</p>
<ol>{% for h in hypotheses %}<li><strong>{{ h.name }}</strong> — <span class="{{ 'yes' if h.yes else 'no' }}">{{ h.verdict }}</span>: {{ h.text }}
{% if h.warnings %}<br><span class="detail">⚠ {{ h.warnings }}</span>{% endif %}</li>{% endfor %}</ol>
<p class="detail">Un test prédéfini par hypothèse (Holm entre hypothèses), sans le coût du criblage / one pre-specified test
per hypothesis (Holm across hypotheses), paying no screen multiplicity.</p>{% endif %}
<p class="k">Test global (exploratoire) / Global test (exploratory)</p>
<p class="v"><span class="big {{ 'yes' if verdict_yes else 'no' }}">{{ verdict_word }}</span> — {{ global_plain }}</p>
<p class="detail">{{ global_test }}</p>
<p class="k">Indice de symétrie / Symmetry index</p>
<p class="v"><span class="big">{{ index_value }}</span> {{ index_interval }}</p>
<p class="detail">Part du volume d'irritants « {{ a }} » dans des thèmes miroirs d'irritants « {{ b }} » / share of
{{ a }} irritant volume in topics mirrored by {{ b }} irritants (IC 95 % par bootstrap des {{ resampled }} / 95% bootstrap
interval over {{ resampled }}{% if refits %}, élargi par l'écart entre {{ refits }} réajustements du modèle de thèmes / widened
by the spread over {{ refits }} refits of the topic model{% endif %}).</p>
<p class="k">Paires miroirs (criblage exploratoire) / Mirrored pairs (exploratory screen): {{ n_mirrored }} sur / of {{ n_pairs }} paires examinées / pairs examined</p>
{% if mirrored %}<ol>{% for s in mirrored %}<li>{{ s }}</li>{% endfor %}</ol>
{% else %}<p class="v">Aucune paire miroir / No mirrored pair: no pair of topics is both similar and linked across
units at an adjusted p &lt; {{ cfg.alpha }}.</p>{% endif %}
{% if n_through %}<p class="detail">{{ n_through }} autre(s) paire(s) liée(s) seulement à travers une paire plus forte /
other pair(s) linked only through a stronger pair (see the table).</p>{% endif %}
</div>
<h2 id="pairs">Paires / Pairs</h2>
<p>Une ligne par paire examinée, paires miroirs d'abord / One row per pair examined, mirrored pairs first (green).
« unit r » : corrélation entre unités des taux d'irritants / correlation of the irritant rates across units;
« q (units) » : sa valeur p ajustée (max-T pas à pas) / its adjusted p-value (step-down max-T).</p>
<div class="tablewrap">{{ table }}</div>
<p class="download">Tableau complet / Full table: <a href="{{ csv }}" download>{{ csv }}</a> — {{ n_pairs }} paires /
pairs × {{ n_columns }} colonnes / columns (p-values, intervals, irritant rates, lags, partial correlations).</p>
<h2 id="figures">Figures</h2>
{% for f in figs %}{{ f }}{% else %}<p><em>Figures non dessinées / figures not drawn.</em></p>{% endfor %}
<h2 id="details">Paires en détail / Pairs in detail</h2>
{% for p in cards %}<div class="pair"><h3>{{ p.title }}</h3><p class="stats">{{ p.stats }}</p>
<div class="cols"><div><strong>{{ a }}</strong><ul class="ex">{% for t in p.ex_a %}<li>{{ t }}</li>{% else %}<li><em>aucun exemple montrable (seuil d'anonymat) / none shown (anonymity threshold)</em></li>{% endfor %}</ul></div>
<div><strong>{{ b }}</strong><ul class="ex">{% for t in p.ex_b %}<li>{{ t }}</li>{% else %}<li><em>aucun exemple montrable (seuil d'anonymat) / none shown (anonymity threshold)</em></li>{% endfor %}</ul></div></div>
{{ p.scatter }}</div>{% else %}<p><em>Aucune paire retenue / no pair kept.</em></p>{% endfor %}
<h2>Thèmes sans miroir / One-sided topics</h2>
<p>Thèmes sans contrepartie significative de l'autre côté / topics with no significant counterpart on the other side.</p>
<details><summary>{{ n_one_sided }} thème(s) / topic(s)</summary><div class="tablewrap">{{ one_sided }}</div></details>
{% if unit_index %}<h2>Indice par unité / Index per unit</h2>
<p>L'indice de symétrie de chaque unité, avec son intervalle / each unit's symmetry index, with its interval.</p>
<details><summary>{{ n_units_index }} unité(s) / unit(s)</summary><div class="tablewrap">{{ unit_index }}</div></details>{% endif %}
<div class="methods">
<h2 id="methods">Méthodes</h2>
<p>Chaque source a ses propres thèmes (segments plongés, regroupés par côté de polarité). Le lien par unité corrèle,
entre unités, la part des répondants de chaque côté ayant un irritant dans un élément (un thème, ou un nœud de l'arbre
des thèmes d'irritants d'un côté tenant au plus {{ cfg.max_theme_share }} de ses irritants : le niveau où un thème se
tient), taux rétrécis par Bayes empirique et corrélés sur l'échelle arc sinus racine ; unités de moins de
{{ cfg.min_count }} répondants écartées. Toutes les paires d'éléments sont testées sur les mêmes {{ cfg.n_screen_permutations }}
permutations des unités (au sein de blocs d'unités de taille voisine) ; les valeurs p sont ajustées par max-T pas à pas
(Westfall et Young 1993), ce qui tient à {{ cfg.alpha }} la probabilité de déclarer à tort une paire ; le test global est la
plus petite d'entre elles. Une paire liée n'est gardée que si sa corrélation partielle, sachant chaque paire plus fortement
liée, reste significative ; parmi des paires emboîtées, la plus forte représente le lien. Les hypothèses nommées ont chacune
un test prédéfini (mêmes taux et permutations, Holm entre hypothèses).</p>
<h2>Methods</h2>
<p><strong>Units and rates.</strong> Comments were cut into clauses, embedded (multilingual Universal Sentence Encoder
v3, vectors on a fixed grid so that every machine computes the same similarities) and scored for irritant polarity
({{ polarity_methods }}). Each source's irritant segments were clustered into topics; a unit's rate for an
<em>element</em> (a topic, or a node of the Ward tree over that side's irritant topics holding at most
{{ cfg.max_theme_share }} of its irritant segments: the level at which a theme holds) is the share of its respondents with
an irritant segment in it, shrunk toward the overall rate by empirical Bayes (beta-binomial) and analysed on the arcsine
square-root scale. Units with fewer than {{ cfg.min_count }} respondents on either side were excluded; at least
{{ cfg.min_units }} units are required. Reliability of unit rates is reported as ICC(1) and ICC(2) (one-way ANOVA of the
respondent indicator; Bliese 2000).</p>
<p><strong>Confirmatory tests.</strong> Each named hypothesis defines, on each side, the respondents who speak of it (an
irritant segment containing a specific word of its example phrases, or closely similar to one), fixed before the other
side or the units are looked at; its unit correlation is tested against {{ [cfg.n_permutations, 9999]|max }} shuffles of
the units within blocks of similar size (one-sided, {{ cfg.alternative }}), Holm-adjusted across hypotheses. Effect
sizes are reported with Fisher-z 95% intervals, corrected for the rates' unreliability (r / √(ICC2<sub>a</sub> ·
ICC2<sub>b</sub>)) beside the meta-analytic ρ ≈ 0.3 (Harter, Schmidt &amp; Hayes 2002), with the power the design had for
ρ = 0.3 and the units 80% power would need. Negative controls are tested the same way and are expected not to be linked.</p>
<p><strong>Exploratory screen.</strong> Every pair of elements whose rate varies across units beyond binomial noise
(chi-square homogeneity p &lt; {{ cfg.variation_filter }}; all kept when none does, so the filter cannot silence the test;
independent filtering, Bourgon et al. 2010) is tested on the same {{ cfg.n_screen_permutations }} unit shuffles, and
p-values are adjusted by step-down max-T (Westfall &amp; Young 1993): the chance of declaring any pair that is not
linked is held at {{ cfg.alpha }} whatever the dependence between nested elements. The global test is the smallest
adjusted p-value (the largest correlation against its largest value among shuffled units). A declared pair is kept only
if its partial correlation given each more strongly linked pair stays significant (Freedman–Lane, allowing for the
noise left in that pair's shrunk rates); among pairs nested on both sides, the strongest stands for the link. Two
topics are called similar (a "mirror" rather than "linked, different topics") when their centroid cosine is
significant against reassigned verbatims (Hungarian matching {% if cfg.matching == "shared" %}on shared segments{% else %}on
centroid cosines{% endif %}, q &lt; {{ cfg.alpha }}, lower bound above {{ cfg.min_similarity }}). Lead and lag: the asymmetry
of lagged cross-products of within-unit centred rates (1 to {{ cfg.max_lag }} {{ cfg.period or "periods" }}), against
random time reversals per unit. Examples
of {{ protected }} come only from groups ({{ groups }}) with at least {{ privacy.anonymity_threshold }} respondents, and
all examples and topic labels are masked for e-mails, phone numbers, IBANs, social security numbers, postal addresses
and names. Seed: {{ cfg.seed }}.</p>
</div>
<div class="limits">
<h2 id="limits">Limites / Limits</h2>
<ul>
<li><strong>Association, pas cause / association, not cause.</strong> The unit linkage shows that the two sides'
irritant rates move together across units (and, with dates, which one moves first); it does not show that one causes
the other: a third factor (workload, location, unit size, a local event) can drive both.</li>
<li><strong>Des unités, pas des personnes / units, not people.</strong> The correlations are between units; they say
nothing about whether the same customers and employees are concerned (ecological fallacy).</li>
<li><strong>Des thèmes estimés / estimated topics.</strong> Each source's topics come from embeddings and clustering;
another model, segmentation or topic size can split or merge themes, and a label only summarises its top words. Each
topic and each linked pair carries its stability over refits of the topic model on half-samples of the respondents,
and the intervals of the unit correlations and of the symmetry index add that refit-to-refit spread to sampling; a
pair found in fewer than 60% of the refits is flagged as unstable.</li>
<li><strong>Puissance / power.</strong> Few units, or few respondents per unit, widen the intervals; units under
{{ cfg.min_count }} respondents are left out and rates are shrunk towards the mean. A pair that is not mirrored is an
absence of evidence, not evidence of absence.</li>
<li><strong>Tests multiples / multiple testing.</strong> The screen pays for every pair it looks at: with tens of
elements per side, a link that a single pre-specified test would find can be missed. Name the pairs you expect
(<code>[[mirror.hypotheses]]</code>): each gets its own test at {{ cfg.alpha }}. The screen's findings are exploratory.</li>
<li><strong>L'indice dépend des paires / the index depends on the pairs.</strong> It counts the volume in pairs declared
mirrored, so it moves with alpha ({{ cfg.alpha }}) and the similarity floor ({{ cfg.min_similarity }}).</li>
<li><strong>Irritants détectés automatiquement / irritants are detected automatically</strong> (polarity model or tags):
its errors move the rates of both sides. A lead needs dated data and several periods, and is a timing pattern, not a proof.</li>
<li><strong>Confidentialité / privacy.</strong> Examples from groups under {{ privacy.anonymity_threshold }} respondents of a
protected source are withheld and personal data are masked, so some cards show no example.</li>
</ul>
</div>
</body></html>
"""


def render_report(m: Mirror, privacy: PrivacyConfig | None = None, pipeline=None) -> str:
    """The HTML report of a fitted :class:`Mirror` (examples and labels through :mod:`verbatim.privacy`);
    with the fitted ``pipeline``, the figures add topic sizes and irritant rates by unit and over time.
    It links the full pair table, ``mirror.csv``, expected beside it (:func:`~.run.run_mirror` writes both)."""
    from ..figures import figure_html

    privacy = privacy or PrivacyConfig()
    cfg = m.config_
    a, b = cfg.pair
    pairs = mask_labels(m.pairs_, ("label_a", "label_b"), privacy)
    figs = report_figures(m, pairs, privacy, pipeline)
    n_fig = 0

    def figure(name: str) -> Markup:
        nonlocal n_fig
        if name not in figs:
            return Markup("")
        n_fig += 1
        svg, caption = figs[name]
        return Markup(figure_html(svg, f"Figure {n_fig}. {caption}"))

    general = [f for f in (figure(k) for k in ("heatmap", "rates_unit", "rates_time", "lead_lag", "topic_sizes")) if f]
    shown = compact_table(pairs, a, b)
    order = {int(p): i for i, p in enumerate(shown["#"])}
    kept = pairs[pairs["topic_match"] | pairs["verdict"].isin(MIRRORED)]
    cards = []
    for r in sorted(kept.itertuples(), key=lambda r: order.get(int(r.pair), 0)):
        stats = (f"similarité / similarity {r.similarity:.2f}"
                 + (f" [{r.similarity_low:.2f}, {r.similarity_high:.2f}], q = {r.q:.3g}" if not pd.isna(r.q) else "")
                 + (f"; lien par unité / unit linkage r = {r.linkage_r:+.2f}, p = {r.linkage_p:.3g}" if not pd.isna(r.linkage_r) else "")
                 + (f"; avance / lead: {r.lead}" if r.lead else "") + f" — {r.verdict}")
        cards.append({"title": f"{r.pair}. {a} « {r.label_a} » ↔ {b} « {r.label_b} »", "stats": stats,
                      "ex_a": examples(m, a, int(r.topic_a), privacy=privacy),
                      "ex_b": examples(m, b, int(r.topic_b), privacy=privacy),
                      "scatter": figure(f"scatter_{r.pair}")})
    g = m.global_
    if g.status == NO_VARIATION:
        word, yes, plain = ("Non démontré / Not shown", False,
                            f"no evidence that {a} and {b} irritant profiles co-vary across units: on one side no "
                            f"irritant topic's rate varies across units beyond chance.")
    elif g.status != "ok":
        word, yes, plain = "Non testé / Not run", False, f"the global test could not be run ({g.status})."
    elif g.significant:
        word, yes, plain = "Oui / Yes", True, f"{a} and {b} irritant profiles co-vary across units (p = {g.p:.3g})."
    else:
        word, yes, plain = ("Non démontré / Not shown", False,
                            f"no evidence that {a} and {b} irritant profiles co-vary across units (p = {g.p:.3g}).")
    idx = m.index_
    ok = not pd.isna(idx.get("index", float("nan")))
    found = pairs[pairs["verdict"].isin(MIRRORED)]
    mirrored = [pair_sentence(r, a, b, cfg.period)
                for r in sorted(found.itertuples(), key=lambda r: order.get(int(r.pair), 0))]
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        a=a, b=b, cfg=cfg, verdict_word=word, verdict_yes=yes, global_plain=plain, global_test=g.text(a, b),
        index_value=f"{idx['index']:.1%}" if ok else "—",
        index_interval=(f"[{idx['low']:.1%}, {idx['high']:.1%}]" if ok and not pd.isna(idx.get("low")) else ""),
        resampled=idx.get("resampled", ""), refits=idx.get("refits", 0), n_pairs=len(pairs), n_mirrored=len(mirrored), mirrored=mirrored,
        n_through=int((pairs["verdict"] == "linked through a stronger pair").sum()),
        hypotheses=hypothesis_items(getattr(m, "hypotheses_", None)),
        polarity_methods=polarity_methods(pipeline),
        table=Markup(to_html(shown, max_rows=MAX_ROWS, row_class="_cls", css_class="pairs")),
        csv=CSV_NAME, n_columns=len(readable_table(pairs).columns), figs=general, cards=cards,
        one_sided=Markup(to_html(mask_labels(m.one_sided_, ("label",), privacy))), n_one_sided=len(m.one_sided_),
        n_units_index=len(m.unit_index_),
        privacy=privacy, protected=", ".join(privacy.protected_sources) or "—",
        groups=" × ".join(group_columns(m.segments_, privacy)) or "source",
        unit_index=Markup(to_html(m.unit_index_)) if len(m.unit_index_) else "")
