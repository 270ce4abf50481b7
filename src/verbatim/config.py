"""One validated, frozen configuration, loadable from TOML and overridable.

``Config`` holds a section per stage. Every choice is a ``Literal`` whose
valid values are read with :func:`typing.get_args` for error messages
("X must be one of …; got …"). Nothing here touches the file system except
:func:`load_config`, and only when called.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, Mapping

from .errors import ConfigError, UnknownSource, did_you_mean

TextMode = Literal["combine", "split"]
DateOrder = Literal["auto", "dayfirst", "monthfirst"]
FileFormat = Literal["auto", "csv", "xlsx", "parquet", "json", "jsonl"]

DEFAULT_SOURCES = ("customer", "employee")
#: French and English words users write for the two default sources.
SOURCE_ALIASES = {
    "client": "customer", "clients": "customer", "customers": "customer",
    "employe": "employee", "employes": "employee", "employé": "employee",
    "employés": "employee", "employees": "employee", "salarie": "employee",
    "salarié": "employee", "salariés": "employee", "collaborateur": "employee",
    "collaborateurs": "employee", "staff": "employee", "postier": "employee",
    "postiers": "employee",
}
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _check_literal(section: str, name: str, value: Any, tp: Any) -> None:
    allowed = typing.get_args(tp)
    if value not in allowed:
        raise ConfigError(
            f"{section}.{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}"
        )


def _check_positive(section: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{section}.{name} must be a positive integer; got {value!r}")


@dataclass(frozen=True)
class TextField:
    """One text column; ``tag`` names it when columns are split into verbatims."""

    column: str
    tag: str | None = None

    @classmethod
    def parse(cls, spec: "str | TextField | Mapping[str, Any]") -> "TextField":
        """``"cons"``, ``"review_disadvantages:cons"`` or ``{column=…, tag=…}``."""
        if isinstance(spec, TextField):
            return spec
        if isinstance(spec, Mapping):
            unknown = set(spec) - {"column", "tag"}
            if unknown or "column" not in spec:
                raise ConfigError(
                    f"a text entry must be a column name or {{column = …, tag = …}}; got {dict(spec)!r}"
                )
            return cls(str(spec["column"]), spec.get("tag"))
        spec = str(spec)
        # "col:tag" — but a column name may itself contain ':' (rare); the last ':' splits.
        if ":" in spec:
            col, tag = spec.rsplit(":", 1)
            if col and tag:
                return cls(col, tag)
        return cls(spec, None)

    @property
    def label(self) -> str:
        return self.tag or self.column


@dataclass(frozen=True)
class FileSpec:
    """How to read one input file and map its columns to the verbatim contract."""

    path: str
    text: tuple[TextField, ...]
    source: str | None = None
    source_column: str | None = None
    id: str | None = None
    date: str | None = None
    unit: str | None = None
    score: str | None = None
    channel: str | None = None
    text_mode: TextMode = "split"
    format: FileFormat = "auto"
    sheet: str | int | None = None
    records: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", tuple(TextField.parse(t) for t in self.text))
        where = f"file '{self.path}'"
        if not self.text:
            raise ConfigError(f"{where}: no text column given; name one with --text COLUMN or text = [\"COLUMN\"]")
        if (self.source is None) == (self.source_column is None):
            raise ConfigError(
                f"{where}: give exactly one of source (a label such as 'customer') or source_column"
            )
        _check_literal(where, "text_mode", self.text_mode, TextMode)
        _check_literal(where, "format", self.format, FileFormat)
        if self.delimiter is not None and self.delimiter not in (",", ";", "\t", "|"):
            raise ConfigError(f"{where}: delimiter must be one of ',', ';', '\\t', '|'; got {self.delimiter!r}")


@dataclass(frozen=True)
class IngestConfig:
    """Rules applied to every ingested file."""

    sources: tuple[str, ...] = DEFAULT_SOURCES
    date_required: bool = False
    date_order: DateOrder = "auto"
    max_text_chars: int = 10_000
    negative_tags: tuple[str, ...] = ("cons", "negative", "négatif", "negatif", "irritant", "irritants")
    positive_tags: tuple[str, ...] = ("pros", "positive", "positif")
    files: tuple[FileSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "negative_tags", tuple(self.negative_tags))
        object.__setattr__(self, "positive_tags", tuple(self.positive_tags))
        for s in self.sources:
            if not isinstance(s, str) or not _SOURCE_NAME.match(s):
                raise ConfigError(
                    f"ingest.sources entries must be lowercase names (letters, digits, '-', '_'); got {s!r}"
                )
        _check_literal("ingest", "date_order", self.date_order, DateOrder)
        _check_positive("ingest", "max_text_chars", self.max_text_chars)
        files = tuple(f if isinstance(f, FileSpec) else _filespec(f) for f in self.files)
        object.__setattr__(self, "files", files)

    def canonical_source(self, label: str) -> str:
        """Map a user's label to a configured source, or raise :class:`UnknownSource`."""
        raw = str(label).strip()
        key = raw.casefold()
        key = SOURCE_ALIASES.get(key, key)
        if key in self.sources:
            return key
        raise UnknownSource(
            f"source '{raw}' is not a known source; known: {', '.join(self.sources)}"
            f"{did_you_mean(raw, self.sources)}. To compare another group, declare it with "
            f"--allow-source {key if _SOURCE_NAME.match(key) else 'NAME'} or sources = [...] in [ingest]"
        )


@dataclass(frozen=True)
class Config:
    """The whole configuration. Sections are added stage by stage."""

    seed: int = 42
    ingest: IngestConfig = field(default_factory=IngestConfig)

    def with_overrides(self, **sections: Mapping[str, Any]) -> "Config":
        """A copy with some values replaced, e.g. ``cfg.with_overrides(ingest={"date_required": True})``."""
        return from_dict(_merge(to_dict(self), sections))


def _filespec(d: Mapping[str, Any]) -> FileSpec:
    if not isinstance(d, Mapping):
        raise ConfigError(f"each [[ingest.files]] entry must be a table; got {d!r}")
    d = dict(d)
    known = {f.name for f in fields(FileSpec)}
    unknown = set(d) - known
    if unknown:
        bad = sorted(unknown)[0]
        raise ConfigError(
            f"[[ingest.files]] has an unknown key '{bad}'{did_you_mean(bad, known)}; "
            f"known keys: {', '.join(sorted(known))}"
        )
    if "path" not in d or "text" not in d:
        raise ConfigError(f"each [[ingest.files]] entry needs path and text; got keys {sorted(d)}")
    if isinstance(d["text"], (str, Mapping)):
        d["text"] = [d["text"]]
    d["text"] = tuple(d["text"])
    return FileSpec(**d)


def _section(cls: type, name: str, d: Any) -> Any:
    if isinstance(d, cls):
        return d
    if not isinstance(d, Mapping):
        raise ConfigError(f"[{name}] must be a table; got {d!r}")
    known = {f.name for f in fields(cls)}
    for key in d:
        if key not in known:
            raise ConfigError(
                f"[{name}] has an unknown key '{key}'{did_you_mean(key, known)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
    types = typing.get_type_hints(cls)
    out = {}
    for key, value in d.items():
        tp = types[key]
        origin = typing.get_origin(tp)
        if origin is tuple and isinstance(value, list):
            value = tuple(value)
        if tp is bool and not isinstance(value, bool):
            raise ConfigError(f"{name}.{key} must be true or false; got {value!r}")
        if tp in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ConfigError(f"{name}.{key} must be a number; got {value!r}")
        out[key] = value
    return cls(**out)


#: section name → dataclass; later stages register theirs here.
SECTIONS: dict[str, type] = {"ingest": IngestConfig}


def from_dict(d: Mapping[str, Any]) -> Config:
    """Build a validated :class:`Config` from plain data (as read from TOML)."""
    d = dict(d)
    top = {f.name for f in fields(Config)}
    for key in d:
        if key not in top:
            raise ConfigError(f"unknown configuration key '{key}'{did_you_mean(key, top)}; known: {', '.join(sorted(top))}")
    kwargs: dict[str, Any] = {}
    if "seed" in d:
        seed = d["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer; got {seed!r}")
        kwargs["seed"] = seed
    for name, cls in SECTIONS.items():
        if name in d:
            kwargs[name] = _section(cls, name, d[name])
    return Config(**kwargs)


def to_dict(cfg: Any) -> Any:
    """Plain data (JSON/TOML-ready) for a config or any part of it."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in fields(cfg)}
    if isinstance(cfg, (tuple, list)):
        return [to_dict(v) for v in cfg]
    return cfg


def _merge(base: dict, over: Mapping[str, Any]) -> dict:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(path: str | Path | None = None, **overrides: Any) -> Config:
    """Read a TOML file (optional) and apply overrides; paths in ``[[ingest.files]]`` are
    resolved relative to the TOML file's folder."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file '{p}' does not exist; check the path given to --config")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as ex:
            raise ConfigError(f"config file '{p}' is not valid TOML: {ex}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file '{p}' is not UTF-8 text; save it as UTF-8") from None
        for f in data.get("ingest", {}).get("files", []) or []:
            if isinstance(f, dict) and "path" in f and not Path(f["path"]).is_absolute():
                f["path"] = str(p.parent / f["path"])
    return from_dict(_merge(data, overrides))


def replace_section(cfg: Config, name: str, **values: Any) -> Config:
    """``replace`` for one section, validated again."""
    return replace(cfg, **{name: replace(getattr(cfg, name), **values)})
