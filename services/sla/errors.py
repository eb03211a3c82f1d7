"""Errors of the SLA watch.

::

    SlaError
    ├── CalendarError        a calendar without service hours (nothing can ever be due)
    └── UnknownTicketError   ``sla show`` for a hub id the SLA store has never seen
"""

from __future__ import annotations

__all__ = ["CalendarError", "SlaError", "UnknownTicketError"]


class SlaError(Exception):
    """Base of every error of :mod:`services.sla`."""


class CalendarError(SlaError):
    """A calendar that has no service hours within ten years."""


class UnknownTicketError(SlaError):
    """No SLA clocks are known for this hub id."""

    def __init__(self, hub_id: str) -> None:
        super().__init__(f"no SLA clocks for hub id {hub_id!r} (not an incident or change seen)")
        self.hub_id = hub_id
