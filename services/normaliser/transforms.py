"""Kept for existing callers: personal-data minimisation lives in :mod:`services.privacy`.

:func:`redact_bsn` and :func:`redact_entity` apply the default policy (every class masked:
e-mail addresses, Dutch phone numbers, IBANs and BSNs), no longer BSNs only.
"""

from __future__ import annotations

from connectors import Entity
from services.privacy import BSN_PLACEHOLDER, Minimiser, is_bsn, minimise_text

__all__ = ["BSN_PLACEHOLDER", "is_bsn", "redact_bsn", "redact_entity"]

_DEFAULT = Minimiser()


def redact_bsn(text: str) -> str:
    """``text`` minimised with the default policy (BSNs and the other classes masked)."""
    return minimise_text(text)


def redact_entity(entity: Entity) -> Entity:
    """The entity minimised with the default policy."""
    return _DEFAULT.entity(entity)
