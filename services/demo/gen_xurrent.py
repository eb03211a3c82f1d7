"""Demo and benchmark traffic from the workplace supplier's Xurrent (formerly 4me) account.

Each generator returns ``(topic, key, value)``: a webhook body as Schakel's gateway publishes
it (the request or CI record enriched into ``payload``), keyed by the Xurrent record id.
Deterministic for a given ``rng``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import orjson

from schemas.topics import inbound_topic

__all__ = ["SUPPLIER", "xurrent_ci", "xurrent_event", "xurrent_request"]

SUPPLIER = "werkplekdienst"
_ACCOUNT = "werkplekdienst-drechtsteden"
_TOPIC = inbound_topic(SUPPLIER)

_SUBJECTS = [
    "Outlook start niet op na Windows-update",
    "Geen toegang tot gedeelde mailbox Burgerzaken",
    "Laptop start niet op na BitLocker-herstelscherm",
    "Teams-vergaderingen vallen weg bij schermdelen",
    "Citrix-sessie bevriest bij openen van zaakdossier",
    "Multifactor-authenticatie: codes komen niet aan",
    "Printer stadswinkel print lege pagina's",
    "OneDrive synchroniseert niet na wachtwoordwijziging",
    "Docking station geeft geen netwerk",
]
_CHANGES = [
    "Uitrol Windows 11 24H2 naar werkplekken",
    "Nieuwe printerdriver voor balieprinters",
    "Conditional Access-beleid aanscherpen voor beheeraccounts",
    "Gedeelde mailbox aanmaken voor team Leerplicht",
]
_NOTES = [
    ("Melding opgepakt; we kijken mee via beheer op afstand.", False),
    ("Oorzaak lijkt een verlopen certificaat op de StoreFront-server.", True),
    ("Kunt u aangeven sinds wanneer dit speelt en of collega's het ook ervaren?", False),
    ("Workaround: via webmail werken tot de update is teruggedraaid.", False),
    ("Escalatie naar Microsoft aangemaakt, casenummer volgt.", True),
]
_TEAMS = [
    (372, "Servicedesk Werkplek"),
    (381, "Werkplekbeheer Dordrecht"),
    (390, "M365 Beheer"),
    (395, "Identity & Access Management"),
]
_MEMBERS = [(8529, "Ruud Ĳzerman"), (8531, "Noël Çelik"), (8533, "Anouk de Boer")]
_SERVICES = [
    (612, "Microsoft 365 Drechtsteden"),
    (615, "Werkplek Dordrecht"),
    (618, "Citrix werkplek Sliedrecht"),
]
_STATUSES = [
    "assigned",
    "assigned",
    "accepted",
    "in_progress",
    "in_progress",
    "waiting_for_customer",
    "waiting_for",
    "workflow_pending",
    "completed",
]
_REASONS = ["solved", "solved", "solved", "workaround", "gone", "withdrawn", "duplicate"]
_EVENTS = ["request.update", "request.status-changed", "request.member-changed"]
_GEMEENTEN = ["GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642"]
_CIS = [
    ("Citrix-publicatie Zaaksysteem", "Applicatiepublicatie", "Zaakregistratiecomponent"),
    ("Afsprakenplanner-client", "Applicatie", "Afsprakenbeheercomponent"),
    ("Laptop LT-DOR", "Laptop", None),
    ("Multifunctional Stadskantoor", "Multifunctional printer", None),
]
_CI_STATUSES = ["in_production"] * 6 + ["being_repaired", "in_stock", "broken_down", "archived"]


def _iso(moment: datetime) -> str:
    """Xurrent's ISO 8601 with the account's offset (Europe/Amsterdam, here fixed +01:00)."""
    return (moment + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+01:00")


def _ref(pair: tuple[int, str]) -> dict[str, Any]:
    return {"id": pair[0], "name": pair[1], "account": {"id": _ACCOUNT, "name": "Werkplekdienst"}}


def _envelope(
    event: str, object_id: int, person: tuple[int, str], payload: dict[str, Any]
) -> bytes:
    return orjson.dumps(
        {
            "webhook_id": 945 if event.startswith("request.") else 947,
            "account_id": _ACCOUNT,
            "account": f"https://{_ACCOUNT}.xurrent.com",
            "name": f"{event} naar Schakel",
            "event": event,
            "object_id": object_id,
            "person_id": person[0],
            "person_name": person[1],
            "instance_name": _ACCOUNT,
            "payload": payload,
        }
    )


def xurrent_request(rng: random.Random, serial: int, now: datetime) -> tuple[str, bytes, bytes]:
    """A request webhook: mostly incidents, some RFCs; updates, status changes and notes."""
    request_id = 70_000 + serial
    is_rfc = rng.random() < 0.15
    status = rng.choice(_STATUSES)
    created = now - timedelta(minutes=rng.randint(5, 4000))
    member = rng.choice(_MEMBERS)
    payload: dict[str, Any] = {
        "id": request_id,
        "subject": rng.choice(_CHANGES if is_rfc else _SUBJECTS),
        "category": "rfc" if is_rfc else rng.choice(["incident"] * 9 + ["complaint"]),
        "impact": rng.choice(["low", "medium", "medium", "high", "top"]),
        "urgent": rng.random() < 0.1,
        "status": status,
        "team": _ref(rng.choice(_TEAMS)),
        "service_instance": _ref(rng.choice(_SERVICES)),
        "requested_by": {"id": 23011, "name": "Sanne Bakker"},
        "source": "self service",
        "created_at": _iso(created),
        "updated_at": _iso(now),
        "response_target_at": _iso(created + timedelta(hours=2)),
        "resolution_target_at": "clock_stopped"
        if status.startswith("waiting")
        else _iso(created + timedelta(hours=rng.choice([4, 8, 24, 72]))),
    }
    if status != "assigned":
        payload["member"] = _ref(member)
    if status == "completed":
        payload["completion_reason"] = rng.choice(_REASONS)
        payload["completed_at"] = _iso(now)
    if rng.random() < 0.2:
        text, internal = rng.choice(_NOTES)
        event = "request.note-added"
        payload["note"] = {
            "id": 300_000 + serial,
            "text": text,
            "internal": internal,
            "person": {"id": member[0], "name": member[1]},
            "created_at": _iso(now),
        }
    elif now - created < timedelta(minutes=30):
        event = "request.create"
    else:
        event = rng.choice(_EVENTS)
    if event == "request.status-changed":
        payload["previous_status"] = rng.choice(["assigned", "accepted", "in_progress"])
    return _TOPIC, str(request_id).encode(), _envelope(event, request_id, member, payload)


def xurrent_ci(rng: random.Random, serial: int, now: datetime) -> tuple[str, bytes, bytes]:
    """A ci.update webhook with the gemeenten, GEMMA component and FB team custom fields."""
    ci_id = 6_000 + serial % 500
    name, category, gemma = rng.choice(_CIS)
    custom: list[dict[str, Any]] = [
        {"id": "gemeenten", "value": sorted(rng.sample(_GEMEENTEN, rng.randint(1, 7)))}
    ]
    if gemma:
        custom.append({"id": "gemma_component", "value": gemma})
        custom.append({"id": "fb_team", "value": "fb-zaken"})
    payload = {
        "id": ci_id,
        "name": f"{name} {ci_id}",
        "label": f"CI-{ci_id:05d}",
        "status": rng.choice(_CI_STATUSES),
        "product": {
            "id": 5100 + ci_id % 7,
            "name": category,
            "category": {"id": 51, "name": category},
        },
        "support_team": _ref(rng.choice(_TEAMS)),
        "custom_fields": custom,
        "source": "intune",
        "created_at": _iso(now - timedelta(days=rng.randint(30, 900))),
        "updated_at": _iso(now),
    }
    event = rng.choice(["ci.update"] * 9 + ["ci.create"])
    return _TOPIC, str(ci_id).encode(), _envelope(event, ci_id, rng.choice(_MEMBERS), payload)


def xurrent_event(rng: random.Random, serial: int, now: datetime) -> tuple[str, bytes, bytes]:
    """The supplier's mix: nine request events to one CI update."""
    if serial % 10 == 9:
        return xurrent_ci(rng, serial, now)
    return xurrent_request(rng, serial, now)
