"""Atomic writes and spreadsheet-safe CSV."""
from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    _prepare(path, "file")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; it becomes ``path`` (replacing an old one) on success."""
    path = Path(path)
    _prepare(path, "folder")
    if path.exists() and not path.is_dir():
        raise OutputError(f"cannot write folder '{path}': a file has that name; choose another output path")
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders
        old = None
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
        os.replace(tmp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


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
