"""Transforms applied to every normalised entity: pure ``apply(entity) -> entity``.

:func:`redact_bsn` removes burgerservicenummers (9 digits passing the 11-proef) from free
text: AVG data minimisation means the unified feed and routed tickets carry no BSN.
"""

from __future__ import annotations

import re

from connectors import Entity
from schemas import Comment, ConfigurationItem, Incident

__all__ = ["BSN_PLACEHOLDER", "is_bsn", "redact_bsn", "redact_entity"]

BSN_PLACEHOLDER = "[BSN verwijderd]"
_NINE_DIGITS = re.compile(r"(?<![0-9])([0-9]{3})[ .-]?([0-9]{2})[ .-]?([0-9]{4})(?![0-9])")
_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, -1)
_NOT_DIGITS = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)


def _fewer_than_nine_digits(text: str) -> bool:
    """True when ``text`` holds fewer than nine ASCII digits, so no BSN can be in it.

    The cheap test in front of the regular expression (hot path): counting digits in C is
    about a tenth of the cost of scanning with the pattern, and most free text has few.
    """
    return len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_DIGITS)) < 9


def is_bsn(digits: str) -> bool:
    """True for nine digits that pass the 11-proef (and are not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    return sum(w * int(d) for w, d in zip(_WEIGHTS, digits, strict=True)) % 11 == 0


def _replace(match: re.Match[str]) -> str:
    return BSN_PLACEHOLDER if is_bsn("".join(match.groups())) else match.group(0)


def redact_bsn(text: str) -> str:
    """``text`` with every BSN (also written 123.45.6789 or 123 45 6789) replaced."""
    if len(text) < 9 or _fewer_than_nine_digits(text):
        return text
    return _NINE_DIGITS.sub(_replace, text)


def _redact_comments(comments: tuple[Comment, ...]) -> tuple[Comment, ...]:
    out = []
    for comment in comments:
        body = redact_bsn(comment.body)
        out.append(comment if body == comment.body else comment.model_copy(update={"body": body}))
    return tuple(out)


def redact_entity(entity: Entity) -> Entity:
    """The entity with BSNs removed from its free-text fields."""
    if isinstance(entity, ConfigurationItem):
        return entity
    texts = [entity.title, entity.description, *(c.body for c in entity.comments)]
    if isinstance(entity, Incident) and entity.resolution and entity.resolution.notes:
        texts.append(entity.resolution.notes)
    if _fewer_than_nine_digits("\n".join(texts)):  # no field can hold nine digits
        return entity
    update: dict[str, object] = {}
    title = redact_bsn(entity.title)
    if title != entity.title:
        update["title"] = title
    description = redact_bsn(entity.description)
    if description != entity.description:
        update["description"] = description
    if entity.comments:
        comments = _redact_comments(entity.comments)
        if comments != entity.comments:
            update["comments"] = comments
    if isinstance(entity, Incident) and entity.resolution and entity.resolution.notes:
        notes = redact_bsn(entity.resolution.notes)
        if notes != entity.resolution.notes:
            update["resolution"] = entity.resolution.model_copy(update={"notes": notes})
    return entity.model_copy(update=update) if update else entity
