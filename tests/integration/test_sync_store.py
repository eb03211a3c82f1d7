"""The correlation store on SQLite and on PostgreSQL (Debian's, started by the session
fixture): the same tests, both backends. It survives a restart (a new engine on the same URL)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.tickets import CorrelationStore, ReplyRecord
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.sync_kit import BACKENDS, backend_url, correlation, empty_store, route


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return backend_url(request, tmp_path)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[CorrelationStore]:
    opened = await empty_store(store_url)
    yield opened
    await opened.close()


def _hub() -> str:
    return str(uuid.uuid4())


async def test_correlation_newer_version_wins_and_survives_restart(
    store: CorrelationStore, store_url: str
) -> None:
    hub = _hub()
    v2 = correlation(hub, version=2, status="in_progress")
    v1 = correlation(hub, version=1, status="new")
    v3 = correlation(hub, version=3, status="resolved", supplier_correlation_id=hub)
    await store.record([v2], [])
    await store.record([v1], [])  # stale: ignored
    assert (await store.correlation(hub)) == v2
    await store.record([v3, correlation(hub, version=1)], [route(hub)])  # one batch, two versions
    found = await store.correlation(hub)
    assert found is not None
    assert (found.version, found.status, found.supplier_correlation_id) == (3, "resolved", hub)
    assert found.ticket_updated_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    reopened = await CorrelationStore.open(store_url)  # a restarted service
    try:
        assert await reopened.correlation(hub) == found
        assert await reopened.is_routed(hub, "GM0505", "fb-zaken")
        assert await reopened.by_supplier_ref("kpn", "a" * 32) is not None
    finally:
        await reopened.close()


async def test_routes_are_per_gemeente_and_team(store: CorrelationStore) -> None:
    hub = _hub()
    await store.record(
        [correlation(hub)],
        [route(hub), route(hub), route(hub, "GM0482", "fb-zaken"), route(hub, team="fb-b")],
    )
    assert (await store.routes([hub]))[hub] == {
        ("GM0505", "fb-zaken"),
        ("GM0482", "fb-zaken"),
        ("GM0505", "fb-b"),
    }
    assert not await store.is_routed(hub, "GM0505", "fb-other")
    assert not await store.is_routed(_hub(), "GM0505", "fb-zaken")


async def test_expected_state_after_own_write_until_the_supplier_changes(
    store: CorrelationStore,
) -> None:
    hub = _hub()
    await store.record([correlation(hub, version=5, status="resolved")], [])
    await store.expect(hub, status="in_progress", priority="P2")
    found = await store.correlation(hub)
    assert found is not None and (found.status, found.priority, found.version) == (
        "in_progress",
        "P2",
        5,
    )
    await store.record([correlation(hub, version=5, status="resolved")], [])  # redelivery
    assert (await store.correlation(hub)).status == "in_progress"  # type: ignore[union-attr]
    await store.record([correlation(hub, version=6, status="resolved")], [])
    assert (await store.correlation(hub)).status == "resolved"  # type: ignore[union-attr]


async def test_reply_outcomes_applied_stays_applied(store: CorrelationStore) -> None:
    hub = _hub()
    first = ReplyRecord(
        reply_id=_hub(),
        hub_id=hub,
        gemeente="GM0505",
        team="fb-zaken",
        action="comment",
        digest="d1",
        status="sending",
        supplier="kpn",
        steps_done=1,
        steps_total=2,
        created_at=datetime(2026, 11, 24, 10, tzinfo=UTC),
    )
    await store.save_reply(first)
    assert (await store.replies([first.reply_id]))[first.reply_id].steps_done == 1
    applied = dataclasses.replace(first, status="applied", steps_done=2, attempts=3)
    await store.save_reply(applied)
    await store.save_reply(dataclasses.replace(first, status="failed", error="late report"))
    stored = (await store.replies([first.reply_id]))[first.reply_id]
    assert (stored.status, stored.steps_done, stored.attempts, stored.error) == (
        "applied",
        2,
        3,
        None,
    )
    assert stored.final
    other = dataclasses.replace(
        first, reply_id=_hub(), team="fb-b", created_at=datetime(2026, 11, 24, 11, tzinfo=UTC)
    )
    await store.save_reply(other)
    assert [r.reply_id for r in await store.replies_of(hub, "GM0505", "fb-zaken")] == [
        first.reply_id
    ]
    assert await store.receiver_refs(hub, "GM0505", "fb-zaken") == []


async def test_concurrent_writers(store: CorrelationStore) -> None:
    hubs = [_hub() for _ in range(20)]
    await asyncio.gather(
        *(store.record([correlation(h, version=v)], [route(h)]) for h in hubs for v in (1, 2))
    )
    found = await store.correlations(hubs)
    assert {c.version for c in found.values()} == {2}
    assert len(await store.routes(hubs)) == 20
