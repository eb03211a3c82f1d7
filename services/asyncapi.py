"""The hub's public contract as an AsyncAPI 3.0 document, generated from the code.

Every channel a supplier, a gemeente or the regie builds against, with its message schema
from :mod:`schemas` (the same pydantic models the services encode with), declared on a
FastStream broker used only for its specification API: what the hub receives (subscribers)
and what it sends (publishers). ``schakel asyncapi`` writes ``docs/asyncapi.yaml``;
``tests/unit/test_asyncapi.py`` fails when the committed document drifts from the code.
Per-supplier and per-gemeente topics are channels with a parameter (``{supplier}``,
``{gemeente}``), so the document does not depend on one hub's configuration.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from schemas.audit import AuditEvent
from schemas.changes import ChangeFindingEvent
from schemas.cis import ConfigurationItem
from schemas.envelope import CloudEvent
from schemas.replies import OutboundCommand, ReplyEvent
from schemas.routing import RoutedTicket
from schemas.sla import SlaEvent
from schemas.tickets import Change, Incident
from schemas.topics import (
    AUDIT,
    CHANGE_FINDINGS,
    CHANGES,
    CIS,
    DEADLETTER,
    INCIDENTS,
    REPLIES,
    SLA,
    TRIAGE,
    gemeente_topic,
    inbound_topic,
    outbound_topic,
)

__all__ = ["DOCUMENT", "VERSION", "document", "render", "write"]

VERSION = "1.0.0"
DOCUMENT = Path("docs/asyncapi.yaml")
_PARAMETER = re.compile(r"\{([a-z]+)\}")
_PARAMETERS = {
    "supplier": "The supplier's id in the hub config (a slug, e.g. kpn).",
    "gemeente": "The gemeente's CBS code (GM0505 is Dordrecht).",
}

#: what the hub sends: channel title -> (topic, model, description)
_SENDS: dict[str, tuple[str, type[BaseModel], str]] = {
    "incidents": (
        INCIDENTS,
        CloudEvent[Incident],
        "Every supplier's incidents in the common model, an NL GOV CloudEvent per version, "
        "keyed by the hub id (all versions of a ticket in order).",
    ),
    "changes": (CHANGES, CloudEvent[Change], "Every supplier's changes, as incidents are."),
    "cis": (
        CIS,
        CloudEvent[ConfigurationItem],
        "Configuration items and their relations (compacted: the latest state per CI).",
    ),
    "gemeente": (
        gemeente_topic("{gemeente}"),
        CloudEvent[RoutedTicket],
        "The tickets that concern one gemeente, naming only its own FB teams and why "
        "(the routing explanation); change notices of the change calendar too.",
    ),
    "triage": (
        TRIAGE,
        CloudEvent[RoutedTicket],
        "Tickets no rule routes: the regie's triage queue.",
    ),
    "sla": (
        SLA,
        CloudEvent[SlaEvent],
        "SLA clocks per ticket against the supplier's contract: started, paused, resumed, "
        "warnings, breached, met, and discrepancies with the supplier's own clock.",
    ),
    "change-findings": (
        CHANGE_FINDINGS,
        ChangeFindingEvent,
        "Collisions and conflicts in the change calendar across suppliers, raised and "
        "withdrawn, with an explanation in Dutch.",
    ),
    "audit": (
        AUDIT,
        AuditEvent,
        "Outcomes that are not tickets: deliveries to FB channels, supplier API calls, "
        "people's actions in the cockpit.",
    ),
    "outbound": (
        outbound_topic("{supplier}"),
        OutboundCommand,
        "FB answers as commands for the supplier's tool (eBonding); header schakel-sent-by "
        "says whether the hub already applied it through the supplier's API.",
    ),
}
#: what the hub receives: channel title -> (topic, model or None for native bytes, description)
_RECEIVES: dict[str, tuple[str, type[BaseModel] | None, str]] = {
    "inbound": (
        inbound_topic("{supplier}"),
        None,
        "A supplier's incidents, changes and CMDB updates in its own tool's native JSON "
        "(ServiceNow, TOPdesk, Jira Service Management, Xurrent, or a declared mapping), "
        "keyed by the supplier's ticket reference.",
    ),
    "replies": (
        REPLIES,
        ReplyEvent,
        "FB teams' answers (comment, request for information, accept or reject a "
        "resolution, priority) from the replies API or straight from a gemeente.",
    ),
}
_DEADLETTER = (
    "The original bytes, key and headers of every record the hub could not take, with "
    "schakel-dlq-* headers naming the error, its class, the service and the source "
    "topic/partition/offset; replayable."
)


def _broker() -> KafkaBroker:
    broker = KafkaBroker("kafka:9092")
    for title, (topic, model, description) in _SENDS.items():
        broker.publisher(topic, title=title, description=description, schema=model)
    broker.publisher(DEADLETTER, title="deadletter", description=_DEADLETTER, schema=bytes)
    for title, (topic, received, description) in _RECEIVES.items():
        subscriber = broker.subscriber(topic, title=title, description=description)
        if received is None:

            @subscriber
            async def native(body: bytes) -> None:
                """A native payload: bytes the supplier's connector reads."""

        else:
            _typed(subscriber, received)
    return broker


def _typed(subscriber: Any, model: type[BaseModel]) -> None:
    async def handler(body: Any) -> None:
        """A message of the model named in the schema."""

    handler.__annotations__ = {"body": model, "return": None}
    subscriber(handler)


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document as data."""
    spec = AsyncAPI(
        _broker(),
        title="Schakel",
        version=VERSION,
        schema_version="3.0.0",
        description="The integration hub of a regie organisation between ICT suppliers and "
        "the functioneel beheerders of its gemeenten: topics, keys and message schemas "
        "(NL GOV CloudEvents in structured JSON mode).",
    ).to_specification()
    data: dict[str, Any] = spec.to_jsonable()
    for channel in data.get("channels", {}).values():
        names = _PARAMETER.findall(channel.get("address", ""))
        if names:
            channel["parameters"] = {n: {"description": _PARAMETERS[n]} for n in names}
    # FastStream keeps subscribers and publishers in sets: sort, so the document is stable
    for key in ("channels", "operations"):
        data[key] = dict(sorted(data.get(key, {}).items()))
    components = data.get("components", {})
    for key in list(components):
        components[key] = dict(sorted(components[key].items()))
    return data


_HEADER = (
    "# Generated by `schakel asyncapi` from services/asyncapi.py and the models in schemas/:\n"
    "# do not edit by hand; tests/unit/test_asyncapi.py fails when this file drifts.\n"
)


def render() -> str:
    return _HEADER + yaml.safe_dump(document(), sort_keys=False, allow_unicode=True, width=100)


def write(path: Path = DOCUMENT) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render())
    return path
