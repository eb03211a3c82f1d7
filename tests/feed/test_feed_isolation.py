"""Tenant isolation of the cockpit, as a property (hypothesis): random tickets routed to
random sets of gemeenten (or to triage), with deliveries and replies per gemeente.

For every gemeente G, what an FB account of G gets is exactly what an oracle computed from
the generated routing says: the list holds the tickets routed to G and no other, a ticket
not routed to G is "not found", the key figures count only G's tickets, and no timeline
entry shown to G names another gemeente.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.feed.store import ReadModel, Scope, TicketQuery
from services.feed.web import _visible_to
from tests.feed_kit import audit_record, delivery_entry, routed_record, version, version_record

GEMEENTEN = ("GM0505", "GM0482", "GM0590", "GM0642")
_CODE = re.compile(r"GM[0-9]{4}")

tickets = st.lists(
    st.tuples(
        st.sampled_from(("kpn", "centric", "zaakplatform")),
        st.frozensets(st.sampled_from(GEMEENTEN), max_size=3),
        st.frozensets(st.sampled_from(GEMEENTEN), max_size=2),  # deliveries reported
    ),
    min_size=1,
    max_size=8,
)


async def _check(plan: list[tuple[str, frozenset[str], frozenset[str]]], root: Path) -> None:
    model = await ReadModel.open(f"sqlite+aiosqlite:///{root / 'iso.db'}")
    try:
        routed: dict[str, frozenset[str]] = {}
        records: list[Any] = []
        for i, (supplier, gemeenten, delivered) in enumerate(plan):
            rid = f"iso-{i}"
            ticket = version(rid, 1, supplier=supplier)
            routed[ticket.hub_id] = gemeenten
            records.append(version_record(ticket, i))
            for g in sorted(gemeenten):
                records.append(routed_record(g, "fb-zaken", rid, supplier=supplier, offset=i))
            for g in sorted(delivered):
                entry = delivery_entry(ticket.hub_id, g)
                records.append(audit_record(entry, ticket.hub_id, g))
        await model.apply(records)
        for g in GEMEENTEN:
            scope = Scope(g)
            mine = {h for h, gs in routed.items() if g in gs}
            rows, _ = await model.tickets(TicketQuery(limit=1000), scope)
            assert {r["hub_id"] for r in rows} == mine
            for hub in routed:
                visible = await model.ticket(hub, scope)
                assert (visible is not None) == (hub in mine)
                if visible is None:
                    continue
                shown = [e for e in await model.timeline(hub) if _visible_to(e, g)]
                for entry in shown:
                    named = set(_CODE.findall(entry["summary"] + repr(entry["detail"])))
                    assert named <= {g}, (g, entry["summary"], entry["detail"])
            total = sum(f["total"] for f in await model.figures(scope))
            assert total == len(mine)
        everything, _ = await model.tickets(TicketQuery(limit=1000))
        assert {r["hub_id"] for r in everything} == set(routed)
    finally:
        await model.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=tickets)
def test_an_fb_team_sees_exactly_its_own_gemeente(
    plan: list[tuple[str, frozenset[str], frozenset[str]]],
) -> None:
    with tempfile.TemporaryDirectory() as root:
        asyncio.run(_check(plan, Path(root)))
