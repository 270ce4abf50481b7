"""Text prepared for the encoder: what a sentence encoder should see, not what a reader is shown.

Sentence encoders place a text by its form as well as by its meaning: the same complaint written in
capitals, opened by "Bonjour," or closed by "Cordialement." lands elsewhere, so topics split by
style instead of subject (measured on the sample: a cluster of upper-case segments, another of
greetings). :func:`prepare` casefolds, drops greeting and closing formulas and leading discourse
markers ("Franchement,", "Encore une fois,"), collapses repeated punctuation and removes emoji.
The stored and displayed text is never changed: only the encoder's input is.

:func:`is_content_free` tells the segments that carry no subject of their own ("Ras le bol.",
"Merci à eux.", "Bonjour,"): they stay with their verbatim but do not form topics.
"""
from __future__ import annotations

import re
import unicodedata

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
