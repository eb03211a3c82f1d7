"""``schakel route explain <hub-id>``: the routing decisions of one ticket, in words.

Reads the ``routing_decisions`` table (every decision the router stored for the ticket,
oldest first, newest last) and prints them grouped per normalised event: when, which version
of the ticket, on what basis, and per destination the teams and the explanation as that
gemeente (or the triage queue) received it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.router._tables import routing_decisions
from services.store import open_store

__all__ = ["StoredDecision", "decision_history", "explain", "render_history"]

_FACTS = {
    "supplier": "leverancier",
    "priority": "prioriteit",
    "category": "categorie",
    "ci_record_id": "CI-id",
    "cmdb_ci_name": "CI",
}
_BASIS = {
    "rule": "regel",
    "ci-owner": "eigenaar volgens de CMDB",
    "triage": "triage door de regie",
}


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """One stored decision: a normalised event routed to one destination."""

    event_id: str
    destination: str  # gemeente code, or "triage"
    routed_event_id: str
    hub_id: str
    kind: str
    version: int
    decided_at: datetime
    rule_id: str | None
    basis: str
    recipients: tuple[tuple[str | None, str], ...]  # (gemeente, team)
    explanation: str
    inputs: dict[str, Any]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def decision_history(engine: AsyncEngine, hub_id: str) -> list[StoredDecision]:
    """Every stored decision about ``hub_id``, oldest first."""
    table = routing_decisions
    query = (
        select(table)
        .where(table.c.hub_id == hub_id)
        .order_by(table.c.decided_at, table.c.event_id, table.c.gemeente)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [
        StoredDecision(
            event_id=row["event_id"],
            destination=row["gemeente"],
            routed_event_id=row["routed_event_id"],
            hub_id=row["hub_id"],
            kind=row["kind"],
            version=row["version"],
            decided_at=_aware(row["decided_at"]),
            rule_id=row["rule_id"],
            basis=row["basis"],
            recipients=tuple((r.get("gemeente"), r["team"]) for r in row["recipients"]),
            explanation=row["explanation"],
            inputs=dict(row["inputs"]),
        )
        for row in rows
    ]


def render_history(hub_id: str, decisions: Sequence[StoredDecision], console: Console) -> None:
    """Print the decisions, one panel per normalised event, newest last."""
    if not decisions:
        console.print(f"Geen routeringsbesluiten gevonden voor ticket {hub_id}.")
        return
    events: dict[str, list[StoredDecision]] = {}
    for decision in decisions:
        events.setdefault(decision.event_id, []).append(decision)
    console.print(
        Text.assemble(
            ("Routeringsbesluiten voor ticket ", "bold"),
            (hub_id, "bold cyan"),
            f"  ({len(decisions)} besluit(en) over {len(events)} gebeurtenis(sen), oudste eerst)",
        )
    )
    for number, (event_id, group) in enumerate(events.items(), start=1):
        first = group[0]
        basis = _BASIS.get(first.basis, first.basis)
        rules = sorted({d.rule_id for d in group if d.rule_id})
        if rules:
            basis += " " + ", ".join(f"'{r}'" for r in rules)
        table = Table(show_header=True, header_style="bold", expand=True, box=None)
        table.add_column("bestemming", no_wrap=True)
        table.add_column("teams", no_wrap=True)
        table.add_column("toelichting", ratio=1)
        for decision in group:
            teams = ", ".join(team for _, team in decision.recipients)
            table.add_row(decision.destination, teams, decision.explanation)
        inputs = first.inputs
        facts = ", ".join(
            f"{label} {value}" for name, label in _FACTS.items() if (value := inputs.get(name))
        )
        title = (
            f"{number}. {first.decided_at:%d-%m-%Y %H:%M:%S} UTC · {first.kind}, "
            f"versie {first.version} · basis: {basis}"
        )
        body = Group(
            Text(f"gebeurtenis {event_id}" + (f" · {facts}" if facts else ""), style="dim"),
            table,
        )
        console.print(Panel(body, title=title, title_align="left"))


async def explain(
    store_url: str, hub_id: str, console: Console | None = None
) -> list[StoredDecision]:
    """Print the decision history of ``hub_id`` from the store at ``store_url``."""
    engine = await open_store(store_url)
    try:
        decisions = await decision_history(engine, hub_id)
    finally:
        await engine.dispose()
    render_history(hub_id, decisions, console or Console())
    return decisions
