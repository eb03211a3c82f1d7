"""Demo and benchmark traffic from a ServiceNow supplier (KPN in the example config).

Each generator returns ``(topic, key, value)`` with the payload a business-rule webhook of
that supplier sends: raw stored values (``current.getValue``), sys_ids for references and
UTC datetimes without a zone: incidents (the benchmark's traffic), change requests, CIs and
CI relations. Deterministic for a given ``rng``.

The CIs come from a fixed catalogue (:data:`CI_CATALOGUE`): every event is an update of one
of them, so a router sees the same CIs, with their gemeenten and GEMMA components, over and
over, as it would from a real CMDB.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from schemas.topics import inbound_topic

__all__ = [
    "CI_CATALOGUE",
    "SUPPLIER",
    "CatalogueCi",
    "servicenow_catalogue",
    "servicenow_change",
    "servicenow_ci",
    "servicenow_ci_relation",
    "servicenow_incident",
    "servicenow_mixed",
]

SUPPLIER = "kpn"
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
INSTANCE = "https://kpn.service-now.com"

NativeEvent = tuple[str, bytes, bytes]

# (name, class, gemeenten, GEMMA component, FB team)
CatalogueCi = tuple[str, str, str, str, str]

#: The supplier's CMDB as the demo knows it. Gemeenten by CBS code (config/schakel.yaml).
CI_CATALOGUE: list[CatalogueCi] = [
    (
        "Zaaksysteem Drechtsteden",
        "cmdb_ci_appl",
        "GM0482,GM0505,GM0531,GM0590,GM0642",
        "Zaakregistratiecomponent",
        "fb-zaken",
    ),
    ("Zaakafhandelplatform", "cmdb_ci_appl", "GM0505,GM0590", "Zaakafhandelcomponent", "fb-zaken"),
    (
        "Burgerzaken BRP-suite",
        "cmdb_ci_appl",
        "GM0482,GM0505,GM0531,GM0590,GM0642",
        "Burgerzakencomponent",
        "fb-burgerzaken",
    ),
    (
        "Afsprakenplanner",
        "cmdb_ci_appl",
        "GM0505,GM0590",
        "Afsprakenbeheercomponent",
        "fb-burgerzaken",
    ),
    ("Belastingen WOZ", "cmdb_ci_appl", "GM0505", "WOZ-component", "fb-belastingen"),
    ("Citrix werkplek", "cmdb_ci_appl", "GM0523,GM0610", "", "fb-algemeen"),
    ("DC1-APP01", "cmdb_ci_linux_server", "", "", ""),
    ("DC1-APP02", "cmdb_ci_linux_server", "", "", ""),
    ("DC1-FS01", "cmdb_ci_win_server", "GM0505,GM0642", "", ""),
    ("DC1-SQL01", "cmdb_ci_db_mssql_instance", "", "", ""),
    ("Core switch DC1", "cmdb_ci_ip_switch", "", "", ""),
]

#: (parent index, relation type, child index) within the catalogue.
_RELATIONS = [
    (0, "Depends on::Used by", 9),
    (0, "Runs on::Runs", 6),
    (1, "Runs on::Runs", 6),
    (2, "Runs on::Runs", 7),
    (3, "Runs on::Runs", 7),
    (4, "Depends on::Used by", 9),
    (6, "Connects to::Connected by", 10),
    (7, "Connects to::Connected by", 10),
    (8, "Connects to::Connected by", 10),
]

_GROUPS = ["Applicatiebeheer DC", "Werkplekbeheer", "Netwerkbeheer", "Databasebeheer"]
_ACCOUNTS = ["jan.devries", "fatma.yilmaz", "svc.discovery", "joelle.vandijk"]
_CHANGES = [
    ("Patchronde Windows-servers DC1", "Maandelijkse beveiligingsupdates; herstart per node."),
    ("Upgrade Zaaksysteem naar versie 2026.1", "Nieuwe versie met verbeterde zaakcoördinatie."),
    ("Vervangen certificaat koppeling BRP", "Het PKIoverheid-certificaat verloopt volgende week."),
    ("Uitbreiden opslag fileserver", "Volume D: loopt vol; uitbreiding met 500 GB."),
    ("Noodwijziging firewallregel Afsprakenplanner", "Blokkade na beveiligingsmelding."),
    ("Migratie database naar nieuw cluster", "Downtime van maximaal twee uur in het weekend."),
]
# type -> the states it passes through (standard skips Assess and Authorize; emergency Assess)
_FLOW = {
    "standard": ["-5", "-2", "-1", "0", "3"],
    "normal": ["-5", "-4", "-3", "-2", "-1", "0", "3", "4"],
    "emergency": ["-5", "-3", "-2", "-1", "0", "3"],
}


def _sn_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _local_time(moment: datetime) -> str:
    """A display value: the reading user's timezone (Europe/Amsterdam)."""
    return moment.astimezone(_AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")


def _sys_id(seed: str) -> str:
    """A stable 32-hex sys_id for a catalogue entry (not random: the CMDB is the same)."""
    return hashlib.sha256(f"{SUPPLIER}:{seed}".encode()).hexdigest()[:32]


def _ref(table: str, sys_id: str) -> dict[str, str]:
    return {"link": f"{INSTANCE}/api/now/table/{table}/{sys_id}", "value": sys_id}


def _group(name: str) -> dict[str, str]:
    return _ref("sys_user_group", _sys_id(f"group:{name}"))


def ci_sys_id(index: int) -> str:
    """The sys_id of catalogue CI ``index``."""
    return _sys_id(f"ci:{CI_CATALOGUE[index][0]}")


_PROBLEMS = [
    "Zaaksysteem reageert traag bij openen van zaken",
    "Inloggen op de werkplek lukt niet voor afdeling Burgerzaken",
    "Koppeling met BRP geeft foutmelding 500",
    "Afsprakenplanner toont geen beschikbare tijdsloten",
    "Printen naar de balieprinter mislukt",
    "Aanslagen WOZ worden niet gegenereerd",
    "Storing e-mail: berichten blijven in de wachtrij staan",
]
_DETAILS = [
    "Gebruikers in het stadskantoor melden dat het probleem sinds vanochtend optreedt.",
    "Melder geeft aan dat de fout alleen bij grote dossiers zichtbaar is.",
    "Na herstart van de applicatie keert de storing binnen een uur terug.",
    "Geen workaround beschikbaar; balie moet burgers terugsturen.",
]
_GROUPS = ["Service Desk", "Applicatiebeheer DC", "Werkplekbeheer", "Netwerkbeheer"]
_CALLERS = ["Jan de Vries", "Fatma Yılmaz", "Sanne Bakker", "Joëlle van Dijk"]


def servicenow_incident(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A ServiceNow incident as a business-rule webhook sends it: raw values, UTC times."""
    sys_id = uuid.UUID(int=rng.getrandbits(128)).hex
    opened = now - timedelta(minutes=rng.randint(1, 600))
    state = rng.choice(["1", "2", "2", "3", "6"])
    impact, urgency = rng.choice("123"), rng.choice("123")
    ci_index = rng.randrange(len(CI_CATALOGUE))
    app, ci_class = CI_CATALOGUE[ci_index][0], CI_CATALOGUE[ci_index][1]
    record: dict[str, str | dict[str, str]] = {
        "sys_id": sys_id,
        "sys_class_name": "incident",
        "number": f"INC{1_000_000 + serial:07d}",
        "short_description": rng.choice(_PROBLEMS),
        "description": " ".join(rng.sample(_DETAILS, 2)),
        "category": rng.choice(["software", "hardware", "network", "inquiry"]),
        "subcategory": "",
        "state": state,
        "incident_state": state,
        "hold_reason": "4" if state == "3" else "",
        "impact": impact,
        "urgency": urgency,
        "priority": "",
        "assignment_group": {
            "link": f"https://kpn.service-now.com/api/now/table/sys_user_group/{sys_id[:30]}aa",
            "value": f"{sys_id[:30]}aa",
        },
        "assigned_to": "",
        "cmdb_ci": {
            "link": f"https://kpn.service-now.com/api/now/table/{ci_class}/{ci_sys_id(ci_index)}",
            "value": ci_sys_id(ci_index),
        },
        "caller_id": rng.choice(_CALLERS),
        "contact_type": rng.choice(["email", "phone", "self-service"]),
        "opened_at": _sn_time(opened),
        "sys_updated_on": _sn_time(now),
        "sys_updated_by": "svc.monitoring",
        "sys_mod_count": str(rng.randint(0, 9)),
        "resolved_at": _sn_time(now) if state == "6" else "",
        "closed_at": "",
        "close_code": "Solved (Permanently)" if state == "6" else "",
        "close_notes": "Applicatieserver herstart en index opnieuw opgebouwd."
        if state == "6"
        else "",
        "comments": "",
        "work_notes": "",
        "correlation_id": "",
        "correlation_display": "",
        "reopen_count": "0",
        "u_application": app,
    }
    return inbound_topic("kpn"), record["number"].encode(), orjson.dumps(record)  # type: ignore[union-attr]


def servicenow_change(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A change_request as a business-rule webhook sends it."""
    sys_id = uuid.UUID(int=rng.getrandbits(128)).hex
    kind = rng.choice(["standard", "normal", "normal", "normal", "emergency"])
    flow = _FLOW[kind]
    step = rng.randrange(len(flow))
    state = flow[step]
    title, text = rng.choice(_CHANGES)
    start = (now + timedelta(days=rng.randint(-3, 10))).replace(minute=0, second=0)
    end = start + timedelta(hours=rng.choice([1, 2, 4]))
    started = state in ("-1", "0", "3")
    finished = state in ("0", "3")
    ci_index = rng.randrange(len(CI_CATALOGUE))
    record: dict[str, Any] = {
        "sys_id": sys_id,
        "sys_class_name": "change_request",
        "number": f"CHG{1_000_000 + serial:07d}",
        "short_description": title,
        "description": text,
        "type": kind,
        "state": state,
        "phase": "",
        "risk": rng.choice(["2", "3", "3", "4"]) if kind != "emergency" else "1",
        "impact": rng.choice("123"),
        "urgency": rng.choice("123"),
        "priority": rng.choice("234"),
        "category": rng.choice(["Software", "Hardware", "Network"]),
        "approval": "approved" if step >= 2 or kind == "standard" else "requested",
        "cab_required": "true" if kind == "normal" else "false",
        "on_hold": "true" if state == "-2" and rng.random() < 0.1 else "false",
        "on_hold_reason": "",
        "assignment_group": _group(rng.choice(_GROUPS)),
        "cmdb_ci": _ref(CI_CATALOGUE[ci_index][1], ci_sys_id(ci_index)),
        "start_date": _sn_time(start),
        "end_date": _sn_time(end),
        "work_start": _sn_time(start + timedelta(minutes=5)) if started else "",
        "work_end": _sn_time(end - timedelta(minutes=10)) if finished else "",
        "close_code": rng.choice(["successful", "successful", "successful_issues"])
        if state == "3"
        else "",
        "close_notes": "Uitgevoerd volgens plan." if state == "3" else "",
        "implementation_plan": "1. Snapshot maken\n2. Wijziging doorvoeren\n3. Functioneel testen",
        "backout_plan": "Snapshot terugzetten en dienst herstarten.",
        "test_plan": "Rooktest door applicatiebeheer.",
        "comments": "",
        "work_notes": "",
        "opened_at": _sn_time(now - timedelta(days=rng.randint(1, 20))),
        "sys_updated_on": _sn_time(now),
        "sys_updated_by": rng.choice(_ACCOUNTS),
        "sys_mod_count": str(step * 2 + rng.randint(0, 1)),
    }
    return inbound_topic(SUPPLIER), record["number"].encode(), orjson.dumps(record)


def servicenow_ci(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """An update of one catalogue CI, as a business rule on cmdb_ci sends it."""
    index = rng.randrange(len(CI_CATALOGUE))
    operational = rng.choice(["1", "1", "1", "1", "2", "3", "4"])
    return _ci_event(index, operational, rng.choice(_GROUPS), serial, now)


def servicenow_catalogue(now: datetime) -> list[NativeEvent]:
    """Every catalogue CI once, operational: the demo's CMDB to start from."""
    return [_ci_event(i, "1", _GROUPS[0], 0, now) for i in range(len(CI_CATALOGUE))]


def _ci_event(index: int, operational: str, group: str, serial: int, now: datetime) -> NativeEvent:
    name, ci_class, gemeenten, gemma, fb_team = CI_CATALOGUE[index]
    sys_id = ci_sys_id(index)
    record: dict[str, Any] = {
        "sys_id": sys_id,
        "sys_class_name": ci_class,
        "name": name,
        "operational_status": operational,
        "install_status": "3" if operational == "3" else "1",
        "support_group": _group(group),
        "managed_by": "",
        "owned_by": "",
        "company": _ref("core_company", _sys_id("company:kpn")),
        "u_gemeenten": gemeenten,
        "u_gemma_component": gemma,
        "u_fb_team": fb_team,
        "sys_updated_on": _sn_time(now),
        "sys_updated_by": "svc.discovery",
        "sys_mod_count": str(serial + 1),
    }
    return inbound_topic(SUPPLIER), sys_id.encode(), orjson.dumps(record)


def servicenow_ci_relation(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """A cmdb_rel_ci record from the Table API with ``sysparm_display_value=all``."""
    parent, label, child = rng.choice(_RELATIONS)
    sys_id = _sys_id(f"rel:{parent}:{label}:{child}")

    def end(index: int) -> dict[str, str]:
        return {"display_value": CI_CATALOGUE[index][0], **_ref("cmdb_ci", ci_sys_id(index))}

    def pair(value: str, shown: str | None = None) -> dict[str, str]:
        return {"display_value": value if shown is None else shown, "value": value}

    record: dict[str, Any] = {
        "sys_id": pair(sys_id),
        "sys_class_name": pair("cmdb_rel_ci", "CI Relationship"),
        "parent": end(parent),
        "child": end(child),
        "type": {
            "display_value": label,
            **_ref("cmdb_rel_type", _sys_id(f"reltype:{label}")),
        },
        "connection_strength": pair("always", "Always"),
        "sys_updated_on": pair(_sn_time(now), _local_time(now)),
        "sys_updated_by": pair("svc.discovery"),
        "sys_mod_count": pair(str(serial % 5)),
    }
    return inbound_topic(SUPPLIER), sys_id.encode(), orjson.dumps({"result": record})


def servicenow_mixed(rng: random.Random, serial: int, now: datetime) -> NativeEvent:
    """Incidents, changes, CIs and relations in the proportions a datacenter supplier sends
    them (incidents on catalogue CIs, so they route)."""
    pick = serial % 20
    if pick < 12:
        return servicenow_incident(rng, serial, now)
    if pick < 16:
        return servicenow_change(rng, serial, now)
    if pick < 19:
        return servicenow_ci(rng, serial, now)
    return servicenow_ci_relation(rng, serial, now)
