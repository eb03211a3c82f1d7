"""The broker itself keeps suppliers and gemeenten apart: proved with Kafka's own clients.

A secure broker of its own (deploy/local/kafka.sh in secure mode: SASL/SCRAM-SHA-512, the
KRaft StandardAuthorizer, nothing allowed without an ACL) on its own ports and data dir.
Its SCRAM users are every principal ``schakel acl plan --users`` names, created when the
storage is formatted; the admin then creates the hub's topics and applies the planned ACLs
(``services.acl``, the code behind ``schakel acl apply``).

The supplier and gemeente side is Kafka's own console producer and consumer (Java, an
independent client); the hub side is ``schakel serve normaliser`` and ``schakel serve
router`` as separate processes, each logged in as its own least-privilege principal.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import INCIDENTS, gemeente_topic, inbound_topic, outbound_topic
from services.acl import apply, plan, principals
from services.bootstrap import specs_for
from services.config import KafkaSecurity, SchakelConfig
from services.demo.traffic import servicenow_incident
from services.kafka import client_options, ensure_topics
from tests.conftest import KAFKA_SH, REPO

pytestmark = [pytest.mark.kafka]

PORT = int(os.environ.get("SCHAKEL_SECURE_KAFKA_PORT", "19392"))
REFUSED = "TopicAuthorizationException"


@dataclass(frozen=True)
class SecureBroker:
    bootstrap: str
    env: dict[str, str]
    passwords: dict[str, str]
    home: Path

    def security(self, user: str) -> KafkaSecurity:
        return KafkaSecurity("SASL_PLAINTEXT", username=user, password=self.passwords[user])

    def client_config(self, user: str, password: str | None = None) -> Path:
        """A Java client properties file logging in as ``user``."""
        secret = self.passwords[user] if password is None else password
        path = self.home / f"{user}-{secrets.token_hex(4)}.properties"
        path.write_text(
            "security.protocol=SASL_PLAINTEXT\n"
            "sasl.mechanism=SCRAM-SHA-512\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule "
            f'required username="{user}" password="{secret}";\n'
        )
        return path

    def tool(
        self, main_class: str, *args: str, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KAFKA_SH), "tool", main_class, *args],
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=180,
            env=self.env,
            check=False,
        )

    def produce(
        self, user: str, topic: str, key: bytes, value: bytes, *, password: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Kafka's console producer, as ``user`` (acks=all; a refusal fails within 15 s)."""
        return self.tool(
            "org.apache.kafka.tools.ConsoleProducer",
            "--bootstrap-server",
            self.bootstrap,
            "--topic",
            topic,
            "--command-config",
            str(self.client_config(user, password)),
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=|",
            "--command-property",
            "acks=all",
            "--command-property",
            "max.block.ms=15000",
            "--command-property",
            "delivery.timeout.ms=15000",
            "--command-property",
            "request.timeout.ms=10000",
            stdin=key + b"|" + value + b"\n",
        )

    def consume(
        self, user: str, topic: str, *, timeout_ms: int = 10_000, max_messages: int = 1
    ) -> subprocess.CompletedProcess[str]:
        """Kafka's console consumer, as ``user``, in a consumer group of its own."""
        return self.tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            "--bootstrap-server",
            self.bootstrap,
            "--topic",
            topic,
            "--command-config",
            str(self.client_config(user)),
            "--group",
            f"{user}.test-{secrets.token_hex(3)}",
            "--from-beginning",
            "--max-messages",
            str(max_messages),
            "--timeout-ms",
            str(timeout_ms),
        )


@pytest.fixture(scope="module")
def secure(
    tmp_path_factory: pytest.TempPathFactory, example_config: SchakelConfig
) -> Iterator[SecureBroker]:
    home = tmp_path_factory.mktemp("secure-kafka")
    passwords = {name: secrets.token_urlsafe(18) for name in principals(example_config)}
    passwords["admin"] = secrets.token_urlsafe(18)
    users = home / "users"
    users.write_text("".join(f"{n} {p}\n" for n, p in passwords.items() if n != "admin"))
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_SECURE": "1",
        "SCHAKEL_KAFKA_ADMIN_PASSWORD": passwords["admin"],
        "SCHAKEL_KAFKA_USERS_FILE": str(users),
        "SCHAKEL_KAFKA_PORT": str(PORT),
        "SCHAKEL_KAFKA_CONTROLLER_PORT": str(PORT + 1),
        "SCHAKEL_KAFKA_DATA": str(home / "data"),
    }
    started = subprocess.run([str(KAFKA_SH), "up"], env=env, capture_output=True, text=True)
    assert started.returncode == 0, f"secure broker:\n{started.stdout}\n{started.stderr}"
    broker = SecureBroker(f"127.0.0.1:{PORT}", env, passwords, home)
    try:
        admin = broker.security("admin")

        async def prepare() -> None:
            await ensure_topics(broker.bootstrap, specs_for(example_config), security=admin)
            await apply(broker.bootstrap, plan(example_config), security=admin)

        asyncio.run(prepare())
        yield broker
    finally:
        subprocess.run([str(KAFKA_SH), "down"], env=env, capture_output=True)


def _refused(done: subprocess.CompletedProcess[str]) -> bool:
    return REFUSED in done.stderr or REFUSED in done.stdout


def _admin_end(secure: SecureBroker, topic: str) -> int:
    """How many records ``topic`` holds, as the admin sees it."""

    async def count() -> int:
        options = client_options(secure.bootstrap, secure.security("admin"))
        admin = AIOKafkaAdminClient(**options)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([topic])
        finally:
            await admin.close()
        tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        consumer = AIOKafkaConsumer(**options, group_id=None)
        await consumer.start()
        try:
            return sum((await consumer.end_offsets(tps)).values())
        finally:
            await consumer.stop()

    return asyncio.run(count())


def test_a_supplier_writes_its_own_inbound_topic_and_not_another_suppliers(
    secure: SecureBroker,
) -> None:
    own = secure.produce("supplier-centric", inbound_topic("centric"), b"T1", b'{"ok": 1}')
    assert own.returncode == 0 and not _refused(own), own.stderr
    spoof = secure.produce("supplier-centric", inbound_topic("zaakplatform"), b"T2", b"{}")
    assert _refused(spoof), f"writing another supplier's inbound topic was not refused:\n{spoof}"
    assert _admin_end(secure, inbound_topic("zaakplatform")) == 0, "the spoofed record landed"
    assert _admin_end(secure, inbound_topic("centric")) == 1


@pytest.mark.parametrize(
    "topic",
    [INCIDENTS, gemeente_topic("GM0505"), outbound_topic("zaakplatform"), inbound_topic("kpn")],
)
def test_a_supplier_reads_no_normalised_gemeente_or_other_suppliers_topic(
    secure: SecureBroker, topic: str
) -> None:
    done = secure.consume("supplier-centric", topic)
    assert _refused(done), f"supplier-centric could read {topic}:\n{done.stderr}"


def test_a_supplier_reads_its_own_outbound_topic(secure: SecureBroker) -> None:
    done = secure.consume("supplier-centric", outbound_topic("centric"), timeout_ms=5000)
    assert not _refused(done), done.stderr
    assert "Processed a total of 0 messages" in done.stderr


def test_a_wrong_password_is_refused(secure: SecureBroker) -> None:
    done = secure.produce(
        "supplier-werkplekdienst",
        inbound_topic("werkplekdienst"),
        b"T3",
        b"{}",
        password=secure.passwords["supplier-werkplekdienst"] + "x",
    )
    assert "SaslAuthenticationException" in done.stderr, done.stderr
    assert _admin_end(secure, inbound_topic("werkplekdienst")) == 0


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


def _serve(service: str, secure: SecureBroker, tmp: Path) -> subprocess.Popen[bytes]:
    """``schakel serve <service>`` logged in as ``schakel-<service>`` (password by name)."""
    env = {
        **os.environ,
        "SCHAKEL_CONFIG": str(REPO / "config" / "schakel.yaml"),
        "SCHAKEL_KAFKA_BOOTSTRAP": secure.bootstrap,
        "SCHAKEL_KAFKA_SECURITY": "SASL_PLAINTEXT",
        "SCHAKEL_KAFKA_USERNAME": f"schakel-{service}",
        "SCHAKEL_KAFKA_PASSWORD_ENV": "HUB_KAFKA_SECRET",
        "HUB_KAFKA_SECRET": secure.passwords[f"schakel-{service}"],
        "SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{tmp / (service + '.db')}",
        "SCHAKEL_LOG_FORMAT": "json",
    }
    env.pop("SCHAKEL_KAFKA_PASSWORD", None)
    log = (tmp / f"{service}.log").open("wb")
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "schakel"), "serve", service],
        env=env,
        stdout=log,
        stderr=log,
    )


def test_the_hub_runs_end_to_end_under_its_least_privilege_principals(
    secure: SecureBroker, tmp_path: Path
) -> None:
    """Supplier kpn's console producer -> normaliser -> router -> gemeente GM0505's console
    consumer, each hop as its own principal; GM0482 may not read GM0505's topic."""
    _, key, value = servicenow_incident(random.Random(7), 7, datetime(2026, 6, 1, tzinfo=UTC))
    record = orjson.loads(value)
    # the example's routing: "belasting..." goes to GM0505's belastingen team
    record |= {"short_description": "Belastingaanslag niet te openen", "impact": "3"}
    record |= {"urgency": "3"}
    processes = [_serve(s, secure, tmp_path) for s in ("normaliser", "router")]
    try:
        sent = secure.produce("supplier-kpn", inbound_topic("kpn"), key, orjson.dumps(record))
        assert sent.returncode == 0 and not _refused(sent), sent.stderr
        got = secure.consume("gemeente-gm0505", gemeente_topic("GM0505"), timeout_ms=120_000)
        assert not _refused(got), got.stderr
        assert record["number"] in got.stdout, (
            f"nothing routed to GM0505:\n{got.stderr}\n"
            + "\n".join(
                (tmp_path / f"{s}.log").read_text()[-3000:] for s in ("normaliser", "router")
            )
        )
        assert all(p.poll() is None for p in processes), "a hub service stopped"
        other = secure.consume("gemeente-gm0482", gemeente_topic("GM0505"))
        assert _refused(other), f"GM0482 could read GM0505's topic:\n{other.stderr}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(60)
