"""The change calendar: one forward schedule of every supplier's changes, collisions and
conflicts found before they happen, and the FB teams told in advance.

* :class:`ChangesService` (Service contract): consumes ``schakel.changes.v1`` and the CMDB,
  publishes findings on ``schakel.change-findings.v1`` and advance notices as routed tickets
  on the gemeente topics (delivered by the delivery service);
* :class:`ChangeCalendar`: the plain state and one evaluation step;
* :func:`detect` / :func:`collisions`: the rules; :func:`impact_of`: what a change affects;
* :func:`entries`, :func:`to_json`, :func:`to_ics`: the calendar for people and agendas,
  read from :class:`ChangeStore`.
"""

from services.changes.calendar import ChangeCalendar, Evaluation
from services.changes.errors import ChangesError, UnreadableChange, UnsupportedStore
from services.changes.findings import Finding, Scheduled, collides, collisions, detect
from services.changes.graph import AffectedCi, CiGraph, Impact, impact_of
from services.changes.notices import Notice, due_notices
from services.changes.service import GROUP_ID, ChangesService
from services.changes.store import ChangeStore, StoreState
from services.changes.views import Entry, active_findings, entries, to_ics, to_json

__all__ = [
    "GROUP_ID",
    "AffectedCi",
    "ChangeCalendar",
    "ChangeStore",
    "ChangesError",
    "ChangesService",
    "CiGraph",
    "Entry",
    "Evaluation",
    "Finding",
    "Impact",
    "Notice",
    "Scheduled",
    "StoreState",
    "UnreadableChange",
    "UnsupportedStore",
    "active_findings",
    "collides",
    "collisions",
    "detect",
    "due_notices",
    "entries",
    "impact_of",
    "to_ics",
    "to_json",
]
