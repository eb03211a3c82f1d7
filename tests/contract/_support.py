"""Shared support for connector contract tests: contexts and fixture files.

A fixture is ``tests/contract/fixtures/<system>/<entity>/<case>.json``::

    {
      "description": "what this case shows",
      "headers": {"name": "value"},          # optional, inbound Kafka headers
      "payload": {...} | "payload_text": "...",   # the native payload (object, or raw text)
      "expected": [{"kind": "incident", "action": "updated", "event_id": "...", "key": "...",
                    "entity": {...}}]
      # or "expected_error": "MissingField"  (a ConnectorError class name),
      #    optionally with "expected_reason": the exact reason on the dead letter
    }

``entity`` is the common-model object as ``model_dump(mode="json")`` gives it: every field,
so a change in the translation shows up as a failing case. ``event_id`` and ``key`` pin the
event's identity: the CloudEvent id the normaliser gives it (from the supplier and the
connector's native event key: a redelivery must get the same id, another update another one)
and the record key on the normalised topic (the hub id).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from connectors import InboundRecord, SupplierContext, Translation, translator_for
from schemas import SupplierSystem, event_id
from schemas.envelope import source_urn

__all__ = ["FIXTURES", "SUPPLIER_OF", "context_for", "fixture_files", "load_fixture", "render"]

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

SUPPLIER_OF = {
    SupplierSystem.SERVICENOW: "kpn",
    SupplierSystem.TOPDESK: "centric",
    SupplierSystem.JIRA: "zaakplatform",
    SupplierSystem.XURRENT: "werkplekdienst",
    SupplierSystem.MAPPED: "leverancier-x",
}


def context_for(system: SupplierSystem, **overrides: Any) -> SupplierContext:
    options = {"config_dir": str(CONFIG_DIR)}
    if system is SupplierSystem.MAPPED:
        options["mapping"] = "mappings/leverancier-x.yaml"
    values: dict[str, Any] = {
        "supplier": SUPPLIER_OF[system],
        "system": system,
        "source": source_urn("90000011", f"{system.value}-prod"),
        "timezone": ZoneInfo("Europe/Amsterdam"),
        "options": options,
    }
    values.update(overrides)
    return SupplierContext(**values)


def fixture_files(system: str | None = None) -> list[Path]:
    root = FIXTURES / system if system else FIXTURES
    return sorted(root.rglob("*.json"))


def load_fixture(path: Path) -> tuple[InboundRecord, dict[str, Any]]:
    spec: dict[str, Any] = orjson.loads(path.read_bytes())
    if "payload_text" in spec:
        value = str(spec["payload_text"]).encode()
    else:
        value = orjson.dumps(spec["payload"])
    headers = {k: str(v).encode() for k, v in spec.get("headers", {}).items()}
    return InboundRecord(value=value, headers=headers, topic="fixture"), spec


def render(translations: list[Translation] | tuple[Translation, ...]) -> list[dict[str, Any]]:
    return [
        {
            "kind": t.kind.value,
            "action": t.action,
            "event_id": event_id(t.entity.supplier_ref.supplier, t.native_event_key),
            "key": t.entity.hub_id,
            "entity": t.entity.model_dump(mode="json"),
        }
        for t in translations
    ]


def translate(path: Path) -> list[dict[str, Any]]:
    system = SupplierSystem(path.relative_to(FIXTURES).parts[0])
    record, _ = load_fixture(path)
    return render(list(translator_for(context_for(system)).translate(record)))
