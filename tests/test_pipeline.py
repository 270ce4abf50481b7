"""The saved pipeline artefact and the `verbatim fit` command."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from verbatim.cli import main
from verbatim.errors import ArtefactError
from verbatim.pipeline import Pipeline


@pytest.fixture(scope="module")
def saved(small_pipeline, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "run"
    small_pipeline.save(path)
    return path


def test_artefact_layout_and_manifest(saved, small_pipeline):
    m = json.loads((saved / "manifest.json").read_text())
    assert m["format"] == "verbatim-pipeline" and m["embedder"] == "use:multilingual-v3:q7"
    assert m["seed"] == 7 and m["config"]["topics"]["n_topics"] == "auto"
    assert m["versions"]["bertopic"] and m["versions"]["numpy"]
    assert set(m["counts"]) == {"customer", "employee"}
    assert m["counts"]["customer"]["segments"] == int((small_pipeline.segments_["source"] == "customer").sum())
    files = {p.relative_to(saved).as_posix() for p in saved.rglob("*") if p.is_file()}
    assert {"verbatims.parquet", "segments.parquet", "topics.parquet", "embeddings.safetensors",
            "sources/customer/centroids.safetensors", "sources/customer/bertopic/topics.json"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".joblib"))], "no pickles"
    assert not list(saved.parent.glob(".run*")), "no temporary folder left behind"


def test_load_roundtrip(saved, small_pipeline):
    p = Pipeline.load(saved)
    def norm(df):  # Parquet gives pandas' string dtype (NaN for missing) where the fit had objects (None)
        return df.astype(object).where(df.notna(), None)

    pd.testing.assert_frame_equal(norm(p.segments_), norm(small_pipeline.segments_))
    for s, m in p.models_.items():
        mask = (p.segments_["source"] == s).to_numpy()
        sides = (p.segments_.loc[mask, "topic_side"] == "irritant").to_numpy().astype(int)
        topics, _ = m.transform(small_pipeline.embeddings_[mask], sides)
        np.testing.assert_array_equal(topics, p.segments_.loc[mask, "topic"].to_numpy())
    tm = p.bertopic("customer")  # loaded lazily from safetensors
    assert len(tm.get_topic_info()) == len(p.topics_[p.topics_["source"] == "customer"]) + int((p.segments_["topic"] < 0).any())


def test_load_refuses_other_embedder(saved):
    with pytest.raises(ArtefactError, match=r"fitted with embedder 'use:multilingual-v3:q7', not 'st:x'"):
        Pipeline.load(saved, embedder_id="st:x")


def test_load_refuses_other_version(saved, tmp_path):
    import shutil

    bad = tmp_path / "old"
    shutil.copytree(saved, bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["format_version"] = 99
    (bad / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ArtefactError, match="format version 99"):
        Pipeline.load(bad)
    (bad / "manifest.json").unlink()
    with pytest.raises(ArtefactError, match="has no manifest.json"):
        Pipeline.load(bad)


def test_crash_during_save_leaves_no_artefact(small_pipeline, tmp_path, monkeypatch):
    from verbatim.topics.model import SourceTopicModel

    def boom(self, folder):
        raise RuntimeError("disk full")

    monkeypatch.setattr(SourceTopicModel, "save", boom)
    with pytest.raises(RuntimeError):
        small_pipeline.save(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_cli_fit(small_sample, session_cache, tmp_path):
    from click.testing import CliRunner

    cust = tmp_path / "c.parquet"
    emp = tmp_path / "e.parquet"
    small_sample[small_sample["source"] == "customer"].head(150).to_parquet(cust)
    small_sample[small_sample["source"] == "employee"].head(150).to_parquet(emp)
    env = {"VERBATIM_CACHE_DIR": str(session_cache)}
    r = CliRunner().invoke(main, ["fit", str(cust), str(emp), "-o", str(tmp_path / "m"), "--seed", "3"], env=env)
    assert r.exit_code == 0, r.output
    assert "== customer:" in r.output and "== employee:" in r.output
    assert json.loads((tmp_path / "m" / "manifest.json").read_text())["seed"] == 3


def test_cli_fit_errors(tmp_path):
    cmd = [sys.executable, "-m", "verbatim.cli", "fit", str(tmp_path / "nope.parquet"), "-o", str(tmp_path / "m")]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip() == f"error: file '{tmp_path / 'nope.parquet'}' does not exist; run `verbatim ingest` first or check the path"
    r = subprocess.run(cmd[:4] + [str(tmp_path / "x.parquet"), "-o", "m", "--embedder", "st:"], capture_output=True, text=True)
    assert r.returncode == 2
