"""Segment: split verbatims into sentences and contrastive clauses.

One comment often carries several irritants ("prix corrects mais attente
interminable au guichet"); topics are found per segment and a verbatim's
topics are the union of its segments' topics. Every segment keeps its
verbatim's ``id`` (and source, unit, date, score…). Pieces that name no subject ("Ras le bol.",
"C'est de pire en pire.") join a neighbouring piece of their verbatim instead of forming topics.
"""
from __future__ import annotations

import re
import pandas as pd

from .config import SegmentConfig
from .textprep import is_content_free

_ABBREV = {"m", "mme", "mlle", "mr", "dr", "st", "ste", "etc", "ex", "cf", "env", "n°", "no", "tel", "tél",
           "vs", "av", "bd", "p", "pp", "min", "max", "h", "jr", "sr", "inc", "ltd", "co", "approx", "e.g", "i.e"}
# sentence end: . ! ? … (repeated) followed by space/newline; or newlines
_SENT_END = re.compile(r"(?<=[.!?…])[\"»”)]*\s+|\n+")
_CONNECTORS = [
    "par contre", "en revanche", "sauf que", "cependant", "toutefois", "néanmoins", "neanmoins",
    "pourtant", "mais", "malheureusement", "but", "however", "although", "though", "whereas",
    "except that", "unfortunately",
]
_CLAUSE = re.compile(
    r"\s*(?:[,;:–—-]\s*)?(?=\b(?:" + "|".join(re.escape(c) for c in _CONNECTORS) + r")\b)|\s*;\s*",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+", re.UNICODE)
#: longer pieces are never tested for content (99% of content-free pieces of real reviews are shorter)
CONTENT_FREE_MAX_WORDS = 12


def _sentences(text: str) -> list[str]:
    parts, start = [], 0
    for m in _SENT_END.finditer(text):
        piece = text[start:m.start()]
        if not m.group(0).startswith("\n"):
            # keep the punctuation with the sentence; do not split after abbreviations or initials
            before = re.search(r"(\w+)\.$", piece)
            if before and (before.group(1).lower() in _ABBREV or len(before.group(1)) == 1
                           or before.group(1).isdigit()):
                continue
        parts.append(piece)
        start = m.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _clauses(sentence: str) -> list[tuple[str, str]]:
    """The clauses of a sentence, each with the text that separated it from the previous one (", ")."""
    out, end = [], 0
    for piece in (p.strip(" ,;") for p in _CLAUSE.split(sentence)):
        if piece:
            start = sentence.index(piece, end)
            out.append((sentence[end:start] if out else " ", piece))
            end = start + len(piece)
    return out


def _merge_short(pieces: list[tuple[str, str]], min_words: int, content_free: bool) -> list[str]:
    """Pieces (each with its separator from the previous one) shorter than ``min_words`` words, or naming no
    subject (``content_free``, see :func:`~verbatim.textprep.is_content_free`), join the previous piece (the
    next one when first), with the separator they had in the text."""
    out: list[tuple[str, int, bool]] = []  # text, words, content-free
    for sep, p in pieces:
        words = len(_WORD.findall(p))
        free = content_free and words <= CONTENT_FREE_MAX_WORDS and is_content_free(p)
        if out and (words < min_words or free or out[-1][1] < min_words or out[-1][2]):
            text, n, prev_free = out[-1]
            out[-1] = (f"{text}{sep or ' '}{p}", n + words, prev_free and free)
        else:
            out.append((p, words, free))
    return [t for t, _, _ in out]


def _cut_long(piece: str, max_chars: int) -> list[str]:
    out = []
    while len(piece) > max_chars:
        cut = max(piece.rfind(",", 0, max_chars), piece.rfind(" ", 0, max_chars))
        cut = cut if cut > max_chars // 2 else max_chars
        out.append(piece[:cut].strip(" ,"))
        piece = piece[cut:].strip(" ,")
    out.append(piece)
    return [p for p in out if p]


def split_text(text: str, cfg: SegmentConfig = SegmentConfig()) -> list[str]:
    """The segments of one text (never empty for a non-empty text)."""
    text = (text or "").strip()
    if not text:
        return []
    if cfg.mode == "off":
        return [text]
    sentences = _sentences(text)
    pieces = ([c for s in sentences for c in _clauses(s)] if cfg.mode == "clause"
              else [(" ", s) for s in sentences])
    pieces = _merge_short(pieces, cfg.min_words, cfg.merge_content_free) or [text]
    return [c for p in pieces for c in _cut_long(p, cfg.max_chars)]


CARRY = ["id", "record_id", "source", "date", "unit", "score", "score_scale", "channel", "tag", "polarity_tag"]


def segment(verbatims: pd.DataFrame, cfg: SegmentConfig = SegmentConfig()) -> pd.DataFrame:
    """One row per segment: ``segment_id`` (``<id>:<n>``), ``position``, ``text`` and the verbatim's
    ``id``, ``source``, ``unit``, ``date``, ``score``… Every verbatim gives at least one segment."""
    ids, pos, texts, idx = [], [], [], []
    for i, (vid, text) in enumerate(zip(verbatims["id"].astype(str), verbatims["text"].astype(str))):
        segs = split_text(text, cfg) or [text]
        for k, s in enumerate(segs):
            ids.append(f"{vid}:{k}")
            pos.append(k)
            texts.append(s)
            idx.append(i)
    carry = [c for c in CARRY if c in verbatims.columns]
    out = verbatims.iloc[idx][carry].reset_index(drop=True)
    out.insert(0, "segment_id", ids)
    out.insert(1, "position", pos)
    out["text"] = texts
    out["n_segments"] = out.groupby("id")["position"].transform("size").astype("int64")
    return out
