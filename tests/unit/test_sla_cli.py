"""``schakel sla show | report | recompute`` over a real SQLite SLA store."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import yaml
from typer.testing import CliRunner

from schemas.vocab import EntityKind, Priority
from services.cli import app
from services.config import get_settings, load_config
from services.logs import configure_logging
from services.sla import Observation, SlaStore, TicketHistory

runner = CliRunner()
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam


@pytest.fixture(autouse=True)
def _fresh_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("SCHAKEL_LOG_FORMAT", "console")
    monkeypatch.setenv("SCHAKEL_STORE_URL", f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    configure_logging("console", "INFO")


def _obs(
    minutes: int, version: int, phase: str, priority: Priority, **extra: object
) -> Observation:
    return Observation(
        T0 + timedelta(minutes=minutes),
        version,
        phase,
        priority=priority,
        **extra,  # type: ignore[arg-type]
    )


def _tickets() -> list[TicketHistory]:
    """kpn P2 (480 min 24x7): one met, one breached with a pause; centric P3 one running."""
    met = TicketHistory("hub-met", EntityKind.INCIDENT, "kpn", "INC1", T0)
    met.add(_obs(0, 1, "new", Priority.P2))
    met.add(_obs(10, 2, "open", Priority.P2))
    met.add(_obs(120, 3, "on_hold", Priority.P2, hold="awaiting_caller"))
    met.add(_obs(180, 4, "open", Priority.P2))
    met.add(_obs(400, 5, "done", Priority.P2))
    late = TicketHistory("hub-late", EntityKind.INCIDENT, "kpn", "INC2", T0)
    late.add(_obs(0, 1, "open", Priority.P2))
    late.add(_obs(500, 2, "done", Priority.P2))
    running = TicketHistory("hub-run", EntityKind.INCIDENT, "centric", "I 2611 001", T0)
    running.add(_obs(0, 1, "new", Priority.P3))
    return [met, late, running]


def _fill(tmp_path: Path) -> None:
    async def go() -> None:
        store = await SlaStore.open(f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}")
        await store.save([(t, None) for t in _tickets()])
        await store.close()

    asyncio.run(go())


def test_show_tells_every_pause_in_words(tmp_path: Path) -> None:
    _fill(tmp_path)
    result = runner.invoke(app, ["sla", "show", "hub-met"])
    assert result.exit_code == 0, result.output
    assert "PAUSED: waiting for the caller" in result.output
    assert "resolution clock: P2, target 480 min in calendar 24x7: met" in result.output
    assert "used 340 min" in result.output  # 400 minutes open, 60 of them paused
    missing = runner.invoke(app, ["sla", "show", "hub-nothing"])
    assert missing.exit_code == 1


def test_report_json_lists_every_ticket_with_the_agreed_keys(tmp_path: Path) -> None:
    _fill(tmp_path)
    result = runner.invoke(app, ["sla", "report", "--month", "2026-11", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = orjson.loads(result.stdout)
    tickets = {t["hub_id"]: t for t in document["tickets"]}
    assert set(tickets) == {"hub-met", "hub-late", "hub-run"}
    for ticket in tickets.values():
        assert {
            "hub_id",
            "supplier",
            "number",
            "priority",
            "response_business_minutes",
            "resolution_business_minutes",
            "paused_minutes",
            "response_met",
            "resolution_met",
        } <= ticket.keys()
    assert tickets["hub-met"]["resolution_met"] is True
    assert tickets["hub-met"]["paused_minutes"] == 60
    assert tickets["hub-met"]["response_business_minutes"] == 10
    assert tickets["hub-late"]["resolution_met"] is False
    assert tickets["hub-run"]["resolution_met"] is None  # running (as of the last event)
    assert tickets["hub-run"]["number"] == "I 2611 001"
    kpn = next(g for g in document["groups"] if g["supplier"] == "kpn")
    assert (kpn["tickets"], kpn["met_percent"], kpn["breaches"]) == (2, 50.0, 1)
    assert kpn["median_resolution_business_minutes"] == 420  # (340 + 500) / 2

    only = runner.invoke(
        app, ["sla", "report", "--month", "2026-11", "--supplier", "centric", "-f", "csv"]
    )
    rows = list(csv.DictReader(io.StringIO(only.stdout)))
    assert [(r["supplier"], r["priority"], r["tickets"]) for r in rows] == [("centric", "P3", "1")]
    table = runner.invoke(app, ["sla", "report", "--month", "2026-11"])
    assert table.exit_code == 0 and "kpn" in table.output
    empty = runner.invoke(app, ["sla", "report", "--month", "2026-10", "-f", "json"])
    assert orjson.loads(empty.stdout)["tickets"] == []


def test_recompute_keeps_every_run_and_prints_what_flips(tmp_path: Path) -> None:
    _fill(tmp_path)
    first = runner.invoke(app, ["sla", "recompute", "--since", "2026-11-01"])
    assert first.exit_code == 0, first.output
    assert "run 1" in first.output
    # what if kpn's P2 resolution target were 360 minutes: hub-met still met, ...
    config = load_config("config/schakel.yaml").model_dump(mode="json")
    kpn = next(s for s in config["suppliers"] if s["id"] == "kpn")
    kpn["contract"]["sla"] = [
        {**t, "resolve_minutes": 300} if t["priority"] == "P2" else t
        for t in kpn["contract"]["sla"]
    ]
    for supplier in config["suppliers"]:
        if supplier.get("mapping"):
            supplier["mapping"] = str(Path("config").resolve() / supplier["mapping"])
    what_if = tmp_path / "what-if.yaml"
    what_if.write_text(yaml.safe_dump(config))
    second = runner.invoke(
        app, ["sla", "recompute", "--since", "2026-11-01", "--contracts", str(what_if)]
    )
    assert second.exit_code == 0, second.output
    assert "run 2" in second.output and "compared with run 1" in second.output
    flipped = [line for line in second.output.splitlines() if "hub-met" in line]
    assert flipped and "met" in flipped[0] and "breached" in flipped[0]
    assert "hub-late" not in second.output  # breached before and after

    async def runs() -> list[int]:
        store = await SlaStore.open(f"sqlite+aiosqlite:///{tmp_path / 'sla.db'}")
        try:
            found = [r.run for r in await store.runs()]
            first_run = {
                c.hub_id: c.met for c in await store.run_clocks(1) if c.clock == "resolution"
            }
        finally:
            await store.close()
        assert first_run["hub-met"] is True  # run 1 is untouched
        return found

    assert asyncio.run(runs()) == [1, 2]
