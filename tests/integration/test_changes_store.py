"""The change calendar's store on SQLite and on PostgreSQL (Debian's, started by the session
fixture): what one calendar reported, a restarted one knows, and saving twice (a redelivered
batch) leaves one row per change, finding and notice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from services.changes import ChangeCalendar, ChangeStore
from services.changes._tables import change_findings, change_notices, change_schedule
from services.config import SchakelConfig
from tests._postgres import postgres_url  # noqa: F401  (session fixture)
from tests.unit.test_changes_calendar import NIGHT, config, pair, table


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"
    given: str = request.getfixturevalue("postgres_url")
    return given


async def test_a_restarted_calendar_repeats_nothing(
    url: str, example_config: SchakelConfig
) -> None:
    cfg = config(example_config)
    store = await ChangeStore.open(url)
    async with store.engine.begin() as conn:  # this test's rows only (a shared server)
        for table_ in (change_schedule, change_findings, change_notices):
            await conn.execute(delete(table_))
    calendar = ChangeCalendar(cfg, table())
    for made in pair():
        calendar.apply(made)
    now = NIGHT - timedelta(days=2)
    step = calendar.evaluate(now)
    assert step.findings and step.notices and len(step.schedule) == 2
    await store.save(step.schedule, step.findings, step.notices)
    await store.save(step.schedule, step.findings, step.notices)  # a redelivered batch
    calendar.commit(step)
    async with store.engine.connect() as conn:
        counts = [
            (await conn.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (change_schedule, change_findings, change_notices)
        ]
    assert counts == [2, len(step.findings), len(step.notices)]
    await store.close()

    store = await ChangeStore.open(url)
    state = await store.load()
    restarted = ChangeCalendar(cfg, table())
    restarted.restore(state)
    assert restarted.evaluate(now).messages == []
    assert {r.change.hub_id for r in state.schedule} == {c.hub_id for c in pair()}
    assert [r.finding.kind for r in state.findings] == ["collision"]
    assert state.schedule[0].change.planned_start is not None

    # the move is remembered: a later withdrawal continues the finding's revisions
    moved = pair()[1].model_copy(
        update={
            "planned_start": NIGHT + timedelta(days=3),
            "planned_end": NIGHT + timedelta(days=3, hours=1),
            "version": 2,
        }
    )
    restarted.apply(moved)
    step = restarted.evaluate(now)
    withdrawn = [f.finding for f in step.findings if f.finding.state == "withdrawn"]
    assert [f.revision for f in withdrawn] == [2]
    await store.save(step.schedule, step.findings, step.notices)
    again = await store.load()
    assert {r.finding.state for r in again.findings if r.finding.kind == "collision"} == {
        "withdrawn"
    }
    await store.close()
