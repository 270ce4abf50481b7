"""Run the mirror on a saved pipeline: the table, its CSV/HTML renderings and the copy stored in the artefact."""
from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..config import PrivacyConfig
from ..errors import ArtefactError, ConfigError, did_you_mean, show
from ..fileio import output_set, write_csv, write_parquet, write_text
from ..privacy import mask_labels
from .core import Mirror, MirrorConfig, readable_table

log = logging.getLogger("verbatim")

PAIRS_FILE = "mirror.parquet"


def pairs_file(model_dir: str | Path, pair: tuple[str, str]) -> Path:
    """``mirror.parquet`` for the default customer:employee pair, ``mirror_<a>_<b>.parquet`` for others."""
    name = PAIRS_FILE if tuple(pair) == ("customer", "employee") else f"mirror_{pair[0]}_{pair[1]}.parquet"
    return Path(model_dir) / name


def run_mirror(model_dir: str | Path, out_dir: str | Path | None = None, config: MirrorConfig | None = None,
               pipeline=None, store: bool = True, privacy: PrivacyConfig | None = None, **settings) -> dict:
    """Fit :class:`Mirror` on the pipeline saved in ``model_dir``; write ``mirror.csv`` and ``report.html``
    to ``out_dir`` (when given) and store the pair table in the artefact folder.

    Settings: ``config`` (a :class:`MirrorConfig`, e.g. ``load_config("verbatim.toml").mirror``), by default
    the ``[mirror]`` section the pipeline was fitted with; keyword ``settings`` replace some of its values.
    ``privacy`` (default: the ``[privacy]`` section the pipeline was fitted with) guards the report's
    examples and masks the topic labels of every output; ``out["shown"]`` is the pair table as shown."""
    from ..pipeline import Pipeline
    from .report import render_report

    pipe = pipeline if pipeline is not None else Pipeline.load(model_dir)
    base = config or getattr(getattr(pipe, "config", None), "mirror", None) or MirrorConfig()
    by = settings.get("by", base.by)
    if by and by not in pipe.segments_.columns:  # a column the user named that does not exist
        cols = [c for c in pipe.segments_.columns if not str(c).startswith("_")]
        raise ConfigError(f"--by column '{show(by)}' is not in '{model_dir}'{did_you_mean(by, cols)}; "
                          f"columns: {', '.join(map(show, cols))} (or --by none to skip the unit linkage)")
    m = Mirror(config, **settings).fit(pipe)
    if privacy is None:
        privacy = getattr(getattr(pipe, "config", None), "privacy", None) or PrivacyConfig()
    shown = mask_labels(m.pairs_, ("label_a", "label_b"), privacy)
    out = {"mirror": m, "pairs": m.pairs_, "global": m.global_, "shown": shown, "privacy": privacy}
    with output_set() as outs:  # every output or none; what lands in the artefact is added to its manifest
        if store:
            out["stored"] = outs.add(pairs_file(model_dir, m.config_.pair), lambda p: write_parquet(m.pairs_, p))
        if out_dir is not None:
            out_dir = Path(out_dir)
            out["csv"] = outs.add(out_dir / "mirror.csv", lambda p: write_csv(readable_table(shown), p))
            if len(m.hypotheses_):
                out["hypotheses_csv"] = outs.add(out_dir / "hypotheses.csv", lambda p: write_csv(m.hypotheses_, p))
            out["html"] = outs.add(out_dir / "report.html", lambda p: write_text(render_report(m, privacy, pipeline=pipe), p))
    return out


def load_pairs(model_dir: str | Path, pair: tuple[str, str] = ("customer", "employee")) -> pd.DataFrame:
    """The pair table stored by :func:`run_mirror` (for ``digest`` and ``score``)."""
    path = pairs_file(model_dir, pair)
    if not path.is_file():
        raise ArtefactError(f"'{model_dir}' has no {path.name}; run `verbatim mirror {model_dir}` first")
    return pd.read_parquet(path)
