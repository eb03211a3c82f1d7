"""Generate the JSON Schemas of the public contract into ``schemas/json/``.

Run ``python -m schemas.jsonschema`` after changing a model; a test fails on drift.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from schemas.cis import ConfigurationItem
from schemas.envelope import CloudEvent
from schemas.tickets import Change, Comment, Incident

__all__ = ["JSON_DIR", "MODELS", "render_all", "write_all"]

JSON_DIR = Path(__file__).parent / "json"

MODELS: dict[str, type[BaseModel]] = {
    "incident.v1.json": Incident,
    "change.v1.json": Change,
    "configurationitem.v1.json": ConfigurationItem,
    "comment.v1.json": Comment,
    "cloudevent-incident.v1.json": CloudEvent[Incident],
    "cloudevent-change.v1.json": CloudEvent[Change],
    "cloudevent-configurationitem.v1.json": CloudEvent[ConfigurationItem],
}


def _extra_models() -> dict[str, type[BaseModel]]:
    """Models that later packages add to the contract (kept out of the import cycle)."""
    from schemas import audit, changes, replies, routing, sla

    return {
        "auditentry.v1.json": audit.AuditEntry,
        "changefinding.v1.json": changes.ChangeFinding,
        "cloudevent-changefinding.v1.json": changes.ChangeFindingEvent,
        "cloudevent-audit.v1.json": audit.AuditEvent,
        "slaevent.v1.json": sla.SlaEvent,
        "cloudevent-slaevent.v1.json": CloudEvent[sla.SlaEvent],
        "reply.v1.json": replies.Reply,
        "cloudevent-reply.v1.json": replies.ReplyEvent,
        "outboundcommand.v1.json": replies.OutboundCommand,
        "routingdecision.v1.json": routing.RoutingDecision,
        "cloudevent-routedticket.v1.json": CloudEvent[routing.RoutedTicket],
    }


def render_all() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    models = {**MODELS, **_extra_models()}
    for name, model in sorted(models.items()):
        schema: dict[str, Any] = model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:nld:schakel:schema:{name.removesuffix('.json')}"
        out[name] = orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    return out


def write_all(directory: Path = JSON_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in render_all().items():
        path = directory / name
        path.write_bytes(body)
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in write_all():
        sys.stdout.write(f"wrote {path}\n")
