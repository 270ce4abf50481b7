"""Packaging stays consistent: pyproject.toml ↔ environment.yml, the CI script, the Makefile."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> dict[str, Requirement]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reqs = list(data["project"]["dependencies"]) + [r for group in data["project"]["optional-dependencies"].values()
                                                    for r in group]   # environment.yml holds every extra
    out = {}
    for r in reqs:
        req = Requirement(r)
        name = canonicalize_name(req.name)
        assert name not in out, f"{name} listed twice in pyproject.toml"
        out[name] = req
    return out


def _environment_pip_requirements() -> dict[str, Requirement]:
    """The ``- pip:`` list of environment.yml (read without a YAML library)."""
    lines = (ROOT / "environment.yml").read_text(encoding="utf-8").splitlines()
    out: dict[str, Requirement] = {}
    in_pip, pip_indent = False, 0
    for line in lines:
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped.strip():
            continue
        indent = len(stripped) - len(stripped.lstrip())
        if re.match(r"^\s*-\s*pip:\s*$", stripped):
            in_pip, pip_indent = True, indent
            continue
        if in_pip:
            if indent <= pip_indent:
                break
            item = re.sub(r"^\s*-\s*", "", stripped).strip().strip("\"'")
            if item.startswith("-e") or item in (".", "-e ."):
                continue  # the project itself
            req = Requirement(item)
            name = canonicalize_name(req.name)
            assert name not in out, f"{name} listed twice in environment.yml"
            out[name] = req
    assert out, "environment.yml has no pip dependencies"
    return out


def test_environment_yml_matches_pyproject():
    py = _pyproject_requirements()
    env = _environment_pip_requirements()
    assert set(env) == set(py), (
        f"only in environment.yml: {sorted(set(env) - set(py))}; only in pyproject.toml: {sorted(set(py) - set(env))}"
    )
    for name, req in py.items():
        if name == "torch":
            continue
        assert str(env[name].specifier) == str(req.specifier), f"{name}: {env[name]} vs {req}"


def test_torch_pin_satisfies_the_pyproject_range():
    py = _pyproject_requirements()["torch"]
    env = _environment_pip_requirements()["torch"]
    pins = [s for s in env.specifier if s.operator == "=="]
    assert len(pins) == 1, f"environment.yml must pin torch exactly; got {env}"
    assert py.specifier.contains(pins[0].version), f"torch {pins[0].version} is outside pyproject's {py.specifier}"
    # the Makefile installs the same pinned torch first
    assert f'"torch=={pins[0].version}"' in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_ci_runs_make_test_and_nothing_else():
    ci = ROOT / ".ci" / "run"
    assert ci.is_file()
    assert ci.stat().st_mode & 0o111, ".ci/run must be executable"
    text = ci.read_text(encoding="utf-8")
    assert text.startswith("#!")
    commands = [l.strip() for l in text.splitlines()[1:] if l.strip() and not l.strip().startswith("#")]
    setup = [c for c in commands if re.fullmatch(r"set -[euxo pipefail]+|cd .*", c)]
    rest = [c for c in commands if c not in setup]
    assert rest == ["make test"], f".ci/run must run `make test` and nothing else; runs {rest}"


def _make_targets() -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    current = None
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.$()/-]+)\s*:(?!=)", line)
        if m:
            current = m.group(1)
            targets[current] = []
        elif line.startswith("\t") and current:
            targets[current].append(line.strip())
        elif line.strip() and not line.startswith("#"):
            current = None
    return targets


def test_makefile_demo_and_test_targets():
    targets = _make_targets()
    assert "demo" in targets and "test" in targets
    assert any("verbatim demo" in c for c in targets["demo"])
    assert any("pytest" in c for c in targets["test"])
    phony = re.search(r"^\.PHONY:(.*)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert phony and {"demo", "test"} <= set(phony.group(1).split())


def test_console_script_is_declared():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["scripts"]["verbatim"] == "verbatim.cli:main"
    markers = " ".join(data["tool"]["pytest"]["ini_options"]["markers"])
    assert "shared_data" in markers
