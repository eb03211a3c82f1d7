"""Demo and benchmark traffic from the zaakplatform supplier's Jira Service Management.

Each generator returns ``(topic, key, value)``: a Jira Cloud webhook body as the site would
POST it (issue and comment events, wiki-markup descriptions, local times with an offset),
keyed by the issue key. Deterministic for a given ``rng``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from schemas.topics import inbound_topic

__all__ = ["SUPPLIER", "jira_change", "jira_event", "jira_incident"]

SUPPLIER = "zaakplatform"
NativeEvent = tuple[str, bytes, bytes]

_SITE = "https://zaakplatform.atlassian.net"
_TZ = ZoneInfo("Europe/Amsterdam")
_PROJECT = {
    "self": f"{_SITE}/rest/api/2/project/10001",
    "id": "10001",
    "key": "ZP",
    "name": "Zaakplatform Drechtsteden",
    "projectTypeKey": "service_desk",
    "simplified": False,
}
_AGENTS = [
    ("712020:3f1c2a9e-5b8d-4c1e-9a77-0b6d2e4f8a11", "Ruben Verhoeven"),
    ("712020:8a0d4c55-1e2f-4b3a-b9c8-7d6e5f4a3b22", "Annelies de Graaf"),
    ("5b10a2844c20165700ede21g", "Mehmet Özdemir"),
]
_CUSTOMERS = [
    ("qm:1a2b3c4d-0001:5e6f7a8b-0001", "Joëlle van Dijk"),
    ("qm:1a2b3c4d-0002:5e6f7a8b-0002", "Sanne Bakker"),
    ("qm:1a2b3c4d-0003:5e6f7a8b-0003", "Thijs Vermeulen"),
]
_COMPONENTS = [
    ("10010", "Zaaksysteem"),
    ("10011", "Zaakafhandelcomponent"),
    ("10012", "Documentregistratiecomponent"),
    ("10013", "Koppelvlak StUF-ZKN"),
]
_PROBLEMS = [
    "Zaken van het type Omgevingsvergunning worden niet aangemaakt",
    "Documenten uploaden in het zaakdossier geeft een time-out",
    "Statuswijziging van zaak wordt niet naar het e-Depot gestuurd",
    "Medewerkers zien geen taken in hun werkvoorraad",
    "Koppeling met het Zaakregistratiecomponent geeft foutcode 503",
    "Besluitbrief wordt gegenereerd met verkeerde gemeentenaam",
]
_DETAILS = [
    "Sinds de release van vanochtend melden meerdere afdelingen dit probleem.",
    "*Stappen:* open een zaak, kies _Document toevoegen_ en selecteer een PDF van > 10 MB.",
    "De foutmelding in het logboek luidt: {{java.net.SocketTimeoutException: Read timed out}}",
    "Het probleem doet zich alleen voor bij zaken die via het e-formulier zijn binnengekomen.",
]
_INCIDENT_STATUSES = [
    ("1", "Open", "new", 2, "To Do"),
    ("10002", "Waiting for support", "indeterminate", 4, "In Progress"),
    ("10003", "Work in progress", "indeterminate", 4, "In Progress"),
    ("10004", "Waiting for customer", "indeterminate", 4, "In Progress"),
    ("10005", "Pending", "indeterminate", 4, "In Progress"),
    ("10006", "Resolved", "done", 3, "Done"),
]
_CHANGE_STATUSES = [
    ("1", "Open", "new", 2, "To Do"),
    ("10110", "Planning", "indeterminate", 4, "In Progress"),
    ("10111", "Awaiting CAB approval", "indeterminate", 4, "In Progress"),
    ("10112", "Awaiting implementation", "indeterminate", 4, "In Progress"),
    ("10113", "Implementing", "indeterminate", 4, "In Progress"),
    ("10114", "Completed", "done", 3, "Done"),
]
_PRIORITIES = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("3", "Medium"), ("4", "Low")]
_CHANGE_TYPES = [
    ("10101", "Normal change"),
    ("10102", "Standard change"),
    ("10103", "Emergency change"),
]
_CHANGES = [
    "Upgrade Zaaksysteem naar versie 4.12",
    "Vervangen TLS-certificaat koppelvlak StUF-ZKN",
    "Database-onderhoud Documentregistratiecomponent",
    "Nieuwe zaaktypecatalogus uitrollen voor Hendrik-Ido-Ambacht",
]


def _jira_time(moment: datetime) -> str:
    """Jira's format: local time, milliseconds, offset without a colon."""
    local = moment.astimezone(_TZ)
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + (local.strftime("%z"))
    )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _user(account_id: str, name: str, *, customer: bool = False) -> dict[str, Any]:
    return {
        "self": f"{_SITE}/rest/api/2/user?accountId={account_id}",
        "accountId": account_id,
        "avatarUrls": {"48x48": f"https://avatar-management.example/{account_id[-6:]}/48"},
        "displayName": name,
        "active": True,
        "timeZone": "Europe/Amsterdam",
        "accountType": "customer" if customer else "atlassian",
    }


def _status(entry: tuple[str, str, str, int, str]) -> dict[str, Any]:
    status_id, name, key, category_id, category_name = entry
    return {
        "self": f"{_SITE}/rest/api/2/status/{status_id}",
        "description": "",
        "iconUrl": f"{_SITE}/images/icons/statuses/generic.png",
        "name": name,
        "id": status_id,
        "statusCategory": {
            "self": f"{_SITE}/rest/api/2/statuscategory/{category_id}",
            "id": category_id,
            "key": key,
            "colorName": {"new": "blue-gray", "indeterminate": "yellow", "done": "green"}[key],
            "name": category_name,
        },
    }


def _request_type(rng: random.Random, name: str, status: str, key: str, at: datetime) -> Any:
    return {
        "_links": {"web": f"{_SITE}/servicedesk/customer/portal/1/{key}"},
        "requestType": {
            "id": str(rng.randint(10, 40)),
            "name": name,
            "description": "",
            "issueTypeId": "10004",
            "serviceDeskId": "1",
            "portalId": "1",
        },
        "currentStatus": {
            "status": status,
            "statusCategory": "INDETERMINATE",
            "statusDate": {"jira": _jira_time(at), "epochMillis": _epoch_ms(at)},
        },
    }


def _envelope(
    rng: random.Random,
    serial: int,
    now: datetime,
    issuetype: tuple[str, str],
    summary: str,
    statuses: list[tuple[str, str, str, int, str]],
    request_type: str,
) -> tuple[str, dict[str, Any]]:
    issue_id = str(20_000 + serial)
    key = f"ZP-{1_000 + serial}"
    created = now - timedelta(minutes=rng.randint(5, 3_000), milliseconds=rng.randint(0, 999))
    status = rng.choice(statuses)
    agent = rng.choice(_AGENTS)
    customer = rng.choice(_CUSTOMERS)
    component = rng.choice(_COMPONENTS)
    priority = rng.choice(_PRIORITIES)
    done = status[2] == "done"
    fields: dict[str, Any] = {
        "statuscategorychangedate": _jira_time(now),
        "issuetype": {
            "self": f"{_SITE}/rest/api/2/issuetype/{issuetype[0]}",
            "id": issuetype[0],
            "name": issuetype[1],
            "subtask": False,
            "hierarchyLevel": 0,
        },
        "project": _PROJECT,
        "resolution": {"id": "10000", "name": "Done"} if done else None,
        "resolutiondate": _jira_time(now) if done else None,
        "created": _jira_time(created),
        "updated": _jira_time(now),
        "priority": {
            "self": f"{_SITE}/rest/api/2/priority/{priority[0]}",
            "name": priority[1],
            "id": priority[0],
        },
        "labels": ["drechtsteden"],
        "assignee": _user(*agent) if status[2] != "new" else None,
        "reporter": _user(*customer, customer=True),
        "creator": _user(*customer, customer=True),
        "status": _status(status),
        "components": [
            {
                "self": f"{_SITE}/rest/api/2/component/{component[0]}",
                "id": component[0],
                "name": component[1],
            }
        ],
        "summary": summary,
        "description": " ".join(rng.sample(_DETAILS, 2)),
        "customfield_10010": _request_type(rng, request_type, status[1], key, now),
    }
    body: dict[str, Any] = {
        "timestamp": _epoch_ms(now) + serial % 1000,
        "user": _user(*agent),
        "issue": {
            "id": issue_id,
            "self": f"{_SITE}/rest/api/2/issue/{issue_id}",
            "key": key,
            "fields": fields,
        },
    }
    roll = rng.random()
    if roll < 0.25:
        body["webhookEvent"] = "jira:issue_created"
        body["issue_event_type_name"] = "issue_created"
        body["user"] = _user(*customer, customer=True)
    elif roll < 0.7:
        previous = rng.choice(statuses)
        body["webhookEvent"] = "jira:issue_updated"
        body["issue_event_type_name"] = "issue_generic"
        body["changelog"] = {
            "id": str(50_000 + serial),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": previous[0],
                    "fromString": previous[1],
                    "to": status[0],
                    "toString": status[1],
                }
            ],
        }
    else:
        public = rng.random() < 0.6
        writer = agent if public else rng.choice(_AGENTS)
        body["webhookEvent"] = "comment_created"
        body.pop("user")
        body["comment"] = {
            "self": f"{_SITE}/rest/api/2/issue/{issue_id}/comment/{70_000 + serial}",
            "id": str(70_000 + serial),
            "author": _user(*writer),
            "body": rng.choice(
                [
                    "Wij hebben de melding ontvangen en onderzoeken het probleem.",
                    "Kunt u aangeven bij welk zaaknummer dit optreedt?",
                    "Interne notitie: logging verhoogd op de applicatieserver, herstart gepland.",
                    "De oorzaak is gevonden; een hotfix wordt vanavond geïnstalleerd.",
                ]
            ),
            "updateAuthor": _user(*writer),
            "created": _jira_time(now),
            "updated": _jira_time(now),
            "jsdPublic": public,
        }
    return key, body


def jira_incident(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """An incident in the zaakplatform's JSM: created, status change or comment webhook."""
    key, body = _envelope(
        rng,
        serial,
        now,
        ("10004", rng.choice(["Incident", "Incident", "Storing"])),
        rng.choice(_PROBLEMS),
        _INCIDENT_STATUSES,
        "Storing melden",
    )
    return inbound_topic(SUPPLIER), key.encode(), orjson.dumps(body)


def jira_change(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A change request in the zaakplatform's JSM (normal, standard or emergency)."""
    key, body = _envelope(
        rng,
        serial,
        now,
        rng.choice(_CHANGE_TYPES),
        rng.choice(_CHANGES),
        _CHANGE_STATUSES,
        "Wijziging aanvragen",
    )
    return inbound_topic(SUPPLIER), key.encode(), orjson.dumps(body)


def jira_event(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """The zaakplatform's mixed traffic: three incidents to one change."""
    return (jira_change if serial % 4 == 3 else jira_incident)(rng, serial, now)
