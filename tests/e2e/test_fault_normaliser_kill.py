"""Fault suite, first part: the normaliser SIGKILLed ten times at random moments under live
supplier load. Nothing lost, the last version of every ticket last; duplicates and
per-ticket order regressions are measured (not hidden) and written to
``.artifacts/reliability-normaliser-kill.json`` (docs/RELIABILITY.md has the figures).

The normaliser runs as ``schakel serve normaliser`` in its own process, on the shared test
broker, for a supplier and consumer group of this test's own. A ServiceNow supplier sends
300 tickets in 5 versions each (sys_mod_count 1..5), one version round after another, while
the process is killed (SIGKILL: no shutdown, no commit) and restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.topics import INCIDENTS, inbound_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.demo.traffic import servicenow_incident
from services.kafka import ensure_topics
from services.topics_io import topic_partitions
from tests.conftest import REPO, KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import end_offsets

pytestmark = [pytest.mark.kafka]

TICKETS = 300
VERSIONS = 5
KILLS = 10
START = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def _event(serial: int, version: int, **extra: str) -> tuple[bytes, bytes]:
    _, key, value = servicenow_incident(random.Random(serial), serial, START)
    record = orjson.loads(value)
    updated = START + timedelta(minutes=version)
    record |= {
        "sys_mod_count": str(version),
        "sys_updated_on": updated.strftime("%Y-%m-%d %H:%M:%S"),
        "state": "2",
        "incident_state": "2",
        "hold_reason": "",
        **extra,
    }
    return key, orjson.dumps(record)


async def _supply(bootstrap: str, topic: str, seconds: float, **extra: str) -> int:
    """Every ticket's versions, round after round, spread over ``seconds``."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        pause = seconds / (TICKETS * VERSIONS / 50)
        for version in range(1, VERSIONS + 1):
            for start in range(0, TICKETS, 50):
                pending = []
                for serial in range(start, start + 50):
                    key, value = _event(serial, version, **extra)
                    pending.append(await producer.send(topic, value, key=key))
                await asyncio.gather(*pending)
                sent += len(pending)
                await asyncio.sleep(pause)
    finally:
        await producer.stop()
    return sent


async def _start(
    config_path: Path,
    bootstrap: str,
    suffix: str,
    log: Path,
    service: str = "normaliser",
    **env: str,
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schakel"),
        "serve",
        service,
        env={
            **os.environ,
            **env,
            "SCHAKEL_CONFIG": str(config_path),
            "SCHAKEL_KAFKA_BOOTSTRAP": bootstrap,
            "SCHAKEL_GROUP_SUFFIX": suffix,
            "SCHAKEL_LOG_FORMAT": "json",
        },
        stdout=log.open("ab"),
        stderr=asyncio.subprocess.STDOUT,
    )


class _Follower:
    """Follows this supplier's incidents after ``since``: (hub id, version) in offset order
    per partition, as they come (so progress can be read at each kill)."""

    def __init__(
        self, bootstrap: str, since: dict[int, int], supplier: str, topic: str = INCIDENTS
    ) -> None:
        self.found: list[tuple[str, int]] = []
        self.last_seen: set[str] = set()
        self._args = (bootstrap, since, supplier, topic)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        bootstrap, since, supplier, topic = self._args
        tps = await topic_partitions(bootstrap, topic)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await consumer.start()
        try:
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, since.get(tp.partition, 0))
            while True:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    for r in records:
                        event = orjson.loads(r.value or b"{}")
                        if event.get("supplierid") != supplier:
                            continue
                        version = int(event["sequence"])
                        self.found.append((event["subject"], version))
                        if version == VERSIONS:
                            self.last_seen.add(event["subject"])
        finally:
            await consumer.stop()

    async def grown_beyond(self, count: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.found) <= count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)

    async def complete(self, timeout_s: float) -> list[tuple[str, int]]:
        """Everything, once every ticket's last version is out (or at the timeout)."""
        deadline = time.monotonic() + timeout_s
        while len(self.last_seen) < TICKETS and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # anything still in flight (a duplicate would show here)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return list(self.found)


async def test_the_normaliser_killed_ten_times_under_load_loses_nothing(
    kafka: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    path = tmp_path / "schakel.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True))
    await ensure_topics(kafka.bootstrap, specs_for(config))
    since = await end_offsets(kafka.bootstrap, INCIDENTS)
    suffix = f"-fault-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "normaliser.log"
    rng = random.Random(13)

    follower = _Follower(kafka.bootstrap, since, supplier.id)
    t0 = time.monotonic()
    supply = asyncio.create_task(_supply(kafka.bootstrap, inbound_topic(supplier.id), 120.0))
    process = await _start(path, kafka.bootstrap, suffix, log)
    kills: list[float] = []
    out_at_kill: list[int] = []
    try:
        for _ in range(KILLS):
            # kill at a random moment once this process produces (start-up is not the test)
            before = len(follower.found)
            await follower.grown_beyond(before, timeout_s=90)
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            process.send_signal(signal.SIGKILL)
            await process.wait()
            kills.append(round(time.monotonic() - t0, 1))
            out_at_kill.append(len(follower.found))
            process = await _start(path, kafka.bootstrap, suffix, log)
        sent = await supply
        found = await follower.complete(timeout_s=240)
        assert process.returncode is None, "the last normaliser process stopped"
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 60)

    assert sent == TICKETS * VERSIONS
    by_ticket: dict[str, list[int]] = defaultdict(list)
    for hub, version in found:
        by_ticket[hub].append(version)
    emitted = Counter(found)
    missing = [
        (hub, v) for hub in by_ticket for v in range(1, VERSIONS + 1) if (hub, v) not in emitted
    ]
    duplicates = sum(n - 1 for n in emitted.values())
    regressions = sum(
        1 for versions in by_ticket.values() for a, b in itertools.pairwise(versions) if b < a
    )
    figures = {
        "tickets": TICKETS,
        "versions_each": VERSIONS,
        "supplier_events": sent,
        "kills": len(kills),
        "kill_times_s": kills,
        "records_out_at_each_kill": out_at_kill,
        "tickets_out": len(by_ticket),
        "ticket_versions_missing": len(missing),
        "records_out": len(found),
        "duplicate_records": duplicates,
        "order_regressions": regressions,
        "seconds": round(time.monotonic() - t0, 1),
    }
    artifacts = REPO / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "reliability-normaliser-kill.json").write_text(
        orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode()
    )
    print(figures)
    mid_stream = [n for n in out_at_kill if 0 < n < sent]
    assert len(mid_stream) >= KILLS // 2, f"most kills did not interrupt any work: {figures}"
    assert len(by_ticket) == TICKETS, figures
    assert not missing, (missing[:5], figures)
    # the last record of every ticket is its last version: consumers end in the right state
    assert all(versions[-1] == VERSIONS for versions in by_ticket.values()), figures
