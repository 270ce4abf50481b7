"""Text prepared for the encoder: what a sentence encoder should see, not what a reader is shown.

Sentence encoders place a text by its form as well as by its meaning: the same complaint written in
capitals, opened by "Bonjour," or closed by "Cordialement." lands elsewhere, so topics split by
style instead of subject (measured on the sample: a cluster of upper-case segments, another of
greetings). :func:`prepare` casefolds, drops greeting and closing formulas and leading discourse
markers ("Franchement,", "Encore une fois,"), collapses repeated punctuation and removes emoji.
The stored and displayed text is never changed: only the encoder's input is.

:func:`is_content_free` tells the pieces that carry no subject of their own ("Ras le bol.",
"C'est de pire en pire.", "Merci à eux.", "Worst ever!"): every content word is a judgement with no
object. The segmenter merges them into a neighbouring piece of their verbatim (``[segment]
merge_content_free``), so that they count with the subject they judge instead of forming topics of
their own ("pire · informe · commence"). A piece with one subject word ("trop cher", "pas de suivi",
"le tarif est différent") is not content-free, however short.
"""
from __future__ import annotations

import re
import unicodedata

from .textfr import content_words

# formulas and discourse markers at the start of a segment (French and English), with what follows. Greetings
# and phrases go whatever follows them; single words that also carry meaning ("bon accueil", "alors que")
# go only when punctuation follows them ("Bon, …", "Alors : …").
_LEAD = (r"bonjour|bonsoir|salut|hello|madame,?\s*monsieur|messieurs"
         r"|pour [eê]tre honn[eê]te|pour faire court|en r[ée]sum[ée]|que dire|comme d'habitude"
         r"|comme toujours|comme chaque ann[ée]e|encore une fois|encore et toujours|toujours pareil"
         r"|rien ne change|rien n'a chang[ée]|cliente? (?:fid[eè]le|depuis \d+ ans)|en tant que cliente?"
         r"|alors voil[aà]|to be honest|as usual|once again")
_LEAD_WORD = (r"franchement|honn[eê]tement|sinc[eè]rement|clairement|bref|bon|alors|voil[aà]|madame|monsieur"
              r"|hi|honestly|frankly")
_LEAD_RE = re.compile(rf"^(?:(?:(?:{_LEAD})\s*[,:;.!…\-–]*|(?:{_LEAD_WORD})\s*[,:;.!…\-–]+)\s*)+", re.IGNORECASE)
_TRAIL = (r"cordialement|bien cordialement|bien [aà] vous|salutations distingu[ée]es|merci d'avance"
          r"|merci par avance|bonne journ[ée]e|bonne soir[ée]e|regards|best regards|kind regards|thanks")
_TRAIL_RE = re.compile(rf"(?:[\s,.;:!]*\b(?:{_TRAIL})\b[\s.!]*)+$", re.IGNORECASE)
_REPEAT_PUNCT = re.compile(r"([!?.…])[!?.…]+")
_SPACES = re.compile(r"\s+")


#: Lemmas of pure judgements (French and English): praise, blame, disappointment, advice to others. Words that
#: also name a subject are left out on purpose ("lent", "cher", "attente", "suivi", "revenir", "écouter").
JUDGEMENT_WORDS = frozenset("""
    pire nul nulle lamentable inadmissible inacceptable honteux honteuse honte scandaleux scandaleuse scandale
    déçu déçue décevoir décevant décevante déception bol marre fuir blague catastrophe catastrophique horrible
    affreux affligeant minable dommage bof mitiger mitigé moyen revoir améliorer mieux bravo parfait parfaite
    top super génial géniale excellent excellente formidable impeccable nickel recommander satisfait satisfaite
    insatisfait insatisfaite mécontent mécontente content contente ravi ravie continuer durer ensemble global
    globalement expérience franchement honnêtement carrément totalement complètement absolument tellement
    extrêmement
    worst wrong terrible awful disappoint disappointed disappointing disappointment avoid recommend perfect
    amazing ridiculous joke shame shameful disgrace disgraceful pathetic useless poor happy unhappy
    satisfied dissatisfied highly experience overall honestly totally absolutely completely extremely
""".split())


def is_content_free(text: str) -> bool:
    """True when ``text`` names no subject: no content word, or only judgements ("Ras le bol.", "Nul !",
    "C'est de pire en pire.", "Je recommande."). See the module doc."""
    return all(w in JUDGEMENT_WORDS for w in content_words(text))


def _is_emoji(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat == "So" or (cat == "Cn" and ord(ch) > 0x1F000) or ch == "\ufe0f"


def prepare(text: str) -> str:
    """The encoder's input for ``text`` (see module doc); never empty when ``text`` is not."""
    if not isinstance(text, str):
        return text
    t = "".join(c for c in text if not _is_emoji(c))
    t = t.casefold().replace("\u2019", "'")
    t = _REPEAT_PUNCT.sub(r"\1", t)
    stripped = _TRAIL_RE.sub("", _LEAD_RE.sub("", t.strip()))
    t = _SPACES.sub(" ", stripped if stripped.strip(" ,.;:!?…-") else t).strip()
    return t or text.strip()


def encoder_input(texts, embed_config=None) -> list[str]:
    """The texts the encoder sees: prepared when ``embed_config.prepare`` (the default), else as they are."""
    texts = [t if isinstance(t, str) else str(t) for t in texts]
    return [prepare(t) for t in texts] if embed_config is None or embed_config.prepare else texts
