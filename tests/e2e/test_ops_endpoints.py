"""A running service, scraped and probed the way Prometheus and Kubernetes do it.

``schakel serve normaliser`` as its own process on the real broker: ``/readyz`` turns ready
once the consumer has joined, ``/metrics`` series move when events flow (FastStream's consume
counters, the hub's dead letters, the consumer lag), and SIGTERM stops it cleanly: exit 0,
nothing at error level, no traceback.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import httpx
import orjson
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from schemas.topics import inbound_topic
from services.bootstrap import specs_for
from services.config import SchakelConfig
from services.kafka import ensure_topics
from tests.conftest import KafkaBroker, config_with_suppliers, unique_supplier
from tests.e2e._io import wait_until

pytestmark = [pytest.mark.kafka]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _samples(text: str, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


async def test_a_service_is_probed_and_scraped_and_stops_cleanly(
    kafka: KafkaBroker, example_config: SchakelConfig, tmp_path: Path
) -> None:
    supplier = unique_supplier(example_config, "kpn")
    config = config_with_suppliers(example_config, supplier)
    (tmp_path / "schakel.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json")))
    await ensure_topics(kafka.bootstrap, specs_for(config))
    port = _free_port()
    group_suffix = f"-{supplier.id}"
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schakel"),
        "serve",
        "normaliser",
        env={
            **os.environ,
            "SCHAKEL_CONFIG": str(tmp_path / "schakel.yaml"),
            "SCHAKEL_KAFKA_BOOTSTRAP": kafka.bootstrap,
            "SCHAKEL_GROUP_SUFFIX": group_suffix,
            "SCHAKEL_LOG_FORMAT": "json",
            "SCHAKEL_OPS_PORT": str(port),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    topic = inbound_topic(supplier.id)
    try:
        async with httpx.AsyncClient(timeout=5) as client:

            async def ready() -> bool:
                try:
                    return (await client.get(f"{base}/readyz")).status_code == 200
                except httpx.HTTPError:
                    return False

            assert await wait_until(ready, timeout_s=90), "never ready"
            assert (await client.get(f"{base}/livez")).status_code == 200
            before = (await client.get(f"{base}/metrics")).text
            kafka.console_produce(topic, [("bad-1", b"{not json"), ("bad-2", b"[]")])

            async def moved() -> bool:
                text = (await client.get(f"{base}/metrics")).text
                return _samples(text, "schakel_dead_letters_total", service="normaliser") >= 2 + (
                    _samples(before, "schakel_dead_letters_total", service="normaliser")
                ) and _samples(
                    text, "faststream_received_messages_total", handler=topic
                ) > _samples(before, "faststream_received_messages_total", handler=topic)

            assert await wait_until(moved, timeout_s=60), (
                await client.get(f"{base}/metrics")
            ).text[-3000:]

            async def lag_measured() -> bool:
                text = (await client.get(f"{base}/metrics")).text
                return any(
                    s.labels.get("topic") == topic
                    for f in text_string_to_metric_families(text)
                    for s in f.samples
                    if s.name == "schakel_consumer_lag"
                )

            assert await wait_until(lag_measured, timeout_s=30)
    finally:
        process.terminate()
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    lines = [orjson.loads(line) for line in output.splitlines() if line.strip()]
    assert [line for line in lines if line.get("level") in ("error", "critical")] == []
