"""aiokafka's self-retried conditions are warnings in the hub's logs, other errors stay errors."""

from __future__ import annotations

import logging

import orjson
import pytest

from services.logs import configure_logging


def test_retried_coordinator_and_leader_errors_are_logged_as_warnings(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "INFO")
    coordinator = logging.getLogger("aiokafka.consumer.group_coordinator")
    coordinator.error(
        "Group Coordinator Request failed: %s", "[Error 15] GroupCoordinatorNotAvailableError"
    )
    logging.getLogger("aiokafka.cluster").error(
        "Error fetching metadata for topic %s: %s", "t", "LeaderNotAvailableError"
    )
    coordinator.error("Heartbeat session expired - marking coordinator dead")
    lines = [orjson.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert [line["level"] for line in lines] == ["warning", "warning", "error"]
