"""Text normalisation shared by every stage (French and English)."""
from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
_WS = re.compile(r"\s+")
#: a text without these needs only ``strip`` (the fast path of :func:`clean_text`)
_UNTIDY = re.compile(r"[\x00-\x1f\x7f\u200b\ufeff\u00a0\u202f\u2007]|  ")


def clean_text(text: str) -> str:
    """Tidy a verbatim for storage: NFC, no control characters, single spaces, trimmed.

    Line breaks are kept (as single ``\\n``) because they often separate ideas.
    """
    text = unicodedata.normalize("NFC", text)
    if not _UNTIDY.search(text):
        return text.strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n", text)
    return text.strip()


def dedupe_key(text: str) -> str:
    """The key under which two texts count as the same verbatim.

    Case, Unicode form, apostrophe style and whitespace do not matter;
    words, accents and punctuation do.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return " ".join(text.split())


def strip_accents(text: str) -> str:
    """``"Réclamation"`` → ``"Reclamation"``."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
