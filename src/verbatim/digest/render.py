"""Renderings of one digest table: plain text, Markdown, JSON and an HTML e-mail (Jinja2, autoescaped).

The HTML is made for mail clients: one 600-px table layout, inline styles only, no script, no external
resource. Markdown escapes its own syntax and HTML (it often ends up as HTML). Texts and labels arrive
already masked (:mod:`verbatim.privacy`); the withheld verbatims appear only as counts with their reason.
"""
from __future__ import annotations

import json
import math
import re

import pandas as pd
from jinja2 import Environment

STRINGS = {
    "fr": {
        "title": "Verbatims pour la réunion", "intro": "À lire en ouverture de réunion : un peu de mal et un peu de "
        "bien, la voix des clients et celle des équipes.", "irritant": "Irritant", "compliment": "Satisfaction",
        "topic": "thème", "pair": "Paire miroir", "withheld_title": "Non montrés",
        "anonymity": "{n} verbatim(s) {source} non montré(s) : {groups} groupe(s) ({grouping}) de moins de {k} "
                     "répondants ; leurs textes ne sont jamais affichés.",
        "already_shown": "{n} verbatim(s) {source} déjà lu(s) à cette réunion ces {days} derniers jours.",
        "none": "Aucun verbatim ne remplit les conditions pour cette réunion.",
        "footer": "Classement : typicité du thème, gravité (probabilité d'irritant), poids du thème (effet sur la note, "
                  "progression récente) et fraîcheur. Données personnelles masquées (noms, e-mails, téléphones, IBAN, "
                  "n° de sécurité sociale, adresses).",
        "period": "période", "units": "unité(s)", "sources": {"customer": "client", "employee": "salarié"},
        "counts": "{n} verbatims : {irr} irritant(s), {comp} satisfaction(s).",
        "short": "Moins de {size} verbatims : trop peu de candidats lisibles et montrables dans la période pour "
                 "garder l'équilibre entre irritants et satisfactions.",
        "subject": "Verbatims de la réunion — {meeting} — {period}",
    },
    "en": {
        "title": "Verbatims for the meeting", "intro": "To read when the meeting opens: a little bad and a little "
        "good, customers' and staff's voices side by side.", "irritant": "Irritant", "compliment": "Compliment",
        "topic": "topic", "pair": "Mirrored pair", "withheld_title": "Not shown",
        "anonymity": "{n} {source} verbatim(s) not shown: {groups} group(s) ({grouping}) under {k} respondents; "
                     "their texts are never displayed.",
        "already_shown": "{n} {source} verbatim(s) already read at this meeting in the last {days} days.",
        "none": "No verbatim meets the conditions for this meeting.",
        "footer": "Ranked by how typical of its topic, severity (irritant probability), the topic's weight (effect on "
                  "the score, recent growth) and recency. Personal data masked (names, e-mails, phones, IBANs, social "
                  "security numbers, addresses).",
        "period": "period", "units": "unit(s)", "sources": {"customer": "customer", "employee": "employee"},
        "counts": "{n} verbatims: {irr} irritant(s), {comp} compliment(s).",
        "short": "Fewer than {size} verbatims: too few readable, showable candidates in the period to keep irritants "
                 "and compliments balanced.",
        "subject": "Meeting verbatims — {meeting} — {period}",
    },
}


def strings(lang: str) -> dict:
    return STRINGS.get(lang, STRINGS["fr"])


def source_name(source: str, lang: str) -> str:
    return strings(lang)["sources"].get(source, source)


def one_line(value) -> str:
    """Text on one line (no line breaks or control characters): what headers and Markdown lines need."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", str(value)).strip()


def date_text(value, lang: str) -> str:
    """The date shown beside an item, at the resolution the table gives (a day ``2025-11-14`` reads
    ``14/11/2025`` in French; ``2025-11``, ``2025-Q4``, ``2025`` as they are; nothing for no date)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if not isinstance(value, str):      # an older table holding timestamps
        value = pd.Timestamp(value).strftime("%Y-%m-%d")
    if lang == "fr" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        y, m, day = value.split("-")
        return f"{day}/{m}/{y}"
    return one_line(value)


def withheld_lines(withheld: pd.DataFrame, lang: str, k: int, grouping: str, days: int) -> list[str]:
    s = strings(lang)
    out = []
    for r in withheld.itertuples():
        tpl = s.get(r.reason)
        if tpl:
            out.append(tpl.format(n=r.verbatims, source=source_name(r.source, lang), groups=r.groups, k=k,
                                  grouping=grouping, days=days))
    return out


def context(d) -> dict:
    """Everything a template needs, from a fitted :class:`~verbatim.digest.Digest`."""
    s = strings(d.lang_)
    items = d.items_
    rows = []
    for r in items.itertuples():
        rows.append({"rank": int(r.rank), "text": one_line(r.text), "polarity": r.polarity,
                     "polarity_name": s[r.polarity], "source": source_name(r.source, d.lang_),
                     "unit": one_line(r.unit) if isinstance(r.unit, str) else "",
                     "date": date_text(r.date, d.lang_),
                     "topic": one_line(r.topic_label), "pair": None if pd.isna(r.pair) else int(r.pair),
                     "why": one_line(r.why) if isinstance(r.why, str) else "", "score": float(r.score)})
    blocks = []  # a pair is one block of two items, every other item a block of one
    for row in rows:
        if row["pair"] is not None and blocks and blocks[-1]["pair"] == row["pair"]:
            blocks[-1]["items"].append(row)
        else:
            blocks.append({"pair": row["pair"], "why": row["why"], "items": [row]})
    n_irr = int((items["polarity"] == "irritant").sum()) if len(items) else 0
    return {"s": s, "lang": d.lang_, "meeting": one_line(d.meeting_), "period": one_line(d.period_label_),
            "units": ", ".join(one_line(u) for u in d.units_) if d.units_ else "—", "blocks": blocks,
            "counts": s["counts"].format(n=len(items), irr=n_irr, comp=len(items) - n_irr)
            + (" " + s["short"].format(size=d.config_.size) if len(items) < d.config_.size else ""),
            "withheld": withheld_lines(d.withheld_, d.lang_, d.privacy_.anonymity_threshold,
                                       " × ".join(d.privacy_.group_by), d.config_.window_days)}


def to_text(d) -> str:
    c = context(d)
    s = c["s"]
    lines = [f"{s['title']} — {c['meeting']} — {c['period']}", "", s["intro"], c["counts"], ""]
    if not c["blocks"]:
        lines.append(s["none"])
    for b in c["blocks"]:
        if b["pair"] is not None:
            lines.append(f"[{s['pair']} {b['pair']}] {b['why']}")
        for it in b["items"]:
            lines.append(f"{it['rank']}. {it['polarity_name']} · {it['source']} · {s['topic']} « {it['topic']} » "
                         f"({it['date']})")
            lines.append(f"   « {it['text']} »")
        lines.append("")
    if c["withheld"]:
        lines.append(f"{s['withheld_title']} :" if c["lang"] == "fr" else f"{s['withheld_title']}:")
        lines += [f"- {w}" for w in c["withheld"]]
        lines.append("")
    lines.append(s["footer"])
    return "\n".join(lines) + "\n"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#!|~])")


def md_escape(text: str) -> str:
    """Markdown-inert text on one line: HTML entities for ``& < >``, backslashes before the punctuation that
    makes emphasis, links, code, headings or tables, and before a leading list marker."""
    t = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    t = _MD_SPECIAL.sub(r"\\\1", t)
    t = re.sub(r"^(\d+)([.)])", r"\1\\\2", t)
    return "\\" + t if t[:1] in "-+=" else t


def to_markdown(d) -> str:
    c = context(d)
    s = c["s"]
    e = md_escape
    lines = [f"# {e(s['title'])} — {e(c['meeting'])} — {e(c['period'])}", "", e(s["intro"]), "", e(c["counts"]), ""]
    if not c["blocks"]:
        lines += [e(s["none"]), ""]
    for b in c["blocks"]:
        if b["pair"] is not None:
            lines += [f"**{e(s['pair'])} {b['pair']}** — {e(b['why'])}", ""]
        for it in b["items"]:
            lines += [f"{it['rank']}\\. **{e(it['polarity_name'])}** · {e(it['source'])} · {e(s['topic'])} "
                      f"« {e(it['topic'])} » · {e(it['date'])}", "", f"> {e(it['text'])}", ""]
    if c["withheld"]:
        lines += [f"**{e(s['withheld_title'])}**", ""] + [f"- {e(w)}" for w in c["withheld"]] + [""]
    lines.append(f"_{e(s['footer'])}_")
    return "\n".join(lines) + "\n"


def _json_value(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    if hasattr(v, "item"):
        return v.item()
    return v


def to_json(d) -> str:
    items = [{k: _json_value(v) for k, v in row.items()} for row in d.items_.to_dict(orient="records")]
    for it in items:
        if isinstance(it.get("date"), (int, float)) and it["date"] is not None:  # numpy datetime64 as ns
            it["date"] = pd.Timestamp(it["date"]).date().isoformat()
    out = {"meeting": d.meeting_, "period": d.period_label_, "units": list(d.units_), "lang": d.lang_,
           "items": items, "withheld": [{k: _json_value(v) for k, v in r.items()}
                                        for r in d.withheld_.to_dict(orient="records")],
           "anonymity_threshold": d.privacy_.anonymity_threshold}
    return json.dumps(out, ensure_ascii=False, indent=2)


_COLORS = {"irritant": ("#c0392b", "#fdecea"), "compliment": ("#1e8449", "#e9f7ef")}

_HTML = """<!DOCTYPE html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ s.title }} — {{ meeting }} — {{ period }}</title></head>
<body style="margin:0;padding:0;background-color:#f2f2f2;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:#f2f2f2;">
<tr><td align="center" style="padding:12px 6px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background-color:#ffffff;border-collapse:collapse;font-family:Arial,Helvetica,sans-serif;color:#222222;">
<tr><td style="padding:20px 24px 8px 24px;background-color:#003da5;color:#ffffff;">
<div style="font-size:20px;font-weight:bold;line-height:26px;">{{ s.title }}</div>
<div style="font-size:14px;line-height:20px;">{{ meeting }} · {{ s.period }} {{ period }}</div></td></tr>
<tr><td style="padding:14px 24px 4px 24px;font-size:14px;line-height:20px;color:#444444;">{{ s.intro }}<br>{{ counts }}</td></tr>
{% if not blocks %}<tr><td style="padding:12px 24px;font-size:15px;">{{ s.none }}</td></tr>{% endif %}
{% for b in blocks %}<tr><td style="padding:10px 24px;">
{% if b.pair is not none %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border:2px solid #7d3c98;border-collapse:separate;">
<tr><td style="padding:8px 10px;font-size:13px;line-height:18px;color:#7d3c98;font-weight:bold;">{{ s.pair }} {{ b.pair }} — <span style="font-weight:normal;">{{ b.why }}</span></td></tr><tr><td style="padding:0 10px 8px 10px;">{% endif %}
{% for it in b["items"] %}<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;margin:4px 0;">
<tr><td width="6" style="width:6px;background-color:{{ colors[it.polarity][0] }};"></td>
<td style="padding:8px 12px;background-color:{{ colors[it.polarity][1] }};">
<div style="font-size:12px;line-height:16px;color:{{ colors[it.polarity][0] }};font-weight:bold;text-transform:uppercase;">{{ it.rank }}. {{ it.polarity_name }} · {{ it.source }}</div>
<div style="font-size:16px;line-height:23px;color:#222222;padding:4px 0;word-wrap:break-word;overflow-wrap:anywhere;">« {{ it.text }} »</div>
<div style="font-size:12px;line-height:16px;color:#666666;word-wrap:break-word;overflow-wrap:anywhere;">{{ s.topic }} « {{ it.topic }} »{% if it.date %} · {{ it.date }}{% endif %}</div>
</td></tr></table>{% endfor %}
{% if b.pair is not none %}</td></tr></table>{% endif %}
</td></tr>{% endfor %}
{% if withheld %}<tr><td style="padding:10px 24px;font-size:13px;line-height:19px;color:#555555;">
<div style="font-weight:bold;">{{ s.withheld_title }}</div>{% for w in withheld %}<div>• {{ w }}</div>{% endfor %}</td></tr>{% endif %}
<tr><td style="padding:12px 24px 20px 24px;font-size:11px;line-height:16px;color:#888888;border-top:1px solid #e5e5e5;">{{ s.footer }}</td></tr>
</table></td></tr></table></body></html>
"""


def to_html(d) -> str:
    env = Environment(autoescape=True)
    return env.from_string(_HTML).render(colors=_COLORS, **context(d))


def subject(d) -> str:
    return one_line(strings(d.lang_)["subject"].format(meeting=d.meeting_, period=d.period_label_))
