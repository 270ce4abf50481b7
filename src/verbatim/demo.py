"""The demo job: the whole pipeline on the shipped sample (``make demo``)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .config import load_config
from .errors import InputFileError
from .ingest import ingest, write_ingest
from .paths import models_dir, processed_dir, sample_dir as default_sample_dir
from .summary import render_text, summarise


def run_demo(sample_dir: str | Path | None = None, out_dir: str | Path | None = None,
             echo: Callable[[str], None] = print) -> dict:
    """Ingest the sample and summarise it; returns what it produced (paths and tables)."""
    sdir = Path(sample_dir) if sample_dir else default_sample_dir()
    toml = sdir / "verbatim.toml"
    if not toml.is_file():
        raise InputFileError(
            f"sample configuration '{toml}' not found; run the demo from the project folder "
            f"(or set VERBATIM_HOME to it)"
        )
    cfg = load_config(toml)
    odir = Path(out_dir) if out_dir else processed_dir() / "sample"
    echo(f"== ingest: {len(cfg.ingest.files)} files from {sdir} ==")
    result = ingest(cfg.ingest.files, cfg.ingest)
    out, rej = write_ingest(result, odir / "verbatims.parquet")
    for line in result.summary_lines():
        echo(line)
    echo(f"wrote {out} and {rej}\n")
    tables = summarise(result.verbatims)
    echo(render_text(tables))

    from .pipeline import Pipeline
    from .topics.report import render_top_topics

    echo("\n== topics per source ==")
    pipe = Pipeline(cfg).fit([out])
    model_dir = Path(out_dir) / "model" if out_dir else models_dir() / "sample"
    pipe.save(model_dir)
    from .privacy import mask_labels

    echo(render_top_topics(mask_labels(pipe.topics_, ("label",), cfg.privacy), pipe.segments_))
    echo(f"saved the pipeline to {model_dir}")

    from .drivers import driver_table, render_drivers_markdown, top_irritants

    echo("\n== top 5 irritants per side, ranked by score impact ==")
    echo("polarity: " + ", ".join(f"{s} {r['method']} (AUC {r['cv_auc']:.3f})" if r.get("cv_auc") is not None
                                  else f"{s} {r['method']}" for s, r in pipe.polarity_.report_.items()))
    drivers = driver_table(pipe.segments_)
    echo(render_drivers_markdown(mask_labels(top_irritants(drivers, 5), ("topic_label",), cfg.privacy)))

    from .mirror import MIRRORED_VERDICTS, render_hypotheses_text, render_pairs_text, run_mirror
    from .paths import project_dir

    echo("\n== mirror: customer ↔ employee topics, unit linkage, lead/lag ==")
    report_dir = Path(out_dir) / "report" if out_dir else project_dir() / "reports" / "sample"
    mir = run_mirror(model_dir, report_dir, pipeline=pipe)
    for line in render_hypotheses_text(mir["mirror"].hypotheses_):
        echo(line)
    echo(mir["mirror"].global_.text("customer", "employee"))
    found = mir["pairs"][mir["pairs"]["verdict"].isin(MIRRORED_VERDICTS)]
    echo(f"{len(mir['pairs'])} pairs examined, {len(found)} mirrored (exploratory screen):")
    echo(render_pairs_text(mir["shown"][mir["shown"]["verdict"].isin(MIRRORED_VERDICTS)]))
    idx = mir["mirror"].index_
    echo(f"symmetry index: {idx['index']:.1%} [{idx['low']:.1%}, {idx['high']:.1%}] of customer irritant volume")
    echo(f"wrote {mir['csv']} and {mir['html']}")

    from .digest.deliver import demo_digest

    echo("\n== meeting digest: one office, last quarter ==")
    dig = demo_digest(pipe, model_dir, report_dir)
    echo(dig["message"])
    echo(f"digest: {dig['target']}")
    return {"ingest": result, "verbatims_path": out, "rejects_path": rej, "summary": tables, "config": cfg,
            "pipeline": pipe, "model_dir": model_dir, "drivers": drivers, "mirror": mir, "digest": dig}
