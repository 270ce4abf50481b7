"""Batch scoring (`verbatim score`): consistent with fit, lean, streamed, resumable after kill -9,
alerts driven by the config, the same rows on a real Dask LocalCluster of 2 workers.

The artefact is a real pipeline (real BERTopic, real polarity) fitted on part of the shipped sample with
the ``hash:64`` embedder: deterministic in every process, so subprocesses and Dask workers rebuild it
from the manifest's id. The real encoder's batch invariance is checked separately.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT, SAMPLE

SRC = ROOT / "src"


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(SRC), "PYTHONWARNINGS": "ignore"}


def _cli(args, cwd, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verbatim.cli", *map(str, args)], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def artefact(tmp_path_factory, small_sample):
    """A saved pipeline (hash:64 embedder) with a mirror table holding one significant pair."""
    from verbatim.config import load_config
    from verbatim.pipeline import Pipeline

    cfg = load_config(SAMPLE / "verbatim.toml").with_overrides(embed={"embedder": "hash:64"}, topics={"n_topics": 6})
    part = pd.concat([g.iloc[:250] for _, g in small_sample.groupby("source")])  # small: fast to fit
    pipe = Pipeline(cfg, cache=False).fit(part.reset_index(drop=True))
    path = tmp_path_factory.mktemp("model") / "run"
    pipe.save(path)
    top = pipe.topics_.sort_values("size", ascending=False)
    a = top[top["source"] == "customer"].iloc[0]
    b = top[top["source"] == "employee"].iloc[0]
    pairs = pd.DataFrame([{"pair": 1, "kind": "primary", "source_a": "customer", "topic_a": int(a.topic),
                           "label_a": a.label, "source_b": "employee", "topic_b": int(b.topic), "label_b": b.label,
                           "similarity": 0.6, "verdict": "mirrored"},
                          {"pair": 2, "kind": "primary", "source_a": "customer", "topic_a": int(top[top.source == "customer"].iloc[1].topic),
                           "label_a": "x", "source_b": "employee", "topic_b": int(top[top.source == "employee"].iloc[1].topic),
                           "label_b": "y", "similarity": 0.5, "verdict": "not similar"}])
    pairs.to_parquet(path / "mirror.parquet", index=False)
    return {"path": path, "pipe": pipe, "pair": (int(a.topic), int(b.topic), b.label)}


@pytest.fixture(scope="module")
def new_csv(tmp_path_factory, small_sample) -> Path:
    """Raw customer comments in the sample's own CSV layout (the artefact's mapping reads it), 1,200 rows,
    one with no text and one opening with a spreadsheet formula."""
    raw = pd.read_csv(SAMPLE / "clients.csv", sep=";", dtype=str, keep_default_na=False)
    rows = pd.concat([raw] * 2, ignore_index=True).iloc[:1200].copy()
    rows["ref_avis"] = [f"N{i:05d}" for i in range(len(rows))]
    rows.loc[5, "commentaire"] = ""
    rows.loc[7, "commentaire"] = "=HYPERLINK(\"x\") attente interminable au guichet"
    p = tmp_path_factory.mktemp("new") / "nouveaux.csv"
    rows.to_csv(p, sep=";", index=False)
    return p


# --------------------------------------------------------------------------- consistent with fit
def test_scoring_the_training_verbatims_reproduces_fit(artefact):
    import verbatim

    pipe = artefact["pipe"]
    scored, segs = verbatim.score(pipe.verbatims_.drop(columns="irritant_p"), model=artefact["path"], segments=True,
                                  cache=False)
    fit = pipe.segments_.assign(segment=pipe.segments_["position"])
    m = segs.merge(fit, on=["id", "segment"], suffixes=("", "_fit"))
    assert len(m) == len(fit) == len(segs)
    assert (m["text"] == m["text_fit"]).all()
    assert (m["topic"] == m["topic_fit"]).mean() >= 0.99
    # fit keeps the full classifier's probability beside the cross-fitted one its statistics read
    np.testing.assert_allclose(m["irritant_p"], m["irritant_p_model"], atol=1e-6)
    fitv = pipe.verbatims_.set_index("id")["irritant_p"]
    np.testing.assert_allclose(scored["irritant_p"], fitv.loc[scored["id"]].to_numpy(), atol=1e-6)


def test_one_at_a_time_equals_batch(artefact):
    import verbatim

    v = artefact["pipe"].verbatims_.drop(columns="irritant_p").iloc[:40]
    batch = verbatim.score(v, model=artefact["path"], cache=False)
    single = pd.concat([verbatim.score(v.iloc[[i]], model=artefact["path"], cache=False) for i in range(len(v))],
                       ignore_index=True)
    pd.testing.assert_frame_equal(batch, single)


def test_mirror_columns_follow_the_significant_pairs_only(artefact):
    import verbatim

    ta, tb, label_b = artefact["pair"]
    pipe = artefact["pipe"]
    _, segs = verbatim.score(pipe.verbatims_.drop(columns="irritant_p"), model=artefact["path"], segments=True,
                             cache=False)
    hit = segs[(segs["source"] == "customer") & (segs["topic"] == ta)]
    assert len(hit) and (hit["mirror_topic"] == tb).all() and (hit["mirror_label"] == label_b).all()
    others = segs[~((segs["source"] == "customer") & (segs["topic"] == ta))
                  & ~((segs["source"] == "employee") & (segs["topic"] == tb))]
    assert others["mirror_topic"].isna().all()  # the "not similar" pair marks nothing
    back = segs[(segs["source"] == "employee") & (segs["topic"] == tb)]
    assert (back["mirror_topic"] == ta).all()


def test_pipeline_reload_gives_the_embeddings_fit_used(artefact):
    from verbatim.pipeline import Pipeline

    again = Pipeline.load(artefact["path"])
    assert again.embeddings_.dtype == np.float32
    np.testing.assert_array_equal(again.embeddings_, artefact["pipe"].embeddings_)


@pytest.mark.integration
def test_real_encoder_vectors_do_not_depend_on_the_batch():
    from verbatim.embed import get_embedder

    emb = get_embedder("use")
    texts = ["attente interminable au guichet", "colis perdu, aucune réponse du service client",
             "accueil très aimable", "le facteur ne passe jamais le samedi"] * 3
    batch = emb.embed(texts)
    single = np.vstack([emb.embed([t]) for t in texts])
    assert np.abs(batch - single).max() < 1e-5


# --------------------------------------------------------------------------- the command
def test_cli_scores_a_raw_csv_with_the_artefacts_mapping(artefact, new_csv, tmp_path):
    out = tmp_path / "scored.csv"
    r = _cli(["score", artefact["path"], new_csv, "-o", out, "--chunk-rows", "500", "--no-cache", "--no-progress"],
             tmp_path)
    assert r.returncode == 0, r.stderr
    rej = pd.read_csv(tmp_path / "scored.rejects.csv")
    n_ok = 1200 - len(rej)  # the sample's own bad rows (missing dates…) and the planted empty text
    assert 6 in rej["row"].tolist() and "empty text" in rej.set_index("row").loc[6, "reason"]
    assert f"read 1200 rows: scored {n_ok}, rejected {len(rej)} ({n_ok} verbatims" in r.stdout
    df = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(df) == n_ok and df["id"].is_unique and "N00005" not in set(df["id"])
    assert {"ref_avis", "commentaire", "bureau"}.isdisjoint(df.columns)  # mapped onto the contract …
    assert {"id", "text", "unit", "date", "score", "topic", "topic_label", "irritant_p", "mirrored"} <= set(df.columns)
    assert df.loc[df["id"] == "N00007", "text"].iloc[0].startswith("'=HYPERLINK")  # formula neutralised
    segs = pd.read_csv(tmp_path / "scored.segments.csv", dtype={"id": str})
    assert segs["id"].nunique() == n_ok
    assert (tmp_path / "scored.alerts.csv").is_file()
    assert not list(tmp_path.glob(".scored*"))  # no parts or temporary files left


def test_cli_keeps_every_input_column_with_explicit_mapping(artefact, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"avis": ["attente trop longue au guichet", "très bon accueil"], "agence": ["A", "B"],
                  "extra": ["x", "y"]}).to_csv(src, index=False)
    out = tmp_path / "o.parquet"
    r = _cli(["score", artefact["path"], src, "--source", "customer", "--text", "avis", "--unit", "agence",
              "-o", out, "--no-cache", "--no-progress"], tmp_path)
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(out)
    assert df["extra"].tolist() == ["x", "y"] and df["unit"].tolist() == ["A", "B"]
    assert df["irritant_p"].between(0, 1).all()


@pytest.mark.parametrize("args, message", [
    (["score", "nowhere", "x.csv", "-o", "o.parquet"], "error: 'nowhere' is not a saved pipeline folder"),
    (["score", "{model}", "missing.csv", "-o", "o.parquet"], "error: file 'missing.csv' does not exist"),
    (["score", "{model}", "{odd}", "-o", "o.parquet"], "error: cannot tell how to read"),
    (["score", "{model}", "{odd}", "--source", "customer", "--text", "avis", "-o", "o.parquet", "--embedder", "use"],
     "error: '"),
    (["score", "{model}", "{odd}", "-o", "o.txt"], "error: cannot tell the output format"),
])
def test_cli_user_mistakes_are_one_line_exit_2(artefact, tmp_path, args, message):
    odd = tmp_path / "odd.csv"
    pd.DataFrame({"avis": ["attente"], "autre": ["x"]}).to_csv(odd, index=False)
    args = [a.format(model=artefact["path"], odd=odd) for a in args]
    r = _cli(args + ["--no-cache", "--no-progress"], tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith(message), r.stderr


def test_the_scorer_never_imports_bertopic_umap_or_torch(artefact, new_csv, tmp_path):
    code = (
        "import sys\n"
        "from verbatim.cli import main\n"
        f"main(['score', {str(artefact['path'])!r}, {str(new_csv)!r}, '-o', {str(tmp_path / 'o.parquet')!r},"
        " '--no-cache', '--no-progress'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'bertopic', 'umap', 'torch', 'hdbscan',"
        " 'sentence_transformers', 'transformers', 'sklearn'})\n"
        "print('HEAVY', heavy)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "HEAVY []" in r.stdout


# --------------------------------------------------------------------------- kill -9 and resume
def test_kill_9_at_random_points_then_resume_gives_every_row_exactly_once(artefact, tmp_path, small_sample):
    n = 2000
    texts = small_sample["text"].tolist()
    src = tmp_path / "big.csv"
    pd.DataFrame({"n": range(n), "avis": [texts[i % len(texts)] for i in range(n)],
                  "date": "2025-06-15"}).to_csv(src, index=False)
    out = tmp_path / "scored.parquet"
    args = ["score", artefact["path"], src, "--source", "customer", "--text", "avis", "--id", "n", "--date", "date",
            "-o", out, "--chunk-rows", "100", "--no-cache", "--no-progress"]
    parts = tmp_path / ".scored.parquet.parts"
    rng = random.Random(0)
    kills = 0
    for _ in range(2):  # each run commits 1 to 3 chunks of the 20, then dies at a random point of the next one
        done = len(list(parts.glob("*.done.json")))
        target = done + rng.randint(1, 3)
        p = subprocess.Popen([sys.executable, "-m", "verbatim.cli", *map(str, args), "--resume"], cwd=tmp_path,
                             env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline, commits = time.monotonic() + 90, []
        while p.poll() is None and time.monotonic() < deadline and done < target:
            time.sleep(0.01)  # a loaded machine starts slowly: wait for the commits, however long they take
            now = len(list(parts.glob("*.done.json")))
            commits += [time.monotonic()] * (now - done)
            done = now
        chunk_s = commits[-1] - commits[-2] if len(commits) > 1 else 0.1
        time.sleep(rng.uniform(0.0, chunk_s))  # a random point of the next chunk, wherever the run is in it
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    assert kills == 2 and not out.exists()
    assert parts.is_dir() and list(parts.glob("*.done.json"))  # progress was committed before the kills
    r = _cli(args + ["--resume"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "kept from the interrupted run" in r.stdout
    df = pd.read_parquet(out)
    assert sorted(df["input_row"].tolist()) == list(range(1, n + 1))  # 0 lost, 0 duplicated
    assert not parts.exists()
    from verbatim.score import score_files  # an uninterrupted run gives the same rows in the same order

    fresh = score_files(artefact["path"], [src], tmp_path / "fresh.parquet", chunk_rows=100, cache=False,
                        progress=False, mapping={"source": "customer", "text": ["avis"], "id": "n", "date": "date"})
    pd.testing.assert_frame_equal(df, pd.read_parquet(fresh.output))


# --------------------------------------------------------------------------- alerts
def _spike_case(pipe):
    """The largest customer irritant topic, one of its texts and a date in the month after the fit's last."""
    segs = pipe.segments_
    last = pd.to_datetime(segs["date"]).max().to_period("M")
    nxt = (last + 1).to_timestamp() + pd.Timedelta(days=14)
    irr = segs[(segs["source"] == "customer") & segs["irritant"] & (segs["topic"] >= 0)]
    topic = int(irr["topic"].value_counts().index[0])
    return segs, last, nxt, topic, irr[irr["topic"] == topic]["text"].iloc[0]


def test_spike_alerts_against_history_and_their_settings_take_effect(artefact, tmp_path):
    import verbatim
    from verbatim.score import score_files

    pipe = artefact["pipe"]
    segs, last, nxt, topic, text = _spike_case(pipe)
    batch = pd.DataFrame({"avis": [text] * 60 + ["merci pour l'accueil"] * 10, "date": nxt.strftime("%Y-%m-%d")})
    f = tmp_path / "batch.csv"
    batch.to_csv(f, index=False)
    mapping = {"source": "customer", "text": ["avis"], "date": "date"}
    res = score_files(artefact["path"], [f], tmp_path / "a.parquet", mapping=mapping, cache=False, progress=False)
    flagged = res.alerts[res.alerts["flagged"]]
    assert ((flagged["topic"] == topic) & (flagged["unit"] == "(all)")).any()
    assert set(res.alerts["period"]) == {str(nxt.to_period("M"))}  # only the batch's periods are tested
    on_disk = pd.read_csv(res.alerts_path)
    assert len(on_disk) == len(res.alerts)
    # polarity.spike_min_count in the artefact's configuration takes effect
    strict = tmp_path / "strict"
    shutil.copytree(artefact["path"], strict)
    man = json.loads((strict / "manifest.json").read_text(encoding="utf-8"))
    man["config"]["polarity"]["spike_min_count"] = 1000
    (strict / "manifest.json").write_text(json.dumps(man), encoding="utf-8")
    res2 = score_files(strict, [f], tmp_path / "b.parquet", mapping=mapping, cache=False, progress=False)
    assert not res2.alerts["flagged"].any()
    assert verbatim.score.render_alerts(res2.alerts) == "alerts: no spike in the new batch"


# --------------------------------------------------------------------------- Dask
def test_dask_local_cluster_of_2_workers_equals_single_process(artefact, new_csv, tmp_path):
    pytest.importorskip("distributed")
    from verbatim.score import score_files

    one = score_files(artefact["path"], [new_csv], tmp_path / "one.parquet", chunk_rows=150, cache=False,
                      progress=False)
    two = score_files(artefact["path"], [new_csv], tmp_path / "two.parquet", chunk_rows=150, cache=False,
                      progress=False, dask="local:2")
    a, b = pd.read_parquet(one.output), pd.read_parquet(two.output)
    assert len(a) > 1100
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(pd.read_parquet(one.segments), pd.read_parquet(two.segments))
    assert [c.line() for c in one.files] == [c.line() for c in two.files]
    loads = two.worker_loads
    assert 1 <= len(loads) <= 2 and set(loads.values()) == {1}  # each worker deserialised the model once


def test_a_dask_dataframe_is_scored_partition_by_partition(artefact):
    dd = pytest.importorskip("dask.dataframe")
    import dask

    import verbatim

    v = artefact["pipe"].verbatims_.drop(columns="irritant_p").iloc[:60].reset_index(drop=True)
    v = v.assign(date=v["date"].astype("datetime64[ns]"))
    expected = verbatim.score(v, model=artefact["path"], cache=False)
    with dask.config.set({"scheduler": "synchronous", "dataframe.convert-string": False}):
        got = verbatim.score(dd.from_pandas(v, npartitions=3), model=artefact["path"], cache=False).compute()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


# --------------------------------------------------------------------------- one reader with ingest
MAPPING = {"source": "customer", "text": ["avis"], "id": "n"}
MOJIBAKE = ("Ã", "â€", "\ufffd")


def _texts(small_sample, n: int) -> list[str]:
    """``n`` distinct one-line French comments (no delimiter, quote or line break of their own)."""
    base = [" ".join(t.replace(",", " ").replace('"', " ").split()) for t in small_sample["text"]]
    return [f"{base[i % len(base)]} (avis {i})" for i in range(n)]


def _ingest_and_score(artefact, src, tmp_path, chunk_rows=100):
    """The same file through `verbatim ingest`'s library call and through `score_files`."""
    from dataclasses import replace

    from verbatim.config import FileSpec
    from verbatim.ingest import ingest
    from verbatim.score import ScoringModel, score_files

    icfg = replace(ScoringModel.load(artefact["path"], cache=False).config_.ingest, date_required=False)
    ing = ingest(FileSpec(path=str(src), **{**MAPPING, "text": tuple(MAPPING["text"])}), icfg)
    res = score_files(artefact["path"], [src], tmp_path / "scored.parquet", mapping=MAPPING, chunk_rows=chunk_rows,
                      cache=False, progress=False)
    return ing, res, pd.read_parquet(res.output), pd.read_csv(res.rejects)


def test_score_decodes_a_mixed_encoding_file_as_ingest_does(artefact, small_sample, tmp_path):
    texts = _texts(small_sample, 300)
    at = 150
    texts[at] = "Très déçu : agence fermée à 14 h et personne à l'accueil (avis 150)"
    lines = ["n,avis"] + [f"{i},{t}" for i, t in enumerate(texts)]
    src = tmp_path / "export.csv"  # UTF-8 but for one record saved as cp1252 (a hand-edited line)
    src.write_bytes(b"".join((ln + "\r\n").encode("cp1252" if k == at + 1 else "utf-8") for k, ln in enumerate(lines)))
    assert sum(any(ch in t for ch in "éèàçêô") for t in texts) > 100  # accents all over the file

    ing, res, scored, rejects = _ingest_and_score(artefact, src, tmp_path)
    assert res.total.read == 300 and res.total.scored == 300 and len(rejects) == 0
    assert scored["text"].map(lambda t: any(m in t for m in MOJIBAKE)).sum() == 0
    assert scored.loc[scored["id"] == str(at), "text"].iloc[0] == texts[at]
    assert scored["text"].tolist() == texts
    got = scored[["id", "text"]].sort_values("id").reset_index(drop=True)
    want = ing.verbatims[["id", "text"]].astype({"id": str}).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_score_rejects_a_quote_left_open_as_ingest_does(artefact, small_sample, tmp_path):
    texts = _texts(small_sample, 400)
    texts[7] = '"bien reçu, rapide"'  # a quoted field that is closed: a record like the others
    at = 120
    lines = ["n,avis"] + [f'{i},"{t}' if i == at else f"{i},{t}" for i, t in enumerate(texts)]
    src = tmp_path / "export.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")

    ing, res, scored, rejects = _ingest_and_score(artefact, src, tmp_path)
    assert ing.total.read == 400 and len(ing.rejects) == 1
    assert res.total.read == 400 and res.total.scored == 399 and res.total.rejected == 1  # every row accounted for
    assert rejects["row"].tolist() == ing.rejects["row"].tolist() == [at + 1]
    assert rejects["reason"].tolist() == ing.rejects["reason"].tolist()
    assert "unbalanced quote" in rejects["reason"].iloc[0]
    assert sorted(scored["input_row"]) == [r for r in range(1, 401) if r != at + 1]
    got = scored[["id", "text"]].sort_values("id").reset_index(drop=True)
    want = ing.verbatims[["id", "text"]].astype({"id": str}).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    assert scored.loc[scored["id"] == "7", "text"].iloc[0] == "bien reçu, rapide"


def test_a_verbatim_table_with_a_record_the_reader_rejects_is_accounted_for(artefact, small_sample, tmp_path):
    texts = _texts(small_sample, 30)
    lines = ["id,source,text"] + [f"v{i},customer,{t}" for i, t in enumerate(texts)]
    lines[11] = "v10,customer,un,deux"  # a field too many: the reader rejects it
    src = tmp_path / "verbatims.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from verbatim.score import score_files

    res = score_files(artefact["path"], [src], tmp_path / "o.parquet", chunk_rows=8, cache=False, progress=False)
    rej = pd.read_csv(res.rejects)
    assert (res.total.read, res.total.scored, res.total.rejected) == (30, 29, 1)
    assert rej["row"].tolist() == [11] and "fields but the header has 3" in rej["reason"].iloc[0]


def test_a_parquet_input_keeps_its_named_index_as_ingest_does(artefact, small_sample, tmp_path):
    from verbatim.ingest.readers import read_parquet
    from verbatim.score import score_files

    ids = [f"R{i}" for i in range(30)]
    src = tmp_path / "in.parquet"  # a DataFrame saved with its index: ingest reads "ref" as a column
    pd.DataFrame({"avis": _texts(small_sample, 30)}, index=pd.Index(ids, name="ref")).to_parquet(src)
    assert read_parquet(src).frame["ref"].tolist() == ids
    res = score_files(artefact["path"], [src], tmp_path / "o.parquet", chunk_rows=8, cache=False, progress=False,
                      mapping={"source": "customer", "text": ["avis"], "id": "ref"})
    assert pd.read_parquet(res.output)["id"].tolist() == ids and res.total.read == 30


# --------------------------------------------------------------------------- labels are masked
def test_score_masks_topic_labels_in_the_console_and_every_file(artefact, tmp_path):
    from verbatim.score import render_alerts, score_files

    pipe = artefact["pipe"]
    segs, last, nxt, topic, text = _spike_case(pipe)
    model = tmp_path / "model"
    shutil.copytree(artefact["path"], model)
    topics = pd.read_parquet(model / "topics.parquet")
    hit = (topics["source"] == "customer") & (topics["topic"] == topic)
    topics.loc[hit, "label"] = "lefebvre · " + topics.loc[hit, "label"].astype(str)
    topics.to_parquet(model / "topics.parquet", index=False)
    pairs = pd.read_parquet(model / "mirror.parquet")
    pairs["label_a"] = "vasseur · " + pairs["label_a"].astype(str)
    pairs["label_b"] = "vasseur · " + pairs["label_b"].astype(str)
    pairs.to_parquet(model / "mirror.parquet", index=False)
    src = tmp_path / "batch.csv"
    pd.DataFrame({"avis": [text] * 60 + ["merci pour l'accueil"] * 10,
                  "date": nxt.strftime("%Y-%m-%d")}).to_csv(src, index=False)
    out = tmp_path / "scored.csv"
    res = score_files(model, [src], out, mapping={"source": "customer", "text": ["avis"], "date": "date"}, cache=False,
                      progress=False)
    console = render_alerts(res.alerts)  # what `verbatim score` prints after its counts
    assert "[nom] · " in console  # the spike on the renamed topic is shown, its label masked
    written = {p.name: p.read_text(encoding="utf-8") for p in tmp_path.glob("scored*.csv")}
    assert set(written) == {"scored.csv", "scored.segments.csv", "scored.rejects.csv", "scored.alerts.csv"}
    for where, content in [("console", console), *written.items()]:
        assert "lefebvre" not in content.lower() and "vasseur" not in content.lower(), where
    scored = pd.read_csv(out)
    assert scored["topic_label"].str.startswith("[nom] · ").sum() >= 60
    assert scored["mirror_label"].dropna().str.startswith("[nom] · ").all()
    from verbatim.score import ScoringModel

    mirror = ScoringModel.load(model, cache=False).mirror_  # the labels of the mirrored pair, both ways
    assert len(mirror) == 2 and all(label.startswith("[nom] · ") for _, _, label in mirror.values())
    alerts = pd.read_csv(res.alerts_path)
    assert alerts.loc[alerts["topic"] == topic, "topic_label"].str.startswith("[nom] · ").all()


# --------------------------------------------------------------------------- one run at a time
def test_a_second_run_on_a_locked_output_is_refused_in_one_line(artefact, small_sample, tmp_path):
    from verbatim.score.resume import OutputLock

    src = tmp_path / "in.csv"
    pd.DataFrame({"n": range(20), "avis": _texts(small_sample, 20)}).to_csv(src, index=False)
    out = tmp_path / "o.parquet"
    out.write_bytes(b"the first run's output")
    args = ["score", artefact["path"], src, "--source", "customer", "--text", "avis", "--id", "n", "--no-cache",
            "--no-progress"]
    with OutputLock(out):  # a first run is writing o.parquet
        r = _cli(args + ["-o", out], tmp_path)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: another `verbatim score` (process {os.getpid()}) "
                                                       f"is writing '{out}'"), r.stderr
        from verbatim.errors import OutputError
        from verbatim.score import score_files

        with pytest.raises(OutputError, match="another `verbatim score`"):  # o.csv shares rejects and alerts
            score_files(artefact["path"], [src], tmp_path / "o.csv", mapping={**MAPPING, "id": "n"}, cache=False,
                        progress=False)
        assert out.read_bytes() == b"the first run's output"  # nothing of the first run's was touched
        assert sorted(p.name for p in tmp_path.glob(".o*")) == [".o.score.lock"]
    r = _cli(args + ["-o", out], tmp_path)  # once the first run is over, the output is free
    assert r.returncode == 0, r.stderr
    assert len(pd.read_parquet(out)) == 20
    assert not list(tmp_path.glob(".o*"))  # no lock, parts or temporary file left


# --------------------------------------------------------------------------- a failed start
def test_a_bogus_embedder_is_refused_first_even_with_a_warm_cache_and_leaves_nothing(artefact, small_sample,
                                                                                       tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"n": range(20), "avis": _texts(small_sample, 20)}).to_csv(src, index=False)
    out = tmp_path / "o.parquet"
    args = ["score", artefact["path"], src, "--source", "customer", "--text", "avis", "--id", "n", "-o", out,
            "--cache-dir", tmp_path / "cache", "--no-progress"]
    assert _cli(args, tmp_path).returncode == 0  # warms the cache: no text left to embed
    before = out.read_bytes()
    for bad, message in [(["--embedder", "totally-bogus"], "error: unknown embedder 'totally-bogus'"),
                         (["--embedder", "hash:32"], f"error: '{artefact['path']}' was fitted with embedder 'hash:64'")]:
        r = _cli(args + bad, tmp_path)
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip().splitlines()[-1].startswith(message), r.stderr
        assert out.read_bytes() == before
        assert not list(tmp_path.glob(".o*"))  # no parts folder, no lock


def test_a_start_that_fails_in_the_first_chunk_leaves_no_interrupted_run(artefact, small_sample, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"n": range(20), "avis": _texts(small_sample, 20)}).to_csv(src, index=False)
    out = tmp_path / "o.parquet"
    args = ["score", artefact["path"], src, "--source", "customer", "--text", "avis", "--id", "n", "-o", out,
            "--no-cache", "--no-progress"]
    assert any(not t.isascii() for t in _texts(small_sample, 20))
    r = _cli(args + ["--encoding", "ascii"], tmp_path)  # found when the first chunk is read
    assert r.returncode == 2, r.stderr
    assert "cannot be read as ascii" in r.stderr.strip().splitlines()[-1]
    assert not list(tmp_path.glob(".o*"))
    r = _cli(args, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "interrupted run" not in r.stderr and "kept from the interrupted run" not in r.stdout


# --------------------------------------------------------------------------- killed while assembling
class _Killed(BaseException):
    pass


def test_killed_during_the_assembly_never_leaves_an_old_output_beside_new_files(artefact, small_sample, tmp_path,
                                                                                 monkeypatch):
    from verbatim.score import run as score_run
    from verbatim.score import score_files

    texts = _texts(small_sample, 90)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame({"n": [f"A{i}" for i in range(30)], "avis": texts[:30]}).to_csv(a, index=False)
    pd.DataFrame({"n": [f"B{i}" for i in range(60)], "avis": texts[30:]}).to_csv(b, index=False)
    out = tmp_path / "s.parquet"
    kw = {"mapping": MAPPING, "chunk_rows": 25, "cache": False, "progress": False}
    first = score_files(artefact["path"], [a], out, **kw)
    assert set(pd.read_parquet(out)["id"]) == {f"A{i}" for i in range(30)}
    real, calls = score_run.assemble, []

    def dies_after_the_segments(files, dest, fmt, *args, **kwargs):
        calls.append(dest)
        if len(calls) == 2:
            raise _Killed()
        return real(files, dest, fmt, *args, **kwargs)

    monkeypatch.setattr(score_run, "assemble", dies_after_the_segments)
    with pytest.raises(_Killed):
        score_files(artefact["path"], [b], out, **kw)
    monkeypatch.undo()
    assert set(pd.read_parquet(first.segments)["id"]) == {f"B{i}" for i in range(60)}  # the new segments …
    assert not out.exists()  # … and no old output beside them: the run is not done
    res = score_files(artefact["path"], [b], out, resume=True, **kw)
    assert res.resumed_chunks == 3
    ids = {f"B{i}" for i in range(60)}
    assert set(pd.read_parquet(out)["id"]) == set(pd.read_parquet(res.segments)["id"]) == ids
