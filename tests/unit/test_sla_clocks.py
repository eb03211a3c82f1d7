"""The clock engine, one test per rule (services.sla.clocks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from schemas.sla import SlaClock, SlaEventKind, SlaState
from schemas.vocab import EntityKind, Priority
from services.config import (
    SlaCalendar,
    SlaCalendarVersion,
    SlaConfig,
    SlaRules,
    SlaTarget,
    SupplierContract,
)
from services.sla.clocks import Contract, Observation, TicketHistory, evaluate

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam


def contract(rules: SlaRules | None = None, *, change: bool = False) -> Contract:
    targets = [
        SlaTarget(priority="P1", response_minutes=15, resolve_minutes=240, business_hours=False),
        SlaTarget(priority="P2", response_minutes=30, resolve_minutes=100, business_hours=False),
        SlaTarget(priority="P3", response_minutes=60, resolve_minutes=540, business_hours=True),
    ]
    return Contract(
        SupplierContract(
            name="DVO-test",
            sla=targets,
            change_sla=targets if change else [],
            rules=rules or SlaRules(),
        ),
        SlaConfig(),
    )


def obs(minutes: float, version: int, phase: str, **extra: object) -> Observation:
    return Observation(
        at=T0 + timedelta(minutes=minutes),
        version=version,
        phase=phase,  # type: ignore[arg-type]
        priority=extra.pop("priority", Priority.P2),  # type: ignore[arg-type]
        **extra,  # type: ignore[arg-type]
    )


def ticket(*observations: Observation, entity: EntityKind = EntityKind.INCIDENT) -> TicketHistory:
    history = TicketHistory("hub-1", entity, "kpn", "INC1", T0)
    for o in observations:
        history.add(o)
    return history


def kinds(result: object) -> list[str]:
    return [e.event.value for _, e in result.events]  # type: ignore[attr-defined]


def at_minute(result: object, kind: SlaEventKind) -> list[float]:
    return [
        (e.at - T0).total_seconds() / 60
        for _, e in result.events  # type: ignore[attr-defined]
        if e.event is kind
    ]


def test_response_is_the_first_event_that_is_no_longer_new() -> None:
    history = ticket(obs(0, 1, "new"), obs(10, 2, "new"), obs(20, 3, "open"))
    response = evaluate(history, contract(), T0 + timedelta(hours=1))[SlaClock.RESPONSE]
    assert response.business_seconds == 20 * 60
    assert response.met is True
    assert kinds(response) == ["started", "met"]  # 75 % of 30 min would be 22.5 min


def test_response_breached_when_nobody_reacts_in_time() -> None:
    history = ticket(obs(0, 1, "new"), obs(45, 2, "on_hold", hold="awaiting_caller"))
    response = evaluate(history, contract(), T0 + timedelta(hours=1))[SlaClock.RESPONSE]
    assert response.met is False
    assert kinds(response) == ["started", "warning", "warning", "breached", "stopped"]
    assert at_minute(response, SlaEventKind.BREACHED) == [30]


def test_waiting_for_the_caller_stops_the_resolution_clock() -> None:
    history = ticket(
        obs(0, 1, "open"),
        obs(30, 2, "on_hold", hold="awaiting_caller"),
        obs(90, 3, "open"),
        obs(120, 4, "done"),
    )
    resolution = evaluate(history, contract(), T0 + timedelta(hours=5))[SlaClock.RESOLUTION]
    assert resolution.business_seconds == 60 * 60
    assert resolution.paused_seconds == 60 * 60
    assert resolution.met is True
    assert kinds(resolution) == ["started", "paused", "resumed", "met"]
    paused = next(e for _, e in resolution.events if e.event is SlaEventKind.PAUSED)
    assert paused.reason == "waiting for the caller"
    assert paused.due_at is None


def test_waiting_for_the_suppliers_vendor_does_not_stop_it() -> None:
    history = ticket(
        obs(0, 1, "open"), obs(30, 2, "on_hold", hold="awaiting_supplier"), obs(120, 3, "done")
    )
    resolution = evaluate(history, contract(), T0 + timedelta(hours=5))[SlaClock.RESOLUTION]
    assert resolution.business_seconds == 120 * 60
    assert resolution.met is False
    assert "paused" not in kinds(resolution)
    assert kinds(resolution)[-2:] == ["breached", "stopped"]


def test_the_pause_reasons_belong_to_the_contract() -> None:
    history = ticket(
        obs(0, 1, "open"), obs(30, 2, "on_hold", hold="awaiting_supplier"), obs(120, 3, "done")
    )
    rules = SlaRules(pause_hold_reasons=["awaiting_caller", "awaiting_supplier"])
    resolution = evaluate(history, contract(rules), T0 + timedelta(hours=5))[SlaClock.RESOLUTION]
    assert resolution.business_seconds == 30 * 60


def test_warnings_at_the_contracts_percentages_and_the_breach_at_its_moment() -> None:
    history = ticket(obs(0, 1, "open"))
    result = evaluate(history, contract(), T0 + timedelta(hours=3))[SlaClock.RESOLUTION]
    assert at_minute(result, SlaEventKind.WARNING) == [75, 90]
    assert at_minute(result, SlaEventKind.BREACHED) == [100]
    breach = next(e for _, e in result.events if e.event is SlaEventKind.BREACHED)
    assert (breach.percent_used, breach.state) == (100, SlaState.BREACHED)
    warnings = [e for _, e in result.events if e.event is SlaEventKind.WARNING]
    assert [w.threshold_percent for w in warnings] == [75, 90]
    rules = SlaRules(warning_percents=[50])
    other = evaluate(history, contract(rules), T0 + timedelta(hours=3))[SlaClock.RESOLUTION]
    assert at_minute(other, SlaEventKind.WARNING) == [50]


def test_nothing_after_now_is_given_but_the_next_moment_is_known() -> None:
    history = ticket(obs(0, 1, "open"))
    result = evaluate(history, contract(), T0 + timedelta(minutes=80))[SlaClock.RESOLUTION]
    assert kinds(result) == ["started", "warning"]
    assert result.next_due == T0 + timedelta(minutes=90)
    assert result.state is SlaState.RUNNING
    assert result.due_at == T0 + timedelta(minutes=100)


def test_resolved_exactly_at_the_target_is_met() -> None:
    history = ticket(obs(0, 1, "open"), obs(100, 2, "done"))
    result = evaluate(history, contract(), T0 + timedelta(hours=3))[SlaClock.RESOLUTION]
    assert result.met is True
    assert "breached" not in kinds(result)


def test_a_reopened_ticket_resumes_where_it_stopped() -> None:
    history = ticket(
        obs(0, 1, "open"),
        obs(60, 2, "done"),
        obs(300, 3, "open"),  # reopened four hours later: those hours do not count
        obs(335, 4, "done"),
    )
    result = evaluate(history, contract(), T0 + timedelta(hours=8))[SlaClock.RESOLUTION]
    assert result.business_seconds == 95 * 60
    assert kinds(result) == ["started", "met", "resumed", "warning", "warning", "met"]
    resumed = next(e for _, e in result.events if e.event is SlaEventKind.RESUMED)
    assert resumed.reason == "reopened"
    assert resumed.business_minutes == 60


def test_a_cancelled_ticket_stops_without_a_verdict() -> None:
    history = ticket(obs(0, 1, "new"), obs(10, 2, "cancelled"))
    results = evaluate(history, contract(), T0 + timedelta(days=2))
    for result in results.values():
        assert result.met is None
        assert result.state is SlaState.CANCELLED
        assert kinds(result) == ["started", "cancelled"]


def test_a_priority_change_applies_the_new_target_from_the_start() -> None:
    # P3 (540 business minutes) raised to P2 (100 minutes 24x7) after 120 minutes: the clock
    # is past the new target, so the breach fires at the moment of the change.
    history = ticket(obs(0, 1, "open", priority=Priority.P3), obs(120, 2, "open"))
    result = evaluate(history, contract(), T0 + timedelta(hours=3))[SlaClock.RESOLUTION]
    assert at_minute(result, SlaEventKind.BREACHED) == [120]
    breach = next(e for _, e in result.events if e.event is SlaEventKind.BREACHED)
    assert breach.priority is Priority.P2
    assert result.priority is Priority.P2


def test_rule_initial_keeps_the_opening_priority() -> None:
    history = ticket(obs(0, 1, "open", priority=Priority.P3), obs(120, 2, "open"))
    rules = SlaRules(priority_change="initial")
    result = evaluate(history, contract(rules), T0 + timedelta(hours=3))[SlaClock.RESOLUTION]
    assert result.priority is Priority.P3
    assert "breached" not in kinds(result)


def test_business_hours_targets_count_in_the_contracts_calendar() -> None:
    # P3: 540 business minutes, Monday 10:00 -> Tuesday 10:00 (17:00-08:00 does not count)
    history = ticket(obs(0, 1, "open", priority=Priority.P3))
    result = evaluate(history, contract(), T0 + timedelta(days=3))[SlaClock.RESOLUTION]
    assert result.calendar == "werkdagen@2024-01-01"
    assert at_minute(result, SlaEventKind.BREACHED) == [24 * 60]


def test_a_calendar_version_applies_to_tickets_opened_from_its_date() -> None:
    first = SlaCalendarVersion(
        effective_from=date(2024, 1, 1), bevrijdingsdag="every_year", good_friday=False
    )
    later = first.model_copy(update={"effective_from": date(2026, 11, 3), "hours": "24x7"})
    sla = SlaConfig(calendars=[SlaCalendar(id="werkdagen", versions=[first, later])])
    c = Contract(contract().contract, sla)
    monday = ticket(obs(0, 1, "open", priority=Priority.P3))
    assert evaluate(monday, c, T0)[SlaClock.RESOLUTION].calendar == "werkdagen@2024-01-01"
    tuesday = TicketHistory("hub-2", EntityKind.INCIDENT, "kpn", None, T0 + timedelta(days=1))
    tuesday.add(obs(24 * 60, 1, "open", priority=Priority.P3))
    result = evaluate(tuesday, c, T0 + timedelta(days=1))[SlaClock.RESOLUTION]
    assert result.calendar == "werkdagen@2026-11-03"


def test_a_suppliers_own_due_time_beyond_the_tolerance_is_a_discrepancy() -> None:
    theirs = T0 + timedelta(minutes=160)  # the contract says 100 minutes
    history = ticket(obs(0, 1, "open", resolve_due=theirs), obs(5, 2, "open", resolve_due=theirs))
    result = evaluate(history, contract(), T0 + timedelta(minutes=10))[SlaClock.RESOLUTION]
    found = [e for _, e in result.events if e.event is SlaEventKind.DISCREPANCY]
    assert len(found) == 1
    assert found[0].difference_minutes == 60
    assert found[0].supplier_due_at == theirs
    close = ticket(obs(0, 1, "open", resolve_due=T0 + timedelta(minutes=110)))
    quiet = evaluate(close, contract(), T0 + timedelta(minutes=10))[SlaClock.RESOLUTION]
    assert "discrepancy" not in kinds(quiet)


def test_changes_have_clocks_only_where_the_contract_sets_targets() -> None:
    history = ticket(obs(0, 1, "new"), obs(20, 2, "open"), entity=EntityKind.CHANGE)
    assert evaluate(history, contract(), T0 + timedelta(hours=1)) == {}
    results = evaluate(history, contract(change=True), T0 + timedelta(hours=1))
    assert results[SlaClock.RESPONSE].met is True


def test_the_same_history_gives_the_same_event_ids() -> None:
    history = ticket(obs(0, 1, "open"), obs(30, 2, "on_hold", hold="awaiting_caller"))
    now = T0 + timedelta(hours=1)
    one = [i for i, _ in evaluate(history, contract(), now)[SlaClock.RESOLUTION].events]
    two = [i for i, _ in evaluate(history, contract(), now)[SlaClock.RESOLUTION].events]
    assert one == two
    assert len(set(one)) == len(one)
