"""The common data model of Schakel (v1): envelope, tickets, CIs, topics.

Everything suppliers, the regie and the gemeenten build against lives here; connectors and
services import it, never the other way round.
"""

from schemas.cis import CiRelation, ConfigurationItem
from schemas.envelope import (
    CloudEvent,
    EventAction,
    derived_id,
    event_id,
    event_type,
    hub_id,
    source_urn,
)
from schemas.errors import InvalidCode, InvalidTimestamp, SchemaError
from schemas.replies import (
    COMMAND_DATASCHEMA,
    REPLY_DATASCHEMA,
    REPLY_TYPES,
    OutboundCommand,
    Reply,
    ReplyAction,
    ReplyEvent,
    reply_type,
)
from schemas.routing import ROUTED_DATASCHEMA, RecipientRef, RoutedTicket, RoutingDecision
from schemas.sla import (
    SLA_DATASCHEMA,
    SLA_TYPES,
    SlaClock,
    SlaEvent,
    SlaEventKind,
    SlaState,
    sla_type,
)
from schemas.tickets import Change, CiRef, Comment, Incident, Origin, Resolution, SupplierRef
from schemas.vocab import (
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    CiStatus,
    EntityKind,
    HoldReason,
    Impact,
    IncidentStatus,
    Priority,
    ResolutionCode,
    SupplierSystem,
    Urgency,
    Visibility,
    priority_from,
)

__all__ = [
    "COMMAND_DATASCHEMA",
    "REPLY_DATASCHEMA",
    "REPLY_TYPES",
    "ROUTED_DATASCHEMA",
    "SLA_DATASCHEMA",
    "SLA_TYPES",
    "Change",
    "ChangeRisk",
    "ChangeStatus",
    "ChangeType",
    "CiRef",
    "CiRelation",
    "CiStatus",
    "CloudEvent",
    "Comment",
    "ConfigurationItem",
    "EntityKind",
    "EventAction",
    "HoldReason",
    "Impact",
    "Incident",
    "IncidentStatus",
    "InvalidCode",
    "InvalidTimestamp",
    "Origin",
    "OutboundCommand",
    "Priority",
    "RecipientRef",
    "Reply",
    "ReplyAction",
    "ReplyEvent",
    "Resolution",
    "ResolutionCode",
    "RoutedTicket",
    "RoutingDecision",
    "SchemaError",
    "SlaClock",
    "SlaEvent",
    "SlaEventKind",
    "SlaState",
    "SupplierRef",
    "SupplierSystem",
    "Urgency",
    "Visibility",
    "derived_id",
    "event_id",
    "event_type",
    "hub_id",
    "priority_from",
    "reply_type",
    "sla_type",
    "source_urn",
]
