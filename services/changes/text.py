"""Words and dates for people (Dutch, local time): shared by findings, notices and the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from schemas import Change
from services.config import Gemeente

__all__ = ["change_label", "gemeente_label", "listing", "span", "when"]

_WEEKDAY = ("ma", "di", "wo", "do", "vr", "za", "zo")


def when(moment: datetime, zone: ZoneInfo) -> str:
    """``za 05-12-2026 22:00`` in ``zone``."""
    local = moment.astimezone(zone)
    return f"{_WEEKDAY[local.weekday()]} {local:%d-%m-%Y %H:%M}"


def span(window: tuple[datetime, datetime], zone: ZoneInfo) -> str:
    """``za 05-12-2026 22:00 tot zo 06-12-2026 06:00`` (the end's date only when it differs)."""
    start, end = (w.astimezone(zone) for w in window)
    if start.date() == end.date():
        return f"{when(start, zone)} tot {end:%H:%M}"
    return f"{when(start, zone)} tot {when(end, zone)}"


def change_label(change: Change, *, short: bool = False) -> str:
    """``wijziging CHG0030001 van kpn ('Storage-upgrade')``."""
    ref = change.supplier_ref
    number = ref.number or ref.record_id
    if short:
        return f"{ref.supplier} {number}"
    return f"wijziging {number} van {ref.supplier} ('{' '.join(change.title.split())}')"


def gemeente_label(gemeenten: Mapping[str, Gemeente], code: str) -> str:
    gemeente = gemeenten.get(code)
    return f"{gemeente.name} ({code})" if gemeente is not None else code


def listing(items: Sequence[str]) -> str:
    """``a``, ``a en b``, ``a, b en c``."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " en " + items[-1]
