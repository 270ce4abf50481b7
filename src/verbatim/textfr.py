"""French-first (and English) word handling for topic words: tokens, stop words, lemmas.

Lemmas come from spaCy's lookup tables (``spacy-lookups-data``): a word →
lemma dictionary, so "colis"/"colis", "facteurs"→"facteur", "sonnent"→"sonner",
"réclamations"→"réclamation" merge, at dictionary speed (each distinct word is
looked up once). Stop words are spaCy's French and English lists plus the
fillers of survey comments. Tokens with digits are dropped.
"""
from __future__ import annotations

import functools
import gzip
import json
import re
import unicodedata
from importlib import resources
from typing import Iterable

_TOKEN = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*", re.UNICODE)
_ELISION = re.compile(r"^(?:l|d|j|qu|n|s|c|m|t|jusqu|lorsqu|puisqu|quoiqu)'", re.IGNORECASE)

#: Words that carry no topic in survey comments, beyond the general stop-word lists.
EXTRA_STOP = {
    # French fillers and evaluative words common to every topic
    "très", "tres", "trop", "bien", "bon", "bonne", "mal", "tout", "toute", "tous", "toutes", "rien",
    "chose", "faire", "fait", "avoir", "être", "etre", "aller", "dire", "falloir", "pouvoir", "vouloir",
    "devoir", "mettre", "voir", "venir", "donner", "prendre", "savoir", "aucun", "aucune", "jamais",
    "toujours", "encore", "vraiment", "plus", "moins", "beaucoup", "peu", "fois", "alors", "donc",
    "car", "aussi", "même", "meme", "sinon", "ainsi", "depuis", "après", "apres", "avant", "déjà",
    "deja", "ca", "ça", "cela", "ceci", "cette", "cet", "ces", "leur", "leurs", "votre", "vos", "notre",
    "nos", "mon", "ma", "mes", "ton", "ta", "tes", "son", "sa", "ses", "lui", "elle", "elles", "ils",
    "nous", "vous", "on", "je", "tu", "il", "y", "en", "bonjour", "merci", "cordialement", "svp", "stp",
    "etc", "bref", "ras", "voilà", "voila", "oui", "non", "ok", "okay", "quand", "qd", "pb", "tjs",
    "bcp", "vrmt", "mr", "mme", "madame", "monsieur", "part", "niveau", "point", "gros", "grand",
    "petit", "vraie", "vrai", "cas", "an", "ans", "mois", "jour", "jours", "semaine", "semaines",
    "heure", "heures", "minute", "minutes", "min", "mn", "h",
    # English fillers
    "good", "great", "bad", "lot", "lots", "really", "get", "got", "make", "thing", "things", "would",
    "could", "also", "much", "many", "well", "like", "one", "even", "still", "just", "way", "ever",
    "never", "always", "pro", "pros", "con", "cons", "none", "nothing", "everything", "n't",
    "emptydoc",  # BERTopic's placeholder for empty documents
}


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """French + English stop words (accented and unaccented forms)."""
    words = _spacy_stop_words("fr") | _spacy_stop_words("en") | EXTRA_STOP
    words |= {strip(w) for w in words}
    return frozenset(w.lower() for w in words)


def _spacy_stop_words(lang: str) -> set[str]:
    """spaCy's stop-word list for ``lang``, read without importing spaCy (which takes seconds)."""
    import importlib.util

    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        return set()
    path = next(iter(spec.submodule_search_locations)) + f"/lang/{lang}/stop_words.py"
    namespace: dict = {}
    try:
        with open(path, encoding="utf-8") as fh:
            exec(compile(fh.read(), path, "exec"), namespace)  # a module of literals only
    except OSError:
        return set()
    return set(namespace.get("STOP_WORDS", ()))


def strip(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=1)
def _lookups() -> tuple[dict[str, str], dict[str, str]]:
    def load(name: str) -> dict[str, str]:
        try:
            ref = resources.files("spacy_lookups_data") / "data" / name
            with ref.open("rb") as fh:
                data = json.loads(gzip.decompress(fh.read()))
        except (ModuleNotFoundError, FileNotFoundError):
            return {}
        return {k: (v[0] if isinstance(v, list) else v) for k, v in data.items()}

    return load("fr_lemma_lookup.json.gz"), load("en_lemma_lookup.json.gz")


@functools.lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The lemma of a lowercase word (French first, then English); unknown words stay as they are."""
    fr, en = _lookups()
    hit = fr.get(word)
    if hit is None:
        hit = en.get(word)
    return (hit or word).lower()


_TOKEN_CACHE: dict[tuple[str, int], tuple[str, ...]] = {}


def _token_lemmas(tok: str, min_len: int) -> tuple[str, ...]:
    """Content lemmas of one raw lowercase token (memoised): elision removed, hyphenated
    pronoun forms split ("est-ce", "dois-je"), stop words and short words dropped."""
    key = (tok, min_len)
    hit = _TOKEN_CACHE.get(key)
    if hit is not None:
        return hit
    stops = stop_words()
    fr, _ = _lookups()
    word = _ELISION.sub("", tok).strip("'-")
    parts = [word] if ("-" not in word or word in fr) else word.split("-")
    out = []
    for part in parts:
        if len(part) < min_len or part in stops:
            continue
        lem = lemma(part)
        if len(lem) < min_len or lem in stops or strip(lem) in stops:
            continue
        out.append(lem)
    res = tuple(out)
    if len(_TOKEN_CACHE) < 1_000_000:
        _TOKEN_CACHE[key] = res
    return res


def content_words(text: str, min_len: int = 3) -> list[str]:
    """Lemmatised content words of a text: no stop word, no digit, no short token."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower().replace("’", "'")):
        out.extend(_token_lemmas(tok, min_len))
    return out


class TopicAnalyzer:
    """A scikit-learn ``analyzer`` callable: text → unigrams (+ adjacent bigrams) of content lemmas.

    Results are memoised per text, so fitting c-TF-IDF several times costs one pass.
    """

    def __init__(self, ngram_max: int = 2, min_len: int = 3):
        self.ngram_max = ngram_max
        self.min_len = min_len
        self._memo: dict[str, list[str]] = {}
        self._surface: dict[str, dict[str, int]] = {}

    def __call__(self, text: str) -> list[str]:
        hit = self._memo.get(text)
        if hit is not None:
            return hit
        words: list[str] = []
        for tok in _TOKEN.findall(text.lower().replace("’", "'")):
            lems = _token_lemmas(tok, self.min_len)
            words.extend(lems)
            if len(lems) == 1:  # remember how the lemma was written, for readable labels
                form = _ELISION.sub("", tok).strip("'-")
                counts = self._surface.setdefault(lems[0], {})
                counts[form] = counts.get(form, 0) + 1
        grams = list(words)
        if self.ngram_max >= 2:
            grams += [f"{a} {b}" for a, b in zip(words, words[1:]) if a != b]
        if len(self._memo) < 500_000:
            self._memo[text] = grams
        return grams

    def surface(self, term: str) -> str:
        """``term`` (lemmas) as the analysed texts most often wrote it: "client croire" → "client croit"."""
        out = []
        for lem in term.split():
            forms = self._surface.get(lem)
            out.append(max(sorted(forms), key=forms.get) if forms else lem)
        return " ".join(out)

    def __getstate__(self) -> dict:
        return {"ngram_max": self.ngram_max, "min_len": self.min_len, "_memo": {}, "_surface": {}}


def is_stop_or_digit(term: str) -> bool:
    """True if any word of ``term`` is a stop word or holds a digit (used to audit topic words)."""
    stops = stop_words()
    return any(w in stops or any(c.isdigit() for c in w) for w in term.split())


def top_terms_label(words: Iterable[str], n: int = 3) -> str:
    """A short readable label from ranked topic words: ``"attente · guichet · file"``.

    A bigram is used whole; words already shown are skipped.
    """
    shown: list[str] = []
    seen: set[str] = set()
    for w in words:
        parts = w.split()
        if all(p in seen for p in parts):
            continue
        shown.append(w)
        seen.update(parts)
        if len(shown) == n:
            break
    return " · ".join(shown)
