"""The normaliser's plain logic: outcomes per record, without any broker."""

from __future__ import annotations

import gc
import random
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas import CloudEvent, Incident
from schemas.topics import DEADLETTER, INCIDENTS, inbound_topic
from services.bootstrap import GC_YOUNG_THRESHOLD, settle_heap
from services.config import SchakelConfig
from services.demo.traffic import servicenow_incident
from services.messaging import DLQ_ERROR_CLASS, DLQ_OFFSET, DLQ_TOPIC, OutboundMessage
from services.normaliser import Normaliser, VersionGate, build_normaliser
from services.normaliser.service import process_batch
from tests.conftest import config_with_suppliers


@dataclass
class Rec:
    topic: str
    value: bytes | None
    key: bytes | None = b"k"
    partition: int = 0
    offset: int = 7
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def _normaliser(example_config: SchakelConfig) -> Normaliser:
    return build_normaliser(config_with_suppliers(example_config, example_config.supplier("kpn")))


def _incident(serial: int = 1, **changes: object) -> bytes:
    _, _, value = servicenow_incident(
        random.Random(serial), serial, datetime(2026, 2, 1, tzinfo=UTC)
    )
    doc = orjson.loads(value)
    doc.update(changes)
    return orjson.dumps(doc)


def test_unknown_supplier_and_oversized_are_dead_letters(example_config: SchakelConfig) -> None:
    normaliser = _normaliser(example_config)
    limit = example_config.supplier("kpn").max_payload_bytes
    big = _incident(description="x" * (limit + 10))
    result = normaliser.normalise_batch(
        [Rec(inbound_topic("onbekend"), _incident()), Rec(inbound_topic("kpn"), big, offset=9)]
    )
    assert result.dead_lettered == 2
    assert result.normalised == 0
    classes = [dict(m.headers)[DLQ_ERROR_CLASS] for m in result.messages]
    assert classes == [b"UnknownSupplier", b"PayloadTooLarge"]
    assert result.messages[1].value == big
    assert dict(result.messages[1].headers)[DLQ_OFFSET] == b"9"
    assert all(m.topic == DEADLETTER for m in result.messages)


def test_original_headers_kept_on_dead_letter_even_binary(example_config: SchakelConfig) -> None:
    normaliser = _normaliser(example_config)
    headers = [("trace", b"\xff\x00raw"), ("schakel-dlq-error", b"old")]
    result = normaliser.normalise_batch([Rec(inbound_topic("kpn"), b"nope", headers=headers)])
    got = dict(result.messages[0].headers)
    assert got["trace"] == b"\xff\x00raw"
    assert got["schakel-dlq-error"] != b"old"
    assert got[DLQ_TOPIC] == inbound_topic("kpn").encode()


def test_none_value_is_a_dead_letter_not_a_crash(example_config: SchakelConfig) -> None:
    result = _normaliser(example_config).normalise_batch([Rec(inbound_topic("kpn"), None)])
    assert result.dead_lettered == 1
    assert result.messages[0].value == b""


def test_duplicate_stale_and_echo_are_not_emitted(example_config: SchakelConfig) -> None:
    normaliser = _normaliser(example_config)
    newer = _incident(sys_mod_count="5", sys_updated_on="2026-02-01 10:00:00")
    older = _incident(sys_mod_count="3", sys_updated_on="2026-02-01 09:00:00")
    echo = _incident(
        sys_mod_count="6", sys_updated_on="2026-02-01 11:00:00", sys_updated_by="schakel"
    )
    topic = inbound_topic("kpn")
    result = normaliser.normalise_batch(
        [Rec(topic, newer), Rec(topic, newer), Rec(topic, older), Rec(topic, echo)]
    )
    assert (result.normalised, result.duplicates, result.stale, result.echoes) == (1, 1, 1, 1)
    event = CloudEvent[Incident].model_validate_json(result.messages[0].value)
    assert event.sequence == "5"
    assert result.messages[0].topic == INCIDENTS


def test_envelope_writer_matches_the_envelope_model(example_config: SchakelConfig) -> None:
    result = _normaliser(example_config).normalise_batch([Rec(inbound_topic("kpn"), _incident(3))])
    value = result.messages[0].value
    assert CloudEvent[Incident].model_validate_json(value).model_dump_json().encode() == value


@given(st.binary(max_size=120), st.integers(min_value=1, max_value=64))
def test_key_partition_matches_the_java_default_partitioner(key: bytes, partitions: int) -> None:
    from aiokafka.partitioner import murmur2

    from services.messaging import key_partition

    assert key_partition(key, partitions) == (murmur2(key) & 0x7FFFFFFF) % partitions


class ChunkRecorder:
    """A dispatcher that records each chunk; can fail one chunk's acknowledgement."""

    def __init__(self, fail_chunk: int | None = None) -> None:
        self.chunks: list[list[OutboundMessage]] = []
        self.fail_chunk = fail_chunk

    async def send_all(self, messages: Sequence[OutboundMessage]) -> None:
        await (await self.dispatch(messages))

    async def dispatch(self, messages: Sequence[OutboundMessage]) -> Awaitable[None]:
        self.chunks.append(list(messages))
        failing = len(self.chunks) - 1 == self.fail_chunk

        async def acknowledged() -> None:
            if failing:
                raise ConnectionError("not acknowledged")

        return acknowledged()


def _batch(count: int) -> list[Rec]:
    return [Rec(inbound_topic("kpn"), _incident(n), offset=n) for n in range(count)]


async def test_a_batch_goes_out_chunk_by_chunk_in_order(example_config: SchakelConfig) -> None:
    normaliser, sender = _normaliser(example_config), ChunkRecorder()
    await process_batch(normaliser, sender, _batch(10), chunk=4)
    assert [len(c) for c in sender.chunks] == [4, 4, 2]
    subjects = [
        orjson.loads(m.value)["data"]["supplier_ref"]["number"] for c in sender.chunks for m in c
    ]
    assert subjects == [orjson.loads(_incident(n))["number"] for n in range(10)]


async def test_an_unacknowledged_batch_is_emitted_again_when_redelivered(
    example_config: SchakelConfig,
) -> None:
    normaliser, failing = _normaliser(example_config), ChunkRecorder(fail_chunk=1)
    batch = _batch(6)
    with pytest.raises(ConnectionError):
        await process_batch(normaliser, failing, batch, chunk=2)
    assert sum(len(c) for c in failing.chunks) == 6  # every chunk was still handed over
    retry = ChunkRecorder()
    await process_batch(normaliser, retry, batch, chunk=2)  # the redelivery
    assert sum(len(c) for c in retry.chunks) == 6  # not taken for duplicates
    again = ChunkRecorder()
    await process_batch(normaliser, again, batch, chunk=2)  # acknowledged once: now duplicates
    assert again.chunks == [[], [], []]


def test_gate_rollback_restores_what_it_knew_before_the_batch() -> None:
    gate = VersionGate()
    assert gate.verdict("h1", 1, "e1") is None
    gate.begin()
    assert gate.verdict("h1", 2, "e2") is None
    assert gate.verdict("h2", 1, "e3") is None
    gate.rollback()
    assert gate.verdict("h1", 2, "e2") is None  # h1 is back at version 1
    assert gate.verdict("h2", 1, "e3") is None  # h2 is unknown again
    gate.begin()
    assert gate.verdict("h3", 1, "e4") is None
    gate.commit()
    gate.rollback()  # nothing open: changes nothing
    assert gate.verdict("h3", 1, "e4") == "duplicate"


def test_settle_heap_freezes_start_up_objects_and_collects_young_garbage_less_often() -> None:
    threshold = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *threshold[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
