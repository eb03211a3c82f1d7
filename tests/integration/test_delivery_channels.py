"""The channels against real local peers: a webhook receiver and a TOPdesk served by uvicorn,
and an aiosmtpd SMTP server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from schemas import IncidentStatus
from services.config.models import EmailChannel, TopdeskChannel, WebhookChannel
from services.delivery import (
    EmailSink,
    TopdeskSink,
    WebhookSink,
    deliver_with_retries,
    external_number,
    verify_signature,
)
from services.delivery.errors import (
    Backpressure,
    ChannelMisconfigured,
    ReceiverRejected,
    ReceiverUnavailable,
)
from services.retrying import RetryPolicy
from tests.delivery_kit import delivery_of, routed_event
from tests.integration._peers import (
    FakeTopdesk,
    MailCatcher,
    WebhookReceiver,
    free_port,
    serve,
    smtp_server,
)

SECRET = "fb-gedeeld-geheim"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as shared:
        yield shared


@pytest.fixture
async def receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[WebhookReceiver, str]]:
    monkeypatch.setenv("SCHAKEL_TEST_FB_SECRET", SECRET)
    peer = WebhookReceiver({"fb": SECRET})
    async with serve(peer.app) as base:
        yield peer, base


def hook(base: str, name: str = "fb", **kwargs: object) -> WebhookChannel:
    return WebhookChannel.model_validate(
        {"type": "webhook", "url": f"{base}/hook/{name}", "secret_env": "SCHAKEL_TEST_FB_SECRET"}
        | kwargs
    )


# --- webhook -------------------------------------------------------------------------------


async def test_webhook_is_signed_and_carries_the_idempotency_key(receiver, client) -> None:
    peer, base = receiver
    event = routed_event("GM0505", ["fb-zaken"])
    delivery = delivery_of(event, "fb-zaken", "webhook-1")
    receipt = await WebhookSink(hook(base), client).deliver(delivery)
    assert receipt.status == "accepted"
    [attempt] = peer.attempts
    assert attempt.status == 202
    assert attempt.body == event.value
    assert verify_signature(attempt.body, SECRET, attempt.headers["x-schakel-signature"])
    assert attempt.headers["idempotency-key"] == delivery.idempotency_key
    assert attempt.headers["x-schakel-event-id"] == event.event_id
    assert attempt.headers["x-schakel-hub-id"] == event.hub_id
    assert attempt.headers["content-type"].startswith("application/cloudevents+json")


async def test_webhook_repeat_is_a_duplicate_not_an_error(receiver, client) -> None:
    _, base = receiver
    delivery = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "webhook-1")
    sink = WebhookSink(hook(base), client)
    assert (await sink.deliver(delivery)).status == "accepted"
    assert (await sink.deliver(delivery)).status == "duplicate"  # 409


async def test_webhook_failures_are_classified(receiver, client, monkeypatch) -> None:
    peer, base = receiver
    delivery = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "webhook-1")
    sink = WebhookSink(hook(base), client)
    peer.fail("fb", 1, status=500)
    with pytest.raises(ReceiverUnavailable):
        await sink.deliver(delivery)
    peer.fail("fb", 1, status=429, retry_after="3")
    with pytest.raises(Backpressure) as caught:
        await sink.deliver(delivery)
    assert caught.value.retry_after == 3.0
    peer.fail("fb", 1, status=408)
    with pytest.raises(ReceiverUnavailable):
        await sink.deliver(delivery)
    with pytest.raises(ReceiverRejected) as rejected:
        await WebhookSink(hook(base, "unknown-path"), client).deliver(delivery)
    assert rejected.value.status == 404
    monkeypatch.setenv("SCHAKEL_TEST_FB_SECRET", "wrong")
    with pytest.raises(ReceiverRejected) as rejected:
        await sink.deliver(delivery)
    assert rejected.value.status == 401
    monkeypatch.delenv("SCHAKEL_TEST_FB_SECRET")
    with pytest.raises(ChannelMisconfigured, match="SCHAKEL_TEST_FB_SECRET"):
        await sink.deliver(delivery)


async def test_webhook_timeout_and_refused_connection_are_transient(receiver, client) -> None:
    peer, base = receiver
    delivery = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "webhook-1")
    peer.delay_s["fb"] = 1.0
    with pytest.raises(ReceiverUnavailable, match="Timeout"):
        await WebhookSink(hook(base, timeout_s=0.2), client).deliver(delivery)
    nobody = WebhookChannel(
        type="webhook",
        url=f"http://127.0.0.1:{free_port()}/hook",
        secret_env="SCHAKEL_TEST_FB_SECRET",
    )
    with pytest.raises(ReceiverUnavailable, match="ConnectError"):
        await WebhookSink(nobody, client).deliver(delivery)


async def test_webhook_fails_twice_then_accepts_with_retry_after_honoured(receiver, client) -> None:
    peer, base = receiver
    delivery = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "webhook-1")
    peer.fail("fb", 1, status=503)
    peer.fail("fb", 1, status=429, retry_after="1")
    policy = RetryPolicy(max_attempts=4, backoff_initial_s=0.01, retry_after_cap_s=5.0)
    started = time.monotonic()
    done = await deliver_with_retries(WebhookSink(hook(base), client).deliver, delivery, policy)
    assert done.attempts == 3
    assert time.monotonic() - started >= 1.0, "waited the Retry-After second"
    assert [a.status for a in peer.attempts] == [503, 429, 202]
    assert {a.headers["idempotency-key"] for a in peer.attempts} == {delivery.idempotency_key}
    assert len(peer.accepted["fb"]) == 1


# --- e-mail ------------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[tuple[MailCatcher, EmailChannel]]:
    with smtp_server() as (catcher, port):
        yield (
            catcher,
            EmailChannel(
                type="email",
                to=["fb-zaken@dordrecht.example", "beheer@dordrecht.example"],
                smtp_host="127.0.0.1",
                smtp_port=port,
                sender="schakel@regie-drechtsteden.example",
            ),
        )


async def test_email_arrives_with_text_html_and_threading(smtp) -> None:
    catcher, config = smtp
    sink = EmailSink(config, timeout_s=5)
    first = delivery_of(routed_event("GM0505", ["fb-zaken"], version=1), "fb-zaken", "email-1")
    receipt = await sink.deliver(first)
    assert receipt.receiver_ref == f"<{first.idempotency_key}@regie-drechtsteden.example>"
    update = delivery_of(
        routed_event("GM0505", ["fb-zaken"], version=2, status=IncidentStatus.RESOLVED),
        "fb-zaken",
        "email-1",
        receiver_ref=receipt.receiver_ref,
    )
    await sink.deliver(update)
    assert len(catcher.messages) == 2
    assert catcher.envelopes[0] == (
        "schakel@regie-drechtsteden.example",
        ["fb-zaken@dordrecht.example", "beheer@dordrecht.example"],
    )
    mail, follow_up = catcher.messages
    assert mail["Message-ID"] == receipt.receiver_ref
    assert mail["Subject"] == "[Schakel] kpn INC0000046: Zaaksysteem reageert traag"
    plain = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "INC0000046" in plain and "Nieuw (new)" in plain and "P2" in plain
    assert "<table" in html and "Zaaksysteem Drechtsteden" in html
    assert "111222333" not in mail.as_string()
    assert follow_up["In-Reply-To"] == receipt.receiver_ref
    assert follow_up["References"] == receipt.receiver_ref
    assert "Opgelost (resolved)" in follow_up.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_smtp_replies_are_classified(smtp) -> None:
    catcher, config = smtp
    sink = EmailSink(config, timeout_s=5)
    delivery = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "email-1")
    catcher.data_replies.append("451 4.3.0 try again later")
    with pytest.raises(ReceiverUnavailable) as transient:
        await sink.deliver(delivery)
    assert transient.value.status == 451
    catcher.data_replies.append("554 5.7.1 rejected")
    with pytest.raises(ReceiverRejected) as permanent:
        await sink.deliver(delivery)
    assert permanent.value.status == 554
    nobody = config.model_copy(update={"smtp_port": free_port()})
    with pytest.raises(ReceiverUnavailable):
        await EmailSink(nobody, timeout_s=2).deliver(delivery)
    assert catcher.messages == []


# --- TOPdesk -----------------------------------------------------------------------------


@pytest.fixture
async def topdesk(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[FakeTopdesk, str]]:
    monkeypatch.setenv("SCHAKEL_TEST_TD_USER", "schakel")
    monkeypatch.setenv("SCHAKEL_TEST_TD_PASSWORD", "td-wachtwoord")
    peer = FakeTopdesk("schakel", "td-wachtwoord")
    async with serve(peer.app) as base:
        yield peer, base


def td(base: str, **kwargs: object) -> TopdeskChannel:
    return TopdeskChannel.model_validate(
        {
            "type": "topdesk",
            "base_url": f"{base}/tas/api/",
            "username_env": "SCHAKEL_TEST_TD_USER",
            "password_env": "SCHAKEL_TEST_TD_PASSWORD",
            "operator_group": "Functioneel beheer Zaken",
            "category": "Applicaties",
        }
        | kwargs
    )


async def test_topdesk_creates_then_patches_the_same_incident(topdesk, client) -> None:
    peer, base = topdesk
    sink = TopdeskSink(td(base), client)
    first = delivery_of(routed_event("GM0505", ["fb-zaken"], version=1), "fb-zaken", "td")
    created = await sink.deliver(first)
    assert created.status == "created"
    [incident] = peer.incidents.values()
    assert created.receiver_ref == incident["id"]
    assert created.receiver_number == incident["number"]
    assert incident["externalNumber"] == external_number(first)
    assert incident["briefDescription"] == "INC0000046: Zaaksysteem reageert traag"
    assert incident["operatorGroup"] == {"name": "Functioneel beheer Zaken"}
    assert "Waarom u dit krijgt" in incident["request"]
    assert "111222333" not in incident["request"]

    update = delivery_of(
        routed_event("GM0505", ["fb-zaken"], version=2, status=IncidentStatus.RESOLVED),
        "fb-zaken",
        "td",
        receiver_ref=created.receiver_ref,
    )
    updated = await sink.deliver(update)
    assert (updated.status, updated.receiver_ref) == ("updated", created.receiver_ref)
    assert len(peer.incidents) == 1
    [action] = peer.actions[incident["id"]]
    assert "Opgelost (resolved)" in action["memoText"]
    assert ("PATCH", f"/tas/api/incidents/id/{incident['id']}") in peer.calls


async def test_topdesk_adopts_the_incident_a_crash_left_unrecorded(topdesk, client) -> None:
    peer, base = topdesk
    sink = TopdeskSink(td(base), client)
    first = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "td")
    created = await sink.deliver(first)
    again = await sink.deliver(first)  # as after a crash before the store recorded it
    assert (again.status, again.receiver_ref) == ("adopted", created.receiver_ref)
    assert len(peer.incidents) == 1


async def test_topdesk_failures_are_classified(topdesk, client, monkeypatch) -> None:
    peer, base = topdesk
    delivery = delivery_of(routed_event("GM0505", ["fb-zaken"]), "fb-zaken", "td")
    peer.fail_next.append(503)
    with pytest.raises(ReceiverUnavailable):
        await TopdeskSink(td(base), client).deliver(delivery)
    with pytest.raises(ReceiverRejected, match="operatorGroup"):
        await TopdeskSink(td(base, operator_group="Bestaat niet"), client).deliver(delivery)
    monkeypatch.setenv("SCHAKEL_TEST_TD_PASSWORD", "fout")
    with pytest.raises(ReceiverRejected) as caught:
        await TopdeskSink(td(base), client).deliver(delivery)
    assert caught.value.status == 401
    monkeypatch.delenv("SCHAKEL_TEST_TD_USER")
    with pytest.raises(ChannelMisconfigured):
        await TopdeskSink(td(base), client).deliver(delivery)
    assert peer.incidents == {}
