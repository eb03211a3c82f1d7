"""The SLA watch: business-hours clocks per supplier contract, as events on ``schakel.sla.v1``.

- :mod:`services.sla.calendar`: business-time arithmetic on a contract's calendar.
"""

from services.sla.calendar import ALWAYS, BusinessCalendar, closing_days, compile_calendar
from services.sla.errors import CalendarError, SlaError, UnknownTicketError

__all__ = [
    "ALWAYS",
    "BusinessCalendar",
    "CalendarError",
    "SlaError",
    "UnknownTicketError",
    "closing_days",
    "compile_calendar",
]
