"""The documentation cannot drift from the code.

- Every command in a ```bash block of README.md is run: the cheap ones for real (ingest, drivers on the
  session's fitted sample, the configuration check, ``--help``), the expensive ones (``fit``, ``mirror``, ``demo``,
  the benchmarks) through their ``--help``, and ``make`` targets as a dry run (``make -n``).
- The README's Python block runs for real against the session's fitted sample (its one ``.fit`` line uses
  the ``sample_pipeline`` fixture: same configuration, same data), and its TOML blocks validate.
- docs/configuration.md is what ``scripts/config_reference.py`` writes, and every option has a meaning.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CLI = [sys.executable, "-c", "from verbatim.cli import main; main()"]


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README, flags=re.S | re.M)


def readme_commands() -> list[str]:
    """Each command of the README's bash blocks: continuation lines joined, comments dropped."""
    out = []
    for block in _blocks("bash"):
        text = re.sub(r"\\\n\s*", " ", block)
        for line in text.splitlines():
            line = line.split(" #", 1)[0].strip() if not line.strip().startswith("#") else ""
            if line:
                out.append(line)
    return out


COMMANDS = readme_commands()
RUN_FOR_REAL = {"ingest", "drivers"}  # seconds on the sample; fit and demo take minutes, mirror ~20 s (the
                                      # Python block below fits the same Mirror for real)


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["VERBATIM_CACHE_DIR"] = env.get("VERBATIM_CACHE_DIR") or str(ROOT / "data" / "processed" / "cache")
    return env


def test_readme_shows_the_two_setup_commands_first():
    assert COMMANDS[:2] == ["make demo", "make test"]
    assert README.index("## Set-up: two commands") < README.index("## Three ways in")


def test_readme_commands_exist_on_this_branch():
    """Every ``verbatim`` subcommand the README runs exists; planned ones (digest, score) stay out of code blocks."""
    help_text = subprocess.run(CLI + ["--help"], capture_output=True, text=True, env=_env(), cwd=ROOT).stdout
    shown = {shlex.split(c)[1] for c in COMMANDS if c.startswith(".venv/bin/verbatim ") and not shlex.split(c)[1].startswith("-")}
    for sub in shown:
        assert re.search(rf"^\s+{sub}\s", help_text, re.M), f"README runs `verbatim {sub}`, which this branch lacks"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, sample_pipeline):
    """A scratch project folder: the repository's inputs linked in, the fitted sample saved as models/run1."""
    wd = tmp_path_factory.mktemp("readme")
    for name in ("src", "scripts", "benchmarks", "docs", "notebooks"):
        (wd / name).symlink_to(ROOT / name)
    (wd / "data").mkdir()
    (wd / "data" / "raw").symlink_to(ROOT / "data" / "raw")
    sample_pipeline.save(wd / "models" / "run1")
    return wd


def _argv(cmd: str) -> tuple[list[str], str]:
    """The command as run by the test, and how: ``real``, ``help`` or ``dry-run``."""
    args = shlex.split(cmd)
    while args and re.match(r"^[A-Z_]+=", args[0]):  # environment assignments (e.g. SMTP credentials)
        args = args[1:]
    if args[0] == "make":
        return ["make", "-n", *args[1:]], "dry-run"
    if args[0] == ".venv/bin/verbatim":
        sub = args[1]
        if sub.startswith("-") or sub in RUN_FOR_REAL:
            return CLI + args[1:], "real"
        return CLI + [sub, "--help"], "help"
    if args[0] == ".venv/bin/python":
        script = args[1]
        if script.startswith("scripts/"):
            return [sys.executable, *args[1:]], "real"
        return [sys.executable, script, "--help"], "help"
    raise AssertionError(f"the README shows a command this test does not know how to run: {cmd}")


@pytest.mark.integration
@pytest.mark.parametrize("cmd", COMMANDS)
def test_readme_command_runs(cmd, workdir):
    argv, how = _argv(cmd)
    cwd = ROOT if how == "dry-run" else workdir
    r = subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=cwd, timeout=300)
    assert r.returncode == 0, f"`{cmd}` ({how}) exited {r.returncode}:\n{r.stderr[-2000:]}"
    if how == "help":
        assert "usage" in r.stdout.lower()
    if how == "dry-run" and cmd == "make lab":
        assert ".venv/bin/jupyter lab" in r.stdout and "VERBATIM_HOME" in r.stdout
    if how == "real" and " ingest " in f" {cmd} ":
        assert "kept" in r.stdout + r.stderr
        out = shlex.split(cmd)[shlex.split(cmd).index("-o") + 1]
        assert (workdir / out).is_file()


@pytest.mark.integration
def test_readme_python_block_runs(workdir, sample_pipeline, monkeypatch):
    block = next(b for b in _blocks("python") if "Pipeline(cfg).fit(table)" in b)
    lines = block.splitlines()
    fit = [i for i, line in enumerate(lines) if re.match(r"^pipe = Pipeline\(cfg\)\.fit\(table\)", line)]
    assert len(fit) == 1, "the README's Python block should fit the pipeline in one line"
    lines[fit[0]] = "pipe = _fitted  # the session's sample pipeline: same configuration, same data"
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("VERBATIM_CACHE_DIR", str(ROOT / "data" / "processed" / "cache"))
    ns = {"_fitted": sample_pipeline}
    exec(compile("\n".join(lines), "README.md", "exec"), ns)
    assert (workdir / "models" / "run1" / "manifest.json").is_file()
    assert hasattr(ns["m"], "pairs_") and len(ns["table"]) == len(sample_pipeline.verbatims_)


def test_readme_toml_blocks_are_valid_configuration():
    from verbatim.config import from_dict

    blocks = _blocks("toml")
    assert blocks
    for block in blocks:
        from_dict(tomllib.loads(block))  # raises ConfigError on an unknown key or a bad value


def test_configuration_reference_is_current_and_complete():
    from verbatim.config_doc import config_reference, missing_meanings, stale_meanings

    assert not missing_meanings(), f"options without a meaning: {missing_meanings()}"
    assert not stale_meanings(), f"MEANINGS names options that no longer exist: {stale_meanings()}"
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == config_reference() + "\n", "docs/configuration.md is stale; run: python scripts/config_reference.py"


def test_configuration_reference_lists_every_option_with_its_default():
    import dataclasses

    from verbatim.config import SECTIONS
    from verbatim.config_doc import config_reference

    doc = config_reference()
    for name, cls in SECTIONS.items():
        section = doc.split(f"## [{name}]", 1)[1].split("\n## ", 1)[0]
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in section, f"[{name}] {f.name} missing from the reference"
    assert '| `n_permutations` | int | `999` |' in doc


def test_an_option_without_a_meaning_is_reported(monkeypatch):
    from verbatim import config_doc

    monkeypatch.delitem(config_doc.MEANINGS, "mirror.alpha")
    assert config_doc.missing_meanings() == ["mirror.alpha"]
    assert "| `alpha` | float | `0.05` | **undocumented** |" in config_doc.config_reference()


def test_make_lab_uses_the_project_environment():
    # under `make test` the parent make's flags make a nested make print "Entering/Leaving directory" lines
    r = subprocess.run(["make", "--no-print-directory", "-n", "lab"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0
    last = [line for line in r.stdout.strip().splitlines() if not line.startswith("make[")][-1]
    assert ".venv/bin/jupyter lab" in last and "notebooks/01-explore.ipynb" in last
    # the notebooks' kernel is the environment's own python (jupyter_client maps "python" to sys.executable)
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    assert spec.argv[0] in ("python", "python3", sys.executable) or Path(spec.argv[0]).resolve() == Path(sys.executable).resolve()


DEMO_ANSWER = re.compile(r"<!-- demo answer -->\n```text\n(.*?)\n```\n<!-- /demo answer -->", re.S)


def demo_answer(lines: list[str]) -> list[str]:
    """The demo's answer as printed: from the mirror heading to the symmetry index (file paths left out)."""
    text = "\n".join(lines).split("== mirror", 1)[-1].split("\n== meeting digest", 1)[0]
    return [x for x in text.splitlines()[1:] if x.strip() and not x.startswith("wrote ")]


@pytest.mark.integration
def test_the_readme_quotes_what_the_demo_prints(tmp_path):
    """The demo's answer, as any machine prints it (the numerics are exact: `benchmarks/bench_machines.py`), is
    the one the README quotes, line for line."""
    from verbatim.demo import run_demo

    quoted = DEMO_ANSWER.search(README)
    assert quoted, "README.md lost its <!-- demo answer --> block"
    printed: list[str] = []
    run_demo(ROOT / "data" / "raw" / "sample", tmp_path, echo=lambda s: printed.extend(str(s).splitlines()))
    assert demo_answer(printed) == quoted.group(1).splitlines()
