"""Topic labels as short phrases taken from the topics' own segments.

A candidate is a run of 2 to 5 consecutive words of one segment (never across punctuation or a number) that
starts and ends on a content word (:func:`verbatim.textfr.content_words`; no conjugated verb, no discourse word
such as "revanche"); a leading negation is allowed ("pas de réponse"). Candidates are grouped by their words'
lemmas, accents folded, and shown as the topic's segments most often wrote them (the accented spelling when it is
common). Each topic's candidates are scored by c-TF-IDF on integer counts against the
source's other topics, ``tf = n_c / n_t`` (segments of the topic holding the candidate, over the topic's
segments) times ``idf = log(1 + A / f)`` (``A`` the mean number of segments per topic, ``f`` the segments of the
source holding it), raised when the candidate holds the topic's top words. Candidates of a single segment,
with a repeated word, in another language than the topic's, or of the opposite polarity to the topic's side
(praise on an irritant, a complaint on a compliment; a negated evaluative word on either) are left out; those
that say the topic's side (a word of what is wrong on an irritant, a positive tone on a compliment) are raised.

Each source's topics are labelled largest first by maximal marginal relevance among their best candidates:
relevance minus the overlap with the labels already given, so labels of one source differ and never repeat.
Scores are rounded before ranking and ties broken by the phrase: labels do not depend on the CPU.

>>> phrase_labels(texts, topics, {0: "irritant"}, {0: ["attente", "guichet"]})[0][0]
'attente trop longue au guichet'
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from typing import Iterable, Mapping, Sequence

import numpy as np

from ..textfr import _ELISION, _lookups, _spacy_stop_words, _token_lemmas, strip

#: words a label may start with although they are stop words: a negation says what is wrong
NEGATIONS = ("pas", "jamais", "plus", "not", "no", "never")
MIN_WORDS, MAX_WORDS = 2, 5
#: candidates per topic that maximal marginal relevance chooses among
TOP_CANDIDATES = 30
#: relevance against novelty in maximal marginal relevance
MMR_LAMBDA = 0.7
#: VADER compound beyond which a candidate is praise (> +) or a complaint (< −)
POLAR = 0.25
#: words that say what is wrong (accents folded): with one of them an irritant's candidate says its side ("lettre recommandée trop chère", "scanners en panne", "pas de chauffage")
PROBLEM_WORDS = frozenset({"pas", "jamais", "plus", "sans", "trop", "aucun", "aucune", "non", "impossible", "panne",
                           "manque", "zero", "peu", "insuffisant", "insuffisante", "injoignable", "inexistant"})
#: how much a candidate that says its topic's side is raised
SIDE_BOOST = 0.5
#: how much the topic's top words a candidate holds raise its score (:func:`_top_weight`)
TOP_WORD_BOOST = 1.5
#: how much each content word beyond the first raises a candidate's score (a phrase says more than a pair)
LENGTH_BOOST = 0.15

_CHUNK = re.compile(r"[^\w\s'’-]+|(?<!\w)[-']|[-'](?!\w)|_")   # punctuation ends a run
_WORD = re.compile(r"\S+")


#: discourse words that are no stop words but carry no subject: a label never starts or ends on one
DISCOURSE = frozenset({"contre", "revanche", "pourtant", "sinon", "evidemment", "franchement", "honnetement",
                       "heureusement", "malheureusement", "finalement", "globalement", "perso", "personnellement",
                       "lieu", "sein",
                       "ete"})  # the participle of être ("colis a été perdu") far more often than the season
_PARTICIPLE = ("é", "ée", "és", "ées", "i", "ie", "is", "ies", "u", "ue", "us", "ues", "it", "ite", "its", "ites",
               "ert", "erte", "erts", "ertes", "ant")


def _content(tok: str) -> tuple[str, ...]:
    """The content lemmas of a token (:func:`verbatim.textfr.content_words`' rule)."""
    return _token_lemmas(tok, 3)


def _boundary(tok: str) -> bool:
    """True when a label may start or end on ``tok``: a content word, no discourse word, no conjugated verb
    ("envoient", "sentent": a clause, not a subject; read from the lemma table)."""
    lem = _content(tok)
    if not lem or strip(_ELISION.sub("", tok)) in DISCOURSE:
        return False
    word = _ELISION.sub("", tok)
    base = lem[-1]
    finite = (base != word and base.endswith(("er", "ir", "re", "oir")) and not word.endswith(_PARTICIPLE)
              and base[:-2] != word)
    return not finite


@functools.lru_cache(maxsize=1)
def _vocab() -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    fr, en = _lookups()
    frw = frozenset(fr) | frozenset(fr.values())
    enw = frozenset(en) | frozenset(en.values())
    return frw, enw, frozenset(_spacy_stop_words("fr")), frozenset(_spacy_stop_words("en"))


def word_language(word: str) -> str | None:
    """``"fr"`` or ``"en"`` when only one language's word lists hold ``word`` (``-ing`` words count as English
    when French does not know them), else ``None``."""
    frw, enw, frs, ens = _vocab()
    in_fr, in_en = word in frw or word in frs, word in enw or word in ens or word.endswith("ing")
    if in_fr and not in_en:
        return "fr"
    if in_en and not in_fr:
        return "en"
    return None


def text_language(text: str) -> str:
    """``"en"`` when a text holds more English than French stop words, else ``"fr"``."""
    _, _, frs, ens = _vocab()
    words = _WORD.findall(text.lower().replace("’", "'"))
    n_fr = sum(w in frs and w not in ens for w in words)
    n_en = sum(w in ens and w not in frs for w in words)
    return "en" if n_en > n_fr else "fr"


def segment_candidates(text: str) -> dict[tuple[str, ...], str]:
    """The candidate phrases of one segment: lemma key → the words as written (lowercase, a leading elision
    dropped): ``"L'attente trop longue au guichet"`` holds ``"attente trop longue"``, ``"guichet"``…"""
    out: dict[tuple[str, ...], str] = {}
    for run in _runs(text):
        lem = [_content(t) for t in run]
        edge = [_boundary(t) for t in run]
        bare = ["+".join(strip(x) for x in lm) if lm else strip(t) for t, lm in zip(run, lem)]
        keys = [(m.group(0) if (m := _ELISION.match(t)) and lm else "") + b for t, lm, b in zip(run, lem, bare)]
        for i in range(len(run)):
            if not edge[i] and run[i] not in NEGATIONS:
                continue
            for j in range(i + MIN_WORDS - 1, min(len(run), i + MAX_WORDS)):
                if not edge[j]:
                    continue
                if run[i] in NEGATIONS and not any(lem[i + 1:j + 1]):
                    continue
                words = list(run[i:j + 1])
                words[0] = _ELISION.sub("", words[0])
                key = (bare[i], *keys[i + 1:j + 1])
                out.setdefault(key, " ".join(words))
    return out


def _lemmas(key: tuple[str, ...]) -> list[str]:
    """The content lemmas of a candidate key (stop words and elisions left out)."""
    out = []
    for k in key:
        k = _ELISION.sub("", k)
        if k and k not in _vocab()[2] and k not in _vocab()[3] and k not in NEGATIONS:
            out.extend(k.split("+"))
    return out


def phrase_labels(texts: Sequence[str], topics: Sequence[int], sides: Mapping[int, str],
                  top_words: Mapping[int, Iterable[str]], typical: Mapping[int, Sequence[int]] | None = None,
                  outlier: int = -1, polarity=None) -> dict[int, list[str]]:
    """Each topic's label candidates, best first (the first is its label; see the module doc).

    ``texts`` and ``topics`` are one source's segments and their topic ids (``outlier`` for none); ``sides``
    maps a topic to ``"irritant"`` or ``"compliment"``; ``top_words`` to its c-TF-IDF words (lemmas);
    ``typical`` to its segments (indices into ``texts``), most typical first. A topic with no candidate is
    named by its most typical segment trimmed to content words (:func:`trimmed`), else gets an empty list.
    ``polarity`` scores phrases in [-1, 1] (``compound(texts) -> array``; default VADER's French lexicon,
    :class:`verbatim.polarity.LexiconScorer`, when installed).
    """
    topics = np.asarray(topics)
    ids = sorted({int(t) for t in topics if int(t) != outlier})
    if not ids:
        return {}
    per_seg = [segment_candidates(t) for t in texts]
    df = Counter()                                   # segments of the source holding each candidate
    tf: dict[int, Counter] = defaultdict(Counter)    # segments of each topic holding it
    forms: dict[int, dict[tuple, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for cands, t in zip(per_seg, topics):
        t = int(t)
        df.update(cands.keys())
        if t == outlier:
            continue
        tf[t].update(cands.keys())
        for k, s in cands.items():
            forms[t][k][s] += 1
    sizes = Counter(int(t) for t in topics if int(t) != outlier)
    mean_size = sum(sizes.values()) / len(ids)
    langs: dict[int, Counter] = defaultdict(Counter)  # one pass over the segments, not one per topic
    for x, t in zip(texts, topics):
        if int(t) != outlier:
            langs[int(t)][text_language(x)] += 1
    lang = {t: langs[t].most_common(1)[0][0] for t in ids}
    if polarity is None:
        from ..polarity import LexiconScorer

        polarity = LexiconScorer() if LexiconScorer.available() else None
    ranked: dict[int, list[tuple[float, str, frozenset]]] = {}
    for t in ids:
        terms = [[strip(w) for w in str(term).split()] for term in top_words.get(t, ())]
        rows = []
        for key, n in tf[t].items():
            if n < 2:
                continue
            lem = _lemmas(key)
            if len(set(lem)) != len(lem) or not lem:
                continue
            form = _shown_form(forms[t][key])
            other = "en" if lang[t] == "fr" else "fr"
            if any(word_language(w) == other for w in form.split() if _content(w)):
                continue
            score = (n / sizes[t]) * math.log(1 + mean_size / df[key])
            score *= (1 + TOP_WORD_BOOST * _top_weight(set(lem), terms)) * (1 + LENGTH_BOOST * (len(lem) - 1))
            rows.append((round(score, 6), form, frozenset(lem)))
        rows.sort(key=lambda r: (-r[0], r[1]))
        rows = _polar_filter(rows[: 4 * TOP_CANDIDATES], sides.get(t, "compliment"), polarity)
        ranked[t] = rows[:TOP_CANDIDATES]
    return _choose(ids, sizes, ranked, {t: [texts[i] for i in (typical or {}).get(t, ())] for t in ids})


def _runs(text: str) -> list[list[str]]:
    """``text`` lowercased, cut into runs of words at punctuation and at tokens holding a digit."""
    runs = []
    for chunk in _CHUNK.split(str(text).lower().replace("’", "'")):
        cur: list[str] = []
        for t in _WORD.findall(chunk):
            if any(c.isdigit() for c in t):
                runs.append(cur)
                cur = []
            else:
                cur.append(t)
        runs.append(cur)
    return [r for r in runs if r]


def trimmed(text: str, max_words: int = MAX_WORDS + 2) -> str:
    """A label cut from one segment: its first run of words from a content word to the last content word within
    ``max_words`` words (a leading negation kept; :func:`_boundary` words first, then any content word), else
    its first run as written, cut at ``max_words``: "Franchement, le guichet était fermé." → "guichet était
    fermé"; "C'est rare de nos jours" → "c'est rare de nos jours"."""
    runs = _runs(text)
    for edge in (_boundary, lambda t: bool(_content(t))):
        for run in runs:
            ok = [edge(t) for t in run]
            starts = [n for n, t in enumerate(run) if ok[n] or (t in NEGATIONS and any(ok[n + 1:]))]
            if not starts:
                continue
            i = starts[0]
            ends = [k for k in range(i + 1, min(len(run), i + max_words)) if ok[k]]
            if ends:
                return " ".join([_ELISION.sub("", run[i]), *run[i + 1:ends[-1] + 1]])
    return " ".join(runs[0][:max_words]) if runs else ""


def _top_weight(lemmas: set[str], terms: list[list[str]]) -> float:
    """How much of the topic's top words a candidate holds: each top term (its words all in the candidate)
    weighs ``1 / (1 + rank)``, the sum capped at 1.5."""
    w = sum(1 / (1 + r) for r, term in enumerate(terms) if term and set(term) <= lemmas)
    return min(1.5, w)


def _shown_form(forms: Counter) -> str:
    """How a candidate is shown: its most frequent spelling, or the one with the most accented letters among
    those written at least a fifth as often ("bureau fermé" over "bureau ferme"); ties by the string."""
    top = max(forms.values())
    common = [f for f in sorted(forms) if 5 * forms[f] >= top]
    return max(common, key=lambda f: (sum(c != strip(c) for c in f), forms[f]))


def _polar_filter(rows: list, side: str, polarity) -> list:
    """``rows`` without the candidates of the opposite polarity to ``side`` and the negated evaluative ones;
    those that say the side's judgement (a complaint word on an irritant, praise on a compliment) raised by
    ``SIDE_BOOST`` and the rows ranked again."""
    if not rows:
        return rows
    forms = [r[1] for r in rows]
    rest = [" ".join(f.split()[1:]) if f.split()[0] in NEGATIONS else "" for f in forms]
    c = (np.round(np.asarray(polarity.compound(forms + rest), float), 3) if polarity is not None
         else np.zeros(2 * len(forms)))
    full, tail = c[: len(forms)], c[len(forms):]
    keep = []
    for r, f, t, neg, form in zip(rows, full, tail, rest, forms):
        if neg and (f != 0 or t != 0):
            continue          # "jamais déçue", "pas mal": a negated judgement reads both ways
        if side == "irritant" and f >= POLAR or side != "irritant" and f <= -POLAR:
            continue
        says = any(strip(w) in PROBLEM_WORDS for w in form.split()) if side == "irritant" else f > 0
        keep.append((round(r[0] * (1 + SIDE_BOOST * says), 6), *r[1:]) if says else r)
    return sorted(keep, key=lambda r: (-r[0], r[1]))


def _choose(ids: list[int], sizes: Counter, ranked: dict, typical: dict) -> dict[int, list[str]]:
    """Order each topic's candidates by maximal marginal relevance, largest topic first, against the labels
    already given in the source; a label already given is never given again."""
    given: list[frozenset] = []
    shown: set[str] = set()
    out: dict[int, list[str]] = {}
    for t in sorted(ids, key=lambda t: (-sizes[t], t)):
        rows = [r for r in ranked.get(t, []) if strip(r[1]) not in shown]
        if not rows:
            fallback = [f for f in dict.fromkeys(trimmed(x) for x in typical.get(t, ())) if f and strip(f) not in shown]
            out[t] = fallback[:1]
            shown.update(strip(f) for f in fallback[:1])
            continue
        best = rows[0][0] or 1.0

        def mmr(r):
            overlap = max((len(r[2] & g) / len(r[2] | g) for g in given), default=0.0)
            return round(MMR_LAMBDA * r[0] / best - (1 - MMR_LAMBDA) * overlap, 6)

        order = sorted(rows, key=lambda r: (-mmr(r), r[1]))
        out[t] = [r[1] for r in order]
        given.append(order[0][2])
        shown.add(strip(order[0][1]))
    return out


def label_checks(topics, segments, max_words: int = MAX_WORDS + 2):
    """The label checks of a topic table (``source``, ``topic``, ``label``) against its segments (``source``,
    ``topic``, ``text``), one row per label: ``words`` (its number of words), ``found`` (the share of its words of
    4 letters or more that its topic's segments hold), ``duplicate`` (another label of the source is equal),
    ``stop_edge`` (it starts or ends on a stop word; a leading negation allowed) and ``phrase`` (two to
    ``max_words`` words, no keyword list)."""
    import pandas as pd

    from ..textfr import stop_words

    stops = stop_words() | DISCOURSE
    vocab: dict[tuple, set[str]] = defaultdict(set)
    for s, t, x in zip(segments["source"], segments["topic"], segments["text"]):
        for run in _runs(x):
            vocab[(s, int(t))].update(strip(_ELISION.sub("", w)).strip("'-") for w in run)
    rows = []
    counts = Counter(zip(topics["source"], topics["label"].map(lambda v: strip(str(v)))))
    for r in topics.itertuples():
        words = [strip(_ELISION.sub("", w)).strip("'-") for run in _runs(r.label) for w in run]
        long = [w for w in words if len(w) >= 4]
        edges = [w for w in (words[:1] if words[:1] and words[0] not in NEGATIONS else []) + words[-1:]]
        rows.append({"source": r.source, "topic": r.topic, "label": r.label, "words": len(words),
                     "found": round(sum(w in vocab[(r.source, int(r.topic))] for w in long) / len(long), 3)
                     if long else 1.0,
                     "duplicate": counts[(r.source, strip(str(r.label)))] > 1,
                     "stop_edge": any(w in stops for w in edges),
                     "phrase": 2 <= len(words) <= max_words and "·" not in str(r.label)})
    return pd.DataFrame(rows)
