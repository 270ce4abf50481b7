"""Moved: privacy is one module every output calls, :mod:`verbatim.privacy`. Kept so old imports work."""
from __future__ import annotations

from ..privacy import mask_label, mask_pii, shown_allowed

__all__ = ["mask_label", "mask_pii", "shown_allowed"]
