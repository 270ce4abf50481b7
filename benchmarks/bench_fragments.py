"""Fragment topics: topics built around pieces that name no subject ("Ras le bol.", "C'est de pire en pire.").

    .venv/bin/python benchmarks/bench_fragments.py                 # the shipped sample and real comments
    .venv/bin/python benchmarks/bench_fragments.py --sample-only   # without ../shared/data

The whole fit (segment → embed → polarity → topics, ``Pipeline.fit``) runs twice on the same comments in
this one process: ``[segment] merge_content_free`` off (the baseline: every clause is a segment) and on
(pieces that only judge join a neighbouring piece of their verbatim). For each source it prints the
segments, the topics, and the **fragment topics**: topics half or more of whose segments name no subject
(``verbatim.textprep.is_content_free``; with the setting on, only comments that are nothing else can),
with the share of segments they hold, their labels and typical segments to read. Real comments: French insurance reviews (customers) and the cons of French Glassdoor
reviews (employees) from ../shared/data, read there, never copied; skipped cleanly without it.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, SHARED, glassdoor_fr_cons_spec, insurance_verbatims  # noqa: E402


def real_table(n_customers: int, n_employees: int, seed: int = 0) -> pd.DataFrame:
    from verbatim.config import IngestConfig
    from verbatim.ingest import ingest

    emp = ingest([glassdoor_fr_cons_spec()], IngestConfig()).verbatims
    emp = emp.sample(n=min(n_employees, len(emp)), random_state=seed)
    return pd.concat([insurance_verbatims(n_customers, seed=seed), emp], ignore_index=True)


def sample_table():
    from verbatim.config import load_config
    from verbatim.ingest import ingest

    cfg = load_config(ROOT / "data" / "raw" / "sample" / "verbatim.toml")
    return ingest(cfg.ingest.files, cfg.ingest).verbatims, cfg


def fragment_topics(segs: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Per topic: the share of its segments that name no subject; fragment topics first."""
    from verbatim.textprep import is_content_free

    s = segs[segs["topic"] >= 0].copy()
    s["fragment"] = [is_content_free(t) for t in s["text"]]
    share = s.groupby(["source", "topic"])["fragment"].mean().rename("fragment_share").reset_index()
    out = table.merge(share, on=["source", "topic"])
    return out.sort_values("fragment_share", ascending=False)


def run(name: str, verbatims: pd.DataFrame, cfg) -> None:
    from verbatim.config import replace_section
    from verbatim.pipeline import Pipeline

    print(f"\n## {name}: {len(verbatims):,} comments")
    print("| source | merge_content_free | segments | topics | fragment topics | their segments |")
    print("|---|---|---|---|---|---|")
    found = {}
    for flag in (False, True):
        pipe = Pipeline(replace_section(cfg, "segment", merge_content_free=flag)).fit(verbatims)
        frag = fragment_topics(pipe.segments_, pipe.topics_)
        for source, f in frag.groupby("source"):
            n = int((pipe.segments_["source"] == source).sum())
            bad = f[f["fragment_share"] >= 0.5]
            found[(source, flag)] = bad
            print(f"| {source} | {'on' if flag else 'off'} | {n:,} | {len(f)} | {len(bad)} | "
                  f"{100 * bad['size'].sum() / n:.1f}% |", flush=True)
    for (source, flag), bad in found.items():
        for r in bad.itertuples():
            print(f"  {source} ({'on' if flag else 'off'}): \"{r.label}\" {r.size} segments, "
                  f"{100 * r.fragment_share:.0f}% fragments, e.g. {' | '.join(r.representative[:3])}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample-only", action="store_true", help="only the shipped sample")
    ap.add_argument("--customers", type=int, default=4000, help="real customer comments (default 4,000)")
    ap.add_argument("--employees", type=int, default=2500, help="real employee comments (default 2,500)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from verbatim.config import Config

    table, cfg = sample_table()
    run("shipped sample", table, cfg)
    if a.sample_only:
        return 0
    if not SHARED.is_dir():
        print(f"\nreal comments skipped: {SHARED} not found (set VERBATIM_SHARED_DATA)")
        return 0
    run("real comments (French insurance reviews; French Glassdoor cons)", real_table(a.customers, a.employees),
        Config())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
