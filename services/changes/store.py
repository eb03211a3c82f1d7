"""The change calendar's state in the hub's store (SQLite by default, PostgreSQL).

Why a store and not only the topics: the calendar's own decisions (which findings it raised,
which notices it sent and for which window) must survive a restart so that nothing is
reported twice or forgotten, and the CLI reads the schedule without consuming Kafka. The
schedule itself could be rebuilt from ``schakel.changes.v1`` (400 days) and the findings
from ``schakel.change-findings.v1``; the store keeps that replay out of every start.

Writes are upserts in one transaction per batch, so a redelivered batch writes the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from schemas import Change
from schemas.changes import ChangeFinding
from services.changes._tables import change_findings, change_notices, change_schedule
from services.changes.errors import UnsupportedStore
from services.store import open_store

__all__ = ["ChangeStore", "FindingRow", "NoticeRow", "ScheduleRow", "StoreState"]

_CHANGE = TypeAdapter(Change)
_FINDING = TypeAdapter(ChangeFinding)


@dataclass(frozen=True, slots=True)
class ScheduleRow:
    change: Change
    impact: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FindingRow:
    finding: ChangeFinding
    fingerprint: str

    @property
    def active(self) -> bool:
        return self.finding.state == "raised"


@dataclass(frozen=True, slots=True)
class NoticeRow:
    notice_id: str
    hub_id: str
    gemeente: str
    kind: str
    stamp: str
    sent_at: datetime


@dataclass(slots=True)
class StoreState:
    schedule: list[ScheduleRow] = field(default_factory=list)
    findings: list[FindingRow] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)


class ChangeStore:
    """The three tables; :meth:`open` with a URL or an engine."""

    def __init__(self, engine: AsyncEngine, *, owned: bool) -> None:
        self.engine = engine
        self._owned = owned
        dialect = engine.dialect.name
        if dialect == "sqlite":
            self._insert: Any = sqlite.insert
        elif dialect == "postgresql":
            self._insert = postgresql.insert
        else:
            raise UnsupportedStore(
                f"the change calendar stores in SQLite or PostgreSQL, not {dialect}"
            )

    @classmethod
    async def open(cls, url: str) -> ChangeStore:
        return cls(await open_store(url), owned=True)

    async def close(self) -> None:
        if self._owned:
            await self.engine.dispose()

    async def load(self) -> StoreState:
        state = StoreState()
        async with self.engine.connect() as conn:
            for row in await conn.execute(
                select(change_schedule.c.change, change_schedule.c.impact)
            ):
                state.schedule.append(ScheduleRow(_CHANGE.validate_python(row[0]), dict(row[1])))
            for row in await conn.execute(
                select(change_findings.c.finding, change_findings.c.fingerprint)
            ):
                state.findings.append(FindingRow(_FINDING.validate_python(row[0]), row[1]))
            for row in await conn.execute(select(change_notices)):
                state.notices.append(
                    NoticeRow(
                        row.notice_id, row.hub_id, row.gemeente, row.kind, row.stamp, row.sent_at
                    )
                )
        return state

    async def save(
        self,
        schedule: Sequence[ScheduleRow] = (),
        findings: Sequence[FindingRow] = (),
        notices: Sequence[NoticeRow] = (),
    ) -> None:
        """Upsert everything given, in one transaction."""
        if not (schedule or findings or notices):
            return
        async with self.engine.begin() as conn:
            if schedule:
                rows = [
                    {
                        "hub_id": r.change.hub_id,
                        "supplier": r.change.supplier_ref.supplier,
                        "version": r.change.version,
                        "status": r.change.status.value,
                        "planned_start": r.change.planned_start,
                        "planned_end": r.change.planned_end,
                        "change": r.change.model_dump(mode="json"),
                        "impact": r.impact,
                    }
                    for r in schedule
                ]
                await conn.execute(self._upsert(change_schedule, "hub_id"), rows)
            if findings:
                rows = [
                    {
                        "finding_id": r.finding.finding_id,
                        "kind": r.finding.kind,
                        "active": r.active,
                        "revision": r.finding.revision,
                        "fingerprint": r.fingerprint,
                        "finding": r.finding.model_dump(mode="json"),
                        "updated_at": r.finding.detected_at,
                    }
                    for r in findings
                ]
                await conn.execute(self._upsert(change_findings, "finding_id"), rows)
            if notices:
                rows = [
                    {
                        "notice_id": n.notice_id,
                        "hub_id": n.hub_id,
                        "gemeente": n.gemeente,
                        "kind": n.kind,
                        "stamp": n.stamp,
                        "sent_at": n.sent_at,
                    }
                    for n in notices
                ]
                await conn.execute(self._insert(change_notices).on_conflict_do_nothing(), rows)

    def _upsert(self, table: Any, key: str) -> Any:
        statement = self._insert(table)
        columns = {c.name: statement.excluded[c.name] for c in table.columns if c.name != key}
        return statement.on_conflict_do_update(index_elements=[key], set_=columns)
