"""Run the mirror on a saved pipeline: the table, its CSV/HTML renderings and the copy stored in the artefact."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import ArtefactError
from ..fileio import write_csv, write_parquet, write_text
from .core import Mirror, MirrorConfig

log = logging.getLogger("verbatim")

PAIRS_FILE = "mirror.parquet"


def pairs_file(model_dir: str | Path, pair: tuple[str, str]) -> Path:
    """``mirror.parquet`` for the default customer:employee pair, ``mirror_<a>_<b>.parquet`` for others."""
    name = PAIRS_FILE if tuple(pair) == ("customer", "employee") else f"mirror_{pair[0]}_{pair[1]}.parquet"
    return Path(model_dir) / name


def run_mirror(model_dir: str | Path, out_dir: str | Path | None = None, config: MirrorConfig | None = None,
               pipeline=None, store: bool = True, **settings) -> dict:
    """Fit :class:`Mirror` on the pipeline saved in ``model_dir``; write ``mirror.csv`` and ``report.html``
    to ``out_dir`` (when given) and store the pair table in the artefact folder.

    Settings: ``config`` (a :class:`MirrorConfig`, e.g. ``load_config("verbatim.toml").mirror``), by default
    the ``[mirror]`` section the pipeline was fitted with; keyword ``settings`` replace some of its values."""
    from ..pipeline import Pipeline
    from .report import render_report

    pipe = pipeline if pipeline is not None else Pipeline.load(model_dir)
    m = Mirror(config, **settings).fit(pipe)
    out = {"mirror": m, "pairs": m.pairs_, "global": m.global_}
    if store:
        out["stored"] = write_parquet(m.pairs_, pairs_file(model_dir, m.config_.pair))
    if out_dir is not None:
        out_dir = Path(out_dir)
        out["csv"] = write_csv(m.table(), out_dir / "mirror.csv")
        out["html"] = write_text(render_report(m), out_dir / "report.html")
    return out


def load_pairs(model_dir: str | Path, pair: tuple[str, str] = ("customer", "employee")) -> pd.DataFrame:
    """The pair table stored by :func:`run_mirror` (for ``digest`` and ``score``)."""
    path = pairs_file(model_dir, pair)
    if not path.is_file():
        raise ArtefactError(f"'{model_dir}' has no {path.name}; run `verbatim mirror {model_dir}` first")
    return pd.read_parquet(path)
