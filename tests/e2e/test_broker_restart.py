"""The broker dies in the middle of a backlog and comes back: nothing lost, nothing invented.

The broker here is one of its own (own ports and data directory, started with the project's
deploy/local/kafka.sh), so killing it disturbs no other test. The normaliser runs as
``schakel serve normaliser`` in its own process. The broker is killed (SIGKILL, no controlled
shutdown) as soon as the first results appear, with most of the backlog still to do: the
normaliser waits with its batch uncommitted, its consumer's session expires, and after the
restart the producer delivers what was in flight (idempotent, so once), the group is joined
again and whatever was processed but not committed is consumed again and recognised by the
idempotency gate.

(A batch that fails outright, instead of waiting, is rolled back and consumed again: that path
is in tests/unit/test_normaliser_pipeline.py, since a dead broker makes the producer wait.)
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
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
from services.normaliser import GROUP_ID
from services.topics_io import topic_partitions
from tests.conftest import KAFKA_SH, KafkaBroker, config_with_suppliers
from tests.e2e._io import collect, committed, end_offsets, wait_until

pytestmark = [pytest.mark.kafka]

PORT = int(os.environ.get("SCHAKEL_RESTART_KAFKA_PORT", "19292"))
BACKLOG = 40_000
AFTER = 1_000
OUTAGE_S = 10.0


def _script(env: dict[str, str], command: str) -> None:
    done = subprocess.run([str(KAFKA_SH), command], env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"kafka.sh {command}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_PORT": str(PORT),
        "SCHAKEL_KAFKA_CONTROLLER_PORT": str(PORT + 1),
        "SCHAKEL_KAFKA_DATA": str(tmp_path / "kafka"),
    }
    _script(env, "up")
    try:
        yield KafkaBroker(f"127.0.0.1:{PORT}", env)
    finally:
        subprocess.run([str(KAFKA_SH), "down"], env=env, capture_output=True)


async def _produce(bootstrap: str, topic: str, serials: range) -> set[str]:
    """Supplier incidents (acks=all); returns their numbers."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    numbers = set()
    try:
        pending = []
        for serial in serials:
            _, key, value = servicenow_incident(
                random.Random(serial), serial, datetime(2026, 6, 1, tzinfo=UTC)
            )
            numbers.add(orjson.loads(value)["number"])
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return numbers


async def _first_output(bootstrap: str) -> int:
    """Wait for the normaliser's first results; how many incidents are out by then."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = await topic_partitions(bootstrap, INCIDENTS)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        seen = 0
        deadline = time.monotonic() + 90
        while seen == 0 and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=20)
            seen = sum(len(records) for records in batch.values())
        return seen
    finally:
        await consumer.stop()


def _kill(broker: KafkaBroker) -> None:
    """SIGKILL, no controlled shutdown: in-flight requests are simply not answered."""
    pid = int((Path(broker.env["SCHAKEL_KAFKA_DATA"]) / "kafka.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


async def test_a_broker_killed_mid_backlog_loses_nothing_and_invents_nothing(
    own_broker: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    bootstrap = own_broker.bootstrap
    supplier = example_config.supplier("kpn")
    config = config_with_suppliers(example_config, supplier)
    topic = inbound_topic(supplier.id)
    path = tmp_path / "schakel.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True))
    await ensure_topics(bootstrap, specs_for(config))
    expected = await _produce(bootstrap, topic, range(BACKLOG))

    log = (tmp_path / "normaliser.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schakel"),
        "serve",
        "normaliser",
        env={
            **os.environ,
            "SCHAKEL_CONFIG": str(path),
            "SCHAKEL_KAFKA_BOOTSTRAP": bootstrap,
            "SCHAKEL_LOG_FORMAT": "json",
        },
        stdout=log,
        stderr=log,
    )
    try:
        seen = await _first_output(bootstrap)
        assert 0 < seen < BACKLOG, f"{seen} incidents out before the kill: nothing interrupted"
        _kill(own_broker)
        await asyncio.sleep(OUTAGE_S)
        await asyncio.to_thread(_script, own_broker.env, "up")
        expected |= await _produce(bootstrap, topic, range(BACKLOG, BACKLOG + AFTER))

        found = await collect(
            bootstrap, INCIDENTS, {}, lambda r: True, count=len(expected), timeout_s=240
        )
        numbers = {orjson.loads(r.value)["data"]["supplier_ref"]["number"] for r in found}
        assert numbers == expected, (
            f"lost {len(expected - numbers)} (e.g. {sorted(expected - numbers)[:3]}), "
            f"invented {len(numbers - expected)}"
        )
        inbound_end = await end_offsets(bootstrap, topic)

        async def all_committed() -> bool:
            return await committed(bootstrap, GROUP_ID, topic) == inbound_end

        assert await wait_until(all_committed, 60), "offsets not committed after the restart"
        assert process.returncode is None, "the normaliser stopped during the outage"
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 60)
        log.close()
