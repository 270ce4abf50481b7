"""A small PII masker and the anonymity rule for the examples shown in the mirror report.

Masks e-mail addresses, phone numbers (French and international forms), IBANs
and person names introduced by a civility or written as "Prénom Nom" after
common cues ("avec", "par", "de la part de", "collègue"…). It is deliberately
conservative: a report shows few verbatims, and masking one word too many
costs nothing.
"""
from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_PHONE = re.compile(r"(?:(?:\+|00)\d{2,3}[\s.-]?|\b0)[1-9](?:[\s.-]?\d{2}){4}\b")
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+(?:-[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ]+)?"
_CIVIL = re.compile(rf"\b(?:M\.|Mr\.?|Mme|Mlle|Madame|Monsieur|Mademoiselle|Dr\.?)\s+{_NAME_WORD}(?:\s+{_NAME_WORD})?")
_CUE = re.compile(rf"\b(?:avec|par|de la part de|collègue|collègues|chef|responsable|conseill[eè]re?|"
                  rf"factrice|facteur|agent|guichetière|guichetier|manager)\s+({_NAME_WORD}(?:\s+{_NAME_WORD})?)\b")
_NAME_NAME = re.compile(rf"(?<![.!?]\s)(?<!^)\b{_NAME_WORD}\s+[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þa-zà-öø-ÿ]+\b")
_COMMON_CAPS = {"La", "Le", "Les", "Un", "Une", "Des", "Poste", "Bureau", "Service", "Client", "Colissimo",
                "Chronopost", "Paris", "Lyon", "Marseille", "France"}


def mask_pii(text: str) -> str:
    """``text`` with e-mails, IBANs, phone numbers and person names replaced by ``[email]``, ``[iban]``,
    ``[téléphone]``, ``[nom]``."""
    if not isinstance(text, str):
        return text
    out = _EMAIL.sub("[email]", text)
    out = _IBAN.sub("[iban]", out)
    out = _PHONE.sub("[téléphone]", out)
    out = _CIVIL.sub("[nom]", out)
    out = _CUE.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + "[nom]", out)

    def _pair(m: re.Match) -> str:
        first = m.group(0).split()[0]
        return m.group(0) if first in _COMMON_CAPS else "[nom]"

    return _NAME_NAME.sub(_pair, out)
