"""The router measured as a running service: consuming normalised incidents and producing routed
events on the real broker, as ``schakel serve router`` runs in production.

On a broker of its own (as bench/chain.py): the demo CMDB and ``--events`` ServiceNow
incidents are normalised first (``schakel serve normaliser``, not timed); then ``--hubs``
router processes (one consumer group) route the backlog. Timed between 5 % and 95 % of the
committed offsets once the group is stable; CPU microseconds per event are the router
processes' CPU time over the same window.

Usage: ``python -m bench.router_service [--events N] [--hubs N]``. Appends to
``bench/results.jsonl``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bench import chain
from schemas.topics import CHANGES, INCIDENTS, inbound_topic, topic_specs
from services.config import load_config
from services.demo.gen_servicenow import servicenow_catalogue
from services.kafka import ensure_topics

ROUTER_GROUP = "schakel-router"
NORMALISER_GROUP = "schakel-normaliser"


async def run(events: int, hubs: int) -> dict[str, Any]:
    chain.OUT.mkdir(exist_ok=True)
    with chain._own_broker() as bootstrap:
        os.environ["SCHAKEL_KAFKA_BOOTSTRAP"] = bootstrap
        from bench import run as harness  # reads the bootstrap at import

        harness.BOOTSTRAP = bootstrap
        base = load_config(chain.ROOT / "config" / "schakel.yaml")
        document = chain._chain_config(base, "http://127.0.0.1:9")  # routing only
        config_path = chain.OUT / f"router-config-{uuid.uuid4().hex[:6]}.yaml"
        config_path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        config = load_config(config_path)
        specs = topic_specs([s.id for s in config.suppliers], [g.code for g in config.gemeenten])
        await ensure_topics(bootstrap, specs)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
        await producer.start()
        try:
            now = datetime.now(UTC)
            for _, key, value in servicenow_catalogue(now):
                await producer.send_and_wait(inbound_topic(chain.SUPPLIER), value, key=key)
            incidents, _ = chain._incidents(events, 0, now)
            await chain._offer(producer, incidents, None)
        finally:
            await producer.stop()
        suffix = f"-bench-{uuid.uuid4().hex[:6]}"
        harness.HUBS = 1
        normaliser_env = {"SCHAKEL_CONFIG": str(config_path), "SCHAKEL_GROUP_SUFFIX": suffix}
        total_inbound = events + len(servicenow_catalogue(now))
        async with _serve("normaliser", normaliser_env, 1):
            await _coordinator_ready(bootstrap, NORMALISER_GROUP + suffix)
            await harness._wait_committed(
                NORMALISER_GROUP + suffix,
                {inbound_topic(chain.SUPPLIER)},
                total_inbound,
                "normalising the backlog (not timed)",
            )
        harness.HUBS = hubs
        async with _serve("router", normaliser_env, hubs) as pids:
            await _coordinator_ready(bootstrap, ROUTER_GROUP + suffix)
            marks = await harness._wait_committed(
                ROUTER_GROUP + suffix,
                {INCIDENTS, CHANGES},
                events,
                "router",
                members=hubs,
                pids=pids,
            )
    return {"bench": "router-service", "events": events, "hubs": hubs, **marks}


async def _coordinator_ready(bootstrap: str, group: str, timeout_s: float = 120) -> None:
    """On a fresh broker the offsets topic comes with the first group: wait for it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                await admin.find_coordinator(group)
                return
            except KafkaError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await admin.close()


class _serve:
    """``schakel serve <name>`` as ``count`` processes of one group while inside."""

    def __init__(self, name: str, env: dict[str, str], count: int) -> None:
        self.name, self.env, self.count = name, env, count
        self.processes: list[asyncio.subprocess.Process] = []

    async def __aenter__(self) -> list[int]:
        schakel = str(chain.Path(chain.sys.executable).parent / "schakel")
        env = {
            **os.environ,
            **self.env,
            "SCHAKEL_LOG_LEVEL": "WARNING",
            "SCHAKEL_LOG_FORMAT": "json",
            "SCHAKEL_OPS_PORT": "0",
            "SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{chain.OUT / 'router-bench.db'}",
        }
        log = (chain.OUT / f"router-bench-{self.name}.log").open("ab")
        for _ in range(self.count):
            self.processes.append(
                await asyncio.create_subprocess_exec(
                    schakel, "serve", self.name, env=env, cwd=chain.ROOT, stdout=log, stderr=log
                )
            )
        return [p.pid for p in self.processes]

    async def __aexit__(self, *exc: object) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.terminate()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--hubs", type=int, default=1)
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.hubs))
    result["at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine"] = f"{platform.machine()} {os.cpu_count()} cpu {platform.python_version()}"
    chain.console.print(result)
    with chain.RESULTS.open("ab") as f:
        f.write(orjson.dumps(result) + b"\n")


if __name__ == "__main__":
    main()
