"""Selection and ranking of the verbatims one meeting reads aloud.

**Candidates** are the verbatims of the meeting's units and period, of the configured sources, that are

- shown-allowed by :func:`verbatim.privacy.shown_allowed` (a protected source's group, unit × period by
  default and always bounded by the unit, has at least the anonymity threshold of respondents, counted over
  everyone in the group); a protected item's date is shown only at the resolution
  :func:`verbatim.privacy.shown_dates` allows (a day, month, quarter or year whose group still holds the
  threshold, else the digest's period), and its recency term is read from that same date;
- not shown to the same meeting within ``window_days`` (the history);
- clearly an irritant (verbatim ``irritant_p`` ≥ ``irritant_min_p``) or a compliment (≤ ``compliment_max_p``);
- readable: ``min_chars``–``max_chars`` characters, at least ``min_words`` words, not a fragment
  (a piece starting with a connector such as "mais", or with no letter), and attached to a topic.

**Score** of a candidate, each term in [0, 1], weights from ``[digest]``::

    score = (w_typicality·typicality + w_severity·severity + w_topic·topic_weight + w_recency·recency) / Σw

- typicality: percentile of its segment's similarity to the topic centre, among the topic's segments;
- severity: ``irritant_p`` for an irritant, ``1 − irritant_p`` for a compliment;
- topic weight: mean of two percentiles within the source: the topic's absolute effect on the score
  (:func:`verbatim.drivers.driver_table`, ``on="mention"``) and its growth (its share of the source's
  segments in the meeting period against the previous periods);
- recency: 0 at the start of the period, 1 at its end.

**Selection** (:func:`select`): first up to ``max_pairs`` mirrored pairs (a customer irritant beside the
employee irritant of the mirrored topic, with one line saying why), then the best candidate of each
polarity × source cell in turn until ``size`` is reached, ``irritant_share`` of them irritants and the
sources in equal parts where candidates allow; at most ``per_topic`` per topic, no near-duplicates
(word overlap ≥ ``duplicate_similarity``). When one polarity lacks candidates, the other takes its places only
while the counts stay within one of the configured split: a shorter digest rather than an unbalanced one.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import replace

import numpy as np
import pandas as pd

from ..config import DigestConfig, PrivacyConfig
from ..numerics import rounded
from ..topics.stability import MIN_STABILITY
from ..privacy import mask_label, mask_pii, respondents, shown_allowed, shown_dates

#: the verdicts that make a mirrored pair (kept in step with ``verbatim.mirror.core.MIRRORED``)
MIRRORED_DEFAULT = ("mirrored", "linked, different topics")
ITEM_COLUMNS = ["rank", "verbatim_id", "source", "polarity", "unit", "date", "topic", "topic_label", "text", "score",
                "typicality", "severity", "topic_weight", "recency", "pair", "why"]
WITHHELD_COLUMNS = ["reason", "source", "verbatims", "groups"]
_CONNECTORS = ("et ", "mais ", "ou ", "donc ", "car ", "puis ", "sauf ", "par contre", "alors que", "and ", "but ",
               "or ", "because ", "sinon ")


def parse_period(period: str | pd.Period | None) -> pd.Period | None:
    """``2025-11`` (month), ``2025-Q4`` (quarter), ``2025`` (year), ``2025-W45`` (week) → a pandas Period."""
    if period is None or isinstance(period, pd.Period):
        return period
    from ..errors import ConfigError

    text = str(period).strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return pd.Period(text, "Y")
        if re.fullmatch(r"\d{4}-?[Qq][1-4]", text):
            return pd.Period(text.replace("-", "").upper(), "Q")
        if m := re.fullmatch(r"(\d{4})-?W(\d{1,2})", text, re.IGNORECASE):
            return pd.Timestamp.fromisocalendar(int(m.group(1)), int(m.group(2)), 1).to_period("W")
        if re.fullmatch(r"\d{4}-\d{1,2}", text):
            return pd.Period(text, "M")
    except ValueError:
        pass
    raise ConfigError(f"--period must be a month (2025-11), a quarter (2025-Q4), a week (2025-W45) or a year (2025); "
                      f"got {text!r}")


def period_label(period: pd.Period | None) -> str:
    """``2025-11-14`` (day), ``2025-11``, ``2025-Q4``, ``2025-W45``, ``2025``; ``—`` for every date."""
    if period is None:
        return "—"
    freq = period.freqstr.upper()
    if freq.startswith("D"):
        return period.strftime("%Y-%m-%d")
    if freq.startswith("Q"):
        return f"{period.year}-Q{period.quarter}"
    if freq.startswith("W"):
        return f"{period.start_time.isocalendar()[0]}-W{period.start_time.isocalendar()[1]:02d}"
    return str(period)


def digest_privacy(privacy: PrivacyConfig, population: pd.DataFrame) -> PrivacyConfig:
    """The anonymity rule as a digest applies it: every item is shown under its unit (the meeting's), so the
    unit always bounds the group, whatever ``group_by`` says (``["channel", "period"]`` must not let a unit
    of 8 employees through because its channel has 40)."""
    if "unit" in population and "unit" not in privacy.group_by:
        return replace(privacy, group_by=(*privacy.group_by, "unit"))
    return privacy


def fold_words(text: str) -> set[str]:
    t = unicodedata.normalize("NFKD", str(text).casefold())
    t = "".join(c for c in t if not unicodedata.combining(c))
    return {w for w in re.findall(r"[a-z0-9]+", t) if len(w) > 2}


def near_duplicate(a: set[str], b: set[str], threshold: float) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) >= threshold


def is_fragment(text: str, min_words: int) -> bool:
    """Too short, starting like the second half of a sentence, or without letters."""
    t = str(text).strip()
    if len(re.findall(r"\w+", t)) < min_words or not re.search(r"[^\W\d_]", t):
        return True
    low = t.casefold()
    return low.startswith(_CONNECTORS) or t[:1] in ",;:)]-" or t.endswith((",", ";", " et", " mais"))


def _pct(values: pd.Series) -> pd.Series:
    if not len(values):
        return values
    return pd.Series(rounded(values), index=values.index).rank(pct=True, method="average").fillna(0.5)


def topic_weights(segments: pd.DataFrame, period: pd.Period, history: int = 6) -> pd.DataFrame:
    """Per ``source`` × ``topic``: ``impact_pct``, ``growth_pct`` and ``topic_weight`` (see module doc)."""
    from ..drivers import driver_table

    seg = segments[segments["topic"] >= 0]
    rows = seg[["source", "topic"]].drop_duplicates().reset_index(drop=True)
    try:
        drv = driver_table(segments, on="mention")[["source", "topic", "impact"]]
        rows = rows.merge(drv, on=["source", "topic"], how="left")
    except (ValueError, KeyError, np.linalg.LinAlgError):
        rows["impact"] = np.nan
    per = pd.to_datetime(seg["date"], errors="coerce").dt.to_period(period.freqstr) if "date" in seg else None
    if per is not None and per.notna().any():
        now = seg[(per == period).to_numpy()]
        before = seg[((per < period) & (per >= period - history)).to_numpy()]
        share_now, share_before = _shares(now, 0.0), _shares(before, 0.5)
        idx = pd.MultiIndex.from_frame(rows[["source", "topic"]])
        sn = share_now.reindex(idx).fillna(0).to_numpy() if len(share_now) else np.zeros(len(rows))
        sb = share_before.reindex(idx).to_numpy() if len(share_before) else np.full(len(rows), np.nan)
        rows["growth"] = np.where(np.isnan(sb), 0.0, sn / np.where(np.isnan(sb), 1, sb))
    else:
        rows["growth"] = 0.0
    rows["impact_pct"] = rows.groupby("source")["impact"].transform(lambda x: _pct(x.abs()))
    rows["growth_pct"] = rows.groupby("source")["growth"].transform(_pct)
    rows["topic_weight"] = (rows["impact_pct"] + rows["growth_pct"]) / 2
    return rows


def _shares(seg: pd.DataFrame, prior: float) -> pd.Series:
    """Each source × topic's share of its source's segments (``prior`` added to the counts)."""
    if seg.empty:
        return pd.Series(dtype=float)
    cnt = seg.groupby(["source", "topic"]).size()
    tot = seg.groupby("source").size().reindex(cnt.index.get_level_values(0)).to_numpy()
    return (cnt + prior) / (tot + 2 * prior)


def meeting_scope(verbatims: pd.DataFrame, units: tuple[str, ...] | None, period: pd.Period | None,
                  sources: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(population, scope): every verbatim of the period (all units: the anonymity groups are counted on
    it, with a ``period`` column), and those of the meeting's units and sources."""
    v = verbatims.copy()
    if period is not None:
        dates = pd.to_datetime(v["date"], errors="coerce") if "date" in v else pd.Series(pd.NaT, index=v.index)
        v = v[(dates.dt.to_period(period.freqstr) == period).fillna(False).to_numpy()].copy()
        v["period"] = str(period)
    scope = v[v["source"].isin(sources)]
    if units:
        scope = scope[scope["unit"].astype(str).isin(units)] if "unit" in scope else scope.iloc[0:0]
    return v, scope


def candidates(pipeline, units: tuple[str, ...] | None, period: pd.Period | None, cfg: DigestConfig,
               privacy: PrivacyConfig, exclude: set[str] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(candidates with their score terms, withheld counts by reason) for one meeting; see the module doc."""
    population, scope = meeting_scope(pipeline.verbatims_, units, period, cfg.sources)
    privacy = digest_privacy(privacy, population)
    withheld = []
    ok = shown_allowed(scope, privacy, population=population)
    if (~ok).any():
        held = scope[~ok]
        keys = [c for c in privacy.group_by if c in held]
        for src, g in held.groupby("source"):
            withheld.append({"reason": "anonymity", "source": src, "verbatims": int(len(g)),
                             "groups": int(g[keys].drop_duplicates().shape[0]) if keys else 1})
    scope = scope[ok]
    seen = scope["id"].astype(str).isin(exclude)
    if seen.any():
        for src, g in scope[seen].groupby("source"):
            withheld.append({"reason": "already_shown", "source": src, "verbatims": int(len(g)), "groups": 0})
    scope = scope[~seen]
    withheld = pd.DataFrame(withheld, columns=WITHHELD_COLUMNS)
    p = scope["irritant_p"].astype(float)
    polarity = np.where(p >= cfg.irritant_min_p, "irritant", np.where(p <= cfg.compliment_max_p, "compliment", ""))
    scope = scope.assign(polarity=polarity)
    scope = scope[scope["polarity"] != ""]
    n_chars = scope["text"].astype(str).str.len()
    scope = scope[(n_chars >= cfg.min_chars) & (n_chars <= cfg.max_chars)]
    scope = scope[[not is_fragment(t, cfg.min_words) for t in scope["text"].astype(str)]]
    if scope.empty:
        return pd.DataFrame(columns=["verbatim_id", "source", "polarity", "unit", "date", "topic", "topic_label", "text",
                                     "typicality", "severity", "topic_weight", "recency", "score"]), withheld
    # the verbatim's topic: its segment of the same polarity that sits closest to a topic centre
    seg = pipeline.segments_
    seg = seg[seg["id"].astype(str).isin(set(scope["id"].astype(str))) & (seg["topic"] >= 0)].copy()
    allseg = pipeline.segments_[pipeline.segments_["topic"] >= 0]
    sim = allseg["topic_similarity"] if "topic_similarity" in allseg else pd.Series(0.5, index=allseg.index)
    typ = sim.groupby([allseg["source"], allseg["topic"]]).rank(pct=True)
    seg["typicality"] = typ.reindex(seg.index).fillna(0.5)
    pol = scope.set_index(scope["id"].astype(str))["polarity"]
    seg["_want"] = seg["id"].astype(str).map(pol)
    seg["_match"] = (seg["irritant"].astype(bool) == (seg["_want"] == "irritant")) if "irritant" in seg else True
    seg = seg.sort_values(["_match", "typicality"], ascending=False).drop_duplicates("id")
    best = seg.set_index(seg["id"].astype(str))
    scope = scope[scope["id"].astype(str).isin(best.index)]
    ids = scope["id"].astype(str)
    # what is shown beside a protected verbatim must not narrow its group: its date only at a resolution
    # whose group still holds the threshold (privacy.shown_dates), and the recency term from that same date
    shown = shown_dates(scope, privacy, population, within=period)
    out = pd.DataFrame({
        "verbatim_id": ids.to_numpy(), "source": scope["source"].to_numpy(), "polarity": scope["polarity"].to_numpy(),
        "unit": scope["unit"].to_numpy() if "unit" in scope else None,
        "date": [None if p is None else period_label(p) for p in shown],
        "_when": _when(shown, scope),
        "topic": best.loc[ids, "topic"].astype(int).to_numpy(),
        "topic_label": best.loc[ids, "topic_label"].astype(str).to_numpy() if "topic_label" in best else "",
        "text": scope["text"].astype(str).to_numpy(),
        "typicality": best.loc[ids, "typicality"].astype(float).to_numpy(),
        "irritant_p": scope["irritant_p"].astype(float).to_numpy(),
        "respondent": respondents(scope).to_numpy()})
    out["severity"] = np.where(out["polarity"] == "irritant", out["irritant_p"], 1 - out["irritant_p"])
    if period is not None:
        tw = topic_weights(pipeline.segments_, period)
        out = out.merge(tw[["source", "topic", "topic_weight"]], on=["source", "topic"], how="left")
        start, end = period.start_time, period.end_time
        span = max((end - start).total_seconds(), 1.0)
        out["recency"] = ((pd.to_datetime(out["_when"]) - start).dt.total_seconds() / span).clip(0, 1).fillna(0.0)
    else:
        tw = topic_weights(pipeline.segments_, pd.Timestamp(pd.to_datetime(pipeline.segments_["date"]).max()).to_period("M")) \
            if "date" in pipeline.segments_ and pipeline.segments_["date"].notna().any() else None
        out = out.merge(tw[["source", "topic", "topic_weight"]], on=["source", "topic"], how="left") if tw is not None \
            else out.assign(topic_weight=0.5)
        d = pd.to_datetime(out["_when"])
        out["recency"] = ((d - d.min()).dt.total_seconds() / max((d.max() - d.min()).total_seconds(), 1.0)).fillna(0.0)
    out["topic_weight"] = out["topic_weight"].fillna(0.5)
    w = np.array([cfg.w_typicality, cfg.w_severity, cfg.w_topic, cfg.w_recency], dtype=float)
    terms = out[["typicality", "severity", "topic_weight", "recency"]].to_numpy(dtype=float)
    # term by term in a fixed order (a BLAS product sums in the kernel's order), rounded before ranking
    out["score"] = rounded(sum(terms[:, i] * w[i] for i in range(len(w))) / w.sum()) if w.sum() > 0 else 0.0
    out = out.drop(columns="_when")
    return out.sort_values(["score", "verbatim_id"], ascending=[False, True], kind="stable").reset_index(drop=True), \
        withheld


def _when(shown: pd.Series, scope: pd.DataFrame) -> list:
    """The time the recency term reads: the exact date where the day is shown, else the middle of the shown
    period (so the score reveals no more than the date beside it), NaT where no date is shown."""
    dates = pd.to_datetime(scope["date"], errors="coerce") if "date" in scope else pd.Series(pd.NaT, index=scope.index)
    out = []
    for p, t in zip(shown, dates):
        if p is None:
            out.append(pd.NaT)
        elif p.freqstr.upper().startswith("D"):
            out.append(t)
        else:
            out.append(p.start_time + (p.end_time - p.start_time) / 2)
    return out


def mirrored_pairs(pairs: pd.DataFrame | None, verdicts: tuple[str, ...] = MIRRORED_DEFAULT) -> pd.DataFrame:
    """The mirrored rows of a mirror pair table (columns ``source_a``, ``topic_a``, ``label_a``, ``source_b``,
    ``topic_b``, ``label_b``, ``verdict`` and, when present, ``similarity``, ``linkage_r``, ``lead``,
    ``stability``), best first. A pair flagged unstable (found in fewer than
    :data:`~verbatim.topics.stability.MIN_STABILITY` of the stability refits) is not a finding to read aloud."""
    cols = ["source_a", "topic_a", "label_a", "source_b", "topic_b", "label_b", "verdict", "similarity", "linkage_r",
            "linkage_q", "lead", "stability"]
    if pairs is None or pairs.empty or "verdict" not in pairs:
        return pd.DataFrame(columns=cols)
    p = pairs[pairs["verdict"].isin(verdicts)].copy()
    for c in cols:
        if c not in p:
            p[c] = np.nan
    p = p[~(p["stability"] < MIN_STABILITY)]
    p = p.assign(_q=rounded(p["linkage_q"]), _s=rounded(p["similarity"]), _pair=p.get("pair", pd.Series(0, index=p.index)))
    return p.sort_values(["_q", "_s", "_pair"], ascending=[True, False, True], na_position="last", kind="stable")[cols]


def why_pair(row, lang: str, privacy: PrivacyConfig) -> str:
    """The one line saying why two verbatims are read together."""
    from .render import source_name

    la, lb = mask_label(str(row.label_a), privacy), mask_label(str(row.label_b), privacy)
    sa, sb = source_name(str(row.source_a), lang), source_name(str(row.source_b), lang)
    bits = []
    if not _isnan(row.similarity):
        bits.append((f"similarité des thèmes {row.similarity:.2f}" if lang == "fr" else f"topic similarity {row.similarity:.2f}"))
    if not _isnan(row.linkage_r):
        bits.append((f"liés d'une unité à l'autre (r = {row.linkage_r:+.2f})" if lang == "fr"
                     else f"linked across units (r = {row.linkage_r:+.2f})"))
    st = getattr(row, "stability", np.nan)
    if not _isnan(st):
        bits.append((f"retrouvés dans {st:.0%} des réajustements du modèle" if lang == "fr"
                     else f"found again in {st:.0%} of the model's refits").replace("%", "\u00a0%" if lang == "fr" else "%"))
    extra = f" ({'; '.join(bits)})" if bits else ""
    if lang == "fr":
        return f"l'irritant {sa} « {la} » répond à l'irritant {sb} « {lb} »{extra}."
    return f"the {sa} irritant “{la}” mirrors the {sb} irritant “{lb}”{extra}."


def _isnan(v) -> bool:
    try:
        return v is None or v is pd.NA or math.isnan(float(v))
    except (TypeError, ValueError):
        return True


def select(cand: pd.DataFrame, cfg: DigestConfig, privacy: PrivacyConfig, pairs: pd.DataFrame | None = None,
           lang: str = "fr") -> pd.DataFrame:
    """The digest's rows in reading order (columns :data:`ITEM_COLUMNS`); texts and labels masked."""
    chosen: list[dict] = []
    per_topic: dict[tuple, int] = {}
    words: list[set[str]] = []
    used_ids: set[str] = set()
    used_respondents: set[tuple] = set()
    masked: dict[str, str] = {}

    def text_of(r) -> str:
        if r.verbatim_id not in masked:
            masked[r.verbatim_id] = mask_pii(r.text, privacy)
        return masked[r.verbatim_id]

    def fits(r) -> bool:
        if r.verbatim_id in used_ids or (r.source, r.respondent) in used_respondents:
            return False
        if per_topic.get((r.source, r.topic), 0) >= cfg.per_topic:
            return False
        t = text_of(r)
        if t.count("[") >= 3 or len(t) < cfg.min_chars * 0.6:
            return False  # mostly masked: nothing left to read aloud
        w = fold_words(t)
        return not any(near_duplicate(w, o, cfg.duplicate_similarity) for o in words)

    def take(r, pair=None, why="") -> None:
        used_ids.add(r.verbatim_id)
        used_respondents.add((r.source, r.respondent))
        per_topic[(r.source, r.topic)] = per_topic.get((r.source, r.topic), 0) + 1
        words.append(fold_words(text_of(r)))
        chosen.append({**r._asdict(), "text": text_of(r), "pair": pair, "why": why})

    n_irr = int(round(cfg.size * cfg.irritant_share))
    quota = {"irritant": n_irr, "compliment": cfg.size - n_irr}
    # 1. mirrored pairs: the customer irritant beside the employee irritant of the mirrored topic
    n_pairs = 0
    for row in mirrored_pairs(pairs).itertuples():
        if n_pairs >= cfg.max_pairs or quota["irritant"] < 2:
            break
        sides = []
        for src, topic in ((row.source_a, row.topic_a), (row.source_b, row.topic_b)):
            c = cand[(cand["source"] == src) & (cand["topic"] == int(topic)) & (cand["polarity"] == "irritant")]
            hit = next((r for r in c.itertuples(index=False) if fits(r)), None)
            sides.append(hit)
        if all(sides) and sides[0].verbatim_id != sides[1].verbatim_id:
            n_pairs += 1
            why = why_pair(row, lang, privacy)
            for r in sides:
                take(r, pair=n_pairs, why=why)
            quota["irritant"] -= 2
    # 2. the cells polarity × source, in turn, best score first
    sources = [s for s in cfg.sources if (cand["source"] == s).any()]
    pools = {(pol, s): list(cand[(cand["polarity"] == pol) & (cand["source"] == s)].itertuples(index=False))
             for pol in quota for s in sources}
    count = {k: sum(1 for c in chosen if (c["polarity"], c["source"]) == k) for k in pools}

    def next_from(key):
        pool = pools[key]
        while pool:
            r = pool.pop(0)
            if fits(r):
                return r
        return None

    def pick(pol):
        """The next candidate of ``pol``, from the source with the fewest picks so far (None when none is left)."""
        keys = sorted((k for k in pools if k[0] == pol and pools[k]), key=lambda k: (count[k], sources.index(k[1])))
        for k in keys:
            got = next_from(k)
            if got is not None:
                count[k] += 1
                return got
        return None

    for pol in ("irritant", "compliment"):
        while quota[pol] > 0:
            got = pick(pol)
            if got is None:
                break
            take(got)
            quota[pol] -= 1
    # a polarity without enough candidates leaves its places to the other one, but the balance holds within one
    planned = {"irritant": n_irr, "compliment": cfg.size - n_irr}
    for pol in ("irritant", "compliment"):
        other = "compliment" if pol == "irritant" else "irritant"
        while len(chosen) < cfg.size and planned[pol] > 0 and (
                sum(c["polarity"] == pol for c in chosen) + 1 - sum(c["polarity"] == other for c in chosen)
                <= planned[pol] - planned[other] + 1):
            got = pick(pol)
            if got is None:
                break
            take(got)
    # the other way round: a polarity short of candidates trims the surplus of the other (lowest scores first)
    for pol, other in (("irritant", "compliment"), ("compliment", "irritant")):
        while sum(c["polarity"] == pol for c in chosen) - sum(c["polarity"] == other for c in chosen) \
                > planned[pol] - planned[other] + 1:
            spare = [c for c in chosen if c["polarity"] == pol and c["pair"] is None]
            if not spare:
                break
            chosen.remove(min(spare, key=lambda c: (c["score"], c["verbatim_id"])))
    return _reading_order(chosen, privacy)


def _reading_order(chosen: list[dict], privacy: PrivacyConfig) -> pd.DataFrame:
    """Pairs first, then irritants and compliments alternating ("un peu de mal et un peu de bien")."""
    paired = [c for c in chosen if c["pair"] is not None]
    irr = sorted((c for c in chosen if c["pair"] is None and c["polarity"] == "irritant"),
                 key=lambda c: (-c["score"], c["verbatim_id"]))
    comp = sorted((c for c in chosen if c["pair"] is None and c["polarity"] == "compliment"),
                  key=lambda c: (-c["score"], c["verbatim_id"]))
    order = list(paired)
    while irr or comp:
        if irr:
            order.append(irr.pop(0))
        if comp:
            order.append(comp.pop(0))
    df = pd.DataFrame(order)
    if df.empty:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    df["rank"] = range(1, len(df) + 1)
    df["topic_label"] = [mask_label(x, privacy) for x in df["topic_label"]]
    df["pair"] = df["pair"].astype("Int64")
    return df[ITEM_COLUMNS].reset_index(drop=True)
