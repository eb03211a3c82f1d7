"""The change calendar's cockpit pages in real chromium (Debian's /usr/bin/chromium).

The cockpit (services.feed) with the calendar pages installed through its page kit, served by
uvicorn; the calendar's store holds two colliding changes on Dordrecht's burgerzaken suite.
The regie signs in through the login form, sees the week with both changes marked and the
collision explained, switches to the month, filters a supplier; an FB account of another
gemeente sees none of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker
from playwright.async_api import Browser, Page, async_playwright

from services.changes import ChangeCalendar, ChangeStore
from services.changes.pages import cockpit_pages
from services.config import SchakelConfig, Settings
from services.contract import Runtime
from services.feed.auth import hash_password
from services.feed.live import Changes
from services.feed.store import ReadModel
from services.feed.web import build_app
from tests.changes_kit import CiTable
from tests.fakes import MemoryPublisher
from tests.feed.test_api import NOW, PASSWORDS, cockpit_config
from tests.integration._peers import serve
from tests.router_kit import ci
from tests.unit.test_changes_calendar import NIGHT, config, pair

CHROMIUM = "/usr/bin/chromium"  # Debian's, as every browser test
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium")


@pytest.fixture
async def browser(cockpit_url: str) -> AsyncIterator[Browser]:
    """Closed before the cockpit stops (its live-update stream keeps a connection open)."""
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {name: hash_password(pw) for name, pw in PASSWORDS.items()}


@pytest.fixture
async def cockpit_url(
    example_config: SchakelConfig, hashes: dict[str, str], tmp_path: Path
) -> AsyncIterator[str]:
    cfg = cockpit_config(config(example_config), hashes)
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'schakel.db'}"
    table = CiTable(
        [
            ci("srv-9", "Server 9", ci_class="cmdb_ci_server"),
            ci(
                "app-bz",
                "Burgerzaken-suite",
                relations=[("runs_on", "srv-9")],
                gemeenten=["GM0505"],
                gemma="Burgerzakencomponent",
            ),
        ]
    )
    store = await ChangeStore.open(store_url)
    calendar = ChangeCalendar(cfg, table)
    for made in pair():
        calendar.apply(made)
    step = calendar.evaluate(NIGHT - timedelta(days=4))
    await store.save(step.schedule, step.findings, step.notices)
    await store.close()
    model = await ReadModel.open(store_url)
    runtime = Runtime(
        broker=KafkaBroker("127.0.0.1:1"),
        publisher=MemoryPublisher(),
        settings=Settings(store_url=store_url),
        config=cfg,
        clock=lambda: NOW,
    )
    app = build_app(runtime, model, Changes(), pages=[cockpit_pages(cfg, store_url)])
    async with serve(app) as url:
        yield url
    await model.close()


async def sign_in(page: Page, url: str, user: str) -> None:
    await page.goto(f"{url}/login")
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORDS[user])
    await page.click("button[type=submit], form button")
    await page.wait_for_url(f"{url}/")


async def test_week_and_month_with_the_collision_marked(browser: Browser, cockpit_url: str) -> None:
    page = await browser.new_page()
    await sign_in(page, cockpit_url, "regie")
    assert await page.locator("nav a", has_text="Wijzigingen").count() == 1
    await page.click("nav a:has-text('Wijzigingen')")
    await page.goto(f"{cockpit_url}/wijzigingen?weergave=week&datum=2027-03-06")
    assert "Week 9" in await page.locator("h1").inner_text()
    saturday = page.locator("[data-dag='2027-03-06'] a.wijz")
    assert await saturday.count() == 2
    assert await page.locator("[data-dag='2027-03-06'] a.wijz.let-op").count() == 2
    texts = await saturday.all_inner_texts()
    assert any("CHG1" in t for t in texts) and any("C-9" in t for t in texts)
    assert all("BOTSING" in t for t in texts)
    assert await page.locator("[data-dag='2027-03-05'] a.wijz").count() == 0
    finding = page.locator("li.bevinding[data-soort=collision]")
    assert "Botsing:" in await finding.inner_text()
    assert "'Burgerzaken-suite'" in await finding.inner_text()

    await page.select_option("select[name=weergave]", "maand")
    await page.click("form.filters button")
    assert "maart 2027" in await page.locator("h1").inner_text()
    assert await page.locator("[data-dag='2027-03-06'] a.wijz.let-op").count() == 2
    assert await page.locator("[data-dag='2027-04-04'].buiten").count() == 1  # April's first Sunday

    await page.select_option("select[name=leverancier]", "centric")
    await page.click("form.filters button")
    only = await page.locator("[data-dag='2027-03-06'] a.wijz").all_inner_texts()
    assert len(only) == 1 and "C-9" in only[0]

    await page.click("a:has-text('volgende')")
    assert "april 2027" in await page.locator("h1").inner_text()
    assert await page.locator("a.wijz").count() == 0

    response = await page.request.get(
        f"{cockpit_url}/api/v1/changes/calendar?from=2027-03-06&to=2027-03-07&format=ics"
    )
    assert response.headers["content-type"].startswith("text/calendar")
    assert (await response.text()).count("BEGIN:VEVENT") == 2


async def test_an_fb_team_sees_only_its_own_gemeente(browser: Browser, cockpit_url: str) -> None:
    page = await browser.new_page()
    await sign_in(page, cockpit_url, "fb-alblasserdam")
    await page.goto(f"{cockpit_url}/wijzigingen?weergave=week&datum=2027-03-06&gemeente=GM0505")
    assert await page.locator("a.wijz").count() == 0
    assert await page.locator("select[name=gemeente]").count() == 0
    assert "Geen bevindingen" in await page.locator("section[aria-label=Bevindingen]").inner_text()
    api = await page.request.get(f"{cockpit_url}/api/v1/changes/findings?gemeente=GM0505")
    assert (await api.json())["items"] == []

    other = await browser.new_page()
    await sign_in(other, cockpit_url, "fb-dordrecht")
    await other.goto(f"{cockpit_url}/wijzigingen?weergave=week&datum=2027-03-06")
    assert await other.locator("[data-dag='2027-03-06'] a.wijz.let-op").count() == 2
