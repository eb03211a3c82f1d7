"""SIGTERM and Ctrl-C stop a long-running command quietly: exit 0, no traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import KafkaBroker

pytestmark = [pytest.mark.kafka]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
async def test_a_following_tail_stops_on_a_signal_without_a_traceback(
    kafka: KafkaBroker, signum: int
) -> None:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "schakel"),
        "tail",
        "schakel.incidents.v1",
        "--follow",
        "--latest",
        env={**os.environ, "SCHAKEL_KAFKA_BOOTSTRAP": kafka.bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    await asyncio.sleep(6)  # connected and waiting for events
    assert process.returncode is None, "tail ended by itself"
    process.send_signal(signum)
    output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert "Task was destroyed" not in text, text[-3000:]
