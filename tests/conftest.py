"""Session fixtures: the real Apache Kafka broker (KRaft), and hub configs for tests.

The broker is the project's own (deploy/local/kafka.sh): started once per test run on its own
port and data directory, or taken from ``SCHAKEL_KAFKA_BOOTSTRAP`` when that names a broker
that answers. Tests isolate themselves by using their own supplier ids (so their own inbound
topics) and consumer groups, not by restarting the broker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.config import SchakelConfig, SupplierConfig, load_config

pytest_plugins = ["tests._postgres"]

REPO = Path(__file__).resolve().parents[1]
KAFKA_SH = REPO / "deploy" / "local" / "kafka.sh"
TEST_PORT = int(os.environ.get("SCHAKEL_TEST_KAFKA_PORT", "19092"))


@dataclass(frozen=True)
class KafkaBroker:
    bootstrap: str
    env: dict[str, str]

    def tool(
        self, main_class: str, *args: str, stdin: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a Kafka command-line tool from the fetched jars (a separate Kafka client)."""
        return subprocess.run(
            [str(KAFKA_SH), "tool", main_class, *args],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            env=self.env,
            check=True,
        )

    def console_produce(self, topic: str, lines: list[tuple[str, bytes]]) -> None:
        """Produce ``key|value`` lines with Kafka's own console producer (acks=all)."""
        body = b"".join(k.encode() + b"|" + v + b"\n" for k, v in lines)
        self.tool(
            "org.apache.kafka.tools.ConsoleProducer",
            "--bootstrap-server",
            self.bootstrap,
            "--topic",
            topic,
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=|",
            "--producer-property",
            "acks=all",
            stdin=body,
        )


def _answers(bootstrap: str) -> bool:
    host, _, port = bootstrap.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka() -> Iterator[KafkaBroker]:
    """A running broker: the one at SCHAKEL_KAFKA_BOOTSTRAP, or one this run starts."""
    given = os.environ.get("SCHAKEL_KAFKA_BOOTSTRAP")
    if given and _answers(given):
        yield KafkaBroker(given, dict(os.environ))
        return
    data = REPO / ".kafka-test-data"
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_PORT": str(TEST_PORT),
        "SCHAKEL_KAFKA_CONTROLLER_PORT": str(TEST_PORT + 1),
        "SCHAKEL_KAFKA_DATA": str(data),
    }
    subprocess.run([str(KAFKA_SH), "reset"], env=env, check=True, capture_output=True)
    started = subprocess.run([str(KAFKA_SH), "up"], env=env, capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start Kafka:\n{started.stdout}\n{started.stderr}")
    bootstrap = f"127.0.0.1:{TEST_PORT}"
    env["SCHAKEL_KAFKA_BOOTSTRAP"] = bootstrap
    previous = os.environ.get("SCHAKEL_KAFKA_BOOTSTRAP")
    os.environ["SCHAKEL_KAFKA_BOOTSTRAP"] = bootstrap
    try:
        yield KafkaBroker(bootstrap, env)
    finally:
        if previous is None:
            os.environ.pop("SCHAKEL_KAFKA_BOOTSTRAP", None)
        else:
            os.environ["SCHAKEL_KAFKA_BOOTSTRAP"] = previous
        subprocess.run([str(KAFKA_SH), "down"], env=env, capture_output=True)


@pytest.fixture(scope="session")
def example_config() -> SchakelConfig:
    return load_config(REPO / "config" / "schakel.yaml")


def config_with_suppliers(base: SchakelConfig, *suppliers: SupplierConfig) -> SchakelConfig:
    """The example config, with only ``suppliers`` (routing rules naming others dropped)."""
    ids = {s.id for s in suppliers}
    rules = [r for r in base.routing.rules if not r.match.supplier or set(r.match.supplier) <= ids]
    config = base.model_copy(
        update={
            "suppliers": list(suppliers),
            "routing": base.routing.model_copy(update={"rules": rules}),
        }
    )
    config._source_path = base.source_path
    return config


def unique_supplier(base: SchakelConfig, like: str) -> SupplierConfig:
    """A copy of supplier ``like`` with a fresh id: its own inbound topic for this test."""
    original = base.supplier(like)
    return original.model_copy(update={"id": f"{like}-{uuid.uuid4().hex[:8]}"})
