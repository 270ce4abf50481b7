"""The ``verbatim digest`` job: one digest to a file, one per unit to a folder, or one e-mail per manager.

>>> run_digest("models/sample", units=["Lyon Part-Dieu"], period="2025-Q4", output="reports/digest.html")
>>> run_digest("models/sample", all_units=True, period="2025-Q4", recipients="managers.csv", dry_run=True)

Returns one dict per digest written or sent (``message``: the line the CLI prints). What a meeting was
shown is recorded in the history after the digest was written or the e-mail accepted by the server
(never on a dry run, nor with ``record=False``).
"""
from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..config import Config
from ..errors import OutputError, show
from ..paths import project_dir
from . import EXTENSIONS, Digest, History, period_label, parse_period
from .email import build_message, read_recipients, send_messages, write_eml

log = logging.getLogger("verbatim")


SLUG_CHARS = 60


def _ascii(text: str) -> str:
    t = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in t if not unicodedata.combining(c))


def slug(text: str) -> str:
    """A readable file-name part: ASCII letters and digits, lowercase, ``-`` between words."""
    return re.sub(r"[^A-Za-z0-9]+", "-", _ascii(text)).strip("-").lower()[:SLUG_CHARS] or "x"


def _lossy(text: str) -> bool:
    """Whether :func:`slug` drops letters of ``text`` (non-Latin ones, or past its length)."""
    t = _ascii(text)
    return not t.strip() or any(c.isalnum() and not c.isascii() for c in t) \
        or len(re.sub(r"[^A-Za-z0-9]+", "-", t).strip("-")) > SLUG_CHARS


def file_names(keys: Iterable[str], among: Iterable[str] = ()) -> dict[str, str]:
    """A file-name part for each key, never the same for two keys: its :func:`slug`, followed by a short
    hash of the exact key when the slug drops letters or is the slug of another key of ``keys`` or
    ``among`` (``Case`` / ``case``, ``jean.dupont@`` / ``jean-dupont@``, two non-Latin names)."""
    keys = list(dict.fromkeys(map(str, keys)))
    everyone = list(dict.fromkeys(keys + [str(k) for k in among]))
    counts: dict[str, int] = {}
    for k in everyone:
        counts[slug(k)] = counts.get(slug(k), 0) + 1
    names = {k: slug(k) if counts[slug(k)] == 1 and not _lossy(k) else
             f"{slug(k)}-{hashlib.sha256(k.encode('utf-8')).hexdigest()[:10]}" for k in everyone}
    taken: dict[str, str] = {}
    for k, n in names.items():  # a readable name that is another key's hashed one (crafted): refuse
        if n in taken:
            raise OutputError(f"'{show(k)}' and '{show(taken[n])}' would both be written to a file named "
                              f"'{n}'; rename one of them")
        taken[n] = k
    return {k: names[k] for k in keys}


def run_digest(model_dir: str | Path, units: Iterable[str] = (), all_units: bool = False, period: str | None = None,
               fmt: str = "html", output: str | Path | None = None, lang: str | None = None, size: int | None = None,
               meeting: str | None = None, history: str | Path | None = None, record: bool = True,
               recipients: str | Path | None = None, dry_run: bool = False, email: dict | None = None,
               config: Config | None = None, now=None, pipeline=None) -> list[dict]:
    from ..pipeline import Pipeline

    pipe = pipeline if pipeline is not None else Pipeline.load(model_dir)
    base = config or getattr(pipe, "config", None) or Config()
    dcfg = replace(base.digest, size=size) if size is not None else base.digest
    ecfg = replace(base.email, **(email or {}))
    hist = History(history) if history else None
    label = period_label(parse_period(period))
    run_name = Path(model_dir).name
    ext = EXTENSIONS[fmt]
    all_known = sorted(pipe.verbatims_["unit"].dropna().astype(str).unique()) if "unit" in pipe.verbatims_ else []

    def make(us, name=None) -> Digest:
        return Digest(us, period, meeting=name, config=dcfg, privacy=base.privacy, history=hist, now=now,
                      lang=lang).fit(pipe)

    def done(d: Digest, what: str, target) -> dict:
        kept = f"{len(d.items_)} verbatims"
        held = int(d.withheld_.loc[d.withheld_["reason"] == "anonymity", "verbatims"].sum()) if len(d.withheld_) else 0
        extra = f", {held} withheld (anonymity)" if held else ""
        return {"meeting": d.meeting_, "period": d.period_label_, "items": len(d.items_), "withheld": held,
                "target": target, "digest": d, "message": f"{what} {target}: {d.meeting_}, {d.period_label_}: {kept}{extra}"}

    out: list[dict] = []
    if recipients:
        rec = read_recipients(recipients)
        folder = Path(output) if output else project_dir() / "reports" / run_name / "emails"
        missing = [u for u in all_known if u not in set(rec["unit"])]
        if missing:
            log.warning("no manager in %s for %d unit(s): %s", recipients, len(missing), ", ".join(missing))
        prepared = []
        names = file_names(rec["email"])
        for addr, g in rec.groupby("email", sort=False):
            d = make(tuple(dict.fromkeys(g["unit"])))
            msg = build_message(d, addr, ecfg.sender, name=next((n for n in g["name"] if n), ""))
            prepared.append((d, msg, addr))
        if dry_run:
            for d, msg, addr in prepared:
                path = write_eml(msg, folder / f"{names[addr]}-{slug(label)}.eml")
                out.append(done(d, "wrote", path))
            return out
        by_id = {id(msg): (d, addr) for d, msg, addr in prepared}

        def sent(msg) -> None:
            d, addr = by_id[id(msg)]
            if record:
                d.record()
            out.append(done(d, "sent to", addr))

        send_messages([m for _, m, _ in prepared], ecfg, on_sent=sent)
        return out
    if all_units:
        folder = Path(output) if output else project_dir() / "reports" / run_name
        names = file_names(all_known)
        for u in all_known:
            d = make((u,))
            path = d.save(folder / f"digest-{names[u]}-{slug(label)}.{ext}", fmt)
            if record:
                d.record()
            out.append(done(d, "wrote", path))
        return out
    d = make(tuple(units) or None, meeting)
    key = " + ".join(units)
    name = file_names([key], among=all_known)[key] if units else "all"
    path = Path(output) if output else project_dir() / "reports" / run_name / f"digest-{name}-{slug(label)}.{ext}"
    d.save(path, fmt)
    if record:
        d.record()
    out.append(done(d, "wrote", path))
    return out


def demo_digest(pipeline, model_dir: str | Path, out_dir: str | Path) -> dict:
    """The demo's digest: the office with the most verbatims, over the last quarter of the data, as HTML in
    ``out_dir`` (not recorded in the history, so the demo gives the same digest each time)."""
    v = pipeline.verbatims_
    office = str(v["unit"].value_counts().sort_index().idxmax())
    quarter = pd.to_datetime(v["date"]).max().to_period("Q")
    period = f"{quarter.year}-Q{quarter.quarter}"
    path = Path(out_dir) / f"digest-{slug(office)}-{slug(period)}.html"
    return run_digest(model_dir, units=[office], period=period, output=path, record=False, pipeline=pipeline)[0]
