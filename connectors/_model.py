"""The rules the common model implies, in one place for every connector.

- a priority comes from the supplier (its own priority, else the impact x urgency matrix);
  when the supplier gave neither, from the supplier's ``default_priority`` option, else it is
  unknown (``None``); :class:`PriorityChoice` says which, so the event can say so
  (``Incident.priority_given``);
- a hold reason exists only while a ticket is on hold;
- ``reopened`` is true only while a ticket is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from connectors.errors import InvalidValue
from schemas import HoldReason, Impact, IncidentStatus, Priority, Urgency, priority_from
from schemas.errors import InvalidCode

__all__ = [
    "PriorityChoice",
    "choose_priority",
    "default_priority",
    "hold_reason_while_on_hold",
    "reopened_while_open",
]


class PriorityChoice(NamedTuple):
    """The priority of a ticket, and whether the supplier gave it (or impact and urgency)."""

    priority: Priority | None
    given: bool


def default_priority(options: Mapping[str, str]) -> Priority | None:
    """The supplier's ``default_priority`` option (P1-P5), or None when it sets none."""
    configured = options.get("default_priority", "")
    if not configured:
        return None
    try:
        return Priority.parse(configured)
    except InvalidCode:
        raise InvalidValue("options.default_priority", configured, "P1-P5") from None


def choose_priority(
    given: Priority | None,
    impact: Impact | None,
    urgency: Urgency | None,
    default: Priority | None,
) -> PriorityChoice:
    """The supplier's priority; else the matrix of its impact and urgency; else the configured
    default (not given); else unknown (not given)."""
    if given is not None:
        return PriorityChoice(given, True)
    if impact is not None and urgency is not None:
        return PriorityChoice(priority_from(impact, urgency), True)
    return PriorityChoice(default, False)


def hold_reason_while_on_hold(
    status: IncidentStatus, reason: HoldReason | None
) -> HoldReason | None:
    """A hold reason only while the ticket is on hold (``other`` when the supplier gave none)."""
    if status is not IncidentStatus.ON_HOLD:
        return None
    return reason or HoldReason.OTHER


def reopened_while_open(status: IncidentStatus, reopened: bool) -> bool:
    """A ticket counts as reopened only while it is open again."""
    return reopened and status.is_open
