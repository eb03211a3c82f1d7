"""The command line: readable refusals for a bad config and an absent broker."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app
from services.config import get_settings
from services.logs import configure_logging

runner = CliRunner()


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SCHAKEL_LOG_FORMAT", "console")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    # the CLI configured logging onto CliRunner's (now closed) streams: point it back
    configure_logging("console", "INFO")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bad_config_stops_start_up_naming_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "schakel.yaml"
    text = Path("config/schakel.yaml").read_text().replace("GM0505", "GM505", 1)
    bad.write_text(text)
    result = runner.invoke(app, ["check-config", "--config", str(bad)])
    assert result.exit_code == 2
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "GM505" in row)
    assert f"{bad}:{line}:" in result.output


def test_absent_broker_gives_a_readable_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", f"127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("SCHAKEL_KAFKA_WAIT_S", "2")
    result = runner.invoke(app, ["topics"])
    assert result.exit_code == 3
    assert "Kafka unavailable" in result.output
    assert "make kafka-up" in result.output
    assert "Traceback" not in result.output


def test_check_config_summarises_the_example() -> None:
    result = runner.invoke(app, ["check-config"])
    assert result.exit_code == 0, result.output
    assert "7 gemeenten" in result.output


def test_bad_mapping_stops_start_up_naming_its_line(tmp_path: Path) -> None:
    import shutil

    shutil.copytree("config", tmp_path / "config")
    mapping = tmp_path / "config" / "mappings" / "leverancier-x.yaml"
    text = mapping.read_text()
    assert "value_map: meldingstatus" in text
    mapping.write_text(text.replace("value_map: meldingstatus", "value_map: bestaat_niet", 1))
    result = runner.invoke(
        app, ["check-config", "--config", str(tmp_path / "config" / "schakel.yaml")]
    )
    assert result.exit_code == 2
    assert "leverancier-x.yaml:" in result.output
    assert "bestaat_niet" in result.output


def test_acl_plan_prints_the_plan_the_users_and_json() -> None:
    import orjson

    from services.acl import plan, principals
    from services.config import load_config

    config = load_config("config/schakel.yaml")
    users = runner.invoke(app, ["acl", "plan", "--users"])
    assert users.exit_code == 0, users.output
    assert users.output.split() == principals(config)
    as_json = runner.invoke(app, ["acl", "plan", "--json"])
    assert as_json.exit_code == 0, as_json.output
    rows = [orjson.loads(line) for line in as_json.output.splitlines()]
    assert rows == [b.as_json() for b in plan(config)]
    text = runner.invoke(app, ["acl", "plan"])
    assert "User:supplier-kpn" in text.output and "schakel.inbound.kpn" in text.output


def test_acl_apply_without_a_broker_fails_readably(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_BOOTSTRAP", f"127.0.0.1:{_closed_port()}")
    result = runner.invoke(app, ["acl", "apply"])
    assert result.exit_code == 3, (result.output, result.exception)
    assert "Kafka unavailable" in result.output
