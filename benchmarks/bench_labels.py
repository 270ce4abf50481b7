"""Topic labels: the acceptance checks of issue 28 on the shipped sample's fit (and on real text).

Prints, per source, the share of labels that are phrases of at most 7 words, the share of their words of
4+ letters found in their topic's comments, duplicate labels, labels starting or ending on a stop word,
and the label of each planted theme's majority topic (to read against the theme).

    .venv/bin/python benchmarks/bench_labels.py                    # the sample (fits it once into models/sample)
    .venv/bin/python benchmarks/bench_labels.py --model DIR        # a pipeline saved in DIR
"""
from __future__ import annotations

import argparse
import json

import pandas as pd

from verbatim.sample import read_labels, sample_pipeline
from verbatim.topics.labels import label_checks


def planted(pipe) -> pd.DataFrame:
    """Each planted theme's majority topic (the topic holding most of the theme's single-theme segments)."""
    lab = read_labels()
    seg = pipe.segments_
    th = seg["id"].map(dict(zip(lab["id"], lab["themes"])))
    s = seg[th.notna() & ~th.fillna("|").str.contains("|", regex=False) & (seg["topic"] >= 0)].assign(theme=th)
    top = s.groupby(["source", "theme", "topic"]).size().rename("n").reset_index()
    top = top.sort_values(["source", "theme", "n", "topic"], ascending=[True, True, False, True]).drop_duplicates(
        ["source", "theme"])
    labels = pipe.topics_.set_index(["source", "topic"])["label"]
    top["label"] = [labels[(a, b)] for a, b in zip(top["source"], top["topic"])]
    return top


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="folder of a saved pipeline (default: the sample's)")
    args = ap.parse_args()
    pipe = sample_pipeline(args.model)
    checks = label_checks(pipe.topics_, pipe.segments_)
    summary = {src: {"labels": len(g), "phrases_le7": int(g["phrase"].sum()),
                     "found_ge90": int((g["found"] >= 0.9).sum()), "found_mean": round(float(g["found"].mean()), 3),
                     "duplicates": int(g["duplicate"].sum()), "stop_edges": int(g["stop_edge"].sum())}
               for src, g in checks.groupby("source")}
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    bad = checks[~checks["phrase"] | (checks["found"] < 0.9) | checks["duplicate"] | checks["stop_edge"]]
    if len(bad):
        print("labels failing a check:\n" + bad.to_string(index=False))
    if args.model is None:
        print("planted themes → majority topic's label:\n" + planted(pipe).to_string(index=False))


if __name__ == "__main__":
    main()
