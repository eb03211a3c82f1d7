"""Test material for the delivery service: routed events and FB team configurations.

The router is built in parallel, so the tests produce RoutedTicket CloudEvents themselves,
the way the router's contract describes them (schemas/routing.py).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

from schemas import (
    CiRef,
    CloudEvent,
    EntityKind,
    Incident,
    IncidentStatus,
    Priority,
    RecipientRef,
    RoutedTicket,
    RoutingDecision,
    SupplierRef,
    SupplierSystem,
    derived_id,
    event_type,
    hub_id,
)
from schemas.envelope import encode_event
from schemas.topics import gemeente_topic
from services.config import SchakelConfig
from services.config.models import FbTeam, Gemeente
from services.delivery import ChannelConfig, Delivery, DeliveryStore, Receipt, idempotency_key
from services.delivery._tables import deliveries
from services.delivery.channels import channel_target
from services.tickets.tables import receiver_tickets
from tests.fakes import FakeRecord

SOURCE = "urn:nld:kvk:90000011:systeem:servicenow-prod"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class RoutedRecord:
    """A routed event as it lies on a gemeente topic."""

    topic: str
    key: bytes
    value: bytes
    event_id: str
    hub_id: str
    headers: tuple[tuple[str, bytes], ...]

    def as_record(self, offset: int = 0, partition: int = 0) -> FakeRecord:
        return FakeRecord(self.topic, partition, offset, self.key, self.value, self.headers)


def routed_event(
    gemeente: str,
    teams: Sequence[str] | Sequence[tuple[str | None, str]],
    *,
    record_id: str = "rec-1",
    number: str | None = "INC0000046",
    version: int = 1,
    status: IncidentStatus = IncidentStatus.NEW,
    title: str = "Zaaksysteem reageert traag",
    description: str = "Gebruikers melden vertraging; BSN 111222333 staat in de melding.",
    supplier: str = "kpn",
    explanation: str = "Het zaaksysteem is van uw gemeente (CMDB: eigenaar GM0505).",
    salt: str = "",
) -> RoutedRecord:
    """A RoutedTicket CloudEvent of an incident; ``teams`` are team ids of ``gemeente`` or
    (gemeente, team) pairs (to make a router bug)."""
    hub = hub_id(supplier, EntityKind.INCIDENT, record_id)
    normalised_id = derived_id("normalised", hub, str(version), salt)
    routed_id = derived_id("routed", normalised_id, gemeente)
    updated = T0 + timedelta(minutes=version)
    incident = Incident(
        hub_id=hub,
        supplier_ref=SupplierRef(
            supplier=supplier, system=SupplierSystem.SERVICENOW, record_id=record_id, number=number
        ),
        title=title,
        description=description,
        status=status,
        priority=Priority.P2,
        ci=CiRef(name="Zaaksysteem Drechtsteden"),
        opened_at=T0,
        updated_at=updated,
        version=version,
    )
    recipients = tuple(
        RecipientRef(gemeente=t[0], team=t[1])
        if isinstance(t, tuple)
        else RecipientRef(gemeente=gemeente, team=t)
        for t in teams
    )
    decision = RoutingDecision(
        hub_id=hub,
        event_id=normalised_id,
        rule_id="zaaksysteem-gedeeld",
        basis="rule",
        inputs={"ci": "Zaaksysteem Drechtsteden"},
        recipients=recipients,
        explanation=explanation,
        decided_at=updated,
    )
    routed = RoutedTicket(kind="incident", ticket=incident, decision=decision)
    value = encode_event(
        id=routed_id,
        source=SOURCE,
        type=event_type(EntityKind.INCIDENT, "routed"),
        subject=hub,
        time=updated,
        dataschema="urn:nld:schakel:schema:routedticket:v1",
        sequence=version,
        supplierid=supplier,
        data=routed,
    )
    headers = (
        ("content-type", b"application/cloudevents+json; charset=utf-8"),
        ("schakel-event-id", routed_id.encode()),
        ("schakel-hub-id", hub.encode()),
    )
    return RoutedRecord(gemeente_topic(gemeente), hub.encode(), value, routed_id, hub, headers)


def team(team_id: str, *channels: dict[str, Any]) -> FbTeam:
    return FbTeam.model_validate({"id": team_id, "name": f"Team {team_id}", "channels": channels})


def gemeente(code: str, *teams: FbTeam, name: str = "Testgemeente") -> Gemeente:
    return Gemeente(code=code, name=name, teams=list(teams), default_team=teams[0].id)


def config_with_gemeenten(base: SchakelConfig, *gemeenten: Gemeente) -> SchakelConfig:
    """The example config's suppliers with only ``gemeenten`` (and no routing rules)."""
    return base.model_copy(
        update={
            "gemeenten": list(gemeenten),
            "routing": base.routing.model_copy(update={"rules": []}),
        }
    )


def webhook(
    url: str, secret_env: str, *, max_attempts: int = 3, timeout_s: float = 2.0
) -> dict[str, Any]:
    return {
        "type": "webhook",
        "url": url,
        "secret_env": secret_env,
        "max_attempts": max_attempts,
        "timeout_s": timeout_s,
    }


def email(port: int, *to: str, host: str = "127.0.0.1") -> dict[str, Any]:
    return {
        "type": "email",
        "to": list(to) or ["fb@gemeente.example"],
        "smtp_host": host,
        "smtp_port": port,
        "sender": "schakel@regie.example",
    }


def topdesk(base_url: str, *, user_env: str, password_env: str) -> dict[str, Any]:
    return {
        "type": "topdesk",
        "base_url": base_url,
        "username_env": user_env,
        "password_env": password_env,
        "operator_group": "Functioneel beheer Zaken",
        "category": "Applicaties",
    }


def random_code() -> str:
    """A gemeente code unlikely to be in use on a shared broker (GM9000-GM9999)."""
    return f"GM9{uuid.uuid4().int % 1000:03d}"


class FakeChannel:
    """A channel that records what it got; scripted errors first, then it accepts.

    Its receipt's reference is ``ref-<n>`` for a first delivery (a new receiver ticket) and
    the delivery's own ``receiver_ref`` for an update.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[Delivery] = []
        self.accepted: list[Delivery] = []
        self.errors: deque[BaseException] = deque()
        self.delay_s = 0.0
        self.in_flight = 0
        self.max_in_flight = 0

    async def deliver(self, delivery: Delivery) -> Receipt:
        self.calls.append(delivery)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.errors:
                raise self.errors.popleft()
        finally:
            self.in_flight -= 1
        self.accepted.append(delivery)
        if delivery.receiver_ref is not None:
            return Receipt("updated", delivery.receiver_ref)
        return Receipt("created", f"ref-{self.name}-{len(self.accepted)}")


class FakeChannels:
    """A channel factory handing out one :class:`FakeChannel` per configured channel."""

    def __init__(self) -> None:
        self.by_target: dict[str, FakeChannel] = {}

    def __call__(self, config: ChannelConfig) -> FakeChannel:
        target = channel_target(config)
        return self.by_target.setdefault(target, FakeChannel(target))

    def __getitem__(self, target: str) -> FakeChannel:
        """The fake for ``target`` (made now if the service has not asked for it yet)."""
        return self.by_target.setdefault(target, FakeChannel(target))


def delivery_of(
    event: RoutedRecord, team: str, channel: str, *, receiver_ref: str | None = None
) -> Delivery:
    """The Delivery the service would make of ``event`` for one team's channel."""
    envelope = CloudEvent[RoutedTicket].model_validate_json(event.value)
    code = envelope.data.decision.recipients[0].gemeente or "GM0000"
    return Delivery(
        event_id=event.event_id,
        hub_id=event.hub_id,
        gemeente=code,
        team=team,
        channel=channel,
        kind=envelope.data.kind,
        routed=envelope.data,
        idempotency_key=idempotency_key(event.event_id, code, team, channel),
        body=event.value,
        receiver_ref=receiver_ref,
    )


#: SQLite always; PostgreSQL too when SCHAKEL_TEST_POSTGRES_URL names a database
STORE_BACKENDS = ["sqlite"] + (
    ["postgresql"] if os.environ.get("SCHAKEL_TEST_POSTGRES_URL") else []
)


async def open_test_store(backend: str, tmp_path: Path) -> DeliveryStore:
    """An empty delivery store on ``backend`` (PostgreSQL: this test's rows only)."""
    if backend == "sqlite":
        return await DeliveryStore.open(f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}")
    store = await DeliveryStore.open(os.environ["SCHAKEL_TEST_POSTGRES_URL"])
    async with store.engine.begin() as conn:
        await conn.execute(delete(deliveries))
        await conn.execute(delete(receiver_tickets))
    return store
