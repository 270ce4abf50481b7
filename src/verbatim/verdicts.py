"""The mirror's verdict words: what a pair of topics is found to be (a leaf module: typing only).

Every output that names or counts verdicts (the mirror's table, the report, the figures, the digest, the
CLI) reads them from here, so the vocabulary lives in one place and the renderers need not import the
mirror stage.
"""
from __future__ import annotations

from typing import Literal, get_args

Verdict = Literal["mirrored", "linked, different topics", "same link at another level", "linked through a stronger pair",
                  "similar topics, no unit linkage",
                  "similar topics, too little data", "similar topics, not irritants", "not similar"]
VERDICTS: tuple[str, ...] = get_args(Verdict)
#: the verdicts that count as a mirror (in the symmetry index and in the demo's list)
MIRRORED: tuple[str, ...] = ("mirrored", "linked, different topics")
