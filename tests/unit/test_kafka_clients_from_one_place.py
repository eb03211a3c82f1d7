"""Every Kafka client the services open takes its connection (and so its identity: SASL
user, TLS) from services.kafka.client_options: no module names bootstrap_servers itself."""

from __future__ import annotations

import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"


def test_no_service_module_connects_to_kafka_by_itself() -> None:
    offenders = [
        f"{path.relative_to(SERVICES.parent)}:{number}"
        for path in sorted(SERVICES.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bbootstrap_servers\s*=", line) and "client_options" not in line
    ]
    assert offenders == [], "use **client_options(bootstrap): " + ", ".join(offenders)
