"""The SLA service as its own process (``schakel serve sla``) on the real broker, with an
injected clock that runs 20 times as fast: an incident nobody answers gives its response
clock's start, the 75 % and 90 % warnings and the breach, each once and in order, at their
moments, and so it stays when the service is killed with SIGKILL in the middle and started
again (the restarted process continues the same time line)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml

from schemas import Incident, Priority, SlaEvent
from schemas.topics import INCIDENTS, SLA
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.kafka import ensure_topics
from services.messaging import KafkaBatchPublisher, OutboundMessage
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import Record, collect, end_offsets
from tests.router_kit import incident, ticket_event

# a new consumer group reads the shared broker's whole incidents topic first
pytestmark = [pytest.mark.kafka, pytest.mark.timeout(900)]

SPEED = 20  # kpn P2: response within 30 minutes -> 90 s of wall time


def _write(config: SchakelConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True))


async def _start(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schakel"),
        "serve",
        "sla",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def _ready(process: asyncio.subprocess.Process) -> bytes:
    """The process's output up to the SLA service's start line (it consumes from then on)."""
    assert process.stdout is not None
    seen = b""
    async with asyncio.timeout(180):
        while b"sla watch starting" not in seen:
            line = await process.stdout.readline()
            if not line:
                raise AssertionError(seen.decode(errors="replace")[-3000:])
            seen += line
    return seen


def _event(record: Record) -> tuple[str, SlaEvent]:
    document = orjson.loads(record.value)
    return document["id"], SlaEvent.model_validate(document["data"])


async def test_warning_and_breach_in_order_and_once_across_a_kill(
    kafka: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    _write(config, tmp_path / "schakel.yaml")
    await ensure_topics(kafka.bootstrap, specs_for(config))
    since = await end_offsets(kafka.bootstrap, SLA)

    clock_start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    anchor = datetime.now(UTC)
    env = {
        **os.environ,
        "SCHAKEL_CONFIG": str(tmp_path / "schakel.yaml"),
        "SCHAKEL_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SCHAKEL_GROUP_SUFFIX": f"-{supplier.id}",
        "SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}",
        "SCHAKEL_LOG_FORMAT": "json",
        "SCHAKEL_SLA_TICK_S": "0.2",
        "SCHAKEL_SLA_CLOCK_START": clock_start.isoformat(),
        "SCHAKEL_SLA_CLOCK_ANCHOR": anchor.isoformat(),
        "SCHAKEL_SLA_CLOCK_SPEED": str(SPEED),
    }
    process = await _start(env)
    output = await _ready(process)  # the service is up: only now does the ticket open
    assert process.stdout is not None
    drain = asyncio.create_task(process.stdout.read())

    async def produce(ticket: Incident) -> None:
        publisher = KafkaBatchPublisher(kafka.bootstrap, client_id="sla-e2e")
        await publisher.start()
        try:
            await publisher.send_all(
                [OutboundMessage(INCIDENTS, ticket_event(ticket), ticket.hub_id.encode())]
            )
        finally:
            await publisher.stop()

    def virtual_now() -> datetime:
        return (clock_start + (datetime.now(UTC) - anchor) * SPEED).replace(microsecond=0)

    # a probe ticket first: once its clocks started, the service is consuming
    probe = incident(f"probe-{uuid.uuid4().hex}", supplier=supplier.id, priority=Priority.P2)
    probe = probe.model_copy(update={"opened_at": virtual_now(), "updated_at": virtual_now()})
    await produce(probe)
    await collect(kafka.bootstrap, SLA, since, lambda r: r.key == probe.hub_id.encode(), 1, 240, 0)
    opened = virtual_now()
    ticket = incident(f"inc-{uuid.uuid4().hex}", supplier=supplier.id, priority=Priority.P2)
    ticket = ticket.model_copy(update={"opened_at": opened, "updated_at": opened})
    await produce(ticket)

    def mine(record: Record) -> bool:
        return record.key == ticket.hub_id.encode()

    def response(records: list[Record]) -> list[tuple[str, SlaEvent]]:
        return [(i, e) for i, e in map(_event, records) if e.clock.value == "response"]

    try:
        # started (both clocks) and the 75 % warning (22.5 minutes: 67.5 s of wall time)
        first = await collect(kafka.bootstrap, SLA, since, mine, count=3, timeout_s=120)
        assert [e.event.value for _, e in response(first)] == ["started", "warning"], first
    finally:
        process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(process.wait(), 60)
        killed_output = await drain
    assert process.returncode == -9, (output + killed_output).decode(errors="replace")[-3000:]

    process = await _start(env)
    try:
        records = await collect(
            kafka.bootstrap, SLA, since, mine, count=6, timeout_s=120, settle_s=5
        )
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    log = output.decode(errors="replace")[-3000:]
    events = response(records)
    assert [(e.event.value, e.threshold_percent) for _, e in events] == [
        ("started", None),
        ("warning", 75),
        ("warning", 90),
        ("breached", None),
    ], log
    assert len({i for i, _ in events}) == len(events)
    assert [e.at - opened for _, e in events] == [
        timedelta(0),
        timedelta(minutes=22, seconds=30),
        timedelta(minutes=27),
        timedelta(minutes=30),
    ]
    assert events[-1][1].state.value == "breached"
    resolution = [e.event.value for i, e in map(_event, records) if e.clock.value == "resolution"]
    assert resolution == ["started"]
