"""Acceptance figures of the meeting digest on a fitted artefact (default: the demo's ``models/sample``).

For every office and the chosen period: balance (irritants vs compliments, customer vs employee), whether a
sub-threshold employee group's verbatim ever appears under several option sets, freshness (a second digest
for the same meeting shares nothing with the first), and mirrored pairs: with the artefact's own mirror
table, and with a planted one (the largest irritant topic of each side declared mirrored) since the
current mirror finds no pair on the sample.

    PYTHONPATH=src python benchmarks/bench_digest.py models/sample --period 2025-Q4
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd

from verbatim.config import DigestConfig
from verbatim.digest import Digest, History, parse_period
from verbatim.pipeline import Pipeline

OPTION_SETS = {
    "default": {},
    "size 20, 3 per topic": {"config": DigestConfig(size=20, per_topic=3)},
    "irritants only": {"config": DigestConfig(irritant_share=1.0)},
    "employee first": {"config": DigestConfig(sources=("employee", "customer"))},
    "loose readability": {"config": DigestConfig(min_chars=0, max_chars=5000, min_words=1, irritant_min_p=0.5,
                                                 compliment_max_p=0.49)},
    "english": {"lang": "en"},
}


def sub_threshold_ids(pipe, period: pd.Period, k: int) -> set[str]:
    """Employee verbatims whose unit × period group has fewer than ``k`` respondents (computed here, apart
    from the library's rule)."""
    v = pipe.verbatims_
    v = v[(pd.to_datetime(v["date"]).dt.to_period(period.freqstr) == period) & (v["source"] == "employee")]
    n = v.groupby("unit")["record_id"].nunique()
    small = set(n[n < k].index)
    return set(v.loc[v["unit"].isin(small), "id"].astype(str))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", default="models/sample")
    ap.add_argument("--period", default="2025-Q4")
    args = ap.parse_args()
    pipe = Pipeline.load(args.model)
    period = parse_period(args.period)
    k = pipe.config.privacy.anonymity_threshold
    offices = sorted(pipe.verbatims_["unit"].dropna().unique())
    banned = sub_threshold_ids(pipe, period, k)
    seg = pipe.segments_
    top = seg[seg["irritant"] & (seg["topic"] >= 0)].groupby(["source", "topic"]).size()
    planted = pd.DataFrame([{"source_a": "customer", "topic_a": int(top["customer"].idxmax()), "label_a": "",
                             "source_b": "employee", "topic_b": int(top["employee"].idxmax()), "label_b": "",
                             "similarity": 0.6, "linkage_r": 0.4, "linkage_q": 0.01, "lead": "",
                             "verdict": "mirrored"}])
    stored = Path(args.model) / "mirror.parquet"
    n_stored = 0
    if stored.is_file():
        t = pd.read_parquet(stored)
        n_stored = int(t["verdict"].isin(("mirrored", "linked, different topics")).sum())
    rows = []
    leaks = 0
    t0 = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        for office in offices:
            d = Digest(office, args.period, history=History(Path(tmp) / "h.sqlite"), now=t0).fit(pipe)
            t = d.to_frame()
            d.record()
            d2 = Digest(office, args.period, history=History(Path(tmp) / "h.sqlite"),
                        now=t0 + dt.timedelta(days=7)).fit(pipe)
            overlap = len(set(t["verbatim_id"]) & set(d2.to_frame()["verbatim_id"]))
            for name, opts in OPTION_SETS.items():
                shown = set(Digest(office, args.period, history=False, **opts).fit(pipe).to_frame()["verbatim_id"])
                leaks += len(shown & banned)
            p = Digest(office, args.period, history=False, pairs=planted).fit(pipe)
            pt = p.to_frame()
            has_pair = bool(pt["pair"].notna().any())
            own = Digest(office, args.period, history=False).fit(pipe).to_frame()  # the artefact's own pairs
            held = int(d.withheld_.loc[d.withheld_["reason"] == "anonymity", "verbatims"].sum()) if len(d.withheld_) else 0
            rows.append({"office": office, "items": len(t), "irritants": int((t["polarity"] == "irritant").sum()),
                         "compliments": int((t["polarity"] == "compliment").sum()),
                         "customer": int((t["source"] == "customer").sum()),
                         "employee": int((t["source"] == "employee").sum()), "withheld_employee": held,
                         "second_digest_items": len(d2.to_frame()), "overlap_with_first": overlap,
                         "planted_pair_shown": has_pair, "own_pair_shown": bool(own["pair"].notna().any())})
    table = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    print(table.to_string(index=False))
    bal = (table["irritants"] - table["compliments"]).abs().le(1)
    print(f"\nperiod {args.period}, anonymity threshold {k}: {len(offices)} offices")
    print(f"balanced irritants/compliments (within one): {int(bal.sum())}/{len(table)}")
    print(f"both voices present: {int(((table['customer'] > 0) & (table['employee'] > 0)).sum())}/{len(table)}; "
          f"offices whose employee group is under the threshold: {int((table['withheld_employee'] > 0).sum())}")
    print(f"sub-threshold employee verbatims shown, over {len(OPTION_SETS)} option sets x {len(offices)} offices: {leaks}")
    print(f"second digest for the same meeting sharing a verbatim with the first: "
          f"{int((table['overlap_with_first'] > 0).sum())}/{len(table)}")
    showable = table["withheld_employee"] == 0
    print(f"mirrored pairs in the artefact's mirror table: {n_stored}; shown together: "
          f"{int(table['own_pair_shown'].sum())}/{len(table)} offices "
          f"({int(table.loc[showable, 'own_pair_shown'].sum())}/{int(showable.sum())} of those whose employees can be shown); "
          f"with a planted pair table: {int(table['planted_pair_shown'].sum())}/{len(table)}")


if __name__ == "__main__":
    main()
