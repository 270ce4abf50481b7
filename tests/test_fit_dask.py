"""`verbatim fit --dask`: the segments encoded on a real Dask LocalCluster give the same vectors, the same
cache and the same topics as a local fit (real ``use`` encoder, real BERTopic, part of the shipped sample);
a bad --dask value is a one-line error with exit code 2, for fit as for score."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import SAMPLE


@pytest.fixture(scope="module")
def part(small_sample) -> pd.DataFrame:
    return pd.concat([g.iloc[:150] for _, g in small_sample.groupby("source")]).reset_index(drop=True)


@pytest.mark.integration
def test_fit_on_a_dask_local_cluster_equals_a_local_fit(part, tmp_path, caplog):
    pytest.importorskip("distributed")
    from verbatim.config import load_config
    from verbatim.embed import EmbeddingCache, EmbedStats, embed_texts, get_embedder
    from verbatim.pipeline import Pipeline
    from verbatim.textprep import encoder_input

    cfg = load_config(SAMPLE / "verbatim.toml").with_overrides(embed={"embedder": "use"}, topics={"n_topics": 4})
    here = Pipeline(cfg, cache=tmp_path / "here").fit(part)
    with caplog.at_level(logging.INFO, logger="verbatim"):
        there = Pipeline(cfg, cache=tmp_path / "there", dask="local:2").fit(part)

    n_texts = len(set(encoder_input(here.segments_["text"], cfg.embed)))
    assert n_texts > 300
    logged = [r.getMessage() for r in caplog.records]
    assert f"encoding {n_texts} texts on Dask (local:2)" in logged  # the workers encoded them
    assert any(m.startswith("dask: 2 worker(s) at tcp://") for m in logged)
    assert here.embed_stats_.encoded == there.embed_stats_.encoded == n_texts  # both caches were cold
    np.testing.assert_array_equal(here.embeddings_, there.embeddings_)
    np.testing.assert_array_equal(here.segments_["topic"].to_numpy(), there.segments_["topic"].to_numpy())
    assert here.segments_["topic"].nunique() >= 4
    pd.testing.assert_frame_equal(here.topics_, there.topics_)
    np.testing.assert_array_equal(here.segments_["irritant_p"].to_numpy(), there.segments_["irritant_p"].to_numpy())

    # the vectors the workers encoded are in the driver's cache: a local run encodes nothing
    embedder = get_embedder("use")
    stats = EmbedStats()
    again = embed_texts(encoder_input(here.segments_["text"], cfg.embed), embedder,
                        cache=EmbeddingCache(tmp_path / "there", embedder.id), stats=stats)
    assert stats.encoded == 0 and stats.cached == n_texts
    np.testing.assert_array_equal(again, here.embeddings_)


@pytest.mark.parametrize("spec, message", [
    ("local:0", "error: --dask local:N needs a positive number of workers; got 'local:0'"),
    ("local:two", "error: --dask local:N needs a positive number of workers; got 'local:two'"),
    ("localhost:8786", "error: --dask must be local:N or a scheduler address such as tcp://host:8786; "
                       "got 'localhost:8786'"),
    ("", "error: --dask must be local:N or a scheduler address such as tcp://host:8786; got ''"),
])
@pytest.mark.parametrize("command", ["fit", "score"])
def test_a_bad_dask_value_is_one_line_exit_2(tmp_path, command, spec, message):
    from verbatim.cli import main

    inp = tmp_path / "in.parquet"
    pd.DataFrame({"id": ["1"], "source": ["customer"], "text": ["attente"]}).to_parquet(inp)
    args = (["fit", str(inp), "-o", str(tmp_path / "run")] if command == "fit"
            else ["score", str(tmp_path / "run"), str(inp), "-o", str(tmp_path / "o.parquet"), "--no-progress"])
    r = CliRunner().invoke(main, args + ["--no-cache", "--dask", spec])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.stderr.strip().splitlines() == [message]


def test_dask_without_the_distributed_package_names_the_pip_command(monkeypatch):
    import importlib.util

    from verbatim.daskpool import DaskPool
    from verbatim.errors import ConfigError

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(ConfigError, match=r"^--dask needs the distributed package: pip install 'verbatim\[dask\]' \(or 'dask\[distributed\]'\)$"):
        DaskPool("local:2")
