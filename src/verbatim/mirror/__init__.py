"""Mirror: align two sources' topics and test the symmetry hypothesis (see :mod:`.core`).

>>> from verbatim.mirror import Mirror, run_mirror
>>> m = Mirror(pair=("customer", "employee")).fit(pipe)      # a fitted or loaded Pipeline
>>> m.pairs_                                                  # one table; renderings below
>>> run_mirror("models/run1", out_dir="reports/run1")         # mirror.csv, report.html, mirror.parquet
"""
from __future__ import annotations

from .core import (MIRRORED as MIRRORED_VERDICTS, PAIR_COLUMNS, VERDICTS, Mirror, MirrorConfig, readable_table,
                   render_hypotheses_text, render_pairs_text)
from .privacy import mask_pii
from .run import load_pairs, run_mirror

__all__ = ["MIRRORED_VERDICTS", "Mirror", "MirrorConfig", "PAIR_COLUMNS", "VERDICTS", "mask_pii", "readable_table",
           "render_hypotheses_text", "render_pairs_text", "run_mirror", "load_pairs"]
