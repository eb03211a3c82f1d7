"""Demo and benchmark traffic from Leverancier X (GIS en vastgoed), a "mapped" supplier.

Its ServiceDesk-X tool posts one JSON object per change of a record in its own format,
translated by the declarative mapping ``config/mappings/leverancier-x.yaml``: ``type``
storing/melding (incident), wijziging (change) or configuratie-item (CI); Dutch field names;
local Europe/Amsterdam times as ``dd-mm-jjjj uu:mm``. Each generator returns
``(topic, key, value)`` keyed by the record's number; deterministic for a given ``rng``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from schemas.topics import inbound_topic

__all__ = [
    "SUPPLIER",
    "leverancier_x_change",
    "leverancier_x_ci",
    "leverancier_x_incident",
    "leverancier_x_mixed",
]

SUPPLIER = "leverancier-x"
NativeEvent = tuple[str, bytes, bytes]

_TZ = ZoneInfo("Europe/Amsterdam")
_APPS = [
    ("APP-0042", "GeoViewer Drechtsteden", "Applicatie", "fb-zaken"),
    ("APP-0057", "Vastgoedregister", "Applicatie", "fb-belastingen"),
    ("APP-0061", "BGT-mutatieomgeving", "Applicatie", "fb-zaken"),
    ("SRV-0210", "GIS-02 tegelserver", "Server", "fb-zaken"),
    ("APP-0073", "WOZ-taxatieviewer", "Applicatie", "fb-belastingen"),
]
_GEMEENTEN = ["GM0482", "GM0505", "GM0523", "GM0531", "GM0590", "GM0610", "GM0642"]
_PROBLEMS = [
    "GeoViewer toont geen luchtfoto's in de kaartlaag",
    "Vastgoedregister: export naar Excel mislukt",
    "BGT-mutaties worden niet verwerkt",
    "Perceelinformatie laadt traag bij inzoomen",
    "WOZ-taxatieviewer geeft foutmelding bij openen object",
    "Kaartafdruk op A0 wordt afgesneden",
]
_DETAILS = [
    "Sinds vanochtend 08:30 blijft de laag grijs; andere lagen laden wel.",
    "Meerdere medewerkers van de afdeling Vastgoed melden dit probleem.",
    "De fout treedt alleen op bij objecten met een geïntegreerde perceelkoppeling.",
    "Na herstart van de cliënt werkt het een uur, daarna keert de fout terug.",
]
_GROUPS = ["Servicedesk X", "2e lijn GIS", "2e lijn Vastgoed", "Applicatiebeheer X"]
_AGENTS = ["Pieter de Graaf", "Anaïs Ëlsbroek", "Mohamed El Amrani", "Femke Jansen"]
_ACCOUNTS = ["p.degraaf", "a.elsbroek", "m.elamrani", "f.jansen"]
_MELDERS = [
    ("Sanne Bakker", "s.bakker@dordrecht.example"),
    ("Joëlle van Dijk", "j.vandijk@sliedrecht.example"),
    ("Thijs Vermeulen", "t.vermeulen@zwijndrecht.example"),
]
# (status, oplossing code or None); weighted to open tickets
_INCIDENT_STATES: list[tuple[str, str | None]] = [
    ("Nieuw", None),
    ("In behandeling", None),
    ("In behandeling", None),
    ("In behandeling", None),
    ("Wacht op gemeente", None),
    ("Wacht op derden", None),
    ("Opgelost", "Opgelost"),
    ("Opgelost", "Tijdelijke oplossing"),
    ("Gesloten", "Opgelost"),
    ("Vervallen", "Dubbele melding"),
]
_CHANGE_STATES = [
    "Aangevraagd",
    "In beoordeling",
    "Ter goedkeuring",
    "Gepland",
    "Gepland",
    "In uitvoering",
    "Evaluatie",
    "Afgerond",
    "Afgewezen",
]
_LEVELS = ["Hoog", "Midden", "Laag"]


def _local(moment: datetime) -> str:
    """ServiceDesk-X's ``24-11-2026 14:05``: local time, minutes, no offset."""
    return moment.astimezone(_TZ).strftime("%d-%m-%Y %H:%M")


def _notes(rng: random.Random, created: datetime, base_id: int) -> list[dict[str, Any]]:
    texts = [
        ("Logbestanden van de tegelserver opgevraagd.", True),
        ("Kunt u aangeven of het probleem nog optreedt?", False),
        ("Melding doorgezet naar 2e lijn GIS.", True),
        ("Wij hebben een tijdelijke oplossing doorgevoerd.", False),
    ]
    return [
        {
            "id": base_id + index,
            "tekst": text,
            "auteur": rng.choice(_AGENTS),
            "datum": _local(created + timedelta(minutes=7 * (index + 1))),
            "intern": internal,
        }
        for index, (text, internal) in enumerate(rng.sample(texts, rng.randint(0, 3)))
    ]


def leverancier_x_incident(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A storing or melding as ServiceDesk-X posts it after a change of the ticket."""
    record_id = 880_000 + serial
    created = now - timedelta(minutes=rng.randint(5, 900))
    status, solution = rng.choice(_INCIDENT_STATES)
    app_id, app_name, _, _ = rng.choice(_APPS)
    version = 1 if status == "Nieuw" else rng.randint(2, 14)
    updated = created if version == 1 else now - timedelta(minutes=rng.randint(0, 4))
    melder, email = rng.choice(_MELDERS)
    number = f"M-{created.year}-{serial % 100_000:05d}"
    triaged = rng.random() < 0.8
    done = status in ("Opgelost", "Gesloten")
    record: dict[str, Any] = {
        "type": rng.choice(["storing", "storing", "melding"]),
        "id": record_id,
        "meldingnummer": number,
        "onderwerp": rng.choice(_PROBLEMS),
        "omschrijving": " ".join(rng.sample(_DETAILS, 2)),
        "status": status,
        "prioriteit": str(rng.randint(1, 5)) if triaged else "",
        "impact": rng.choice(_LEVELS),
        "urgentie": rng.choice(_LEVELS),
        "categorie": rng.choice(["Applicatie", "Kaartmateriaal", "Infrastructuur"]),
        "subcategorie": rng.choice(["Kaartviewer", "Export", "Koppeling", None]),
        "applicatie": {"id": app_id, "naam": app_name},
        "behandelgroep": rng.choice(_GROUPS),
        "behandelaar": None if status == "Nieuw" else rng.choice(_AGENTS),
        "melder": {"naam": melder, "email": email, "telefoon": "078-7704000"},
        "extern_referentie": f"SCH-{created.year}-{serial:06d}" if rng.random() < 0.3 else None,
        "extern_systeem": None,
        "aangemaakt_op": _local(created),
        "gewijzigd_op": _local(updated),
        "gewijzigd_door": rng.choice(_ACCOUNTS),
        "reactie_uiterlijk": _local(created + timedelta(minutes=30)),
        "oplossen_uiterlijk": _local(created + timedelta(hours=8)),
        "opgelost_op": _local(updated) if done else None,
        "gesloten_op": _local(updated) if status in ("Gesloten", "Vervallen") else None,
        "versie": version,
        "heropend": status == "In behandeling" and rng.random() < 0.1,
        "oplossing": (
            {"code": solution, "toelichting": "Tegelcache geleegd en dienst herstart."}
            if solution
            else None
        ),
        "notities": _notes(rng, created, record_id * 10),
    }
    if record["extern_referentie"]:
        record["extern_systeem"] = "Schakel regie Drechtsteden"
    return inbound_topic(SUPPLIER), number.encode(), orjson.dumps(record)


def leverancier_x_change(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A wijziging (change request) as ServiceDesk-X posts it."""
    record_id = 51_000 + serial
    created = now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
    status = rng.choice(_CHANGE_STATES)
    app_id, app_name, _, _ = rng.choice(_APPS)
    version = 1 if status == "Aangevraagd" else rng.randint(2, 12)
    start = (now + timedelta(days=rng.randint(-2, 10))).replace(hour=19, minute=0)
    started = status in ("In uitvoering", "Evaluatie", "Afgerond")
    finished = status in ("Evaluatie", "Afgerond")
    number = f"W-{created.year}-{serial % 10_000:04d}"
    approval = {
        "Aangevraagd": "Nog niet aangevraagd",
        "In beoordeling": "Nog niet aangevraagd",
        "Ter goedkeuring": "Aangevraagd",
        "Afgewezen": "Afgewezen",
    }.get(status, "Goedgekeurd")
    record: dict[str, Any] = {
        "type": "wijziging",
        "id": record_id,
        "wijzigingnummer": number,
        "onderwerp": f"Upgrade {app_name} naar versie {rng.randint(4, 7)}.{rng.randint(0, 9)}",
        "omschrijving": "Geplande upgrade buiten kantoortijd; tijdens het venster is de dienst "
        "niet beschikbaar.",
        "soort": rng.choice(["Standaard", "Normaal", "Normaal", "Spoed"]),
        "status": status,
        "risico": rng.choice(["Zeer hoog", "Hoog", "Gemiddeld", "Laag"]),
        "prioriteit": str(rng.randint(2, 4)),
        "impact": rng.choice(_LEVELS),
        "categorie": "Applicatie",
        "applicatie": {"id": app_id, "naam": app_name},
        "behandelgroep": "Changemanagement GIS",
        "goedkeuring": approval,
        "geplande_start": _local(start),
        "geplande_eind": _local(start + timedelta(hours=3)),
        "werkelijke_start": _local(start + timedelta(minutes=2)) if started else None,
        "werkelijke_eind": _local(start + timedelta(hours=2)) if finished else None,
        "afsluitcode": rng.choice(["Succesvol", "Succesvol met problemen"])
        if status == "Afgerond"
        else None,
        "implementatieplan": "1. Snapshot maken\n2. Installer uitvoeren\n3. Rooktest",
        "terugvalplan": "Snapshot terugzetten (30 minuten).",
        "gepauzeerd": status == "In uitvoering" and rng.random() < 0.1,
        "aangemaakt_op": _local(created),
        "gewijzigd_op": _local(now - timedelta(minutes=rng.randint(0, 30))),
        "gewijzigd_door": rng.choice(_ACCOUNTS),
        "versie": version,
        "notities": _notes(rng, created, record_id * 10),
    }
    return inbound_topic(SUPPLIER), number.encode(), orjson.dumps(record)


def leverancier_x_ci(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A configuratie-item (application or server) as ServiceDesk-X posts it."""
    app_id, app_name, klasse, team = rng.choice(_APPS)
    record: dict[str, Any] = {
        "type": "configuratie-item",
        "id": app_id,
        "objectnummer": app_id,
        "naam": app_name,
        "klasse": klasse,
        "status": rng.choice(["In gebruik", "In gebruik", "In gebruik", "In onderhoud"]),
        "gemeenten": rng.sample(_GEMEENTEN, rng.randint(1, 4)),
        "gemma_component": "Vastgoedcomponent" if "Vastgoed" in app_name else None,
        "beheerteam": team,
        "behandelgroep": "Applicatiebeheer X",
        "gewijzigd_op": _local(now),
        "gewijzigd_door": rng.choice(_ACCOUNTS),
        "versie": 100 + serial,
        "verwijderd": False,
    }
    return inbound_topic(SUPPLIER), app_id.encode(), orjson.dumps(record)


def leverancier_x_mixed(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """Mostly incidents, some changes and CIs, as this supplier's feed would carry."""
    pick = serial % 10
    if pick < 7:
        return leverancier_x_incident(rng, serial, now)
    if pick < 9:
        return leverancier_x_change(rng, serial, now)
    return leverancier_x_ci(rng, serial, now)
