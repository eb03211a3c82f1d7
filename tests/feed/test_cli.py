"""``schakel audit verify``: an intact chain exits 0; a changed entry is named, exit 1."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from services.cli import app
from services.feed._tables import timeline
from services.feed.store import ReadModel
from tests.feed.test_read_model import story
from tests.feed_kit import version


def test_audit_verify_names_a_changed_entry(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}"
    hub = version("inc-cli", 1).hub_id

    async def fill(tamper: bool) -> None:
        model = await ReadModel.open(url)
        if tamper:
            async with model.engine.begin() as conn:
                await conn.execute(
                    update(timeline)
                    .where(timeline.c.hub_id == hub, timeline.c.seq == 2)
                    .values(summary="Gerouteerd naar GM0000")
                )
        else:
            await model.apply(story("inc-cli"))
        await model.close()

    asyncio.run(fill(tamper=False))
    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify", hub, "--store", url])
    assert intact.exit_code == 0, intact.output
    assert "intact" in intact.output
    asyncio.run(fill(tamper=True))
    broken = runner.invoke(app, ["audit", "verify", "--store", url])
    assert broken.exit_code == 1
    assert hub in broken.output and "entry 2" in broken.output
