"""Routing decisions in the store (idempotent) and ``route explain`` reading them back, on
SQLite and on PostgreSQL (Debian's, started by the session fixture)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from schemas import Priority
from services.cmdb import CiTable
from services.config import SchakelConfig
from services.router import Router, SqlDecisionLog, decision_history, explain
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.router_kit import DRECHTSTEDEN, ci, incident, ticket_record

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"
    given: str = request.getfixturevalue("postgres_url")
    return given


async def test_decisions_are_stored_once_and_explained_newest_last(
    url: str, example_config: SchakelConfig
) -> None:
    rec = f"t-{uuid.uuid4().hex[:8]}"
    cmdb = CiTable(
        [
            ci("zs", "Zaaksysteem Drechtsteden", gemeenten=DRECHTSTEDEN),
            ci("fs", "DC1-FS01", gemeenten=["GM0642"]),
        ]
    )
    router = Router(example_config, cmdb)
    first = router.route_batch([ticket_record(incident(rec, ci_record="fs", version=1))], now=NOW)
    later = NOW + timedelta(hours=2)
    second = router.route_batch(
        [ticket_record(incident(rec, ci_record="zs", version=2, priority=Priority.P2), offset=1)],
        now=later,
    )
    log = SqlDecisionLog(url)
    try:
        await log.save(first.decisions)
        await log.save(second.decisions)
        await log.save(first.decisions + second.decisions)  # a redelivered batch: no-op
        await log.save([])
        history = await decision_history(await log.engine(), incident(rec).hub_id)
    finally:
        await log.close()
    assert len(history) == 1 + 7
    assert [h.destination for h in history] == ["GM0642", *sorted(DRECHTSTEDEN)]
    assert history[0].decided_at == NOW and history[-1].decided_at == later
    assert history[0].basis == "ci-owner" and history[0].rule_id is None
    assert history[0].recipients == (("GM0642", "fb-zaken"),)
    assert history[1].rule_id == "zaaksysteem-gedeeld" and history[1].version == 2
    assert history[1].inputs["priority"] == "P2"
    assert history[0].routed_event_id == first.decisions[0].routed_event_id

    console = Console(record=True, width=160)
    shown = await explain(url, incident(rec).hub_id, console)
    assert shown == history
    text = console.export_text()
    assert "Routeringsbesluiten voor ticket" in text
    assert "8 besluit(en) over 2 gebeurtenis(sen)" in text
    assert text.index("eigenaar volgens de CMDB") < text.index("regel 'zaaksysteem-gedeeld'")
    assert "Zwijndrecht (GM0642)" in text and "fb-algemeen" in text

    console = Console(record=True, width=120)
    assert await explain(url, "onbekend", console) == []
    assert "Geen routeringsbesluiten gevonden" in console.export_text()
