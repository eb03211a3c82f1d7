"""Realistic supplier traffic for the demo and the benchmark.

Each generator returns ``(topic, key, value)`` with the supplier's *native* payload, the way
that supplier's tool would publish it. Generators are deterministic for a given seed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import orjson

from schemas.topics import inbound_topic
from services.demo.gen_servicenow import CI_CATALOGUE, ci_sys_id

__all__ = ["GENERATORS", "NativeEvent", "mixed_traffic", "servicenow_incident"]

NativeEvent = tuple[str, bytes, bytes]

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


def _sn_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


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


Generator = Callable[[random.Random, int, datetime], NativeEvent]


def _generators() -> dict[str, Generator]:
    from services.demo.gen_jira import jira_event
    from services.demo.gen_mapped import leverancier_x_mixed
    from services.demo.gen_servicenow import servicenow_mixed
    from services.demo.gen_topdesk import topdesk_mixed
    from services.demo.gen_xurrent import xurrent_event

    return {
        "kpn": servicenow_mixed,
        "centric": topdesk_mixed,
        "zaakplatform": jira_event,
        "werkplekdienst": xurrent_event,
        "leverancier-x": leverancier_x_mixed,
    }


#: supplier id (of the example config) -> generator of its native payloads, mixed entities.
#: The key of every generated record is the supplier's ticket reference (number or id).
GENERATORS: dict[str, Generator] = _generators()


def mixed_traffic(
    count: int,
    *,
    seed: int = 7,
    suppliers: list[str] | None = None,
    generators: dict[str, Generator] | None = None,
) -> Iterator[NativeEvent]:
    """``count`` native events, round-robin over the suppliers that have a generator."""
    table = generators or GENERATORS
    rng = random.Random(seed)
    names = [s for s in (suppliers or list(table)) if s in table]
    now = datetime.now(UTC).replace(microsecond=0)
    for serial in range(count):
        yield table[names[serial % len(names)]](rng, serial, now)
