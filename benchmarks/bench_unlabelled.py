"""Irritant probability with no labels (``verbatim.unlabelled``) against the lexicon and borrowed classifiers,
on real French texts (read from ../shared/data, never copied), through verbatim's own segmentation and the
``use`` encoder (multilingual USE v3; vectors come from the embedding cache when already there).

Corpora (each is one unlabelled source; its labels serve only to score the methods):

- employee: French Glassdoor + Indeed answers (``_realunits.load_pools``); each pros text and each cons text
  is one verbatim (cons = irritant). Every method sees the whole source; respondents are split in two
  seeded halves: **A** was used to choose the constants, **B** is held out;
- insurance: 5,000 rated French insurance reviews (1–2 stars = irritant, 4–5 = not, 3 in the source
  but not scored): used to choose the constants;
- retail-dev: 5,000 French retail reviews (Trustpilot, same rule): looked at during development (the
  negated-complaint rule was written after reading its worst errors), so not a held-out figure;
- retail: 5,000 other reviews of the same pool, disjoint from retail-dev: held out.

Methods: the VADER lexicon as ``verbatim.polarity.LexiconScorer`` wraps it; a classifier borrowed from a
labelled corpus (``verbatim.polarity.fit_classifier``: customers → employees and back, and between the
two customer corpora); prototype similarity (max, softmax, mean); the self-trained model of
``verbatim.unlabelled`` (and two ablations); self-trained + borrowed (gated by agreement).

Columns: AUC per segment (each segment labelled by its verbatim: a noisy lower bound), AUC per verbatim
(mean of the segments' decision values, as the pipeline aggregates; also max and a length-weighted
mean), the share of irritant verbatims and of the others at p >= 0.5 (prototype rows: score > 0),
ECE per verbatim (10 bins) and per single-segment verbatim. The last lines time the fit on 100,000
segments.

Run:  .venv/bin/python benchmarks/bench_unlabelled.py   (about 25 s once the embedding cache holds the
      corpora; the first run also segments and encodes about 38,000 segments, a few minutes)
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _realdata import ROOT, insurance_verbatims, require_shared  # noqa: E402

require_shared()

from _realunits import load_pools  # noqa: E402

from verbatim import unlabelled as U  # noqa: E402
from verbatim.config import Config  # noqa: E402
from verbatim.embed import embed_texts, get_embedder  # noqa: E402
from verbatim.polarity import LexiconScorer, auc, expected_calibration_error, fit_classifier  # noqa: E402
from verbatim.segment import segment  # noqa: E402
from verbatim.textprep import encoder_input  # noqa: E402

CACHE = ROOT / "data" / "processed" / "cache"
N = 5000


class Corpus:
    def __init__(self, name: str, verbatims: pd.DataFrame, embedder, cfg: Config):
        self.name = name
        self.v = verbatims.reset_index(drop=True)
        self.s = segment(self.v[["id", "source", "text"]], cfg.segment)
        self.x = embed_texts(encoder_input(self.s["text"], cfg.embed), embedder, CACHE, workers=1, progress=False)
        self.s = self.s.merge(self.v[["id", "label", "half"]], on="id", how="left")
        self.texts = self.s["text"].tolist()
        self.ids = self.s["id"].to_numpy()

    def labelled(self, half: str | None):
        m = self.s["label"].notna().to_numpy()
        return m if half is None else m & (self.s["half"] == half).to_numpy()


def load_corpora(embedder, cfg: Config) -> dict[str, Corpus]:
    pools = load_pools()
    e = pools.employees
    idx = np.arange(len(e))
    half = np.where(np.random.default_rng(0).permutation(len(e))[idx] % 2 == 0, "A", "B")
    emp = pd.concat([pd.DataFrame({"id": [f"p{i}" for i in idx], "text": e["pros"].to_numpy(), "label": 0.0, "half": half}),
                     pd.DataFrame({"id": [f"c{i}" for i in idx], "text": e["cons"].to_numpy(), "label": 1.0, "half": half})],
                    ignore_index=True).assign(source="employee")

    def customers(df: pd.DataFrame, prefix: str) -> pd.DataFrame:
        score = df["score"].to_numpy(dtype=float)
        return pd.DataFrame({"id": [f"{prefix}{i}" for i in range(len(df))], "text": df["text"].to_numpy(),
                             "label": np.where(score <= 2, 1.0, np.where(score >= 4, 0.0, np.nan)),
                             "half": "all", "source": "customer"})

    c = pools.customers
    dev = c.sample(n=N, random_state=1)
    held = c.drop(index=dev.index).sample(n=N, random_state=2)
    ins = insurance_verbatims(rated_only=True).sample(n=N, random_state=1)
    return {"employee": Corpus("employee", emp, embedder, cfg),
            "insurance": Corpus("insurance", customers(ins, "i"), embedder, cfg),
            "retail-dev": Corpus("retail-dev", customers(dev, "r"), embedder, cfg),
            "retail": Corpus("retail", customers(held, "q"), embedder, cfg)}


#: (corpus, half, role) in the table's order
TARGETS = [("employee", "A", "employee A (tuning)"), ("insurance", None, "insurance (tuning)"),
           ("retail-dev", None, "retail-dev (looked at)"), ("employee", "B", "employee B (held out)"),
           ("retail", None, "retail (held out)")]


def verbatim_table(c: Corpus, seg_score: np.ndarray, verb_p: pd.Series | None, half: str | None,
                   threshold_p: bool = True) -> dict[str, float | None]:
    """AUCs (segment, verbatim by mean / max / length-weighted mean of ``seg_score``), shares at p >= 0.5
    (or score > 0 when ``verb_p`` is None) and ECEs."""
    df = pd.DataFrame({"id": c.ids, "f": seg_score, "n": c.s["text"].str.len().to_numpy(), "y": c.s["label"].to_numpy(),
                       "half": c.s["half"].to_numpy(), "nseg": c.s["n_segments"].to_numpy()})
    m = c.labelled(half)
    out: dict[str, float | None] = {"seg": auc(df["y"][m], df["f"][m])}
    df["fw"] = df["f"] * df["n"]
    g = df.groupby("id", sort=False)
    v = pd.DataFrame({"mean": g["f"].mean(), "max": g["f"].max(), "lenw": g["fw"].sum() / g["n"].sum(),
                      "y": g["y"].first(), "half": g["half"].first()})
    v = v[v["y"].notna() & ((v["half"] == half) if half else True)]
    y = v["y"].to_numpy()
    for k in ("mean", "max", "lenw"):
        out[k] = auc(y, v[k].to_numpy())
    if verb_p is None:
        judged = v["mean"].to_numpy() > 0
        out["ece"] = out["ece1"] = None
    else:
        p = verb_p.reindex(v.index).to_numpy()
        judged = p >= 0.5
        out["ece"] = expected_calibration_error(y, p)
        single = (df.loc[m, "nseg"] == 1).to_numpy()
        out["ece1"] = expected_calibration_error(df["y"][m].to_numpy()[single], SEG_P[0][m][single]) if SEG_P else None
    out["irr"] = float(judged[y == 1].mean())
    out["oth"] = float(judged[y == 0].mean())
    return out


SEG_P: list[np.ndarray] = []  # the segment probabilities of the row being scored (for the single-segment ECE)


def row(rows: list, method: str, c: Corpus, half, role: str, seg_score, verb_p=None, seg_p=None, seconds=None):
    SEG_P.clear()
    if seg_p is not None:
        SEG_P.append(np.asarray(seg_p))
    r = verbatim_table(c, np.asarray(seg_score, dtype=float), verb_p, half)
    rows.append({"method": method, "corpus": role, **r, "s": seconds})


def fmt(x, d=3):
    return "  n/a" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{d}f}"


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0]).parse_args()
    t_start = time.time()
    cfg = Config()
    embedder = get_embedder("use")
    C = load_corpora(embedder, cfg)
    print(f"corpora loaded in {time.time() - t_start:.0f}s: " + ", ".join(
        f"{k} {c.v['id'].nunique()} verbatims / {len(c.s)} segments" for k, c in C.items()))
    protos = U.prototype_vectors(embedder.embed)
    lex = LexiconScorer()
    rows: list[dict] = []

    # donors: classifiers trained on a corpus's own labels (scores, or pros/cons tags for employees)
    def donor(c: Corpus):
        m = c.labelled(None)
        w = np.ones(m.sum()) if c.name == "employee" else 1.0 / c.s["n_segments"].to_numpy()[m]
        return fit_classifier(c.x[m], c.s["label"].to_numpy()[m].astype(int), w, c.ids[m], seed=42)[0]

    donors = {k: donor(C[k]) for k in ("employee", "insurance", "retail-dev")}
    cross = {"employee": "retail-dev", "insurance": "employee", "retail-dev": "employee", "retail": "employee"}
    same = {"insurance": "retail-dev", "retail-dev": "insurance", "retail": "insurance"}

    fits: dict[tuple[str, str], tuple[U.UnlabelledIrritantModel, float]] = {}

    def fit(name: str, variant: str, **kw):
        key = (name, variant)
        if key not in fits:
            c = C[name]
            t0 = time.time()
            groups = None if variant == "no-groups" else c.ids
            model = U.UnlabelledIrritantModel(seed=0, negation=variant != "no-negation").fit(
                c.texts, c.x, prototypes=protos, groups=groups, **kw)
            fits[key] = (model, time.time() - t0)
        return fits[key]

    for name, half, role in TARGETS:
        c = C[name]
        p = lex.predict_proba(c.texts)
        row(rows, "lexicon (VADER-fr, mean p)", c, half, role, p,
            pd.Series(p, index=c.ids).groupby(level=0, sort=False).mean(), p)
        for label, table in (("borrowed, other side", cross), ("borrowed, other customer corpus", same)):
            if name not in table:
                continue
            clf = donors[table[name]]
            f = clf.decision(c.x)
            fv = pd.Series(f, index=c.ids).groupby(level=0, sort=False).mean()
            row(rows, f"{label} ({table[name]})", c, half, role, f,
                pd.Series(clf.verbatim_proba(fv.to_numpy()), index=fv.index), clf.predict_proba(c.x))
        sims_i, sims_c = U._unit(c.x) @ protos[0].T, U._unit(c.x) @ protos[1].T
        row(rows, "prototypes, max", c, half, role, sims_i.max(1) - sims_c.max(1))
        lse = lambda a, t=0.05: t * np.log(np.exp((a - a.max(1, keepdims=True)) / t).sum(1)) + a.max(1)  # noqa: E731
        row(rows, "prototypes, softmax (T=0.05)", c, half, role, lse(sims_i) - lse(sims_c))
        row(rows, "prototypes, mean", c, half, role, sims_i.mean(1) - sims_c.mean(1))
        neg = U.negated_complaint(c.texts)
        row(rows, "prototypes, mean + negated complaints", c, half, role,
            U.adjust_negated(U.prototype_score(c.x, *protos), neg))
        for variant, label in (("no-negation", "self-trained, no negation rule"),
                               ("no-groups", "self-trained, segment pseudo-labels (no groups)"),
                               ("main", "self-trained (recommended)")):
            model, secs = fit(name, variant)
            vp = (model.verbatim_proba() if variant != "no-groups" else
                  pd.Series(model.proba_, index=c.ids).groupby(level=0, sort=False).mean())
            row(rows, label, c, half, role, model.decision_, vp, model.proba_, secs)
        donor_name = same.get(name, cross.get(name))
        clf = donors[donor_name]
        model, secs = fit(name, f"borrowed-{donor_name}", borrowed_decision=clf.decision(c.x))
        used = "used" if model.borrowed_used_ else "ignored"
        row(rows, f"self-trained + borrowed ({donor_name}: agreement "
                  f"{model.report_['borrowed_agreement']:.2f}, {used})", c, half, role,
            model.decision_, model.verbatim_proba(), model.proba_, secs)

    table = pd.DataFrame(rows)
    print()
    print(f"{'method':<62} {'corpus':<24} {'seg':>6} {'verb':>6} {'v-max':>6} {'v-lenw':>6} "
          f"{'irr>=.5':>7} {'oth>=.5':>7} {'ECE-v':>6} {'ECE-1':>6} {'fit s':>6}")
    for corpus in [r for _, _, r in TARGETS]:
        for _, r in table[table["corpus"] == corpus].iterrows():
            print(f"{r['method']:<62} {r['corpus']:<24} {fmt(r['seg']):>6} {fmt(r['mean']):>6} {fmt(r['max']):>6} "
                  f"{fmt(r['lenw']):>6} {fmt(r['irr'], 2):>7} {fmt(r['oth'], 2):>7} {fmt(r['ece']):>6} "
                  f"{fmt(r['ece1']):>6} {fmt(r['s'], 1):>6}")
        print()
    for name in ("employee", "insurance", "retail-dev", "retail"):
        m = fits[(name, "main")][0]
        rep = m.report_
        truth = C[name].v["label"].dropna().mean()
        print(f"{name}: estimated irritant share {rep['irritant_share']:.2f} (labelled verbatims: {truth:.2f}), "
              f"negated complaints {rep['negated_complaints']:.1%} of segments, pseudo-labels "
              f"{rep['pseudo_irritants']} / {rep['pseudo_others']}, fit {fits[(name, 'main')][1]:.1f}s")

    # cost on 100,000 segments: the four corpora's vectors repeated with a little noise
    xs = np.concatenate([c.x for c in C.values()])
    ts = sum((c.texts for c in C.values()), [])
    rng = np.random.default_rng(0)
    reps = int(np.ceil(100_000 / len(xs)))
    big = np.concatenate([xs + rng.normal(0, 0.01, xs.shape).astype(np.float32) for _ in range(reps)])[:100_000]
    big_t = (ts * reps)[:100_000]
    groups = np.repeat(np.arange(50_000), 2)
    t0 = time.time()
    U.UnlabelledIrritantModel(seed=0).fit(big_t, big, prototypes=protos, groups=groups)
    print(f"\nfit on 100,000 segments (50,000 verbatims): {time.time() - t0:.1f}s "
          f"(prototypes embedded once: {len(U.IRRITANT_PROTOTYPES) + len(U.COMPLIMENT_PROTOTYPES)} phrases)")
    print(f"total {time.time() - t_start:.0f}s")


if __name__ == "__main__":
    main()
