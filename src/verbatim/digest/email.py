"""Delivery: one e-mail per manager (HTML with a plain-text alternative), over SMTP or as ``.eml`` files.

The SMTP host, port and STARTTLS come from ``[email]`` (or the command line); the login and password only
from the environment variables ``VERBATIM_SMTP_USER`` and ``VERBATIM_SMTP_PASSWORD``.

>>> recipients = read_recipients("managers.csv")          # columns unit, email (and optional name)
>>> msg = build_message(digest, to="chef@exemple.fr", sender="verbatim@exemple.fr")
>>> send_messages([msg], EmailConfig(host="smtp.exemple.fr", port=587))
"""
from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..config import EmailConfig
from ..errors import InputFileError, VerbatimError, show
from ..fileio import atomic_path
from .render import one_line

log = logging.getLogger("verbatim")

USER_ENV, PASSWORD_ENV = "VERBATIM_SMTP_USER", "VERBATIM_SMTP_PASSWORD"
_EMAIL = re.compile(r"^[^@\s<>,;\"()]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$")


class EmailError(VerbatimError):
    """An e-mail cannot be built or sent (bad address, SMTP server unreachable or refusing)."""


def check_address(addr: str, where: str) -> str:
    addr = str(addr).strip()
    if not _EMAIL.match(addr):
        raise EmailError(f"{where}: '{show(addr)}' is not an e-mail address")
    return addr


def read_recipients(path: str | Path) -> pd.DataFrame:
    """The recipients file: CSV (``,`` or ``;``) with columns ``unit`` and ``email`` (``name`` optional).
    One row per unit; a manager with several units gets one e-mail for all of them."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"recipients file '{p}' does not exist; give a CSV with columns unit,email")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"recipients file '{p}' is not UTF-8 text; save it as UTF-8") from None
    sep = ";" if text.split("\n", 1)[0].count(";") > text.split("\n", 1)[0].count(",") else ","
    import io

    df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    df.columns = [c.strip().casefold() for c in df.columns]
    for col in ("unit", "email"):
        if col not in df:
            raise InputFileError(f"recipients file '{p}' has no '{col}' column; columns: "
                                 f"{', '.join(map(show, df.columns))} (expected unit,email)")
    df["unit"] = df["unit"].str.strip()
    df["email"] = df["email"].str.strip()
    for i, r in df.iterrows():
        if not r["unit"]:
            raise InputFileError(f"recipients file '{p}', row {i + 2}: the unit is empty")
        check_address(r["email"], f"recipients file '{p}', row {i + 2}")
    if "name" not in df:
        df["name"] = ""
    return df[["unit", "email", "name"]]


def build_message(digest, to: str, sender: str, name: str = "") -> EmailMessage:
    """The e-mail of a fitted digest: UTF-8 subject, a text/plain part and its text/html alternative."""
    to = check_address(to, "recipient")
    sender = check_address(sender, "sender")
    msg = EmailMessage()
    msg["Subject"] = one_line(digest.subject())
    msg["From"] = sender
    local, domain = to.rsplit("@", 1)
    msg["To"] = Address(display_name=one_line(name), username=local, domain=domain) if name else to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[1])
    msg["Content-Language"] = digest.lang_
    msg.set_content(digest.to_text(), subtype="plain", charset="utf-8")
    msg.add_alternative(digest.to_html(), subtype="html", charset="utf-8")
    return msg


def write_eml(msg: EmailMessage, path: str | Path) -> Path:
    """Write ``msg`` as an ``.eml`` file (what ``--dry-run`` does instead of sending)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(bytes(msg))
    return Path(path)


def _credentials() -> tuple[str | None, str | None]:
    """The SMTP login and password from the environment; SMTP sends them as ASCII (smtplib's AUTH), so
    other characters are refused here, naming the variable and never any character of its value."""
    user, password = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV)
    for name, value in ((USER_ENV, user), (PASSWORD_ENV, password)):
        if value is not None and not value.isascii():
            raise EmailError(f"{name} holds characters other than ASCII (accents, symbols), which the SMTP login "
                             f"cannot send; set an ASCII login and password for the server")
    return user, password


def send_messages(messages: Iterable[EmailMessage], config: EmailConfig | None = None,
                  on_sent=None) -> int:
    """Send over one SMTP connection; ``on_sent(msg)`` is called after each accepted message."""
    config = config or EmailConfig()
    user, password = _credentials()
    n = 0
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if config.starttls:
                if not smtp.has_extn("starttls"):
                    raise EmailError(f"SMTP server {config.host}:{config.port} does not offer STARTTLS; use a server "
                                     f"that does, or --no-starttls on a trusted local relay")
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if user:
                if password is None:
                    raise EmailError(f"{USER_ENV} is set but {PASSWORD_ENV} is not; set both, or neither")
                smtp.login(user, password)
            for msg in messages:
                smtp.send_message(msg)
                n += 1
                log.info("sent '%s' to %s", msg["Subject"], msg["To"])
                if on_sent is not None:
                    on_sent(msg)
    except EmailError:
        raise
    except smtplib.SMTPAuthenticationError as ex:
        raise EmailError(f"SMTP server {config.host}:{config.port} refused the login in {USER_ENV} "
                         f"({ex.smtp_code}); check {USER_ENV} and {PASSWORD_ENV}") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as ex:
        raise EmailError(f"cannot send through SMTP server {config.host}:{config.port} ({type(ex).__name__}: "
                         f"{' '.join(str(ex).split())}); {n} e-mail(s) were sent before") from None
    return n
