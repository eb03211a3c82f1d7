"""Test material for two-way sync: reply/ticket/correlation builders, and the fake
ServiceNow Table API under its test name (:class:`FakeServiceNow`: the shared fake
:class:`services.demo.supplier_apis.ServiceNowApi`, which the demo runs too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from services.demo.supplier_apis import Received as Patch
from services.demo.supplier_apis import ServiceNowApi as FakeServiceNow
from services.parking import parked_work
from services.tickets import Correlation, CorrelationStore, Route
from services.tickets.tables import correlation_routes, correlations, replies_applied

__all__ = [
    "BACKENDS",
    "FakeServiceNow",
    "Patch",
    "backend_url",
    "correlation",
    "empty_store",
    "route",
]


def correlation(
    hub: str,
    *,
    supplier: str = "kpn",
    system: str = "servicenow",
    record_id: str = "a" * 32,
    kind: str = "incident",
    status: str = "in_progress",
    priority: str | None = "P3",
    version: int = 1,
    number: str | None = "INC0000046",
    supplier_correlation_id: str | None = None,
) -> Correlation:
    return Correlation(
        hub_id=hub,
        kind=kind,
        supplier=supplier,
        system=system,
        record_id=record_id,
        number=number,
        supplier_correlation_id=supplier_correlation_id,
        status=status,
        priority=priority,
        title="Zaaksysteem traag",
        version=version,
        ticket_updated_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )


def route(hub: str, gemeente: str = "GM0505", team: str = "fb-zaken") -> Route:
    return Route(
        hub, gemeente, team, f"routed-{hub}-{gemeente}", datetime(2026, 11, 24, tzinfo=UTC)
    )


#: Store tests run on both; a module makes them its fixture's params (see backend_url).
BACKENDS = ["sqlite", "postgresql"]


def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store URL of ``request.param``: a fresh SQLite file, or the session's PostgreSQL
    (the module imports ``tests._postgres.postgres_url``)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def empty_store(url: str) -> CorrelationStore:
    """The store at ``url`` with the sync tables emptied (PostgreSQL is shared per session)."""
    store = await CorrelationStore.open(url)
    async with (await store.engine()).begin() as conn:
        for table in (correlations, correlation_routes, replies_applied):
            await conn.execute(delete(table))
        await conn.execute(delete(parked_work).where(parked_work.c.service == "sync"))
    return store
