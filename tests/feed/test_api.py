"""The cockpit over HTTP in-process (httpx ASGI transport): sign-in and tokens, roles and
tenant isolation, the API's lists, filters and CSV, replay and manual routing (each an audit
event), and every page renders."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker

from schemas import CloudEvent, RoutedTicket
from schemas.audit import AuditEvent
from schemas.topics import AUDIT
from services.config import SchakelConfig, Settings
from services.config.models import CockpitAccount, CockpitToken, FeedConfig
from services.contract import Runtime
from services.feed.auth import hash_password
from services.feed.live import Changes
from services.feed.store import ReadModel
from services.feed.web import build_app
from services.topics_io import ConsumedRecord
from tests.fakes import FakeRecord, MemoryPublisher
from tests.feed_kit import (
    T0,
    audit_record,
    dead_letter_record,
    delivery_entry,
    routed_record,
    sla_record,
    version,
    version_record,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TOKEN = "machine-token-for-the-regie-0123456789"
FB_TOKEN = "machine-token-gm0482-0123456789abcdef"
PASSWORDS = {
    "regie": "regie-geheim-1",
    "fb-dordrecht": "fb-geheim-2",
    "fb-alblasserdam": "fb-geheim-3",
}


def audited(publisher: MemoryPublisher) -> list[AuditEvent]:
    """The audit events the cockpit published."""
    return [AuditEvent.model_validate_json(m.value) for m in publisher.on(AUDIT)]


class Replays:
    def __init__(self) -> None:
        self.calls: list[list[ConsumedRecord]] = []

    async def __call__(
        self, bootstrap: str, records: list[ConsumedRecord]
    ) -> list[tuple[int, str]]:
        self.calls.append(records)
        return [(r.offset, r.headers["schakel-dlq-topic"].decode()) for r in records]


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {name: hash_password(pw) for name, pw in PASSWORDS.items()}


def cockpit_config(base: SchakelConfig, hashes: dict[str, str]) -> SchakelConfig:
    feed = FeedConfig(
        accounts=[
            CockpitAccount(
                username="regie", name="Rita Regie", role="regie", password_hash=hashes["regie"]
            ),
            CockpitAccount(
                username="fb-dordrecht",
                name="Frank FB",
                role="fb",
                gemeente="GM0505",
                password_hash=hashes["fb-dordrecht"],
            ),
            CockpitAccount(
                username="fb-alblasserdam",
                name="Anna FB",
                role="fb",
                gemeente="GM0482",
                password_hash=hashes["fb-alblasserdam"],
            ),
        ],
        tokens=[
            CockpitToken(name="rapportage", role="regie", token_env="SCHAKEL_TEST_FEED_TOKEN"),
            CockpitToken(
                name="gm0482-bi", role="fb", gemeente="GM0482", token_env="SCHAKEL_TEST_FEED_FB"
            ),
        ],
    )
    return base.model_copy(update={"feed": feed})


class Cockpit:
    def __init__(
        self, client: httpx.AsyncClient, model: ReadModel, sent: MemoryPublisher, replays: Replays
    ) -> None:
        self.client = client
        self.model = model
        self.sent = sent
        self.replays = replays

    async def login(self, user: str) -> httpx.AsyncClient:
        response = await self.client.post(
            "/login", data={"username": user, "password": PASSWORDS[user], "next": "/"}
        )
        assert response.status_code == 303, response.text
        return self.client


@pytest.fixture
async def cockpit(
    example_config: SchakelConfig,
    hashes: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Cockpit]:
    monkeypatch.setenv("SCHAKEL_TEST_FEED_TOKEN", TOKEN)
    monkeypatch.setenv("SCHAKEL_TEST_FEED_FB", FB_TOKEN)
    model = await ReadModel.open(f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}")
    recorder, replays = MemoryPublisher(), Replays()
    runtime = Runtime(
        broker=KafkaBroker("127.0.0.1:1"),
        publisher=recorder,
        settings=Settings(),
        config=cockpit_config(example_config, hashes),
        clock=lambda: NOW,
    )
    app = build_app(runtime, model, Changes(), replay=replays)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://cockpit") as client:
        yield Cockpit(client, model, recorder, replays)
    await model.close()


async def fill(model: ReadModel) -> dict[str, str]:
    """Tickets: one for GM0505, one for GM0482, one in triage, with SLA and a delivery."""
    dordrecht = version("dd-1", 1, title="Zaaksysteem traag")
    alblasserdam = version("ab-1", 1, title="Parkeervergunning hapert", supplier="centric")
    triage = version("tr-1", 1, title="Onbekende storing")
    records: list[Any] = [
        version_record(dordrecht, 0),
        version_record(alblasserdam, 1),
        version_record(triage, 2),
        routed_record("GM0505", "fb-zaken", "dd-1", title="Zaaksysteem traag"),
        routed_record(
            "GM0482", "fb-zaken", "ab-1", supplier="centric", title="Parkeervergunning hapert"
        ),
        sla_record(dordrecht.hub_id, "warning", T0, due=NOW.replace(hour=14)),
        audit_record(delivery_entry(dordrecht.hub_id), dordrecht.hub_id, "d"),
        audit_record(delivery_entry(alblasserdam.hub_id, "GM0482"), alblasserdam.hub_id, "d"),
        dead_letter_record("schakel.inbound.kpn", b"\x00kapot", offset=3),
    ]
    from tests.delivery_kit import routed_event

    tri = routed_event("GM0505", ["fb-zaken"], record_id="tr-1", title="Onbekende storing")
    value = tri.value.replace(b'"gemeente":"GM0505"', b'"gemeente":null')
    records.append(FakeRecord("schakel.triage.v1", 0, 0, tri.key, value, ()))
    result = await model.apply(records)
    assert not result.unreadable, result.unreadable
    return {
        "dordrecht": dordrecht.hub_id,
        "alblasserdam": alblasserdam.hub_id,
        "triage": triage.hub_id,
    }


async def test_nobody_gets_in_without_signing_in(cockpit: Cockpit) -> None:
    await fill(cockpit.model)
    r = await cockpit.client.get("/api/v1/tickets")
    assert r.status_code == 401
    page = await cockpit.client.get("/meldingen")
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    wrong = await cockpit.client.post("/login", data={"username": "regie", "password": "nee"})
    assert wrong.status_code == 401 and "verkeerd wachtwoord" in wrong.text
    unknown = await cockpit.client.post("/login", data={"username": "niemand", "password": "x"})
    assert unknown.status_code == 401
    assert (
        await cockpit.client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    forged = await cockpit.client.get(
        "/api/v1/tickets", cookies={"schakel_sessie": "eyJ1IjoicmVnaWUifQ.x.y"}
    )
    assert forged.status_code == 401


async def test_signing_in_is_an_audit_event_and_the_cookie_is_strict(cockpit: Cockpit) -> None:
    response = await cockpit.client.post(
        "/login",
        data={"username": "regie", "password": PASSWORDS["regie"], "next": "//evil.example"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    [event] = audited(cockpit.sent)
    assert event.data.action == "cockpit.login" and event.data.actor == "regie"
    await cockpit.client.post("/logout")
    assert [e.data.action for e in audited(cockpit.sent)] == ["cockpit.login", "cockpit.logout"]


async def test_the_regie_sees_everything_and_an_fb_team_only_its_own(cockpit: Cockpit) -> None:
    ids = await fill(cockpit.model)
    client = await cockpit.login("regie")
    everything = (await client.get("/api/v1/tickets")).json()["items"]
    assert {t["hub_id"] for t in everything} == set(ids.values())
    client.cookies.clear()
    client = await cockpit.login("fb-alblasserdam")
    own = (await client.get("/api/v1/tickets")).json()["items"]
    assert [t["hub_id"] for t in own] == [ids["alblasserdam"]]
    assert (await client.get(f"/api/v1/tickets/{ids['dordrecht']}")).status_code == 404
    assert (await client.get(f"/api/v1/tickets/{ids['dordrecht']}/timeline")).status_code == 404
    assert (await client.get(f"/meldingen/{ids['dordrecht']}")).status_code == 404
    assert (await client.get(f"/api/v1/tickets/{ids['alblasserdam']}/timeline")).status_code == 200
    other_gemeente = await client.get("/api/v1/tickets", params={"gemeente": "GM0505"})
    assert other_gemeente.json()["items"] == []
    figures = (await client.get("/api/v1/figures")).json()["suppliers"]
    assert [(f["supplier"], f["total"]) for f in figures] == [("centric", 1)]
    for path in (
        "/api/v1/deadletters",
        "/api/v1/triage",
        "/api/v1/audit",
        "/dode-letters",
        "/triage",
    ):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.post("/api/v1/deadletters/0/3/replay")).status_code == 403
    route = {"gemeente": "GM0482", "team": "fb-zaken", "reason": "mijn eigen"}
    assert (
        await client.post(f"/api/v1/tickets/{ids['triage']}/route", json=route)
    ).status_code == 403
    assert cockpit.replays.calls == [] and not [m for m in cockpit.sent.sent if m.topic != AUDIT]


async def test_machines_use_bearer_tokens_with_the_same_scopes(cockpit: Cockpit) -> None:
    ids = await fill(cockpit.model)
    regie = await cockpit.client.get(
        "/api/v1/tickets", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert len(regie.json()["items"]) == 3
    fb = await cockpit.client.get(
        "/api/v1/tickets", headers={"Authorization": f"Bearer {FB_TOKEN}"}
    )
    assert [t["hub_id"] for t in fb.json()["items"]] == [ids["alblasserdam"]]


async def test_filters_csv_and_the_timeline_with_routing_and_delivery(cockpit: Cockpit) -> None:
    ids = await fill(cockpit.model)
    client = await cockpit.login("regie")
    kpn = (await client.get("/api/v1/tickets", params={"supplier": "kpn"})).json()["items"]
    assert {t["hub_id"] for t in kpn} == {ids["dordrecht"], ids["triage"]}
    risk = (await client.get("/api/v1/tickets", params={"sla": "at_risk"})).json()["items"]
    assert [t["hub_id"] for t in risk] == [ids["dordrecht"]]
    text = (await client.get("/api/v1/tickets", params={"q": "parkeer"})).json()["items"]
    assert [t["hub_id"] for t in text] == [ids["alblasserdam"]]
    paged = (await client.get("/api/v1/tickets", params={"limit": 2})).json()
    assert len(paged["items"]) == 2 and paged["next_offset"] == 2
    exported = await client.get("/api/v1/tickets", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][0] == "hub_id" and {r[0] for r in rows[1:]} == set(ids.values())
    trail = (await client.get(f"/api/v1/tickets/{ids['dordrecht']}/timeline")).json()["entries"]
    kinds = [e["kind"] for e in trail]
    assert kinds == ["version", "routed", "sla", "audit"]
    assert "CMDB" in trail[1]["detail"]["explanation"] or trail[1]["detail"]["explanation"]
    assert trail[3]["detail"]["action"] == "delivery.delivered"
    for path in (
        "/api/v1/figures",
        "/api/v1/deadletters",
        "/api/v1/triage",
        "/api/v1/audit",
        "/api/v1/at-risk",
        f"/api/v1/tickets/{ids['dordrecht']}/timeline",
        "/api/v1/suppliers/kpn/scorecard",
    ):
        response = await client.get(path, params={"format": "csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/csv"
        ), path
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/tickets" in spec["paths"] and "/api/v1/tickets/{hub_id}/route" in spec["paths"]


async def test_replay_puts_the_original_bytes_back_and_is_audited(cockpit: Cockpit) -> None:
    await fill(cockpit.model)
    client = await cockpit.login("regie")
    [row] = (await client.get("/api/v1/deadletters")).json()["items"]
    response = await client.post(f"/dode-letters/{row['partition']}/{row['offset']}/opnieuw")
    assert response.status_code == 303
    [[record]] = cockpit.replays.calls
    assert record.value == b"\x00kapot" and record.key == b"k"
    assert record.headers["trace"] == b"\xff\x00bin"
    assert record.headers["schakel-dlq-topic"] == b"schakel.inbound.kpn"
    replay = [e for e in audited(cockpit.sent) if e.data.action == "cockpit.replay"]
    assert len(replay) == 1 and replay[0].data.actor == "regie"
    assert replay[0].data.detail["target"] == "schakel.inbound.kpn"
    [after] = (await client.get("/api/v1/deadletters")).json()["items"]
    assert after["replayed_by"] == "regie"
    page = await client.get(response.headers["location"])
    assert "opnieuw aangeboden op schakel.inbound.kpn" in page.text
    assert (await client.post("/api/v1/deadletters/0/999/replay")).status_code == 404


async def test_manual_route_sends_a_routed_event_with_the_regie_as_reason(cockpit: Cockpit) -> None:
    ids = await fill(cockpit.model)
    client = await cockpit.login("regie")
    queue = (await client.get("/api/v1/triage")).json()["items"]
    assert [t["hub_id"] for t in queue] == [ids["triage"]]
    bad = await client.post(
        f"/api/v1/tickets/{ids['triage']}/route",
        json={"gemeente": "GM0505", "team": "bestaat-niet", "reason": "x"},
    )
    assert bad.status_code == 409
    response = await client.post(
        f"/triage/{ids['triage']}/routeer",
        data={"bestemming": "GM0505/fb-zaken", "reden": "Zaaksysteem volgens de leverancier"},
    )
    assert response.status_code == 303
    [routed] = [m for m in cockpit.sent.sent if m.topic == "schakel.gemeente.GM0505.v1"]
    event = CloudEvent[RoutedTicket].model_validate_json(routed.value)
    assert event.data.decision.basis == "regie"
    assert "Zaaksysteem volgens de leverancier" in event.data.decision.explanation
    assert event.data.decision.inputs["regie"] == "regie"
    assert event.data.ticket.hub_id == ids["triage"] and routed.key == ids["triage"].encode()
    [audit] = [e for e in audited(cockpit.sent) if e.data.action == "cockpit.route"]
    assert audit.data.hub_id == ids["triage"] and audit.data.actor == "regie"
    # the projector reads its own routed event and audit: out of triage, routed to GM0505
    own = [
        FakeRecord(m.topic, 0, 50 + i, m.key, m.value, m.headers)
        for i, m in enumerate(cockpit.sent.sent)
    ]
    await cockpit.model.apply(own)
    assert (await client.get("/api/v1/triage")).json()["items"] == []
    ticket = (await client.get(f"/api/v1/tickets/{ids['triage']}")).json()
    assert ticket["routed_to"] == "GM0505" and ticket["triage"] is False
    trail = (await client.get(f"/api/v1/tickets/{ids['triage']}/timeline")).json()["entries"]
    assert (
        trail[-2]["detail"]["basis"] == "regie" and trail[-1]["detail"]["action"] == "cockpit.route"
    )


async def test_every_page_renders_for_the_regie_and_the_fb_team(cockpit: Cockpit) -> None:
    ids = await fill(cockpit.model)
    client = await cockpit.login("regie")
    for path in (
        "/",
        "/fragment/overzicht",
        "/meldingen",
        "/meldingen?supplier=kpn&sla=at_risk",
        f"/meldingen/{ids['dordrecht']}",
        "/leveranciers",
        "/leveranciers/kpn",
        "/dode-letters",
        "/triage",
        "/audit",
    ):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<html" in response.text or path.startswith("/fragment"), path
    overview = (await client.get("/")).text
    assert "Zaaksysteem traag" in overview and "Onbekende storing" in overview
    timeline = (await client.get(f"/meldingen/{ids['dordrecht']}")).text
    assert "Regel zaaksysteem-gedeeld" in timeline and "afgeleverd aan fb-zaken" in timeline
    assert "<svg" in (await client.get("/leveranciers/kpn")).text
    client.cookies.clear()
    client = await cockpit.login("fb-dordrecht")
    overview = (await client.get("/")).text
    assert "Zaaksysteem traag" in overview and "Parkeervergunning" not in overview
    assert "Dode letters" not in overview and "Triage" not in overview
