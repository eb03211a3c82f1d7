"""The cockpit in a real browser: Debian's chromium (/usr/bin/chromium, headless) driven by
Playwright from the test suite, against the feed on the real broker.

Screenshots of every page, at 1280 px and at phone width, are written to
``.artifacts/screenshots/`` (git-ignored) as test artefacts.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.topics import inbound_topic
from services.config import SchakelConfig
from services.feed.auth import hash_password
from services.messaging import dead_letter
from tests.conftest import KafkaBroker
from tests.delivery_kit import FakeRecord
from tests.e2e._io import wait_until
from tests.feed._hub import RunningFeed, running_feed, send
from tests.feed.test_api import PASSWORDS, cockpit_config
from tests.feed_kit import (
    audit_record,
    delivery_entry,
    routed_record,
    sla_record,
    version,
    version_record,
)

pytestmark = [pytest.mark.kafka, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FOUND = os.path.exists(CHROMIUM)
SHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {name: hash_password(pw) for name, pw in PASSWORDS.items()}


@pytest.fixture
async def feed(
    kafka: KafkaBroker, example_config: SchakelConfig, hashes: dict[str, str], tmp_path: Path
) -> AsyncIterator[RunningFeed]:
    config = cockpit_config(example_config, hashes)
    async with running_feed(kafka.bootstrap, config, tmp_path) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM_FOUND:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def signed_in(browser: Any, feed: RunningFeed, user: str, *, phone: bool = False) -> Any:
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = await browser.new_context(
        viewport=size, locale="nl-NL", timezone_id="Europe/Amsterdam"
    )
    page = await context.new_page()
    await page.goto(feed.url + "/")
    assert "/login" in page.url
    await page.fill("input[name=username]", user)
    await page.fill("input[name=password]", PASSWORDS[user])
    await page.click("button.knop")
    await page.wait_for_url(feed.url + "/")
    return page


async def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ticket(tag: str, gemeente: str, title: str, *, supplier: str = "kpn") -> list[Any]:
    """A supplier incident as the hub's services leave it on the topics: normalised, routed
    with its explanation, delivered, and its SLA at risk."""
    record_id = f"{tag}-{gemeente}"
    v1 = version(record_id, 1, supplier=supplier, title=title, group="Applicatiebeheer")
    now = datetime.now(UTC)
    return [
        version_record(v1),
        routed_record(gemeente, "fb-zaken", record_id, supplier=supplier, title=title),
        audit_record(delivery_entry(v1.hub_id, gemeente), v1.hub_id, "delivered"),
        sla_record(v1.hub_id, "warning", now, due=now + timedelta(minutes=42)),
    ]


async def test_an_incident_appears_live_and_its_timeline_explains_it(
    browser: Any, feed: RunningFeed
) -> None:
    tag = uuid.uuid4().hex[:6]
    page = await signed_in(browser, feed, "regie")
    title = f"Zaaksysteem traag {tag}"
    await send(feed.publisher, ticket(tag, "GM0505", title))
    # no reload: the overview listens for server-sent events and htmx swaps the figures in
    await page.wait_for_selector(f"text={title}", timeout=30_000)
    assert "/login" not in page.url
    await shoot(page, "overzicht-1280")
    await page.click(f"text={title}")
    await page.wait_for_selector("ol.tijdlijn")
    text = await page.inner_text("ol.tijdlijn")
    assert "Regel zaaksysteem-gedeeld" in text and "Waarom:" in text
    assert "afgeleverd aan fb-zaken" in text
    await shoot(page, "melding-1280")
    for path, name in (
        ("/meldingen", "meldingen"),
        ("/leveranciers", "leveranciers"),
        ("/leveranciers/kpn", "scorekaart"),
        ("/triage", "triage"),
        ("/dode-letters", "dode-letters"),
        ("/audit", "auditlog"),
    ):
        await page.goto(feed.url + path)
        await page.wait_for_load_state("networkidle")
        await shoot(page, f"{name}-1280")
    phone = await signed_in(browser, feed, "regie", phone=True)
    for path, name in (("/", "overzicht"), ("/meldingen", "meldingen"), ("/triage", "triage")):
        await phone.goto(feed.url + path)
        await phone.wait_for_load_state("networkidle")
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is wider than the phone ({width}px)"
        await shoot(phone, f"{name}-telefoon")


async def test_an_fb_account_sees_its_own_gemeente_only(browser: Any, feed: RunningFeed) -> None:
    tag = uuid.uuid4().hex[:6]
    own, other = f"Eigen melding {tag}", f"Andere gemeente {tag}"
    await send(feed.publisher, ticket(tag, "GM0482", own) + ticket(tag, "GM0505", other))
    hub_other = version(f"{tag}-GM0505", 1).hub_id

    async def both() -> bool:
        return all(
            [await feed.model.ticket(version(f"{tag}-{g}", 1).hub_id) for g in ("GM0482", "GM0505")]
        )

    assert await wait_until(both, timeout_s=30)
    page = await signed_in(browser, feed, "fb-alblasserdam")
    await page.goto(feed.url + f"/meldingen?q={tag}")
    await page.wait_for_selector(f"text={own}")
    body = await page.inner_text("main")
    assert own in body and other not in body
    await shoot(page, "meldingen-fb-1280")
    response = await page.goto(feed.url + f"/meldingen/{hub_other}")
    assert response.status == 404
    assert other not in await page.inner_text("main")
    nav = await page.inner_text("nav.nav")
    assert "Dode letters" not in nav and "Triage" not in nav
    await page.goto(feed.url + "/")
    await shoot(page, "overzicht-fb-1280")


async def test_replay_on_the_dead_letter_page_puts_the_record_back(
    browser: Any, feed: RunningFeed
) -> None:
    tag = uuid.uuid4().hex[:8]
    source = inbound_topic("kpn")
    original = f'{{"number": "INC-{tag}", "kapot'.encode()
    letter = dead_letter(
        value=original,
        key=f"INC-{tag}".encode(),
        headers=[("trace", tag.encode())],
        topic=source,
        partition=0,
        offset=12,
        error=ValueError("bad json"),
        reason=f"not JSON ({tag})",
        service="normaliser",
    )
    consumer = AIOKafkaConsumer(bootstrap_servers=feed.bootstrap, group_id=None)
    await consumer.start()
    try:
        tps = [
            TopicPartition(source, p) for p in (consumer.partitions_for_topic(source) or range(6))
        ]
        ends = await consumer.end_offsets(tps)
        await send(
            feed.publisher,
            [FakeRecord(letter.topic, 0, 0, letter.key, letter.value, letter.headers)],
        )
        page = await signed_in(browser, feed, "regie")

        async def listed() -> bool:
            return any(tag in r["reason"] for r in await feed.model.dead_letters(limit=1000))

        assert await wait_until(listed, timeout_s=30)
        await page.goto(feed.url + "/dode-letters")
        row = page.locator("tr", has_text=f"not JSON ({tag})")
        await shoot(page, "dode-letters-voor-1280")
        await row.locator("button", has_text="Opnieuw aanbieden").click()
        await page.wait_for_selector("p.ok")
        assert f"opnieuw aangeboden op {source}" in await page.inner_text("p.ok")
        assert "door regie" in await page.locator("tr", has_text=f"not JSON ({tag})").inner_text()
        await shoot(page, "dode-letters-na-1280")
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, ends[tp])
        found: list[Any] = []

        async def back() -> bool:
            batch = await consumer.getmany(timeout_ms=500)
            found.extend(
                r for records in batch.values() for r in records if r.key == f"INC-{tag}".encode()
            )
            return bool(found)

        assert await wait_until(back, timeout_s=30), "the record did not come back on its topic"
        assert found[0].value == original
        headers = dict(found[0].headers)
        assert headers["trace"] == tag.encode() and "schakel-replayed-from" in headers
        assert not any(k.startswith("schakel-dlq-") for k in headers)

        [dead] = [r for r in await feed.model.dead_letters(limit=1000) if tag in r["reason"]]
        reference = f"schakel.deadletter.v1:{dead['partition']}:{dead['offset']}"

        async def audited() -> bool:
            return any(
                a["action"] == "cockpit.replay"
                and a["actor"] == "regie"
                and a["detail"].get("reference") == reference
                for a in await feed.model.audit_log(limit=1000)
            )

        assert await wait_until(audited, timeout_s=30)
    finally:
        await consumer.stop()
