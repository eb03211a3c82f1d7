"""Fault suite: parked deliveries survive a SIGKILL of the delivery process.

A broker of its own (a fresh delivery group reads only this test's gemeente topic). The FB
team's webhook receiver is down (503); ``schakel serve delivery`` parks every ticket (the
second version of each replacing the first) and commits the topic to its end. The process
is killed with SIGKILL while the receiver is still down; the receiver comes back; a new
process on the same store (same group: it has nothing left to consume) delivers every
ticket's newest version by itself, once per idempotency key, and dead-letters nothing.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from schemas.topics import DEADLETTER, gemeente_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.kafka import ensure_topics
from tests.conftest import KAFKA_SH, KafkaBroker, config_with_suppliers
from tests.delivery_kit import config_with_gemeenten, gemeente, routed_event, team, webhook
from tests.e2e._io import collect, end_offsets, wait_until
from tests.e2e.test_delivery_kafka import _consumed_all, produce
from tests.e2e.test_fault_normaliser_kill import _start
from tests.integration._peers import WebhookReceiver, serve

pytestmark = [pytest.mark.kafka]

PORT = int(os.environ.get("SCHAKEL_FAULT_DELIVERY_KAFKA_PORT", "19892"))
SECRET = "fault-fb-webhook-geheim-0123456789"
TICKETS = 5


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[KafkaBroker]:
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_PORT": str(PORT),
        "SCHAKEL_KAFKA_CONTROLLER_PORT": str(PORT + 1),
        "SCHAKEL_KAFKA_DATA": str(tmp_path / "kafka"),
    }
    up = subprocess.run([str(KAFKA_SH), "up"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    try:
        yield KafkaBroker(f"127.0.0.1:{PORT}", env)
    finally:
        subprocess.run([str(KAFKA_SH), "down"], env=env, capture_output=True)


def parked(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            (count,) = conn.execute(
                "select count(*) from parked_work where service = 'delivery'"
            ).fetchone()
        except sqlite3.OperationalError:  # not created yet
            return 0
    return int(count)


async def test_parked_deliveries_survive_sigkill_and_drain_after_restart(
    own_broker: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    bootstrap = own_broker.bootstrap
    hooks = WebhookReceiver({"fb": SECRET})
    hooks.close("fb", 503)
    db = tmp_path / "delivery.db"
    env = {
        "SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{db}",
        "SCHAKEL_FAULT_FB_SECRET": SECRET,
        "SCHAKEL_OPS_PORT": "0",
        "SCHAKEL_DELIVERY_BACKOFF_INITIAL_S": "0.05",
        "SCHAKEL_PARK_INITIAL_DELAY_S": "0.5",
        "SCHAKEL_PARK_MAX_DELAY_S": "1",
        "SCHAKEL_PARK_PROBE_INTERVAL_S": "1",
        "SCHAKEL_PARK_TICK_S": "0.2",
    }
    suffix = f"-fault-{uuid.uuid4().hex[:8]}"
    group = "schakel-delivery" + suffix
    topic = gemeente_topic("GM0505")
    async with serve(hooks.app) as url:
        only_kpn = config_with_suppliers(example_config, example_config.supplier("kpn"))
        config = config_with_gemeenten(
            only_kpn,
            gemeente(
                "GM0505",
                team("fb-zaken", webhook(f"{url}/hook/fb", "SCHAKEL_FAULT_FB_SECRET")),
            ),
        )
        path = tmp_path / "schakel.yaml"
        document = config.model_dump(mode="json")
        document.pop("changes", None)  # the example's change calendar names other gemeenten
        path.write_text(yaml.safe_dump(document, allow_unicode=True))
        await ensure_topics(bootstrap, specs_for(config))
        dead_from = await end_offsets(bootstrap, DEADLETTER)
        events = [
            routed_event("GM0505", ["fb-zaken"], record_id=f"R{n}", version=v)
            for n in range(TICKETS)
            for v in (1, 2)
        ]
        log = tmp_path / "delivery.log"
        process = await _start(path, bootstrap, suffix, log, "delivery", **env)
        try:
            await produce(bootstrap, *events)
            assert await wait_until(lambda: parked(db) == TICKETS, 90), log.read_text()[-3000:]
            await _consumed_all(bootstrap, group, topic)  # nothing left to consume after this
            assert not hooks.accepted["fb"]
            process.send_signal(signal.SIGKILL)
            await process.wait()
            assert parked(db) == TICKETS  # what was parked is still there

            hooks.open("fb")
            process = await _start(path, bootstrap, suffix, log, "delivery", **env)
            assert await wait_until(lambda: len(hooks.accepted["fb"]) == TICKETS, 90), (
                log.read_text()[-3000:]
            )
            assert await wait_until(lambda: parked(db) == 0, 30)
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()

    delivered = [orjson.loads(body) for body in hooks.accepted["fb"].values()]
    newest = {e.hub_id: e.value for e in events[1::2]}
    assert {d["subject"] for d in delivered} == set(newest)  # every ticket, once
    for key, body in hooks.accepted["fb"].items():
        event = orjson.loads(body)
        assert body == newest[event["subject"]], "the newest version replaced the parked one"
        assert key
    ok = [a for a in hooks.attempts_of("fb") if a.status == 202]
    assert len(ok) == len({a.headers["idempotency-key"] for a in ok}) == TICKETS
    dead = await collect(bootstrap, DEADLETTER, dead_from, lambda r: True, count=0, settle_s=2)
    assert dead == []
