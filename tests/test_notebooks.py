"""Every notebook in notebooks/ runs top to bottom (nbclient); a cell that raises fails the test.

The notebooks share one fitted pipeline: the session fixture ``sample_pipeline`` (the whole shipped
sample, as ``verbatim demo`` fits it) is saved once to a temporary folder passed to the kernels as
``$VERBATIM_MODEL``, so no notebook fits. ``VERBATIM_FAST_NOTEBOOKS`` skips the one 25-second cell
(BERTopic's UMAP projection). The kernel imports this checkout's ``src/``.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))

pytestmark = pytest.mark.integration


def test_notebooks_are_named_by_step_and_cleared():
    names = [p.stem for p in NOTEBOOKS]
    assert names == ["01-explore", "02-topics", "03-irritants", "04-mirror", "05-digest", "06-score"]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear the outputs before committing"
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith(f"# {path.stem[:2]}")


@pytest.fixture(scope="session")
def notebook_env(sample_pipeline, tmp_path_factory):
    model = tmp_path_factory.mktemp("nb") / "sample"
    sample_pipeline.save(model)
    return {"VERBATIM_MODEL": str(model), "VERBATIM_FAST_NOTEBOOKS": "1", "VERBATIM_HOME": str(ROOT),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "MPLBACKEND": "Agg"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, notebook_env, monkeypatch):
    from nbclient import NotebookClient

    for k, v in notebook_env.items():
        monkeypatch.setenv(k, v)
    nb = nbformat.read(path, as_version=4)
    t0 = time.time()
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    seconds = time.time() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    shown = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert shown >= 1, f"{path.name} showed nothing"
    print(f"{path.name}: {seconds:.0f} s")
