"""Demo and benchmark traffic from a TOPdesk supplier (Centric in the example config).

Each generator returns ``(topic, key, value)`` with the payload TOPdesk's REST API gives:
an incident (``/tas/api/incidents``), an operator change (``/tas/api/operatorChanges``) or a
page of assets (``/tas/api/assetmgmt/assets``). Deterministic for a given ``rng``.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.topics import inbound_topic

__all__ = ["SUPPLIER", "topdesk_asset", "topdesk_change", "topdesk_incident", "topdesk_mixed"]

SUPPLIER = "centric"

NativeEvent = tuple[str, bytes, bytes]

_APPS = [
    ("Key2Burgerzaken productie", "Burgerzakencomponent", "fb-burgerzaken"),
    ("Afsprakenplanner", "Afsprakenbeheercomponent", "fb-burgerzaken"),
    ("Key2Belastingen", "Belastingencomponent", "fb-belastingen"),
    ("Zaaksysteem Drechtsteden", "Zaakregistratiecomponent", "fb-zaken"),
    ("Documentregistratie", "Documentregistratiecomponent", "fb-zaken"),
]
_GEMEENTEN = ["GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642"]
_PROBLEMS = [
    "Key2Burgerzaken: foutcode RDA-17 bij aanvraag reisdocument",
    "Afsprakenplanner toont geen tijdsloten",
    "WOZ-beschikkingen worden niet verstuurd",
    "Pasfoto's komen niet door vanaf de fotobalie",
    "Zaaksysteem: documenten openen traag",
    "Uittreksel BRP geeft lege pagina",
]
_REQUESTS = [
    "Sinds vanochtend kan de balie geen aanvragen afronden; burgers moeten terugkomen.",
    "Melder geeft aan dat het probleem alleen bij reïntegratie van oude dossiers optreedt.",
    "De storing treedt op in alle vestigingen; de geïntegreerde koppeling geeft een time-out.",
    "Na herstart van de cliënt werkt het een uur, daarna keert de fout terug.",
]
_OPERATORS = ["Pieter de Groot", "Anaïs Ëlsbroek", "Mohamed El Amrani", "Femke Jansen"]
_GROUPS = ["Applicatiebeheer Burgerzaken", "Applicatiebeheer Belastingen", "Servicedesk"]
_PRIORITIES = ["P1 - Kritiek", "Hoog", "Gemiddeld", "Gemiddeld", "Laag"]
_IMPACTS = ["Persoon", "Afdeling", "Organisatie"]
_URGENCIES = ["Kan werken", "Kan beperkt werken", "Kan niet werken"]
# (processingStatus, onHold, completed, closed, closureCode)
_STATES: list[tuple[str, bool, bool, bool, str | None]] = [
    ("Gemeld", False, False, False, None),
    ("In behandeling", False, False, False, None),
    ("In behandeling", False, False, False, None),
    ("Wachten op leverancier", True, False, False, None),
    ("Wacht op gebruiker", True, False, False, None),
    ("Afgemeld", False, True, False, "Opgelost"),
    ("Gesloten", False, True, True, "Opgelost"),
]


def _td_time(moment: datetime) -> str:
    """TOPdesk's ``2021-02-11T06:32:36.303+0000``."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[:-3] + "+0000"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _lookup(rng: random.Random, name: str) -> dict[str, str]:
    return {"id": _uuid(rng), "name": name}


def topdesk_incident(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A TOPdesk incident as GET /tas/api/incidents/id/{id} returns it, with its trail."""
    rid = _uuid(rng)
    created = now - timedelta(minutes=rng.randint(5, 900))
    modified = now - timedelta(milliseconds=rng.randint(0, 60_000))
    processing, on_hold, completed, closed, closure = rng.choice(_STATES)
    app, _, _ = rng.choice(_APPS)
    operator_name = rng.choice(_OPERATORS)
    assigned = processing != "Gemeld"
    number = f"I{created:%y%m} {serial % 1000:03d}"
    trail = [
        {
            "id": _uuid(rng),
            "memoText": text,
            "plainText": text,
            "flag": None,
            "invisibleForCaller": hidden,
            "entryDate": _td_time(created + timedelta(minutes=5 * (index + 1))),
            "operator": {"id": _uuid(rng), "name": operator_name},
            "person": None,
        }
        for index, (text, hidden) in enumerate(
            rng.sample(
                [
                    ("Logbestanden opgevraagd bij de leverancier.", True),
                    ("Wilt u het opnieuw proberen? De koppeling is herstart.", False),
                    ("Melding doorgezet naar tweede lijn.", True),
                ],
                rng.randint(0, 2),
            )
        )
    ]
    record: dict[str, Any] = {
        "id": rid,
        "status": "firstLine" if not assigned else "secondLine",
        "number": number,
        "request": " ".join(rng.sample(_REQUESTS, 2)),
        "action": f"/tas/api/incidents/id/{rid}/actions",
        "attachments": f"/tas/api/incidents/id/{rid}/attachments",
        "caller": {
            "id": _uuid(rng),
            "dynamicName": rng.choice(["Joëlle van Dijk", "Sanne Bakker", "Jan de Vries"]),
            "email": "melder@gemeente.example",
            "phoneNumber": "078 000 0000",
            "branch": _lookup(rng, "Stadskantoor"),
        },
        "briefDescription": rng.choice(_PROBLEMS),
        "externalNumber": "",
        "category": _lookup(rng, "Applicaties"),
        "subcategory": _lookup(
            rng, rng.choice(["Burgerzaken", "Belastingen", "Zaakgericht werken"])
        ),
        "callType": _lookup(rng, "Storing"),
        "entryType": _lookup(rng, rng.choice(["Telefonisch", "E-mail", "Selfservice"])),
        "object": {"id": _uuid(rng), "name": app},
        "asset": {"id": _uuid(rng)},
        "impact": _lookup(rng, rng.choice(_IMPACTS)),
        "urgency": _lookup(rng, rng.choice(_URGENCIES)),
        "priority": _lookup(rng, rng.choice(_PRIORITIES)),
        "targetDate": _td_time(created + timedelta(hours=8)),
        "sla": {
            "id": _uuid(rng),
            "responseTargetDate": _td_time(created + timedelta(hours=1)),
            "targetDate": _td_time(created + timedelta(hours=8)),
        },
        "onHold": on_hold,
        "onHoldDate": _td_time(modified) if on_hold else None,
        "operator": {"id": _uuid(rng), "status": "operator", "name": operator_name}
        if assigned
        else None,
        "operatorGroup": _lookup(rng, rng.choice(_GROUPS)),
        "processingStatus": _lookup(rng, processing),
        "completed": completed,
        "completedDate": _td_time(modified) if completed else None,
        "closed": closed,
        "closedDate": _td_time(modified) if closed else None,
        "closureCode": _lookup(rng, closure) if closure else None,
        "callDate": _td_time(created),
        "creationDate": _td_time(created),
        "modifier": {"id": _uuid(rng), "name": operator_name},
        "modificationDate": _td_time(modified),
        "majorCall": False,
        "progressTrail": trail,
    }
    return inbound_topic(SUPPLIER), number.encode(), orjson.dumps(record)


def topdesk_change(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """An operator change as /tas/api/operatorChanges returns it."""
    rid = _uuid(rng)
    created = now - timedelta(days=rng.randint(1, 20))
    start = now + timedelta(days=rng.randint(-2, 10), hours=18 - now.hour)
    status, phase = rng.choice(
        [
            ("Aangemeld", "rfc"),
            ("Ter goedkeuring", "rfc"),
            ("Goedgekeurd", "progress"),
            ("In uitvoering", "progress"),
            ("Evaluatie", "evaluation"),
        ]
    )
    app, _, _ = rng.choice(_APPS)
    number = f"W{created:%y%m} {serial % 1000:03d}"
    record: dict[str, Any] = {
        "id": rid,
        "number": number,
        "requester": {"id": _uuid(rng), "name": rng.choice(_OPERATORS)},
        "briefDescription": f"Release {app} {created:%Y}.{rng.randint(1, 4)}",
        "request": "Installatie van de nieuwe release op productie, inclusief databasemigratie.",
        "changeType": rng.choice(["simple", "extensive", "extensive"]),
        "category": _lookup(rng, "Applicaties"),
        "externalNumber": "",
        "impact": _lookup(rng, rng.choice(_IMPACTS)),
        "benefit": _lookup(rng, "Wettelijke verplichting"),
        "priority": _lookup(rng, rng.choice(_PRIORITIES)),
        "object": {"id": _uuid(rng), "name": app},
        "operatorGroup": _lookup(rng, rng.choice(_GROUPS)),
        "status": _lookup(rng, status),
        "phase": phase,
        "plannedStartDate": _td_time(start),
        "plannedEndDate": _td_time(start + timedelta(hours=4)),
        "creationDate": _td_time(created),
        "modifier": {"id": _uuid(rng), "name": rng.choice(_OPERATORS)},
        "modificationDate": _td_time(now - timedelta(seconds=rng.randint(0, 3600))),
    }
    return inbound_topic(SUPPLIER), number.encode(), orjson.dumps(record)


def topdesk_asset(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A one-asset page from /tas/api/assetmgmt/assets (modificationDate without offset)."""
    unid = _uuid(rng)
    app, gemma, team = rng.choice(_APPS)
    owners = sorted(rng.sample(_GEMEENTEN, rng.randint(1, 4)))
    modified = (now - timedelta(minutes=rng.randint(0, 600))).astimezone(UTC)
    page = {
        "dataSet": [
            {
                "unid": unid,
                "id": unid,
                "name": f"{app} {serial}",
                "archived": rng.random() < 0.05,
                "modificationDate": modified.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "type_id": "3a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                "@status": rng.choice(["OPERATIONAL", "OPERATIONAL", "OPERATIONAL", "IMPACTED"]),
                "gemeenten": owners if rng.random() < 0.5 else ", ".join(owners),
                "gemma-component": gemma,
                "fb-team": team,
            }
        ]
    }
    return inbound_topic(SUPPLIER), unid.encode(), orjson.dumps(page)


def topdesk_mixed(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """Mostly incidents, some changes and assets, as a supplier's feed would carry."""
    pick = serial % 10
    if pick < 7:
        return topdesk_incident(rng, serial, now)
    if pick < 9:
        return topdesk_change(rng, serial, now)
    return topdesk_asset(rng, serial, now)
