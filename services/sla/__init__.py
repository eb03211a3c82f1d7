"""The SLA watch: business-hours clocks per supplier contract, as events on ``schakel.sla.v1``.

- :mod:`services.sla.calendar`: business-time arithmetic on a contract's calendar.
- :mod:`services.sla.clocks`: the clock engine (the rules, in its docstring).
- :mod:`services.sla.pipeline`: normalised tickets in, SLA CloudEvents out (no Kafka).
- :mod:`services.sla.service`: the service (consumer, timer, exactly-once publishing).
- :mod:`services.sla.store`: ticket histories, the timer's index, recompute runs.
- :mod:`services.sla.reports`: ``schakel sla show | report | recompute``.
"""

from services.sla.calendar import ALWAYS, BusinessCalendar, closing_days, compile_calendar
from services.sla.clocks import (
    ClockResult,
    Contract,
    Observation,
    TicketHistory,
    evaluate,
    observe_change,
    observe_incident,
)
from services.sla.errors import CalendarError, SlaError, UnknownTicketError
from services.sla.pipeline import SlaWatch, encode_sla_event
from services.sla.service import GROUP_ID, SlaService, clock_from_settings, published_ids
from services.sla.store import SlaStore

__all__ = [
    "ALWAYS",
    "GROUP_ID",
    "BusinessCalendar",
    "CalendarError",
    "ClockResult",
    "Contract",
    "Observation",
    "SlaError",
    "SlaService",
    "SlaStore",
    "SlaWatch",
    "TicketHistory",
    "UnknownTicketError",
    "clock_from_settings",
    "closing_days",
    "compile_calendar",
    "encode_sla_event",
    "evaluate",
    "observe_change",
    "observe_incident",
    "published_ids",
]
