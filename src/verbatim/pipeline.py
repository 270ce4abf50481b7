"""The fitted pipeline: segment → embed → topics per source, saved as one artefact folder.

>>> pipe = Pipeline(load_config("verbatim.toml")).fit(["clients.parquet", "postiers.parquet"])
>>> pipe.topics_                      # one table, every source
>>> pipe.bertopic("customer").visualize_barchart()
>>> pipe.save("models/run1"); Pipeline.load("models/run1")
"""
from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .artefact import (REFIT, check_replaceable, file_fingerprint, kept_on_refit, new_manifest, read_manifest, read_part,
                       write_manifest)
from .config import Config, from_saved, to_dict
from .daskpool import DaskPool
from .embed import EmbedStats, Embedder, embed_texts, get_embedder
from .errors import ArtefactError, ConfigError, EmbedderError, InputFileError
from .fileio import atomic_dir
from .ingest import read_verbatims
from .paths import cache_dir
from .segment import segment
from .textprep import encoder_input
from .topics import SourceTopicModel, fit_topics, load_bertopic, preload_bertopic, verbatim_topics
from .polarity import PolarityModel
from .rates import rate_tables

log = logging.getLogger("verbatim")


#: columns `fit` needs in every verbatim table
REQUIRED = ("id", "source", "text")


def load_inputs(inputs: Sequence[str | Path | pd.DataFrame]) -> tuple[pd.DataFrame, list[dict]]:
    """Concatenate verbatim tables (Parquet paths from ``verbatim ingest`` or DataFrames)."""
    frames, prints = [], []
    for item in inputs:
        if isinstance(item, pd.DataFrame):
            df = item
            missing = [c for c in REQUIRED if c not in df.columns]
            if missing:
                raise InputFileError(f"the DataFrame given to fit lacks column(s) {', '.join(missing)}; it needs "
                                     f"{', '.join(REQUIRED)} (the table `verbatim.ingest.ingest(...).verbatims` gives)")
            prints.append({"path": "(DataFrame)", "rows": len(df)})
        elif isinstance(item, (str, Path)):
            df = read_verbatims(item)
            prints.append({**file_fingerprint(item), "rows": len(df)})
        else:
            raise InputFileError(f"fit takes Parquet paths or DataFrames; got a {type(item).__name__}")
        frames.append(df)
    if not frames:
        raise InputFileError("no input: give at least one verbatim table (the Parquet output of `verbatim ingest`)")
    if not sum(len(f) for f in frames):
        names = ", ".join(str(i) if not isinstance(i, pd.DataFrame) else "(DataFrame)" for i in inputs)
        raise InputFileError(f"no verbatims to fit: {names} hold 0 rows; check the rejects file `verbatim ingest` "
                             f"wrote beside each")
    allv = pd.concat([f for f in frames if len(f)], ignore_index=True)
    empty = allv["text"].isna() | (allv["text"].astype(str).str.strip() == "")
    if empty.any():
        raise InputFileError(f"{int(empty.sum())} verbatim(s) have no text; run the files through `verbatim ingest`")
    nosource = allv["source"].isna() | (allv["source"].astype(str).str.strip() == "")
    if nosource.any():
        raise InputFileError(f"{int(nosource.sum())} verbatim(s) have no source; run the files through `verbatim ingest`")
    if allv["id"].duplicated().any():
        n = int(allv["id"].duplicated().sum())
        log.warning("%d verbatim id(s) repeat across inputs; prefixed with their source to keep them apart", n)
        allv["id"] = allv["source"].astype(str) + ":" + allv["id"].astype(str)
        if allv["id"].duplicated().any():
            raise InputFileError("verbatim ids repeat within one source across inputs; ingest the files together "
                                 "(`verbatim ingest A B -o all.parquet`) so duplicates are merged")
    return allv, prints


def check_topic_count(segments: pd.DataFrame, n_topics) -> None:
    """A fixed number of topics must leave at least two segments per topic in every source."""
    if n_topics == "auto":
        return
    sizes = segments["source"].value_counts()
    small = sizes[sizes < 2 * n_topics]
    if len(small):
        src, k = small.index[0], int(small.iloc[0])
        raise ConfigError(f"topics.n_topics = {n_topics} asks for more topics than source '{src}' can hold "
                          f"({k} segments, at least 2 per topic): give at most {max(1, k // 2)} or 'auto'")


class Pipeline:
    """A verbatim pipeline; estimator rules: ``__init__`` stores, ``fit`` returns self, fitted state ends in ``_``.

    ``dask``: ``local:N`` or ``tcp://host:port`` encodes the segments on Dask workers
    (:mod:`verbatim.daskpool`) instead of this machine's processes; the vectors, the cache and the fitted
    pipeline are the same."""

    def __init__(self, config: Config | None = None, embedder: str | Embedder | None = None,
                 cache: str | Path | None | bool = True, dask: str | None = None):
        self.config = config
        self.embedder = embedder
        self.cache = cache
        self.dask = dask

    # -- fitting -------------------------------------------------------------------------------
    def _cache_root(self) -> Path | None:
        cfg = self.config or Config()
        if self.cache is False or not cfg.embed.cache:
            return None
        return cache_dir() if self.cache is True or self.cache is None else Path(self.cache)

    def fit(self, inputs: Sequence[str | Path | pd.DataFrame] | pd.DataFrame) -> "Pipeline":
        cfg = self.config or Config()
        pool = DaskPool(self.dask) if self.dask is not None else None  # a bad spec fails before any work
        if isinstance(inputs, pd.DataFrame):
            inputs = [inputs]
        verbatims, prints = load_inputs(inputs)
        spec = self.embedder if self.embedder is not None else cfg.embed.embedder
        try:
            embedder = get_embedder(spec)
        except ValueError as ex:  # a constructor refusing its arguments (e5-rebuilt:bogus)
            raise EmbedderError(f"embedder '{spec}' cannot be built: {ex}") from None
        self._embedder = embedder
        segments = segment(verbatims, cfg.segment)
        log.info("%d verbatims → %d segments (%s)", len(verbatims), len(segments), cfg.segment.mode)
        check_topic_count(segments, cfg.topics.n_topics)
        stats = EmbedStats()
        root = self._cache_root()
        with pool if pool is not None else contextlib.nullcontext():  # the workers go once the segments are encoded
            emb = embed_texts(encoder_input(segments["text"], cfg.embed), embedder, root,
                              batch_size=cfg.embed.batch_size, stats=stats, workers=cfg.embed.workers,
                              while_encoding=preload_bertopic, pool=pool)

        def embed_fn(texts):
            return embed_texts(encoder_input(texts, cfg.embed), embedder, root, batch_size=cfg.embed.batch_size)

        # polarity first: irritant probability per segment; topics are then found on each side of it
        self.polarity_ = PolarityModel(cfg.polarity).fit(segments, emb, embed_fn=embed_fn)
        # the side a segment's topic is found on is the full classifier's call (what `score` reproduces);
        # the irritant probability that rates, drivers and the mirror read is cross-fitted
        p_model = self.polarity_.predict_proba(segments, emb)
        side = p_model >= cfg.polarity.threshold
        segments = segments.assign(irritant_p=self.polarity_.fit_proba(segments, emb), irritant_p_model=p_model)
        segments["irritant"] = segments["irritant_p"] >= cfg.polarity.threshold
        # the stability refits' subsamples are a fixed hash of the respondents, like every other draw of the fit:
        # the seed drives only the mirror's permutations and bootstraps
        models, segs, table = fit_topics(segments, emb, cfg.topics, embed_fn=embed_fn, sides=side,
                                         privacy=cfg.privacy)
        verbatims = verbatims.assign(irritant_p=verbatims["id"].astype(str).map(
            self.polarity_.verbatim_proba(segs, emb)))
        self.rates_ = rate_tables(segs, cfg.polarity.period)
        self.verbatims_ = verbatims
        self.segments_ = segs
        self.topics_ = table
        self.models_ = models
        self.embeddings_ = emb
        self.embedder_id_ = embedder.id
        self.embed_stats_ = stats
        counts = {}
        for source, m in models.items():
            s = segs[segs["source"] == source]
            counts[source] = {"verbatims": int((verbatims["source"] == source).sum()), "segments": len(s),
                              "topics": int(len(m.topic_ids_)), "outliers": int((s["topic"] < 0).sum())}
        self.manifest_ = new_manifest(embedder=embedder.id, embedding_dim=int(emb.shape[1]), seed=cfg.seed,
                                      config=to_dict(cfg), inputs=prints, counts=counts,
                                      embedding_stats=stats.__dict__, polarity=self.polarity_.report_)
        return self

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` (prepared as segments are) with the pipeline's encoder and cache: what the
        mirror's named hypotheses and the taxonomy embed their examples with."""
        cfg = self.config or Config()
        embedder = getattr(self, "_embedder", None)
        if embedder is None:
            spec = self.embedder if self.embedder is not None else cfg.embed.embedder
            embedder = self._embedder = get_embedder(spec)
        return embed_texts(encoder_input(list(texts), cfg.embed), embedder, self._cache_root(),
                           batch_size=cfg.embed.batch_size)

    def verbatim_topics(self) -> pd.DataFrame:
        """Each verbatim's topics (the union of its segments' topics)."""
        self._check()
        return verbatim_topics(self.segments_)

    def bertopic(self, source: str):
        """The fitted BERTopic object of ``source`` (loaded from disk on first use after ``load``)."""
        self._check()
        if source not in self.models_:
            raise ArtefactError(f"no topic model for source '{source}'; sources: {', '.join(self.models_)}")
        m = self.models_[source]
        if not hasattr(m, "bertopic_"):
            m.bertopic_ = read_part(self.path_ / "sources" / source / "bertopic", load_bertopic)
        return m.bertopic_

    def _check(self) -> None:
        if not hasattr(self, "segments_"):
            raise ArtefactError("this pipeline is not fitted; call fit() or Pipeline.load(path)")

    # -- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the artefact folder atomically (a crash leaves the old one, or nothing).

        ``path`` may be new, empty, or an artefact of verbatim holding only what verbatim wrote; any
        other folder is refused, and so is a folder holding one of the inputs (:class:`OutputError`)."""
        from safetensors.numpy import save_file

        self._check()
        path = Path(path)
        check_replaceable(path, [p.get("path") for p in self.manifest_.get("inputs", [])])
        kept = kept_on_refit(path)  # the user's hidden files (.git, notes) and the digest history stay
        if kept:
            log.info("keeping %s in %s", ", ".join(kept), path)
        with atomic_dir(path, keep=kept) as tmp:
            self.verbatims_.to_parquet(tmp / "verbatims.parquet", index=False)
            self.segments_.to_parquet(tmp / "segments.parquet", index=False)
            self.topics_.to_parquet(tmp / "topics.parquet", index=False)
            # float32, as fitted: a float16 copy made `demo` (in memory) and a reload give different answers
            save_file({"segments": np.ascontiguousarray(self.embeddings_, dtype=np.float32)},
                      str(tmp / "embeddings.safetensors"))
            for source, m in self.models_.items():
                m.save(tmp / "sources" / source)
            if hasattr(self, "polarity_"):
                self.polarity_.save(tmp / "polarity")
                (tmp / "rates").mkdir()
                for name, t in self.rates_.items():
                    t.to_parquet(tmp / "rates" / f"{name}.parquet", index=False)
            (tmp / "config.json").write_text(json.dumps(self.manifest_["config"], indent=2, ensure_ascii=False),
                                             encoding="utf-8")
            manifest = {k: v for k, v in self.manifest_.items() if k != "added"}
            manifest["files"] = sorted([p.name for p in tmp.iterdir()] + ["manifest.json"])
            write_manifest(tmp, manifest)
        self.manifest_ = manifest
        self.path_ = path
        log.info("saved pipeline to %s", path)
        return path

    @classmethod
    def load(cls, path: str | Path, embedder_id: str | None = None) -> "Pipeline":
        """Load a saved pipeline (BERTopic objects load lazily through :meth:`bertopic`).

        A damaged or incomplete artefact is refused with an :class:`ArtefactError` naming the file."""
        from safetensors.numpy import load_file

        path = Path(path)
        manifest = read_manifest(path, embedder_id)
        cfg = read_part(path / "manifest.json", lambda p: from_saved(manifest["config"]))
        self = cls(cfg, embedder=manifest["embedder"])
        for name, cols in (("verbatims", ("id", "source", "text")),
                           ("segments", ("id", "source", "text", "topic")),
                           ("topics", ("source", "topic"))):
            file = path / f"{name}.parquet"
            df = read_part(file, pd.read_parquet)
            missing = [c for c in cols if c not in df.columns]
            if missing:
                raise ArtefactError(f"'{file}' is damaged (no column {', '.join(missing)}); {REFIT}")
            setattr(self, f"{name}_", df)
        file = path / "embeddings.safetensors"
        emb = read_part(file, lambda p: load_file(str(p))["segments"])
        if emb.ndim != 2 or len(emb) != len(self.segments_):
            raise ArtefactError(f"'{file}' is damaged ({emb.shape[0] if emb.ndim else 0} vectors for "
                                f"{len(self.segments_)} segments); {REFIT}")
        self.embeddings_ = emb.astype(np.float32)
        self.models_ = {s: read_part(path / "sources" / s, SourceTopicModel.load) for s in manifest["counts"]}
        if (path / "polarity").is_dir():
            self.polarity_ = read_part(path / "polarity", PolarityModel.load)
            self.rates_ = {p.stem: read_part(p, pd.read_parquet)
                           for p in sorted((path / "rates").glob("*.parquet"))}
        self.embedder_id_ = manifest["embedder"]
        self.manifest_ = manifest
        self.path_ = path
        return self
