"""`schakel demo` (what `make demo` runs after starting Kafka): the whole hub on one machine,
supplier traffic in, FB channels out, dead letters for the deliberately broken records."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KafkaBroker

pytestmark = [pytest.mark.kafka]

DEMO_PORTS = (8080, 8088, 8089, 8090, 8091, 8025)


def _busy(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_demo_runs_the_whole_hub_end_to_end(kafka: KafkaBroker, tmp_path: Path) -> None:
    busy = [p for p in DEMO_PORTS if _busy(p)]
    if busy:
        pytest.skip(f"demo ports in use on this machine: {busy}")
    env = {
        **os.environ,
        "SCHAKEL_KAFKA_BOOTSTRAP": kafka.bootstrap,
        "SCHAKEL_STORE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "SCHAKEL_GROUP_SUFFIX": f"-demo-{tmp_path.name[-12:]}",
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schakel"), "demo", "--count", "60", "--rate", "40"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "demo stopped: 60 supplier events published" in output
    assert "nl.itsm.incident." in output, "the unified feed shows normalised incidents"
    assert "dead letter @" in output, "the broken records reach the dead-letter channel"
    assert "FB GM" in output, "routed tickets reach an FB team's webhook inbox"
    assert "Cockpit: http://127.0.0.1:8080/" in output and "regie / regie-demo" in output
    assert "Traceback" not in output, output[output.find("Traceback") - 2000 :][:6000]
