"""The calendar's step: findings raised and withdrawn, notices due, all of it once; the
store keeps it across a restart; views (JSON, iCalendar) and the service's batch handler."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import icalendar
import orjson
import pytest
from faststream.kafka import KafkaBroker

from schemas import ChangeStatus, ChangeType, RoutedTicket
from schemas.changes import NOTICE_BASIS, ChangeFindingEvent
from schemas.envelope import CloudEvent
from schemas.topics import CHANGE_FINDINGS, DEADLETTER, gemeente_topic
from services.changes import ChangeCalendar, ChangesService, ChangeStore, entries, to_ics, to_json
from services.config import SchakelConfig, Settings
from services.contract import Runtime
from tests.changes_kit import T0, CiTable, change, with_changes
from tests.fakes import FakeRecord, MemoryPublisher
from tests.router_kit import ci, ticket_record

NIGHT = T0.replace(hour=21) + timedelta(days=5)  # Saturday 6 March 2027, 22:00 CET


def table() -> CiTable:
    return CiTable(
        [
            ci("srv-9", "Server 9", ci_class="cmdb_ci_server"),
            ci(
                "app-bz",
                "Burgerzaken-suite",
                relations=[("runs_on", "srv-9")],
                gemeenten=["GM0505", "GM0482"],
                gemma="Burgerzakencomponent",
            ),
        ]
    )


def config(example: SchakelConfig) -> SchakelConfig:
    return with_changes(
        example,
        margin_minutes=30,
        notice_days=3,
        gemeenten={
            "GM0505": {
                "maintenance_windows": [{"days": ["sat"], "start": "20:00", "end": "06:00"}],
                "blackouts": [
                    {"name": "Herindelingsverkiezing", "start": "2027-03-10", "end": "2027-03-10"}
                ],
            }
        },
    )


def pair() -> tuple:
    dc = change("chg-dc", NIGHT, NIGHT + timedelta(hours=3), ci="Server 9", number="CHG1")
    app = change(
        "chg-app",
        NIGHT + timedelta(hours=1),
        NIGHT + timedelta(hours=2),
        ci="Burgerzaken-suite",
        supplier="centric",
        number="C-9",
    )
    return dc, app


def findings_of(messages: list) -> list[ChangeFindingEvent]:
    return [
        ChangeFindingEvent.model_validate_json(m.value)
        for m in messages
        if m.topic == CHANGE_FINDINGS
    ]


def notices_of(messages: list) -> list[tuple[str, CloudEvent[RoutedTicket]]]:
    return [
        (m.topic, CloudEvent[RoutedTicket].model_validate_json(m.value))
        for m in messages
        if m.topic.startswith("schakel.gemeente.")
    ]


def test_raise_once_withdraw_when_moved_and_notices(example_config: SchakelConfig) -> None:
    calendar = ChangeCalendar(config(example_config), table())
    dc, app = pair()
    calendar.apply(dc)
    calendar.apply(app)
    now = T0  # five days ahead: no notices yet
    first = calendar.evaluate(now)
    raised = findings_of(first.messages)
    assert [e.data.kind for e in raised] == ["collision"]
    assert raised[0].type == "nl.schakel.changefinding.raised.v1"
    assert raised[0].sequence == "1" and raised[0].subject == raised[0].data.finding_id
    assert not notices_of(first.messages)
    calendar.commit(first)
    assert calendar.evaluate(now).messages == []  # nothing new: nothing again

    # three days ahead: both gemeenten's burgerzaken teams hear of both changes
    soon = NIGHT - timedelta(days=2)
    due = calendar.evaluate(soon)
    notices = notices_of(due.messages)
    assert sorted((t, e.data.ticket.supplier_ref.number) for t, e in notices) == [
        (gemeente_topic("GM0482"), "C-9"),
        (gemeente_topic("GM0482"), "CHG1"),
        (gemeente_topic("GM0505"), "C-9"),
        (gemeente_topic("GM0505"), "CHG1"),
    ]
    _, event = notices[0]
    assert event.data.decision.basis == NOTICE_BASIS
    assert event.data.decision.explanation.startswith("Aankondiging: ")
    assert [r.team for r in event.data.decision.recipients] == ["fb-burgerzaken"]
    calendar.commit(due)
    assert calendar.evaluate(soon).messages == []

    # the application change moves a day later: the collision is withdrawn, teams told
    moved = app.model_copy(
        update={
            "planned_start": app.planned_start + timedelta(days=1),  # type: ignore[operator]
            "planned_end": app.planned_end + timedelta(days=1),  # type: ignore[operator]
            "version": 2,
        }
    )
    assert calendar.apply(moved)
    assert not calendar.apply(moved)  # the same version again changes nothing
    step = calendar.evaluate(soon)
    events = findings_of(step.messages)
    withdrawn = [e for e in events if e.data.state == "withdrawn"]
    assert [e.data.kind for e in withdrawn] == ["collision"]
    assert withdrawn[0].sequence == "2"
    assert "is verplaatst naar" in withdrawn[0].data.explanation
    # Sunday 7 March 22:00 is outside Dordrecht's Saturday window: a finding of its own
    assert {e.data.kind for e in events if e.data.state == "raised"} == {
        "outside_maintenance_window"
    }
    moved_notices = notices_of(step.messages)
    assert {e.data.decision.inputs["notice"] for _, e in moved_notices} == {"moved"}
    assert len(moved_notices) == 2
    calendar.commit(step)
    assert calendar.evaluate(soon).messages == []

    # cancelled: its finding is withdrawn and the teams that heard of it are told
    cancelled = moved.model_copy(update={"status": ChangeStatus.CANCELLED, "version": 3})
    calendar.apply(cancelled)
    step = calendar.evaluate(soon)
    assert [e.data.state for e in findings_of(step.messages)] == ["withdrawn"]
    assert "is geannuleerd" in findings_of(step.messages)[0].data.explanation
    assert {e.data.decision.inputs["notice"] for _, e in notices_of(step.messages)} == {"cancelled"}
    calendar.commit(step)

    # the datacenter change fails: its teams hear that too
    done = dc.model_copy(
        update={
            "status": ChangeStatus.CLOSED,
            "actual_start": NIGHT,
            "actual_end": NIGHT + timedelta(hours=4),
            "close_code": "unsuccessful",
            "version": 2,
        }
    )
    calendar.apply(done)
    step = calendar.evaluate(NIGHT + timedelta(hours=5))
    assert {e.data.decision.inputs["notice"] for _, e in notices_of(step.messages)} == {"failed"}
    assert [e.data.kind for e in findings_of(step.messages)] == ["overrun"]
    assert "liep uit" in findings_of(step.messages)[0].data.explanation


def test_blackout_emergency_and_unapproved(example_config: SchakelConfig) -> None:
    calendar = ChangeCalendar(config(example_config), table())
    election = T0.replace(day=10, hour=8)  # Wednesday 10 March, 09:00 CET
    calendar.apply(
        change(
            "chg-e",
            election,
            election + timedelta(hours=1),
            ci="Burgerzaken-suite",
            change_type=ChangeType.EMERGENCY,
            approval="requested",
            status=ChangeStatus.IMPLEMENT,
        )
    )
    kinds = {
        e.data.kind: e.data.explanation for e in findings_of(calendar.evaluate(election).messages)
    }
    assert set(kinds) == {
        "blackout",
        "outside_maintenance_window",
        "emergency",
        "unapproved_start",
    }
    assert "Herindelingsverkiezing" in kinds["blackout"]
    assert "za 20:00-06:00 (Nederlandse tijd)" in kinds["outside_maintenance_window"]
    assert "zonder goedkeuring" in kinds["unapproved_start"]


async def test_store_survives_a_restart(example_config: SchakelConfig, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'changes.db'}"
    cfg = config(example_config)
    store = await ChangeStore.open(url)
    calendar = ChangeCalendar(cfg, table())
    for made in pair():
        calendar.apply(made)
    step = calendar.evaluate(NIGHT - timedelta(days=1))
    assert step.messages
    await store.save(step.schedule, step.findings, step.notices)
    calendar.commit(step)
    await store.close()

    store = await ChangeStore.open(url)
    again = ChangeCalendar(cfg, table())
    state = await store.load()
    again.restore(state)
    assert again.evaluate(NIGHT - timedelta(days=1)).messages == []
    listed = entries(state, NIGHT - timedelta(days=1), NIGHT + timedelta(days=1), gemeente="GM0505")
    assert [e.change.supplier_ref.number for e in listed] == ["CHG1", "C-9"]
    assert all(e.marks == ["BOTSING"] for e in listed)
    assert entries(state, NIGHT, NIGHT + timedelta(days=1), gemeente="GM0523") == []
    assert [
        e.change.hub_id
        for e in entries(state, NIGHT, NIGHT + timedelta(hours=2), supplier="centric")
    ] == [pair()[1].hub_id]
    body = orjson.loads(to_json(listed))
    assert body[0]["affects"]["gemeenten"] == ["GM0482", "GM0505"]
    assert body[0]["findings"][0]["kind"] == "collision"
    ics = icalendar.Calendar.from_ical(to_ics(listed, name="Dordrecht", zone=calendar.zone, now=T0))
    events = list(ics.walk("VEVENT"))
    assert str(events[0]["summary"]).startswith("[BOTSING] kpn CHG1")
    assert events[0].decoded("dtstart") == NIGHT
    assert str(events[0]["uid"]) == f"{pair()[0].hub_id}@schakel"
    await store.close()


async def test_service_batch_dead_letters_and_publishes(
    example_config: SchakelConfig, tmp_path: Path
) -> None:
    publisher = MemoryPublisher()
    store = await ChangeStore.open(f"sqlite+aiosqlite:///{tmp_path / 'svc.db'}")
    runtime = Runtime(
        broker=KafkaBroker("127.0.0.1:1"),
        publisher=publisher,
        settings=Settings(),
        config=config(example_config),
        clock=lambda: T0,
        overrides={"changes.cmdb": table(), "changes.store": store, "changes.tick": False},
    )
    service = ChangesService()
    service.bind(runtime)
    await service.start()  # the store and the CMDB are given: no Kafka
    dc, app = pair()
    records = [
        ticket_record(dc, 0),
        FakeRecord("schakel.changes.v1", 0, 1, b"k", b"{not json"),
        ticket_record(app, 2),
    ]
    publisher.fail = 1
    with pytest.raises(ConnectionError):
        await service.handle(records)
    assert await store.load() == await store.load()  # nothing stored when the send failed
    assert not (await store.load()).findings
    await service.handle(records)  # redelivered: the same results
    topics = sorted(m.topic for m in publisher.sent)
    assert topics == [CHANGE_FINDINGS, DEADLETTER]
    await service.handle(records)  # again: the finding is not reported twice
    assert [m.topic for m in publisher.sent].count(CHANGE_FINDINGS) == 1
    assert len((await store.load()).schedule) == 2
    await service.stop()
    await store.close()


def test_config_refuses_unknown_gemeente(example_config: SchakelConfig) -> None:
    from services.config import ConfigError

    data = example_config.model_dump(mode="json")
    data["changes"] = {"gemeenten": {"GM9999": {"blackouts": []}}}
    with pytest.raises((ConfigError, ValueError), match="GM9999"):
        SchakelConfig.model_validate(data)
    bad = {"name": "x", "start": date(2027, 3, 2), "end": date(2027, 3, 1)}
    with pytest.raises(ValueError, match="before start"):
        with_changes(example_config, gemeenten={"GM0505": {"blackouts": [bad]}})
    assert (
        time(6)
        == with_changes(
            example_config,
            gemeenten={
                "GM0505": {
                    "maintenance_windows": [{"days": ["sat"], "start": "22:00", "end": "06:00"}]
                }
            },
        )
        .changes.gemeenten["GM0505"]
        .maintenance_windows[0]
        .end
    )


def test_delivery_renders_a_notice_as_a_notice(example_config: SchakelConfig) -> None:
    from services.delivery._render import action_text, render_text
    from services.delivery.channels import Delivery

    calendar = ChangeCalendar(config(example_config), table())
    calendar.apply(pair()[0])
    _, event = notices_of(calendar.evaluate(NIGHT - timedelta(days=1)).messages)[0]
    delivery = Delivery(
        event_id=event.id,
        hub_id=event.subject,
        gemeente="GM0482",
        team="fb-burgerzaken",
        channel="email-x",
        kind="change",
        routed=event.data,
        idempotency_key="k",
        body=b"",
        receiver_ref="thread-1",
    )
    text = render_text(delivery)
    assert text.startswith("Aankondiging van een wijziging via Schakel")
    assert "Aankondiging: wijziging CHG1 van kpn" in text
    assert "'Burgerzaken-suite'" in text
    assert action_text(delivery).startswith("Via Schakel: Aankondiging: wijziging CHG1")
