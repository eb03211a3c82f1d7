"""Collision detection against a brute-force oracle, over random windows and random CI graphs.

The oracle knows nothing of sweeps or set algebra: it enumerates every node path of the
relations up to the CMDB's hop limit to find what each change affects, and it compares two
windows minute by minute (half-minutes for the open overlap when the margin is zero).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import ChangeStatus, EntityKind, hub_id
from services.changes import Scheduled, collisions, detect, impact_of
from services.cmdb import DEPENDS_ON, MAX_HOPS, SUPPORTS
from services.config import SchakelConfig
from tests.changes_kit import T0, CiTable, change, with_changes
from tests.router_kit import ci

KINDS = ("runs_on", "depends_on", "hosts", "used_by", "connects_to", "contains")
UNIT = timedelta(minutes=5)


def _edges(relations: list[tuple[int, str, int]]) -> set[tuple[int, int]]:
    """(provider, dependent) pairs, by the relation kinds' reading direction."""
    pairs = set()
    for source, kind, target in relations:
        if kind in DEPENDS_ON:
            pairs.add((target, source))
        elif kind in SUPPORTS:
            pairs.add((source, target))
    return pairs


def _oracle_affected(start: int, n: int, pairs: set[tuple[int, int]]) -> set[int]:
    reached = {start}
    for length in range(1, MAX_HOPS + 1):
        for path in itertools.product(range(n), repeat=length):
            steps = (start, *path)
            if all((a, b) in pairs for a, b in itertools.pairwise(steps)):
                reached.add(path[-1])
    return reached


def _oracle_collide(a: tuple[int, int], b: tuple[int, int], margin: int) -> bool:
    """Windows in units; minute by minute."""
    if margin == 0:  # open intervals share a moment
        return any(
            2 * a[0] < t < 2 * a[1] and 2 * b[0] < t < 2 * b[1]
            for t in range(2 * min(a[0], b[0]), 2 * max(a[1], b[1]) + 1)
        )
    return any(abs(x - y) < margin for x in range(a[0], a[1] + 1) for y in range(b[0], b[1] + 1))


graphs = st.integers(min_value=1, max_value=7).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.sampled_from(KINDS), st.integers(0, n - 1)).filter(
                lambda e: e[0] != e[2]
            ),
            max_size=12,
        ),
    )
)
plans = st.lists(
    st.tuples(
        st.integers(-1, 6),  # the CI named (index modulo n), -1: a CI the CMDB does not know
        st.integers(0, 60),  # start, in units of 5 minutes
        st.integers(0, 16),  # duration
        st.sampled_from([ChangeStatus.SCHEDULED, ChangeStatus.SCHEDULED, ChangeStatus.CANCELLED]),
    ),
    min_size=2,
    max_size=7,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=graphs, planned=plans, margin=st.integers(0, 6))
def test_collisions_match_the_brute_force_oracle(
    example_config: SchakelConfig,
    graph: tuple[int, list[tuple[int, str, int]]],
    planned: list[tuple[int, int, int, ChangeStatus]],
    margin: int,
) -> None:
    n, relations = graph
    by_source: dict[int, list[tuple[str, str]]] = {}
    for source, kind, target in relations:
        by_source.setdefault(source, []).append((kind, f"c{target}"))
    table = CiTable([ci(f"c{i}", relations=by_source.get(i, ())) for i in range(n)])
    gemeenten = {g.code: g for g in example_config.gemeenten}
    items = []
    for k, (named, start, duration, status) in enumerate(planned):
        begin = T0 + start * UNIT
        ci_name = f"c{named % n}" if named >= 0 else "onbekend-ci"
        made = change(f"chg-{k}", begin, begin + duration * UNIT, ci=ci_name, status=status)
        items.append(Scheduled(made, impact_of(made, table, gemeenten)))

    found = {
        frozenset((a.hub_id, b.hub_id)): set(meet)
        for a, b, meet in collisions(items, margin * UNIT)
    }

    pairs = _edges(relations)
    hub = {i: hub_id("kpn", EntityKind.CI, f"c{i}") for i in range(n)}
    expected: dict[frozenset[str], set[str]] = {}
    for (i, (na, sa, da, _)), (j, (nb, sb, db, _)) in itertools.combinations(enumerate(planned), 2):
        if not _oracle_collide((sa, sa + da), (sb, sb + db), margin):
            continue
        if na < 0 and nb < 0:
            meet = {"ref:kpn:onbekend-ci"}
        elif na < 0 or nb < 0:
            meet = set()
        else:
            both = _oracle_affected(na % n, n, pairs) & _oracle_affected(nb % n, n, pairs)
            meet = {hub[x] for x in both}
        if meet:
            expected[frozenset((items[i].hub_id, items[j].hub_id))] = meet
    assert found == expected

    # detect() leaves cancelled changes out: its collisions are the oracle's without them
    config = with_changes(example_config, margin_minutes=margin * 5, lookback_days=3650)
    detected = {
        frozenset(c.hub_id for c in f.changes)
        for f in detect(items, config.changes, gemeenten, T0).values()
        if f.kind == "collision"
    }
    cancelled = {i.hub_id for i in items if i.change.status is ChangeStatus.CANCELLED}
    assert detected == {pair for pair in expected if not pair & cancelled}


def test_collision_through_a_dependency_two_hops_away(example_config: SchakelConfig) -> None:
    """A datacenter change on a host and an application change: they meet on the
    application that runs on a VM on that host, and the explanation says how."""
    table = CiTable(
        [
            ci("host-1", "ESX-host DC1", ci_class="cmdb_ci_esx_server"),
            ci(
                "vm-7",
                "VM burgerzaken",
                relations=[("virtualized_by", "host-1")],
                ci_class="cmdb_ci_vm",
            ),
            ci(
                "app-bz",
                "Burgerzaken-suite",
                relations=[("runs_on", "vm-7")],
                gemeenten=["GM0505"],
                gemma="Burgerzakencomponent",
            ),
        ]
    )
    gemeenten = {g.code: g for g in example_config.gemeenten}
    night = T0.replace(hour=21)
    host = change("chg-dc", night, night + timedelta(hours=4), ci="ESX-host DC1", number="CHG100")
    app = change(
        "chg-bz",
        night + timedelta(hours=3),
        night + timedelta(hours=6),
        ci="Burgerzaken-suite",
        supplier="centric",
        number="C-2027-7",
    )
    items = [Scheduled(c, impact_of(c, table, gemeenten)) for c in (host, app)]
    assert items[0].impact.gemeenten == ("GM0505",)
    assert items[0].impact.teams == (("GM0505", "fb-burgerzaken"),)
    config = with_changes(example_config, margin_minutes=0)
    found = list(detect(items, config.changes, gemeenten, T0).values())
    assert [f.kind for f in found] == ["collision"]
    text = found[0].explanation
    assert "CHG100" in text and "C-2027-7" in text
    assert "overlappen in tijd" in text
    assert "'Burgerzaken-suite'" in text and "via 'VM burgerzaken'" in text
    assert "Dordrecht (GM0505)" in text
    # three hours apart with a margin of two: no collision; four: collision
    later = app.model_copy(
        update={
            "planned_start": night + timedelta(hours=7),
            "planned_end": night + timedelta(hours=9),
        }
    )
    items[1] = Scheduled(later, impact_of(later, table, gemeenten))
    assert not detect(
        items, with_changes(example_config, margin_minutes=120).changes, gemeenten, T0
    )
    again = detect(items, with_changes(example_config, margin_minutes=240).changes, gemeenten, T0)
    assert "minder dan 240 minuten" in next(iter(again.values())).explanation
