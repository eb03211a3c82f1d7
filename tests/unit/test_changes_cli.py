"""``schakel changes calendar`` and ``schakel changes conflicts`` read the calendar's store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import icalendar
import orjson
import pytest
from typer.testing import CliRunner

from services.changes import ChangeCalendar, ChangeStore
from services.cli import app
from services.config import SchakelConfig, get_settings
from services.logs import configure_logging
from tests.unit.test_changes_calendar import NIGHT, config, pair, table

runner = CliRunner()


@pytest.fixture
def store_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, example_config: SchakelConfig
) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("SCHAKEL_STORE_URL", url)
    monkeypatch.setenv("SCHAKEL_LOG_FORMAT", "console")
    get_settings.cache_clear()

    async def fill() -> None:
        store = await ChangeStore.open(url)
        calendar = ChangeCalendar(config(example_config), table())
        for made in pair():
            calendar.apply(made)
        step = calendar.evaluate(NIGHT - timedelta(days=4))
        await store.save(step.schedule, step.findings, step.notices)
        await store.close()

    asyncio.run(fill())
    yield url
    get_settings.cache_clear()
    configure_logging("console", "INFO")


def test_calendar_formats(store_url: str) -> None:
    period = ["--from", "2027-03-06", "--to", "2027-03-07"]
    shown = runner.invoke(app, ["changes", "calendar", *period])
    assert shown.exit_code == 0, shown.output
    assert "CHG1" in shown.output and "C-9" in shown.output and "BOTSING" in shown.output

    as_json = runner.invoke(app, ["changes", "calendar", *period, "--format", "json"])
    body = orjson.loads(as_json.stdout)
    assert [e["number"] for e in body] == ["CHG1", "C-9"]

    only = runner.invoke(
        app, ["changes", "calendar", *period, "--supplier", "centric", "--format", "json"]
    )
    assert [e["number"] for e in orjson.loads(only.stdout)] == ["C-9"]
    nobody = runner.invoke(
        app, ["changes", "calendar", *period, "--gemeente", "GM0523", "--format", "json"]
    )
    assert orjson.loads(nobody.stdout) == []
    earlier = runner.invoke(
        app, ["changes", "calendar", "--from", "2027-03-01", "--to", "2027-03-05"]
    )
    assert "CHG1" not in earlier.output

    ics = runner.invoke(
        app, ["changes", "calendar", *period, "--gemeente", "GM0505", "--format", "ics"]
    )
    parsed = icalendar.Calendar.from_ical(ics.stdout)
    assert str(parsed["x-wr-calname"]) == "Wijzigingen Dordrecht"
    assert len(list(parsed.walk("VEVENT"))) == 2

    bad = runner.invoke(app, ["changes", "calendar", "--from", "6 maart"])
    assert bad.exit_code == 2 and "not a date" in bad.output


def test_conflicts_explains(store_url: str) -> None:
    shown = runner.invoke(app, ["changes", "conflicts", "--from", "2027-03-01"])
    assert shown.exit_code == 0, shown.output
    assert "collision" in shown.output and "Botsing:" in shown.output
    later = runner.invoke(app, ["changes", "conflicts", "--from", "2027-03-08", "--json"])
    assert later.stdout.strip() == ""
