"""Router: normalised tickets -> the functioneel beheerders of each gemeente (or triage).

A content-based router with a recipient list: rules from the hub configuration, then CI
ownership from the CMDB (``schakel.cis.v1``), then the regie's triage queue. Each gemeente
gets its own routed event on ``schakel.gemeente.<GMxxxx>.v1`` naming only its own teams; every
decision is stored and can be read back with ``schakel route explain <hub-id>``.

>>> from services.cmdb import CiTable
>>> from services.router import Router
>>> router = Router(config, CiTable(cis))              # doctest: +SKIP
>>> router.decide(incident, kind=..., event_id=..., now=...)  # doctest: +SKIP
"""

from services.router._store import DecisionLog, SqlDecisionLog
from services.router.encoding import NormalisedEvent, decode_event, routed_event_id
from services.router.errors import RouterError, UnreadableEvent
from services.router.explain import StoredDecision, decision_history, explain, render_history
from services.router.pipeline import DecisionRecord, Router, RouteResult
from services.router.policy import Destination, RoutingPolicy
from services.router.rules import RuleSet, TicketFacts, check_references
from services.router.service import GROUP_ID, RouterService

__all__ = [
    "GROUP_ID",
    "DecisionLog",
    "DecisionRecord",
    "Destination",
    "NormalisedEvent",
    "RouteResult",
    "Router",
    "RouterError",
    "RouterService",
    "RoutingPolicy",
    "RuleSet",
    "SqlDecisionLog",
    "StoredDecision",
    "TicketFacts",
    "UnreadableEvent",
    "check_references",
    "decision_history",
    "decode_event",
    "explain",
    "render_history",
    "routed_event_id",
]
