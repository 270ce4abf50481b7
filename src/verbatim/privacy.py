"""Privacy: the one rule every output calls (digest, mirror report, CSV examples, topic labels).

Two parts:

- **Anonymity.** Verbatims of a *protected* source (declared in ``[privacy] protected_sources``, default
  ``employee``; never inferred from the order of ``--pair``) are shown only when their group
  (``group_by``: ``unit`` × ``period`` by default, where ``period`` is the period an output covers) holds
  at least ``anonymity_threshold`` distinct respondents (default 10, never below 5). The respondents are
  counted over the whole population of the group, not over the candidates shown, and are people, not texts
  (:func:`respondents`: the ``record_id`` a pros/cons pair shares, row by row). What is shown beside a
  protected verbatim must not narrow its group: its date only at a resolution whose group still holds the
  threshold (:func:`shown_dates`). A setting that cannot be honoured (a ``group_by`` column the data lacks, an
  empty group) is a :class:`~verbatim.errors.ConfigError`; a source alias (``salariés``) names its source.
- **PII masking.** :func:`mask_pii` replaces e-mails (also written ``(at)``, `` arobase ``…), phone numbers
  (French and international), IBANs (any case), French social security numbers (NIR), postal addresses and
  person names by placeholders (``[email]``, ``[téléphone]``, ``[iban]``, ``[nir]``, ``[adresse]``,
  ``[nom]``). Names come from four sources: civilities (``Mme Lefèvre``), a built-in list of common first
  names and surnames (``resources/prenoms.txt``, ``noms.txt``) extended to the neighbouring name words
  (``DUPONT Marie``, ``marie dupont``), the French NER of spaCy (``fr_core_news_md``, PER entities) and a
  user-given list (``names`` / ``names_file``). Topic labels go through :func:`mask_label`, the same masker.

Masking is deliberately generous: a shown verbatim with one word too many masked costs little, a leaked
name costs a person. Recall and precision are measured on ``tests/data/pii_fr.jsonl`` (see the tests).

>>> mask_pii("Merci à Sandrine, écrivez à jeanne (at) exemple.fr")
'Merci à [nom], écrivez à [email]'
"""
from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from .config import PrivacyConfig
from .errors import ConfigError, did_you_mean, show
from .respondent import respondents  # noqa: F401  (the one rule; digest.select reads it from here)

log = logging.getLogger("verbatim")

PLACEHOLDERS = {"email": "[email]", "phone": "[téléphone]", "iban": "[iban]", "nir": "[nir]",
                "address": "[adresse]", "name": "[nom]"}
STRUCTURED = ("email", "phone", "iban", "nir", "address")
_PLACEHOLDER = re.compile("(" + "|".join(re.escape(p) for p in PLACEHOLDERS.values()) + ")")

# -- structured PII -----------------------------------------------------------------------------------
_TLD = r"(?:fr|com|net|org|eu|be|ch|ca|de|uk|io|info|biz|es|it|lu|ma|tn|dz)"
_AT = r"(?:\s*@\s*|\s*[\(\[\{]\s*(?:at|arobase|arobas)\s*[\)\]\}]\s*|\s+(?:at|arobase|arobas)\s+)"
_DOT = r"(?:\s*\.\s*|\s*[\(\[\{]\s*(?:dot|point)\s*[\)\]\}]\s*|\s+(?:dot|point)\s+)"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_EMAIL_OBF = re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b", re.IGNORECASE)
#: an IBAN: country, check digits, then groups that each hold a digit or lead to one (so the next word is
#: never eaten), separated by nothing, a space, a hyphen or a dot ("FR76 3000…", "FR 76 3000-6000…")
_IBAN_GROUP = r"(?:\d[A-Za-z0-9]{0,6}|[A-Za-z]{1,3}\d[A-Za-z0-9]{0,5}|[A-Za-z]{4}(?=[ .-]?\d))"
_IBAN = re.compile(rf"(?<!\w)[A-Za-z]{{2}}(?P<sep>[ .-]?)\d{{2}}(?:[ .-]?{_IBAN_GROUP}){{1,12}}(?!\w)")
_IBAN_COUNTRIES = {"FR", "BE", "DE", "ES", "IT", "LU", "CH", "MC", "NL", "PT", "GB", "IE", "AT", "PL", "RO", "MA", "TN",
                   "DZ", "GP", "MQ", "RE", "GF", "YT", "NC", "PF", "PM"}
#: a French RIB: bank (5 digits), branch (5), account (11 letters or digits), key (2)
_RIB = re.compile(r"(?<!\w)\d{5}[ .-]?\d{5}[ .-]?[A-Za-z0-9]{11}[ .-]?\d{2}(?!\w)")
_NIR = re.compile(r"(?<![\d+])[12][\s.]?\d{2}[\s.]?(?:0[1-9]|1[0-2]|[2-9]\d)[\s.]?(?:\d{2}|2[ABab])[\s.]?"
                  r"\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?(?!\d)")
_PHONE_FR = re.compile(r"(?<![\w+])(?:(?:\+|00)\s?33\s?(?:\(0\)\s?)?|\(0\)\s?|0)[1-9](?:[\s.-]?\d){8}(?!\d)")
_PHONE_SLASH = re.compile(r"(?<![\w+/])0[1-9](?:/\d{2}){4}(?![\d/])")
_PHONE_INT = re.compile(r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[\s.-]?\(?\d{1,4}\)?){2,6}(?!\d)")
_STREET = (r"(?i:rue|r\.|avenue|av\.?|bd\.?|boulevard|place|pl\.|chemin|impasse|all[ée]e|route|quai|cours|square|"
           r"r[ée]sidence|lotissement|passage|sentier|voie|faubourg|esplanade|parvis|hameau|lieu-dit)")
_PARTICLE = r"(?i:de|du|des|la|le|les|l['’]|d['’]|aux?|en|sur|sous|saint|sainte|st|ste)"
_ADDRESS_START = re.compile(rf"\b\d{{1,4}}(?:\s?(?i:bis|ter|quater)\b|[a-dA-D]\b)?,?\s+{_STREET}(?=[\s'’])")
_ADDRESS_WORD = re.compile(r"\s*[’']?\s*([^\W\d_][\w’'-]*)")
_POSTCODE = re.compile(r",?\s+\d{5}(?:\s+[A-ZÀ-Ý][\w'’-]*(?:-(?:sur|sous|en|le|la|lès|les)|[\s-][A-ZÀ-Ý][\w'’-]*)*"
                       r"|\s+[a-zà-ÿ][\w'’-]*)?")
_PARTICLES = {"de", "du", "des", "la", "le", "les", "l", "d", "au", "aux", "en", "sur", "sous", "saint", "sainte",
              "st", "ste"}
_BP = re.compile(r"\b(?:BP|CS|TSA)\s?\d{3,6}\b")

# -- names -----------------------------------------------------------------------------------------------
_CIVIL = re.compile(r"(?:\b(?i:madame|monsieur|mademoiselle|docteur|ma[iî]tre|mme|mlle|mr)\.?|\bM\.|\bDr\.?|\bMe)"
                    r"\s+(?=[^\W\d_])")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
#: first names and surnames that are also ordinary lowercase French words ("une réponse claire", "un petit
#: colis", "un mur en pierre"): masked when capitalised mid-sentence, beside another name word, after a word
#: that introduces a person ("merci claire", "avec Pierre", "la factrice Rose") or, at a sentence start,
#: before what follows a person ("Claire au guichet…", "Pierre m'a aidé"). Every other listed name
#: ("Nicolas", "sarah") is masked in any case and at any place, except as a saint ("Saint Michel": a place).
AMBIGUOUS = {"claire", "pierre", "rose", "marine", "jean", "marc", "clement", "maxime", "richard", "serge",
             "petit", "blanc", "roux", "brun", "noel", "roche", "fontaine", "chevalier", "colin", "meunier",
             "marchand", "renard", "bonnet", "barbier", "france"}
#: words after which an ambiguous name is a person (folded): "merci claire", "le facteur Pierre"
_INTRODUCERS = {"merci", "mercii", "bravo", "remercie", "remercier", "remercions", "remerciements", "felicitations",
                "avec", "demandez", "demander", "appelez", "appeler", "signe", "collegue", "collegues",
                "chef", "cheffe", "responsable", "manager", "directeur", "directrice", "conseiller", "conseillere",
                "facteur", "factrice", "guichetier", "guichetiere", "agent", "agente", "postier", "postiere",
                "collaborateur", "collaboratrice", "coordinateur", "coordinatrice", "encadrant", "encadrante",
                "superviseur", "superviseuse", "madame", "monsieur", "grace", "selon"}
#: words that may sit between an introducer and the name: "merci à claire", "merci beaucoup pierre"
_FILLERS = {"a", "beaucoup", "encore", "infiniment", "aussi", "surtout", "notamment", "vraiment", "bien", "mille",
            "fois", "special", "speciale", "particulierement"}
#: words that follow a person at the start of a sentence: "Claire au guichet", "Pierre m'a", "Rose est"
_PERSON_NEXT = {"au", "du", "le", "la", "qui", "m", "nous", "me", "ne", "n", "est", "etait", "sera", "se", "s",
                "reste", "travaille", "gere", "fait", "dit", "sait", "connait", "repond", "change", "vous",
                "l", "elle", "lui", "aide", "accueille", "explique", "prend"}
_SAINTS = {"saint", "sainte", "st", "ste"}
_PARTICIPLE = ("e", "es", "u", "ue", "i", "ie", "is", "it")
#: capitalised words that NER takes for persons in customer comments (brands, services, places)
NOT_NAMES = {"colissimo", "chronopost", "poste", "la poste", "laposte", "dpd", "ups", "gls", "dhl", "fedex",
             "amazon", "mondial", "relay", "relais", "lettre", "suivie", "recommande", "facteur", "factrice",
             "guichet", "bonjour", "merci", "bravo", "super", "franchement", "sinon", "bref", "bien", "top",
             "nul", "rdv", "svp", "ok", "cdlt", "cordialement", "client", "clients", "postier", "postiers",
             "paris", "lyon", "marseille", "france", "service", "bureau", "appli", "application", "internet",
             "iban", "nir", "email", "adresse", "nom", "telephone", "banque", "postale", "noel"}
#: words never taken as the other half of a name
_NOT_NEIGHBOUR = {"merci", "bonjour", "bravo", "salut", "madame", "monsieur", "collegue", "collegues", "facteur",
                  "factrice", "guichet", "guichetiere", "guichetier", "conseiller", "conseillere", "responsable",
                  "chef", "directeur", "directrice", "manager", "agent", "agente", "equipe", "accueil", "super",
                  "tres", "toujours", "jamais", "aussi", "hier", "demain", "aujourd", "vraiment", "encore",
                  "gentille", "gentil", "adorable", "top", "parfait", "parfaite"}


def _fold(word: str) -> str:
    w = unicodedata.normalize("NFKD", word)
    return "".join(c for c in w if not unicodedata.combining(c)).casefold()


@functools.lru_cache(maxsize=None)
def _resource_words(name: str) -> frozenset[str]:
    text = resources.files("verbatim").joinpath("resources", name).read_text(encoding="utf-8")
    words = [w for line in text.splitlines() if not line.startswith("#") for w in line.split()]
    return frozenset(_fold(w) for w in words)


@functools.lru_cache(maxsize=None)
def _stop_words() -> frozenset[str]:
    try:
        from spacy.lang.fr.stop_words import STOP_WORDS
    except ImportError:  # pragma: no cover - spaCy is a dependency
        STOP_WORDS = set()
    return frozenset(_fold(w) for w in STOP_WORDS) | {"a", "au", "aux", "et", "ou", "de", "du", "des", "le", "la",
                                                      "les", "un", "une", "l", "d", "qu", "j", "m", "n", "s", "t"}


@functools.lru_cache(maxsize=1)
def _nlp():
    try:
        import spacy

        return spacy.load("fr_core_news_md", exclude=["parser", "lemmatizer", "morphologizer", "attribute_ruler"])
    except (ImportError, OSError) as ex:  # the model is a dependency; degrade to rules with a warning
        log.warning("French NER model fr_core_news_md unavailable (%s): names are masked by rules and lists only", ex)
        return None


@dataclass(frozen=True)
class Span:
    """A piece of PII found in a text: ``text[start:end]`` of kind ``kind`` (see :data:`PLACEHOLDERS`)."""

    start: int
    end: int
    kind: str


class Masker:
    """Finds and masks PII. ``names``: extra person names (any case); ``ner``: use spaCy's French NER."""

    def __init__(self, names: Iterable[str] = (), ner: bool = True):
        self.names = tuple(n for n in names if str(n).strip())
        self.ner = ner
        self._user = [re.compile(r"(?<!\w)" + r"[\s-]+".join(map(re.escape, n.split())) + r"(?!\w)", re.IGNORECASE)
                      for n in sorted(self.names, key=len, reverse=True)]
        self._user_words = {_fold(w) for n in self.names for w in n.split()}

    # -- finding -----------------------------------------------------------------------------------------
    def spans(self, text: str) -> list[Span]:
        """Every PII span of ``text``, merged where they overlap (structured kinds win over names)."""
        if not isinstance(text, str) or not text:
            return []
        text = text.translate(_SAME_LENGTH)      # non-breaking spaces and hyphens read as plain ones
        found: list[Span] = []
        for kind, rx in (("email", _EMAIL), ("email", _EMAIL_OBF), ("iban", _IBAN), ("iban", _RIB), ("nir", _NIR),
                         ("phone", _PHONE_FR), ("phone", _PHONE_SLASH), ("phone", _PHONE_INT), ("address", _BP)):
            for m in rx.finditer(text):
                if rx is _IBAN and not _iban_like(m):
                    continue
                if kind == "phone" and not 7 <= sum(c.isdigit() for c in m.group(0)) <= 15:
                    continue
                if not any(s.start <= m.start() < s.end or m.start() <= s.start < m.end() for s in found):
                    found.append(Span(m.start(), m.end(), kind))
        for m in _ADDRESS_START.finditer(text):
            end = _address_end(text, m.end())
            if not any(s.start < end and m.start() < s.end for s in found):
                found.append(Span(m.start(), end, "address"))
        names = self._name_spans(text, found)
        return _merge(found + names, text)

    def _name_spans(self, text: str, taken: list[Span]) -> list[Span]:
        def free(a: int, b: int) -> bool:
            return not any(s.start < b and a < s.end for s in taken)

        out: list[Span] = []
        for rx in self._user:
            out += [Span(m.start(), m.end(), "name") for m in rx.finditer(text) if free(m.start(), m.end())]
        for m in _CIVIL.finditer(text):
            w = _WORD.match(text, m.end())
            if w and _fold(w.group(0)) not in _stop_words():
                end = w.end()
                nxt = re.compile(r"\s+([^\W\d_]+(?:-[^\W\d_]+)*)").match(text, end)
                if nxt and _looks_like_name(nxt.group(1)) and _fold(nxt.group(1)) not in _stop_words():
                    end = nxt.end()
                if free(m.start(), end):
                    out.append(Span(m.start(), end, "name"))
        words = [w for w in _WORD.finditer(text) if free(w.start(), w.end())]
        first, last = _resource_words("prenoms.txt"), _resource_words("noms.txt")
        shouting = _shouting(text)
        hit = [False] * len(words)
        maybe = []       # ambiguous words decided once the sure names are known ("Karim et claire")
        for i, w in enumerate(words):
            token = w.group(0)
            parts = [_fold(p) for p in token.split("-")]
            key = _fold(token)
            if key in self._user_words:
                hit[i] = True
                continue
            if not (all(p in first for p in parts) or key in last) or key in _stop_words() or key in NOT_NAMES:
                continue
            if i and _fold(words[i - 1].group(0)) in _SAINTS and _adjacent(text, words[i - 1], w):
                continue     # "Saint Michel", "St Laurent": a place or a feast
            if key in AMBIGUOUS:
                if _ambiguous_is_name(text, words, i, shouting):
                    hit[i] = True
                else:
                    maybe.append(i)
                continue
            hit[i] = True
        for i in maybe:  # "Sandrine et claire", "à serge et à maxime", "claire et Karim"
            if _coordinated(text, words, hit, i):
                hit[i] = True
        # extend to the neighbouring name words: "DUPONT Marie", "Marie Dupont", "marie dupont"
        for i in range(len(words)):
            if not hit[i]:
                continue
            for j in (i - 1, i + 1):
                if 0 <= j < len(words) and not hit[j] and _adjacent(text, words[min(i, j)], words[max(i, j)]):
                    token = words[j].group(0)
                    key = _fold(token)
                    if key in _stop_words() or key in _NOT_NEIGHBOUR or key in NOT_NAMES or len(key) < 2:
                        continue
                    if j < i and _sentence_initial(text, words[j].start()) and not token.isupper() \
                            and key not in first and key not in last:
                        continue
                    if token[:1].isupper() or token.islower() and words[i].group(0).islower():
                        hit[j] = True
        out += [Span(w.start(), w.end(), "name") for w, h in zip(words, hit) if h]
        if self.ner and (nlp := _nlp()) is not None:
            for ent in nlp(text).ents:
                if ent.label_ != "PER" or not free(ent.start_char, ent.end_char):
                    continue
                toks = [t for t in ent if not t.is_punct]
                keys = [_fold(t.text) for t in toks]
                if not toks or all(k in NOT_NAMES or k in _stop_words() for k in keys):
                    continue
                if not any(t.text[:1].isupper() for t in toks) and not any(k in first or k in last for k in keys):
                    continue  # lowercase "persons" the model guesses without a known name word
                # keep only the name-like tokens at the edges ("dupont marie hier" -> "dupont marie")
                while toks and (_fold(toks[-1].text) in _stop_words() or _fold(toks[-1].text) in _NOT_NEIGHBOUR
                                or _fold(toks[-1].text) in NOT_NAMES):
                    toks.pop()
                while toks and (_fold(toks[0].text) in _stop_words() or _fold(toks[0].text) in _NOT_NEIGHBOUR
                                or _fold(toks[0].text) in NOT_NAMES):
                    toks.pop(0)
                if len(toks) == 1 and _sentence_initial(text, toks[0].idx) and _fold(toks[0].text) not in first \
                        and _fold(toks[0].text) not in last and _fold(toks[0].text) not in self._user_words:
                    continue  # a lone capitalised first word ("Stabilite de l'emploi…") is a sentence start
                if len(toks) == 1 and _fold(toks[0].text) in AMBIGUOUS and _fold(toks[0].text) not in self._user_words:
                    continue  # "Claire et nette…": the rules above have judged the ambiguous words
                if toks and _fold(toks[0].text) in _SAINTS:
                    continue  # "Saint Michel", "St Denis": a place or a feast
                if toks:
                    out.append(Span(toks[0].idx, toks[-1].idx + len(toks[-1].text), "name"))
        return out

    # -- masking -----------------------------------------------------------------------------------------
    def mask(self, text, kinds: Iterable[str] | None = None):
        """``text`` with every PII span (of ``kinds``, default all) replaced by its placeholder (non-text values
        are returned as they are)."""
        if not isinstance(text, str) or not text:
            return text
        out, pos = [], 0
        for s in self.spans(text):
            if kinds is not None and s.kind not in kinds:
                continue
            out.append(text[pos:s.start])
            out.append(PLACEHOLDERS[s.kind])
            pos = s.end
        out.append(text[pos:])
        return "".join(out)

    def mask_label(self, label):
        """A topic label (``"sandrine · rappeler · dupont"``) masked word by word and as a whole: any word that
        is a known first name or surname (in any case), a user-given name, or PII becomes a placeholder."""
        if not isinstance(label, str) or not label:
            return label
        first, last = _resource_words("prenoms.txt"), _resource_words("noms.txt")

        def word(m: re.Match) -> str:
            k = _fold(m.group(0))
            parts = k.split("-")
            if k in self._user_words or k in last and k not in AMBIGUOUS or \
                    all(p in first for p in parts) and k not in AMBIGUOUS:
                return PLACEHOLDERS["name"]
            return m.group(0)

        # structured PII first, whole (never "jean.[nom]@gmail.com"), then the name words, then the rest
        parts = _PLACEHOLDER.split(self.mask(label, kinds=STRUCTURED))
        return self.mask("".join(p if k % 2 else _WORD.sub(word, p) for k, p in enumerate(parts)))


#: characters read as their plain form when finding PII (one for one: the spans stay those of the text)
_SAME_LENGTH = {**{ord(c): " " for c in "\u00a0\u202f\u2007\u2009\u2002\u2003\u2004\u2005\u2006\u2008\u200a"},
                **{ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2212"}}


def _iban_like(m: re.Match) -> bool:
    """An IBAN match is kept with 14 to 34 letters and digits, at least 10 of them digits; a country code
    set apart from its check digits ("FR 76 …") must be a known one."""
    value = m.group(0)
    alnum = sum(c.isalnum() for c in value)
    if not 14 <= alnum <= 34 or sum(c.isdigit() for c in value) < 10:
        return False
    return not m.group("sep") or value[:2].upper() in _IBAN_COUNTRIES


def _merge(spans: list[Span], text: str) -> list[Span]:
    """Overlapping spans become one (the structured kind wins); name spans separated only by blanks join
    ("Sandrine Vasseur" → one ``[nom]``)."""
    order = {k: i for i, k in enumerate(STRUCTURED + ("name",))}
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start < out[-1].end:
            prev = out[-1]
            kind = prev.kind if order[prev.kind] <= order[s.kind] else s.kind
            out[-1] = Span(prev.start, max(prev.end, s.end), kind)
        elif out and s.kind == out[-1].kind == "name" and not text[out[-1].end:s.start].strip(" -"):
            out[-1] = Span(out[-1].start, s.end, "name")
        else:
            out.append(s)
    return out


def _address_end(text: str, pos: int) -> int:
    """Where a street name that starts at ``pos`` ends: particles, then up to four words (stopping at an
    ordinary word in lowercase once a name word was read), then an optional ", 75002 Paris"."""
    words = 0
    while words < 4:
        m = _ADDRESS_WORD.match(text, pos)
        if not m:
            break
        key = _fold(m.group(1))
        if key in _PARTICLES or key.rstrip("'’") in _PARTICLES:
            pos = m.end()
            continue
        if words and (key in _stop_words() or key in _NOT_NEIGHBOUR) and not m.group(1)[:1].isupper():
            break
        pos, words = m.end(), words + 1
    pc = _POSTCODE.match(text, pos)
    return pc.end() if pc else pos


def _same_sentence(text: str, a: re.Match, b: re.Match) -> bool:
    """``a`` and ``b`` (a before b) are close words of one sentence."""
    between = text[a.end():b.start()]
    return len(between) <= 4 and not re.search(r"[.!?…:;\n]", between)


def _coordinated(text: str, words: list[re.Match], hit: list[bool], i: int) -> bool:
    """Word ``i`` is joined by "et" (maybe "et à") to a word taken as a name."""
    for step in (-1, 1):
        j, seen_et = i + step, False
        while 0 <= j < len(words) and _same_sentence(text, words[min(j, j - step)], words[max(j, j - step)]):
            k = _fold(words[j].group(0))
            if k == "et":
                seen_et = True
            elif k not in ("a", "avec") or not seen_et and step == 1:
                break
            j += step
        if seen_et and 0 <= j < len(words) and hit[j] and \
                _same_sentence(text, words[min(j, j - step)], words[max(j, j - step)]):
            return True
    return False


def _shouting(text: str) -> bool:
    """Mostly capitals (a text typed in caps gives no case signal)."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 12 and sum(c.isupper() for c in letters) > 0.6 * len(letters)


def _ambiguous_is_name(text: str, words: list[re.Match], i: int, shouting: bool) -> bool:
    """Whether an :data:`AMBIGUOUS` word (a name that is also an ordinary word) is used as a name here."""
    w = words[i]
    token = w.group(0)
    initial = _sentence_initial(text, w.start())
    if not shouting:
        if token[:1].isupper() and not initial:
            return True                                    # "à Claire", "avec Pierre Dupont"
        if token.isupper() and len(token) > 1:
            return True
    j = i - 1
    while j >= 0 and _fold(words[j].group(0)) in _FILLERS and _same_sentence(text, words[j], words[j + 1]):
        j -= 1
    if j >= 0 and _same_sentence(text, words[j], words[j + 1]):
        intro = _fold(words[j].group(0))
        if intro in _INTRODUCERS:
            return True                                    # "merci claire", "merci à claire", "la factrice rose"
        if intro == "par" and j and _fold(words[j - 1].group(0)).endswith(_PARTICIPLE):
            return True                                    # "reçue par pierre", "accueilli par rose"
    if initial and i + 1 < len(words) and _same_sentence(text, w, words[i + 1]):
        nxt = _fold(words[i + 1].group(0))
        if nxt in _PERSON_NEXT:
            return True                                    # "Claire au guichet…", "Pierre m'a aidé"
        if nxt == "a" and i + 2 < len(words) and _fold(words[i + 2].group(0)).endswith(_PARTICIPLE) \
                and _fold(words[i + 2].group(0)) != _fold(token):
            return True                                    # "Claire a été…", "Pierre a répondu"
    return False


def _looks_like_name(token: str) -> bool:
    return token[:1].isupper()


def _adjacent(text: str, a: re.Match, b: re.Match) -> bool:
    between = text[a.end():b.start()]
    return 0 < len(between) <= 2 and between.strip() in ("", ",") and "\n" not in between


def _sentence_initial(text: str, start: int) -> bool:
    before = text[:start].rstrip(" \t\"'«“(")
    return not before or before[-1] in ".!?…:\n;"


@functools.lru_cache(maxsize=32)
def _masker(names: tuple[str, ...], ner: bool) -> Masker:
    return Masker(names, ner)


def masker(privacy: PrivacyConfig | None = None) -> Masker:
    """The masker a :class:`~verbatim.config.PrivacyConfig` describes (cached; ``names_file`` read here)."""
    privacy = privacy or PrivacyConfig()
    names = list(privacy.names)
    if privacy.names_file:
        path = Path(privacy.names_file)
        try:
            names += [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()
                      if ln.strip() and not ln.startswith("#")]
        except OSError as ex:
            raise ConfigError(f"privacy.names_file '{path}' cannot be read ({ex.strerror}); give a text file "
                              f"with one name per line") from None
        except UnicodeDecodeError:
            raise ConfigError(f"privacy.names_file '{path}' is not UTF-8 text; save it as UTF-8") from None
    return _masker(tuple(names), privacy.ner)


def mask_pii(text, privacy: PrivacyConfig | None = None):
    """``text`` with e-mails, phones, IBANs, NIRs, postal addresses and person names replaced by placeholders."""
    return masker(privacy).mask(text)


def mask_label(label, privacy: PrivacyConfig | None = None):
    """A topic label masked like any shown text, plus every known name word in any case."""
    return masker(privacy).mask_label(label)


def mask_labels(frame: pd.DataFrame, columns: Iterable[str], privacy: PrivacyConfig | None = None) -> pd.DataFrame:
    """A copy of ``frame`` whose label ``columns`` (those present) are masked."""
    out = frame.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].map(lambda v: mask_label(v, privacy))
    return out


# -- anonymity -----------------------------------------------------------------------------------------------
def group_columns(frame: pd.DataFrame, privacy: PrivacyConfig | None = None) -> list[str]:
    """The configured grouping columns (``period`` only when the output has one). A configured column that
    ``frame`` lacks cannot be honoured: :class:`~verbatim.errors.ConfigError`, never a silently wider group."""
    privacy = privacy or PrivacyConfig()
    missing = [c for c in privacy.group_by if c != "period" and c not in frame]
    if missing:
        have = [str(c) for c in frame.columns if not str(c).startswith("_")]
        raise ConfigError(f"privacy.group_by names column '{show(missing[0])}', which the verbatims do not have"
                          f"{did_you_mean(missing[0], have)}; name columns they hold (e.g. unit, channel) "
                          f"or 'period' in [privacy] group_by")
    return [c for c in privacy.group_by if c in frame]


def _group_keys(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame[["source", *keys]].astype(object).fillna("<missing>").astype(str)


def group_sizes(frame: pd.DataFrame, privacy: PrivacyConfig | None = None) -> pd.DataFrame:
    """Distinct respondents (:func:`respondents`) of each protected source's groups: columns ``source``, the
    group columns, ``n``."""
    privacy = privacy or PrivacyConfig()
    return _sizes(frame, group_columns(frame, privacy), privacy)


def _sizes(frame: pd.DataFrame, keys: list[str], privacy: PrivacyConfig) -> pd.DataFrame:
    prot = frame[frame["source"].isin(privacy.protected_sources)]
    if prot.empty:
        return pd.DataFrame(columns=["source", *keys, "n"])
    g = _group_keys(prot, keys).assign(_r=respondents(prot).to_numpy())
    return g.groupby(["source", *keys], sort=True)["_r"].nunique().rename("n").reset_index()


def shown_allowed(frame: pd.DataFrame, privacy: PrivacyConfig | None = None,
                  population: pd.DataFrame | None = None) -> pd.Series:
    """True for each row of ``frame`` that may be shown: rows of unprotected sources, and rows of protected
    sources whose group (in ``population``, default ``frame`` itself: everyone the output covers) holds at
    least ``anonymity_threshold`` distinct respondents."""
    privacy = privacy or PrivacyConfig()
    population = frame if population is None else population
    if frame.empty:
        return pd.Series([], dtype=bool, index=frame.index)
    keys = group_columns(population, privacy)
    group_columns(frame, privacy)           # the rows judged must carry every group column too
    keys = [c for c in keys if c in frame]  # ("period" only where both have it)
    sizes = _sizes(population, keys, privacy)
    ok = sizes[sizes["n"] >= privacy.anonymity_threshold]
    protected = frame["source"].isin(privacy.protected_sources)
    if not protected.any():
        return pd.Series(True, index=frame.index)
    allowed = set(map(tuple, _group_keys(ok, keys).itertuples(index=False, name=None)))
    k = _group_keys(frame, keys)
    in_ok = pd.Series([tuple(r) in allowed for r in k.itertuples(index=False, name=None)], index=frame.index)
    return ~protected | in_ok


#: the resolutions a protected verbatim's date may be shown at, finest first (a week is left out: its
#: label reads badly and it straddles months)
DATE_RESOLUTIONS = ("D", "M", "Q", "Y")
_RANK = {"D": 0, "W": 1, "M": 2, "Q": 3, "Y": 4, "A": 4}


def shown_dates(frame: pd.DataFrame, privacy: PrivacyConfig | None = None,
                population: pd.DataFrame | None = None, within: pd.Period | None = None) -> pd.Series:
    """The date each row of ``frame`` may be shown with, as a :class:`pandas.Period` (None: no date).

    A date beside a protected verbatim narrows its group to the respondents of that day, so it is shown
    at the finest resolution of :data:`DATE_RESOLUTIONS`, finer than ``within`` (the period the output
    covers), at which the group × that period still holds ``anonymity_threshold`` distinct respondents in
    ``population``; failing that, ``within`` itself (None without one). Rows of unprotected sources keep
    their day. Rows must be shown-allowed already (:func:`shown_allowed`)."""
    privacy = privacy or PrivacyConfig()
    population = frame if population is None else population
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    if frame.empty or "date" not in frame:
        return out
    day = pd.to_datetime(frame["date"], errors="coerce").dt.to_period("D")
    protected = frame["source"].isin(privacy.protected_sources).to_numpy()
    for i in np.flatnonzero(~protected & day.notna().to_numpy()):
        out.iloc[i] = day.iloc[i]
    if not protected.any():
        return out
    keys = [c for c in group_columns(population, privacy) if c in frame]
    group_columns(frame, privacy)
    prot = population[population["source"].isin(privacy.protected_sources)]
    pdates = pd.to_datetime(prot["date"], errors="coerce") if "date" in prot else pd.Series(pd.NaT, index=prot.index)
    fdates = pd.to_datetime(frame["date"], errors="coerce")
    fkeys = list(_group_keys(frame, keys).itertuples(index=False, name=None))
    todo = [i for i in np.flatnonzero(protected) if not pd.isna(fdates.iloc[i])]
    finest = _RANK.get(within.freqstr[:1].upper(), 5) if within is not None else 5
    pop_keys = _group_keys(prot, keys).assign(_r=respondents(prot).to_numpy())
    for freq in (f for f in DATE_RESOLUTIONS if _RANK[f] < finest):
        if not todo:
            break
        per = pdates.dt.to_period(freq).astype(str)
        n = pop_keys.assign(_p=per.to_numpy()).groupby(["source", *keys, "_p"])["_r"].nunique()
        big = {k for k, v in n.items() if v >= privacy.anonymity_threshold}
        left = []
        for i in todo:
            p = fdates.iloc[i].to_period(freq)
            key = (*fkeys[i], str(p))
            if key in big:
                out.iloc[i] = p
            else:
                left.append(i)
        todo = left
    for i in np.flatnonzero(protected):
        if out.iloc[i] is None:
            out.iloc[i] = within
    return out
