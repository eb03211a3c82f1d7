"""What the channels send: e-mail composition, the TOPdesk incident body, channel ids."""

from __future__ import annotations

import dataclasses

import pytest

from schemas import IncidentStatus
from schemas.topics import gemeente_of_topic
from services.config.models import EmailChannel, TopdeskChannel, WebhookChannel
from services.delivery import (
    Delivery,
    channel_id,
    compose_message,
    external_number,
    idempotency_key,
    incident_request,
)
from services.delivery._render import action_text
from services.delivery.deliverer import _ROUTED
from tests.delivery_kit import routed_event

MAIL = EmailChannel(
    type="email",
    to=["fb-zaken@dordrecht.example", "beheer@dordrecht.example"],
    sender="schakel@regie-drechtsteden.example",
)
TOPDESK = TopdeskChannel(
    type="topdesk",
    base_url="https://dordrecht.topdesk.example/tas/api/",
    username_env="TD_USER",
    password_env="TD_PASSWORD",
    operator_group="Functioneel beheer Zaken",
    category="Applicaties",
)


def make_delivery(**kwargs: object) -> Delivery:
    event = routed_event("GM0505", ["fb-zaken"], **kwargs)  # type: ignore[arg-type]
    routed = _ROUTED.model_validate_json(event.value).data
    key = idempotency_key(event.event_id, "GM0505", "fb-zaken", "email-1")
    return Delivery(
        event_id=event.event_id,
        hub_id=event.hub_id,
        gemeente="GM0505",
        team="fb-zaken",
        channel="email-1",
        kind="incident",
        routed=routed,
        idempotency_key=key,
        body=event.value,
    )


def test_mail_has_the_essentials_and_no_personal_data() -> None:
    delivery = make_delivery(title="Zaaksysteem traag <b>na</b> update")
    message = compose_message(delivery, MAIL)
    assert message["Message-ID"] == f"<{delivery.idempotency_key}@regie-drechtsteden.example>"
    assert message["In-Reply-To"] is None
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Schakel-Hub-Id"] == delivery.hub_id
    assert message["To"] == "fb-zaken@dordrecht.example, beheer@dordrecht.example"
    assert message["Subject"] == "[Schakel] kpn INC0000046: Zaaksysteem traag <b>na</b> update"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for expected in ("INC0000046", "P2", "Nieuw (new)", "Zaaksysteem Drechtsteden"):
        assert expected in text
        assert expected in html
    assert "Het zaaksysteem is van uw gemeente" in text  # why it was routed
    assert "&lt;b&gt;na&lt;/b&gt;" in html  # escaped, not markup
    assert "<b>na</b>" not in html
    # the description (with its BSN) is not sent at all
    for absent in ("111222333", "Gebruikers melden"):
        assert absent not in text
        assert absent not in html


def test_bsn_in_title_is_redacted_in_the_mail() -> None:
    message = compose_message(make_delivery(title="Burger 111222333 kan niet inloggen"), MAIL)
    assert "111222333" not in message["Subject"]
    assert "111222333" not in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_update_mail_threads_to_the_first_message() -> None:
    first = "<first-key@regie-drechtsteden.example>"
    update = dataclasses.replace(
        make_delivery(version=2, status=IncidentStatus.RESOLVED), receiver_ref=first
    )
    message = compose_message(update, MAIL)
    assert message["In-Reply-To"] == first
    assert message["References"] == first
    assert message["Subject"].startswith("Re: [Schakel] kpn INC0000046")
    assert "Opgelost (resolved)" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_same_delivery_same_message_id() -> None:
    a, b = make_delivery(), make_delivery()
    assert compose_message(a, MAIL)["Message-ID"] == compose_message(b, MAIL)["Message-ID"]


def test_topdesk_incident_body_respects_the_field_limits() -> None:
    delivery = make_delivery(title="Heel lange titel " * 20, number="INC" + "9" * 30)
    body = incident_request(delivery, TOPDESK)
    assert len(body["briefDescription"]) <= 80
    assert body["briefDescription"].startswith("INC999")
    assert body["briefDescription"].endswith("…")
    assert body["externalNumber"] == delivery.hub_id  # number + hub id would exceed 60
    assert body["operatorGroup"] == {"name": "Functioneel beheer Zaken"}
    assert body["category"] == {"name": "Applicaties"}
    assert body["caller"] == {"dynamicName": "Schakel (regie ICT-leveranciers)"}
    assert "111222333" not in body["request"]
    assert set(body) == {
        "caller",
        "briefDescription",
        "request",
        "externalNumber",
        "operatorGroup",
        "category",
    }


def test_external_number_names_the_supplier_ticket_and_is_unique() -> None:
    delivery = make_delivery()
    assert external_number(delivery) == f"INC0000046/{delivery.hub_id}"
    assert len(external_number(delivery)) <= 60
    assert external_number(make_delivery(number=None)) == delivery.hub_id


def test_topdesk_without_operator_group_or_category() -> None:
    bare = TOPDESK.model_copy(update={"operator_group": None, "category": None})
    body = incident_request(make_delivery(), bare)
    assert "operatorGroup" not in body
    assert "category" not in body


def test_action_text_of_an_update() -> None:
    text = action_text(make_delivery(version=3, status=IncidentStatus.IN_PROGRESS))
    assert text.startswith("Update van kpn (INC0000046) via Schakel:")
    assert "In behandeling (in_progress)" in text
    assert "prioriteit P2" in text


def test_channel_ids_are_stable_and_distinct() -> None:
    hook_a = WebhookChannel(type="webhook", url="https://a.example/h", secret_env="S")
    hook_b = WebhookChannel(type="webhook", url="https://b.example/h", secret_env="S")
    assert channel_id(hook_a) == channel_id(hook_a.model_copy(update={"timeout_s": 3.0}))
    assert channel_id(hook_a) != channel_id(hook_b)
    assert channel_id(hook_a).startswith("webhook-")
    reordered = MAIL.model_copy(update={"to": list(reversed(MAIL.to))})
    assert channel_id(MAIL) == channel_id(reordered)
    assert channel_id(TOPDESK).startswith("topdesk-")


def test_idempotency_key_differs_per_team_and_channel() -> None:
    keys = {
        idempotency_key("ev", "GM0505", "fb-zaken", "webhook-1"),
        idempotency_key("ev", "GM0505", "fb-zaken", "email-1"),
        idempotency_key("ev", "GM0505", "fb-burgerzaken", "webhook-1"),
        idempotency_key("ev", "GM0482", "fb-zaken", "webhook-1"),
        idempotency_key("ev2", "GM0505", "fb-zaken", "webhook-1"),
    }
    assert len(keys) == 5
    assert idempotency_key("ev", "GM0505", "fb-zaken", "webhook-1") == idempotency_key(
        "ev", "GM0505", "fb-zaken", "webhook-1"
    )


@pytest.mark.parametrize(
    ("topic", "code"),
    [
        ("schakel.gemeente.GM0505.v1", "GM0505"),
        ("schakel.gemeente.GM0505.v2", None),
        ("schakel.gemeente.gm0505.v1", None),
        ("schakel.gemeente.GM05051.v1", None),
        ("schakel.triage.v1", None),
    ],
)
def test_gemeente_of_topic(topic: str, code: str | None) -> None:
    assert gemeente_of_topic(topic) == code
