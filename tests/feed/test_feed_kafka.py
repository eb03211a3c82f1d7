"""The feed on the real broker: every outcome topic projected live (the feed's own dead
letter included), and a rebuild from the topics equals the live read model."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from schemas.topics import AUDIT, DEADLETTER, INCIDENTS, REPLIES, SLA, gemeente_topic
from services.config import SchakelConfig
from services.feed.rebuild import rebuild
from services.feed.store import ReadModel
from tests.conftest import KafkaBroker
from tests.e2e._io import wait_until
from tests.fakes import FakeRecord
from tests.feed._hub import end_offsets_of, running_feed, send
from tests.feed.test_read_model import story
from tests.feed_kit import version

pytestmark = [pytest.mark.kafka]

TOPICS = [INCIDENTS, gemeente_topic("GM0505"), SLA, AUDIT, REPLIES, DEADLETTER]


def _mine(snapshot: dict[str, list[dict[str, Any]]], hubs: set[str]) -> dict[str, Any]:
    return {
        "tickets": [r for r in snapshot["feed_tickets"] if r["hub_id"] in hubs],
        "gemeenten": [r for r in snapshot["feed_ticket_gemeenten"] if r["hub_id"] in hubs],
        "timeline": sorted(
            (e["entry_id"], e["kind"], e["at"], e["summary"], repr(e["detail"]))
            for e in snapshot["feed_timeline"]
            if e["hub_id"] in hubs
        ),
        "chains": sorted(
            (c["hub_id"], c["entries"]) for c in snapshot["feed_chains"] if c["hub_id"] in hubs
        ),
        "audit": [r for r in snapshot["feed_audit"] if r["hub_id"] in hubs],
    }


async def test_the_feed_projects_live_and_a_rebuild_equals_it(
    kafka: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = [f"e2e-{tag}-{i}" for i in range(3)]
    hubs = {version(i, 1).hub_id for i in ids}
    async with running_feed(kafka.bootstrap, example_config, tmp_path, http=False) as feed:
        before = await end_offsets_of(kafka.bootstrap, TOPICS)
        records = [r for i in ids for r in story(i)]
        garbage = FakeRecord(AUDIT, 0, 0, f"garbage-{tag}".encode(), b"{not an audit event", ())
        await send(feed.publisher, [*records, garbage])

        async def projected() -> bool:
            done = [await feed.model.timeline(h) for h in hubs]
            return all(len(t) == 10 for t in done)

        assert await wait_until(projected, timeout_s=60)

        async def dead_lettered() -> list[dict[str, Any]]:
            rows = await feed.model.dead_letters(limit=500)
            return [
                r
                for r in rows
                if r["service"] == "feed"
                and r["source_topic"] == AUDIT
                and (await feed.model.dead_letter(r["partition"], r["offset"]) or {}).get("key")
                == f"garbage-{tag}".encode()
            ]

        assert await wait_until(dead_lettered, timeout_s=60), (
            "the unreadable record was not dead-lettered"
        )
        [row] = await dead_lettered()
        assert "not a valid event" in row["reason"]
        assert (await feed.model.verify())[1] == []
        live = _mine(await feed.model.snapshot(), hubs)
    assert len(live["tickets"]) == 3 and all(t["sla_state"] == "breached" for t in live["tickets"])
    assert all(t["deliveries_ok"] == 1 and t["reopen_count"] == 1 for t in live["tickets"])

    rebuilt = await ReadModel.open(f"sqlite+aiosqlite:///{tmp_path / 'rebuilt.db'}")
    try:
        report = await rebuild(kafka.bootstrap, rebuilt, topics=TOPICS, start=before)
        assert report.records >= len(records)
        assert _mine(await rebuilt.snapshot(), hubs) == live
        assert (await rebuilt.verify())[1] == []
    finally:
        await rebuilt.close()
