"""Human-readable lines for events: used by ``schakel tail`` and the demo's live feed."""

from __future__ import annotations

from typing import Any

import orjson
from rich.text import Text

from services.messaging import DLQ_ERROR, DLQ_ERROR_CLASS
from services.topics_io import ConsumedRecord, origin_of

__all__ = ["render_event", "render_record"]

_STATUS_STYLE = {
    "new": "bold cyan",
    "in_progress": "yellow",
    "on_hold": "magenta",
    "resolved": "green",
    "closed": "dim green",
    "cancelled": "dim",
}


def render_event(event: dict[str, Any]) -> Text:
    data = event.get("data") or {}
    ref = data.get("supplier_ref") or {}
    status = str(data.get("status", "?"))
    line = Text()
    line.append(f"{str(event.get('time', ''))[:19]} ", style="dim")
    line.append(f"{event.get('type', '?'):<28} ", style="bold")
    line.append(
        f"{data.get('priority') or '--':<3} ",
        style="red" if data.get("priority") in ("P1", "P2") else "",
    )
    line.append(f"{status:<12} ", style=_STATUS_STYLE.get(status, ""))
    line.append(f"{ref.get('supplier', '?')}/{ref.get('number') or ref.get('record_id', '?')} ")
    line.append(str(data.get("title") or data.get("name") or "")[:70])
    line.append(f"  hub={event.get('subject', '?')}", style="dim")
    return line


def render_record(record: ConsumedRecord) -> Text:
    """One line for a record of any hub topic (CloudEvent, dead letter or other JSON)."""
    if DLQ_ERROR in record.headers:
        line = Text()
        line.append(f"dead letter @{record.offset} ", style="bold red")
        line.append(f"{record.headers.get(DLQ_ERROR_CLASS, b'').decode()} ", style="red")
        line.append(f"from {origin_of(record)}: ")
        line.append(record.headers[DLQ_ERROR].decode()[:160])
        return line
    try:
        event = orjson.loads(record.value)
    except orjson.JSONDecodeError:
        return Text(f"@{record.offset} {len(record.value)} bytes (not JSON)", style="yellow")
    if isinstance(event, dict) and event.get("specversion"):
        return render_event(event)
    return Text(f"@{record.offset} {record.value[:200].decode('utf-8', 'replace')}")
