"""Fault suite: the router SIGKILLed ten times at random moments under live load.

A broker of its own (own ports and data dir: a fresh router group reads only this test's
incidents), the normaliser running steadily, the router (``schakel serve router``) killed
with SIGKILL at a random moment after each restarted process routed something. The
supplier's tickets concern local taxes, so the example's routing sends every version to
Dordrecht (GM0505). Asserted: every version of every ticket reached the gemeente's topic,
the last one last; duplicates and order regressions measured (``.artifacts/``).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from schemas.topics import gemeente_topic, inbound_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.kafka import ensure_topics
from tests.conftest import KAFKA_SH, REPO, KafkaBroker, config_with_suppliers
from tests.e2e.test_fault_normaliser_kill import (
    KILLS,
    TICKETS,
    VERSIONS,
    _Follower,
    _start,
    _supply,
)

pytestmark = [pytest.mark.kafka]

PORT = int(os.environ.get("SCHAKEL_FAULT_KAFKA_PORT", "19792"))


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


async def test_the_router_killed_ten_times_under_load_loses_nothing(
    own_broker: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    bootstrap = own_broker.bootstrap
    supplier = example_config.supplier("kpn")
    config = config_with_suppliers(example_config, supplier)
    path = tmp_path / "schakel.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), allow_unicode=True))
    await ensure_topics(bootstrap, specs_for(config))
    topic = gemeente_topic("GM0505")
    follower = _Follower(bootstrap, {}, supplier.id, topic)
    suffix = f"-fault-{uuid.uuid4().hex[:8]}"
    store = {"SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'router.db'}"}
    rng = random.Random(17)

    t0 = time.monotonic()
    normaliser = await _start(path, bootstrap, suffix, tmp_path / "normaliser.log")
    supply = asyncio.create_task(
        _supply(
            bootstrap,
            inbound_topic(supplier.id),
            120.0,
            short_description="Belastingaanslag niet te openen",
            impact="3",
            urgency="3",
        )
    )
    router = await _start(path, bootstrap, suffix, tmp_path / "router.log", "router", **store)
    kills: list[float] = []
    out_at_kill: list[int] = []
    try:
        for _ in range(KILLS):
            await follower.grown_beyond(len(follower.found), timeout_s=90)
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            router.send_signal(signal.SIGKILL)
            await router.wait()
            kills.append(round(time.monotonic() - t0, 1))
            out_at_kill.append(len(follower.found))
            router = await _start(
                path, bootstrap, suffix, tmp_path / "router.log", "router", **store
            )
        sent = await supply
        found = await follower.complete(timeout_s=240)
        assert router.returncode is None and normaliser.returncode is None
    finally:
        for process in (router, normaliser):
            if process.returncode is None:
                process.terminate()
                await asyncio.wait_for(process.wait(), 60)

    by_ticket: dict[str, list[int]] = defaultdict(list)
    for hub, version in found:
        by_ticket[hub].append(version)
    emitted = Counter(found)
    missing = [
        (hub, v) for hub in by_ticket for v in range(1, VERSIONS + 1) if (hub, v) not in emitted
    ]
    figures = {
        "service": "router",
        "supplier_events": sent,
        "kills": len(kills),
        "kill_times_s": kills,
        "routed_out_at_each_kill": out_at_kill,
        "tickets_out": len(by_ticket),
        "ticket_versions_missing": len(missing),
        "records_out": len(found),
        "duplicate_records": sum(n - 1 for n in emitted.values()),
        "order_regressions": sum(
            1 for vs in by_ticket.values() for a, b in itertools.pairwise(vs) if b < a
        ),
        "seconds": round(time.monotonic() - t0, 1),
    }
    artifacts = REPO / ".artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "reliability-router-kill.json").write_text(
        orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode()
    )
    print(figures)
    assert len([n for n in out_at_kill if 0 < n < sent]) >= KILLS // 2, figures
    assert len(by_ticket) == TICKETS, figures
    assert not missing, (missing[:5], figures)
    assert all(versions[-1] == VERSIONS for versions in by_ticket.values()), figures
