"""Named errors for user mistakes.

Every mistake a user can make (a missing file, a wrong column, a bad option)
raises a :class:`VerbatimError` subclass whose message is one line that names
the file, row or column, says what was wrong and how to fix it. The CLI prints
that line and exits with :attr:`VerbatimError.exit_code`; anything else is an
internal error (exit 1).
"""
from __future__ import annotations

import difflib
import unicodedata
from typing import Iterable


class VerbatimError(Exception):
    """Base class for user-facing errors (printed as one line, exit code 2)."""

    exit_code = 2


class InputFileError(VerbatimError):
    """A file is missing, empty or unreadable."""


class ColumnNotFound(VerbatimError):
    """A mapped column does not exist in the input."""


class SheetNotFound(VerbatimError):
    """An Excel sheet does not exist."""


class UnknownSource(VerbatimError):
    """A source label is not one of the configured sources."""


class ConfigError(VerbatimError):
    """A configuration value or file is invalid."""


class EmbedderError(VerbatimError):
    """An embedding model cannot be loaded."""


class ArtefactError(VerbatimError):
    """A saved artefact is missing, incomplete or incompatible."""


class OutputError(VerbatimError):
    """An output file or folder cannot be written."""


def show(value: object, limit: int = 80) -> str:
    """A name as it may appear in a one-line message: control characters and line breaks
    escaped (``\\n``), cut to ``limit`` characters."""
    out = []
    for c in str(value):
        cat = unicodedata.category(c)
        if c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif cat in ("Cc", "Cs", "Zl", "Zp") or c in "\ufeff\u200b":
            out.append(f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        else:
            out.append(c)
    text = "".join(out)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", str(s))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.casefold().replace("-", "_").replace(" ", "_")


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``name`` (case-, accent- and separator-insensitive), or None."""
    choices = [str(c) for c in choices]
    folded = {_fold(c): c for c in choices}
    if _fold(name) in folded:
        return folded[_fold(name)]
    hit = difflib.get_close_matches(_fold(name), list(folded), n=1, cutoff=0.6)
    return folded[hit[0]] if hit else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or an empty string."""
    hit = closest(name, choices)
    return f" (did you mean '{show(hit)}'?)" if hit and hit != name else ""
