"""The delivery pipeline with fake channels and a real (SQLite) store: fan-out, tenant
isolation, idempotency, receiver references, order, failures and dead letters."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from schemas import IncidentStatus
from schemas.topics import DEADLETTER, gemeente_topic
from services.delivery import Deliverer, DeliveryOptions, DeliveryStore, Thread
from services.delivery.errors import ReceiverRejected, ReceiverUnavailable
from services.messaging import DLQ_ERROR, DLQ_ERROR_CLASS, DLQ_OFFSET, DLQ_SERVICE, DLQ_TOPIC
from services.parking import ParkingPolicy
from tests.delivery_kit import (
    STORE_BACKENDS,
    FakeChannels,
    email,
    gemeente,
    open_test_store,
    routed_event,
    team,
    webhook,
)
from tests.fakes import FakeRecord, MemoryPublisher

HOOK_ZAKEN = "http://fb.example/GM0505/zaken"
HOOK_BZ = "http://fb.example/GM0505/burgerzaken"
HOOK_ALBLASSERDAM = "http://fb.example/GM0482/zaken"
MAIL_ZAKEN = "mailto:fb-zaken@dordrecht.example"

GEMEENTEN = [
    gemeente(
        "GM0505",
        team(
            "fb-zaken",
            webhook(HOOK_ZAKEN, "SECRET_A", max_attempts=3),
            email(2525, "fb-zaken@dordrecht.example"),
        ),
        team("fb-burgerzaken", webhook(HOOK_BZ, "SECRET_B", max_attempts=3)),
        name="Dordrecht",
    ),
    gemeente(
        "GM0482", team("fb-zaken", webhook(HOOK_ALBLASSERDAM, "SECRET_C")), name="Alblasserdam"
    ),
]
FAST = DeliveryOptions(backoff_initial_s=0.001, backoff_max_s=0.01, concurrency=8)


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DeliveryStore]:
    opened = await open_test_store(request.param, tmp_path)
    yield opened
    await opened.close()


@pytest.fixture
async def setup(store: DeliveryStore) -> AsyncIterator[tuple[Deliverer, FakeChannels]]:
    fakes = FakeChannels()
    deliverer = Deliverer(GEMEENTEN, store, channels=fakes, options=FAST)
    await deliverer.start()
    yield deliverer, fakes
    await deliverer.aclose()


def records(*events: object) -> list[FakeRecord]:
    return [e.as_record(offset=i) for i, e in enumerate(events)]  # type: ignore[attr-defined]


async def test_fans_out_to_the_teams_of_the_topics_gemeente_only(setup) -> None:
    deliverer, fakes = setup
    event = routed_event("GM0505", ["fb-zaken", "fb-burgerzaken", ("GM0482", "fb-zaken")])
    result = await deliverer.deliver_batch(records(event))
    assert result.dead_letters == []
    assert (result.delivered, result.foreign_recipients) == (3, 1)
    assert [len(fakes[t].accepted) for t in (HOOK_ZAKEN, MAIL_ZAKEN, HOOK_BZ)] == [1, 1, 1]
    assert HOOK_ALBLASSERDAM not in fakes.by_target or not fakes[HOOK_ALBLASSERDAM].calls
    sent = [fakes[t].accepted[0] for t in (HOOK_ZAKEN, MAIL_ZAKEN, HOOK_BZ)]
    assert {d.body for d in sent} == {event.value}, "the routed CloudEvent bytes, unchanged"
    assert len({d.idempotency_key for d in sent}) == 3
    assert all(d.gemeente == "GM0505" and d.event_id == event.event_id for d in sent)


async def test_redelivery_is_skipped_by_the_idempotency_record(setup) -> None:
    deliverer, fakes = setup
    event = routed_event("GM0505", ["fb-zaken"])
    await deliverer.deliver_batch(records(event))
    again = await deliverer.deliver_batch(records(event, event))
    assert (again.delivered, again.already_delivered) == (0, 4)
    assert len(fakes[HOOK_ZAKEN].calls) == len(fakes[MAIL_ZAKEN].calls) == 1


async def test_a_restarted_deliverer_skips_what_the_store_recorded(store, setup) -> None:
    deliverer, _fakes = setup
    event = routed_event("GM0505", ["fb-burgerzaken"])
    await deliverer.deliver_batch(records(event))
    fresh_fakes = FakeChannels()
    restarted = Deliverer(GEMEENTEN, store, channels=fresh_fakes, options=FAST)
    result = await restarted.deliver_batch(records(event))
    assert result.already_delivered == 1
    assert not fresh_fakes[HOOK_BZ].calls


async def test_an_update_goes_to_the_same_receiver_ticket(setup, store) -> None:
    deliverer, fakes = setup
    first = routed_event("GM0505", ["fb-zaken"], version=1)
    update = routed_event("GM0505", ["fb-zaken"], version=2, status=IncidentStatus.RESOLVED)
    await deliverer.deliver_batch(records(first))
    await deliverer.deliver_batch(records(update))
    created, updated = fakes[HOOK_ZAKEN].accepted
    assert created.receiver_ref is None
    assert updated.receiver_ref == "ref-" + HOOK_ZAKEN + "-1"
    thread = Thread(first.hub_id, "GM0505", "fb-zaken", created.channel)
    assert await store.receiver_ref(thread) == "ref-" + HOOK_ZAKEN + "-1"


async def test_within_a_batch_one_ticket_is_delivered_in_order(setup) -> None:
    deliverer, fakes = setup
    batch = []
    for version in range(1, 6):
        for record_id in ("a", "b", "c"):
            batch.append(
                routed_event("GM0505", ["fb-burgerzaken"], record_id=record_id, version=version)
            )
    deliverer_result = await deliverer.deliver_batch(records(*batch))
    assert deliverer_result.delivered == 15
    fakes_channel = fakes[HOOK_BZ]
    for record_id in ("a", "b", "c"):
        versions = [
            d.version
            for d in fakes_channel.accepted
            if d.routed.ticket.supplier_ref.record_id == record_id
        ]
        assert versions == [1, 2, 3, 4, 5]
    refs = {d.receiver_ref for d in fakes_channel.accepted if d.version > 1}
    assert len(refs) == 3, "every later version went to its ticket's first receiver reference"


async def test_tickets_are_delivered_concurrently_within_the_limit(store) -> None:
    fakes = FakeChannels()
    options = DeliveryOptions(concurrency=8)
    deliverer = Deliverer(GEMEENTEN, store, channels=fakes, options=options)
    await deliverer.start()
    channel = fakes[HOOK_BZ]
    channel.delay_s = 0.05
    batch = [routed_event("GM0505", ["fb-burgerzaken"], record_id=f"r{i}") for i in range(32)]
    started = time.monotonic()
    result = await deliverer.deliver_batch(records(*batch))
    elapsed = time.monotonic() - started
    assert result.delivered == 32
    assert channel.max_in_flight == 8
    assert elapsed < 32 * 0.05 / 2, "deliveries of different tickets overlap"


async def test_a_failed_channel_dead_letters_the_event_and_replay_retries_only_it(
    setup, store
) -> None:
    deliverer, fakes = setup
    fakes[MAIL_ZAKEN].errors.append(ReceiverRejected("smtp: SMTP 550 mailbox unknown", status=550))
    event = routed_event("GM0505", ["fb-zaken"])
    record = event.as_record(offset=41, partition=2)
    result = await deliverer.deliver_batch([record])
    assert (result.delivered, result.failed) == (1, 1)
    [letter] = result.dead_letters
    headers = dict(letter.headers)
    assert letter.topic == DEADLETTER
    assert letter.value == event.value and letter.key == event.key
    assert headers["schakel-event-id"] == event.event_id.encode(), "original headers kept"
    assert headers[DLQ_ERROR_CLASS] == b"ReceiverRejected"
    assert headers[DLQ_TOPIC] == gemeente_topic("GM0505").encode()
    assert headers[DLQ_OFFSET] == b"41"
    assert headers[DLQ_SERVICE] == b"delivery"
    reason = headers[DLQ_ERROR].decode()
    assert "fb-zaken/email-" in reason and "SMTP 550" in reason and "after 1 attempt" in reason
    mail_key = fakes[MAIL_ZAKEN].calls[0].idempotency_key
    assert (await store.delivery_status(mail_key))[0] == "failed"  # type: ignore[index]

    replayed = await deliverer.deliver_batch([event.as_record(offset=99)])
    assert (replayed.delivered, replayed.already_delivered, replayed.dead_letters) == (1, 1, [])
    assert len(fakes[HOOK_ZAKEN].calls) == 1, "the webhook had it already"
    assert len(fakes[MAIL_ZAKEN].accepted) == 1
    assert (await store.delivery_status(mail_key))[:2] == ("delivered", 2)  # type: ignore[index]


#: parked work is retried at once (tests drive the drainer themselves)
PARKED_NOW = ParkingPolicy(
    initial_delay_s=1e-6, max_delay_s=1e-6, circuit_failures=2, probe_interval_s=2.0
)


@pytest.fixture
async def parking(
    store: DeliveryStore,
) -> AsyncIterator[tuple[Deliverer, FakeChannels, MemoryPublisher]]:
    """A deliverer whose parked work is due at once, with a publisher but no drain loop
    (the tests call drain_once)."""
    fakes = FakeChannels()
    options = dataclasses.replace(FAST, parking=PARKED_NOW)
    deliverer = Deliverer(GEMEENTEN, store, channels=fakes, options=options)
    await deliverer.start()  # no publisher yet: no background loop
    publisher = MemoryPublisher()
    deliverer.use_publisher(publisher)
    yield deliverer, fakes, publisher
    await deliverer.aclose()


async def test_a_transient_failure_parks_and_the_newest_version_is_delivered_later(
    parking: tuple[Deliverer, FakeChannels, MemoryPublisher],
) -> None:
    deliverer, fakes, publisher = parking
    hook = fakes[HOOK_BZ]
    hook.errors.extend(ReceiverUnavailable("HTTP 503", status=503) for _ in range(3))
    first = routed_event("GM0505", ["fb-burgerzaken"], version=1)
    second = routed_event("GM0505", ["fb-burgerzaken"], version=2)  # same ticket: in sequence
    result = await deliverer.deliver_batch(records(first, second))
    assert (result.failed, result.delivered, result.dead_letters) == (0, 0, [])
    assert len(hook.calls) == 3  # 3 attempts for v1 (max_attempts); v2 parks behind it
    assert (result.parked, result.superseded) == (2, 1)  # v2 replaced the parked v1
    assert len(await deliverer.lot.keys("delivery")) == 1
    assert await deliverer.drain_once() == 1
    assert [d.version for d in hook.calls] == [1, 1, 1, 2]  # the receiver gets the newest
    assert await deliverer.lot.keys("delivery") == []
    assert not [m for m in publisher.sent if m.topic == DEADLETTER]


async def test_a_permanent_refusal_is_dead_lettered_at_once(setup) -> None:
    deliverer, fakes = setup
    hook = fakes[HOOK_BZ]
    hook.errors.append(ReceiverRejected("HTTP 400", status=400))
    first = routed_event("GM0505", ["fb-burgerzaken"], version=1)
    result = await deliverer.deliver_batch(records(first))
    assert (result.failed, result.parked) == (1, 0)
    [letter] = result.dead_letters
    assert letter.value == first.value
    assert b"HTTP 400 (after 1 attempt(s))" in dict(letter.headers)[DLQ_ERROR]
    assert dict(letter.headers)[DLQ_ERROR_CLASS] == b"ReceiverRejected"


async def test_an_open_circuit_parks_at_once_and_the_backlog_drains_by_itself(
    parking: tuple[Deliverer, FakeChannels, MemoryPublisher],
) -> None:
    deliverer, fakes, publisher = parking
    hook = fakes[HOOK_BZ]
    hook.errors.extend(ReceiverUnavailable("HTTP 503", status=503) for _ in range(1000))
    tickets = [
        routed_event("GM0505", ["fb-burgerzaken"], record_id=f"rec-{n}", version=1)
        for n in range(4)
    ]
    result = await deliverer.deliver_batch(records(*tickets))
    lane = next(iter(deliverer.circuits.lanes))
    assert deliverer.circuits.state(lane) == "open"  # 2 failed deliveries in a row open it
    assert result.parked == 4 and result.dead_letters == []
    calls = len(hook.calls)
    newer = [
        routed_event("GM0505", ["fb-burgerzaken"], record_id=f"rec-{n}", version=2)
        for n in range(2)
    ]
    result = await deliverer.deliver_batch(records(*newer))
    assert (result.parked, len(hook.calls)) == (2, calls)  # open: parked without a call
    assert await deliverer.drain_once() == 0  # open: nobody is called before the probe
    assert len(hook.calls) == calls
    hook.errors.clear()  # the receiver is back
    await asyncio.sleep(PARKED_NOW.probe_interval_s)  # and the probe is due
    drained = 0
    for _ in range(5):
        drained += await deliverer.drain_once()
    assert drained == 4 and deliverer.circuits.state(lane) == "closed"
    after = sorted((d.hub_id, d.version) for d in hook.calls[calls:])
    want = sorted((t.hub_id, 2 if n < 2 else 1) for n, t in enumerate(tickets))
    assert after == want  # each ticket once, in its newest parked version
    assert await deliverer.lot.keys("delivery") == []
    assert not [m for m in publisher.sent if m.topic == DEADLETTER]


async def test_parked_work_is_given_up_at_the_horizon_with_its_reason(
    store: DeliveryStore,
) -> None:
    fakes = FakeChannels()
    policy = dataclasses.replace(PARKED_NOW, horizon_s=1e-6, circuit_failures=100)
    options = dataclasses.replace(FAST, parking=policy)
    deliverer = Deliverer(GEMEENTEN, store, channels=fakes, options=options)
    publisher = MemoryPublisher()
    await deliverer.start()
    deliverer.use_publisher(publisher)
    try:
        fakes[HOOK_BZ].errors.extend(ReceiverUnavailable("HTTP 503", status=503) for _ in range(9))
        event = routed_event("GM0505", ["fb-burgerzaken"], version=1)
        assert (await deliverer.deliver_batch(records(event))).parked == 1
        await deliverer.drain_once()
        [letter] = [m for m in publisher.sent if m.topic == DEADLETTER]
        assert letter.value == event.value
        reason = dict(letter.headers)[DLQ_ERROR]
        assert b"HTTP 503" in reason and b"given up after 2 attempt(s)" in reason
        assert await deliverer.lot.keys("delivery") == []
    finally:
        await deliverer.aclose()


async def test_an_older_version_than_delivered_is_superseded(setup) -> None:
    deliverer, fakes = setup
    newer = routed_event("GM0505", ["fb-burgerzaken"], version=5)
    older = routed_event("GM0505", ["fb-burgerzaken"], version=4)
    await deliverer.deliver_batch(records(newer))
    result = await deliverer.deliver_batch(records(older))
    assert (result.superseded, result.delivered, result.dead_letters) == (1, 0, [])
    assert [d.version for d in fakes[HOOK_BZ].calls] == [5]


async def test_bad_records_are_dead_lettered_with_their_reason(setup) -> None:
    deliverer, _fakes = setup
    good = routed_event("GM0505", ["fb-zaken", "fb-onbekend"])
    bad = [
        FakeRecord(gemeente_topic("GM0505"), 0, 1, b"k", b'{"specversion": "1.0"', ()),
        FakeRecord(gemeente_topic("GM0505"), 0, 2, b"k", b"[]", ()),
        routed_event("GM0999", ["fb-zaken"]).as_record(offset=3),
        routed_event("GM0505", [("GM0482", "fb-zaken")]).as_record(offset=4),
        good.as_record(offset=5),
    ]
    result = await deliverer.deliver_batch(bad)
    classes = [dict(d.headers)[DLQ_ERROR_CLASS].decode() for d in result.dead_letters]
    assert classes == [
        "InvalidRoutedEvent",
        "InvalidRoutedEvent",
        "UnknownGemeente",
        "UndeliverableEvent",
        "UndeliverableEvent",
    ]
    assert [d.value for d in result.dead_letters][:2] == [bad[0].value, bad[1].value]
    assert b"fb-onbekend" in dict(result.dead_letters[-1].headers)[DLQ_ERROR]
    assert result.delivered == 2, "the known team of the last event still got it"


async def test_a_channel_bug_is_a_dead_letter_not_a_stuck_partition(setup) -> None:
    deliverer, fakes = setup
    fakes[HOOK_BZ].errors.append(RuntimeError("boom"))
    result = await deliverer.deliver_batch(records(routed_event("GM0505", ["fb-burgerzaken"])))
    [letter] = result.dead_letters
    assert dict(letter.headers)[DLQ_ERROR_CLASS] == b"ChannelFault"


async def test_store_is_shared_safely_by_concurrent_deliveries(setup) -> None:
    deliverer, _fakes = setup
    batch = [
        routed_event("GM0505", ["fb-zaken", "fb-burgerzaken"], record_id=f"t{i}") for i in range(60)
    ]
    result = await deliverer.deliver_batch(records(*batch))
    assert result.delivered == 180
    again = await deliverer.deliver_batch(records(*batch))
    assert again.already_delivered == 180


async def test_a_triage_recipient_on_a_gemeente_topic_is_ignored(setup) -> None:
    deliverer, _fakes = setup
    event = routed_event("GM0505", ["fb-burgerzaken", (None, "regie-triage")])
    result = await deliverer.deliver_batch(records(event))
    assert (result.delivered, result.foreign_recipients, result.dead_letters) == (1, 1, [])


async def test_a_failing_store_fails_the_batch(setup, store) -> None:
    deliverer, _fakes = setup

    async def broken(*_: object, **__: object) -> None:
        raise OSError("database is gone")

    store._commit = broken  # type: ignore[method-assign]
    with pytest.raises(OSError, match="database is gone"):
        await deliverer.deliver_batch(records(routed_event("GM0505", ["fb-burgerzaken"])))


def test_options_from_settings_and_per_channel_policy() -> None:
    settings = SimpleNamespace(delivery_backoff_initial_s=0.2, delivery_concurrency=4, other=1)
    options = DeliveryOptions.from_settings(settings)
    assert (options.backoff_initial_s, options.concurrency) == (0.2, 4)
    assert options.max_elapsed_s == DeliveryOptions().max_elapsed_s
    hook, mail = GEMEENTEN[0].teams[0].channels
    assert options.policy(hook).max_attempts == 3  # the webhook's own max_attempts
    assert options.policy(mail).max_attempts == options.default_max_attempts
