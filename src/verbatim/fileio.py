"""Atomic writes and spreadsheet-safe CSV."""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from .errors import OutputError


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


def _prepare(path: Path, what: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as ex:
        raise OutputError(f"cannot create the folder of {what} '{path}' ({ex.strerror}); choose another output path") from None
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"cannot write {what} '{path}': its folder is not writable; choose another output path")
    if path.is_dir() and what == "file":
        raise OutputError(f"cannot write file '{path}': a folder has that name; choose another output path")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """Prefix a quote to text a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def _os_error(ex: OSError, what: str, path: Path) -> OutputError:
    """A write that failed (disk full, read-only or virtual file system, permissions) as one line."""
    reason = ex.strerror or str(ex) or type(ex).__name__
    hint = "free some space or choose another output path" if ex.errno == errno.ENOSPC else "choose another output path"
    return OutputError(f"cannot write {what} '{path}' ({reason}); {hint}")


def _tmp_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def clean_leftovers(path: Path, folder: bool = False) -> None:
    """Remove the temporary files and folders a killed write of ``path`` left beside it
    (``.<name>.<pid>.*.tmp`` of a process that no longer runs); for a ``folder``, put back an old
    folder that a kill between the two renames of :func:`atomic_dir` left as ``.<name>.old``."""
    path = Path(path)
    try:
        for p in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            parts = p.name[len(path.name) + 2:].split(".")
            if parts and parts[0].isdigit() and not _alive(int(parts[0])):
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        old = path.with_name(f".{path.name}.old")
        if folder and old.is_dir():
            if not path.exists():
                os.replace(old, path)  # the kill came after the old folder moved aside: it is the latest
            else:
                shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass  # best effort: never fail a write for the litter of an earlier one


def _public(folder: Path) -> None:
    """Usual permissions (umask) for everything under ``folder``: mkstemp/mkdtemp and some writers
    (safetensors) create 0600 files and 0700 folders."""
    mask = _umask()
    for root, dirs, files in os.walk(folder):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o777 & ~mask)
        for f in files:
            os.chmod(os.path.join(root, f), 0o666 & ~mask)
    os.chmod(folder, 0o777 & ~mask)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    _prepare(path, "file")
    clean_leftovers(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(path), suffix=".tmp", dir=path.parent)
    except OSError as ex:
        raise _os_error(ex, "file", path) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
            os.replace(tmp_path, path)
        except OSError as ex:
            raise _os_error(ex, "file", path) from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _move_entries(src: Path, dst: Path, names: list[str]) -> list[str]:
    """Move the entries ``names`` of folder ``src`` into ``dst`` (renames: nothing is copied); returns
    those moved."""
    moved = []
    for name in names:
        if (src / name).exists() or (src / name).is_symlink():
            os.replace(src / name, dst / name)
            moved.append(name)
    return moved


@contextlib.contextmanager
def atomic_dir(path: str | Path, keep: list[str] = ()) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it becomes ``path`` (replacing an old one) on success.

    The entries ``keep`` of the old folder move into the new one (a failed replacement moves them back).
    The caller decides whether an existing ``path`` may be replaced (see
    :func:`verbatim.artefact.check_replaceable`)."""
    path = Path(path)
    _prepare(path, "folder")
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot write folder '{path}': a file has that name; choose another output path")
    clean_leftovers(path, folder=True)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=_tmp_prefix(path), suffix=".tmp", dir=path.parent))
    except OSError as ex:
        raise _os_error(ex, "folder", path) from None
    try:
        try:
            yield tmp
            _public(tmp)
            names = [k for k in keep if not (tmp / k).exists()]
            try:
                _move_entries(path, tmp, names)
                _swap(tmp, path)
            except OSError:
                _move_entries(tmp, path, names)  # the old folder is still in place: what it kept goes back
                raise
        except OSError as ex:
            raise _os_error(ex, "folder", path) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap(new: Path, path: Path) -> None:
    """``new`` becomes ``path``; the old ``path`` is deleted once replaced (put back if the second rename fails)."""
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(path, old)
    try:
        os.replace(new, path)
    except OSError:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class OutputSet:
    """Files staged in hidden folders beside their targets, moved into place together by
    :func:`output_set` once every one of them is written (a failure leaves the old set untouched)."""

    def __init__(self) -> None:
        self.staged: dict[Path, Path] = {}  # target → staged file
        self._stages: dict[Path, Path] = {}  # target folder → stage folder

    def stage(self, target: str | Path) -> Path:
        """The path to write ``target`` to."""
        target = Path(target)
        _prepare(target, "file")
        folder = target.parent
        if folder not in self._stages:
            clean_leftovers(folder / ".verbatim-out")
            try:
                self._stages[folder] = Path(tempfile.mkdtemp(prefix=_tmp_prefix(folder / ".verbatim-out"),
                                                             suffix=".tmp", dir=folder))
            except OSError as ex:
                raise _os_error(ex, "file", target) from None
        self.staged[target] = self._stages[folder] / target.name
        return self.staged[target]

    def add(self, target: str | Path, writer: Callable[[Path], object]) -> Path:
        """Write ``target`` (staged) with ``writer(path)``; returns ``target``."""
        staged = self.stage(target)
        try:
            writer(staged)
        except OSError as ex:
            raise _os_error(ex, "file", Path(target)) from None
        return Path(target)

    def _commit(self) -> None:
        from .artefact import stage_additions

        stage_additions(self)  # what lands in an artefact folder is recorded in its manifest
        try:
            for stage in self._stages.values():
                _public(stage)
            manifests = [t for t in self.staged if t.name == "manifest.json"]
            for target in [t for t in self.staged if t not in manifests] + manifests:  # the manifest last
                os.replace(self.staged[target], target)
        except OSError as ex:
            raise _os_error(ex, "file", target) from None

    def _cleanup(self) -> None:
        for stage in self._stages.values():
            shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def output_set() -> Iterator[OutputSet]:
    """Write several outputs as a set: ``with output_set() as out: write_csv(df, out.stage(path))``."""
    s = OutputSet()
    try:
        yield s
        s._commit()
    finally:
        s._cleanup()


def write_csv(df: pd.DataFrame, path: str | Path, safe: bool = True) -> Path:
    """UTF-8 CSV with RFC 4180 line ends: ``\r\n`` makes the writer quote a field holding a lone
    ``\r`` too (with ``\n`` alone such a field would split its row when read back)."""
    with atomic_path(path) as tmp:
        (safe_csv_frame(df) if safe else df).to_csv(tmp, index=False, encoding="utf-8", lineterminator="\r\n")
    return Path(path)


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def write_text(text: str, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def with_suffix_name(path: Path, new: str) -> Path:
    """``out/clients.parquet`` → ``out/clients<new>`` (e.g. ``.rejects.csv``)."""
    name = path.name
    for ext in (".parquet", ".csv", ".pq"):
        if name.endswith(ext):
            name = name[: -len(ext)]
            break
    return path.with_name(name + new)


def call_atomically(path: str | Path, writer: Callable[[Path], None]) -> Path:
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)
