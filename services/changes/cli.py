"""The change calendar's command group: ``schakel changes calendar|conflicts`` (collected by
the composition root, :data:`services.bootstrap.COMMANDS`)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from services.cli_common import ConfigOpt, console, err, run, setup
from services.logs import configure_logging

__all__ = ["app"]

app = typer.Typer(
    name="changes",
    no_args_is_help=True,
    help="The change calendar across suppliers: schedule and findings.",
)


def _local_day(value: str | None, default_days: int, zone_name: str) -> datetime:
    """Local midnight of ``value`` (or today plus ``default_days``), in UTC."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    if value is None:
        day = datetime.now(zone).date() + timedelta(days=default_days)
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            err.print(f"[red]not a date (YYYY-MM-DD):[/] {value!r}")
            raise typer.Exit(2) from None
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@app.command("calendar")
def changes_calendar(
    start: Annotated[
        str | None, typer.Option("--from", help="First local day (YYYY-MM-DD; default today).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Last local day, inclusive (default: four weeks on)."),
    ] = None,
    gemeente: Annotated[
        str | None, typer.Option(help="Only changes affecting this gemeente (CBS code).")
    ] = None,
    supplier: Annotated[str | None, typer.Option(help="Only this supplier's changes.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or ics (iCalendar).")] = "table",
    config: ConfigOpt = None,
) -> None:
    """The forward schedule of change: every supplier's changes in the period, what they
    affect and the findings about them. ``--format ics`` writes an iCalendar to stdout."""
    from services.changes import ChangeStore, entries, to_ics, to_json

    if fmt not in ("table", "json", "ics"):
        err.print(f"[red]unknown format {fmt!r}[/]: table, json or ics")
        raise typer.Exit(2)
    settings, cfg = setup(config, "console")
    configure_logging("console", "WARNING")
    zone_name = cfg.changes.timezone
    low = _local_day(start, 0, zone_name)
    high = _local_day(end, 28, zone_name) + timedelta(days=1)
    if gemeente is not None and gemeente not in {g.code for g in cfg.gemeenten}:
        err.print(f"[red]unknown gemeente {gemeente!r}[/]")
        raise typer.Exit(2)

    async def go() -> None:
        store = await ChangeStore.open(settings.store_url)
        try:
            state = await store.load()
        finally:
            await store.close()
        found = entries(state, low, high, gemeente=gemeente, supplier=supplier)
        if fmt == "json":
            typer.echo(to_json(found).decode())
            return
        if fmt == "ics":
            from zoneinfo import ZoneInfo

            name = "Wijzigingen"
            if gemeente is not None:
                name += f" {cfg.gemeente(gemeente).name}"
            if supplier is not None:
                name += f" {supplier}"
            body = to_ics(found, name=name, zone=ZoneInfo(zone_name), now=datetime.now(UTC))
            typer.echo(body.decode(), nl=False)
            return
        _calendar_table(found, zone_name)

    run(go())


def _calendar_table(found: list[Any], zone_name: str) -> None:
    from zoneinfo import ZoneInfo

    from services.changes.text import when

    zone = ZoneInfo(zone_name)
    table = Table(title=f"Wijzigingskalender ({len(found)})", show_lines=False)
    for column in (
        "Gepland",
        "Leverancier",
        "Wijziging",
        "Type/risico",
        "Status",
        "Raakt",
        "Let op",
    ):
        table.add_column(column, overflow="fold")
    for entry in found:
        change = entry.change
        ref = change.supplier_ref
        raakt = ", ".join(entry.impact.get("gemeenten", [])) or "-"
        apps = entry.impact.get("applications") or entry.impact.get("named") or []
        if apps:
            raakt += "\n" + ", ".join(apps[:4])
        table.add_row(
            f"{when(change.planned_start, zone)}\n{when(change.planned_end, zone)}",
            ref.supplier,
            f"{ref.number or ref.record_id}\n{change.title}",
            f"{change.change_type.value}/{change.risk.value if change.risk else '?'}",
            change.status.value,
            raakt,
            ", ".join(entry.marks) or "",
        )
    console.print(table)


@app.command("conflicts")
def changes_conflicts(
    start: Annotated[
        str | None,
        typer.Option("--from", help="Findings about changes ending on or after this day."),
    ] = None,
    gemeente: Annotated[
        str | None, typer.Option(help="Only findings about this gemeente (CBS code).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    config: ConfigOpt = None,
) -> None:
    """The findings raised and not withdrawn (collisions, blackouts, maintenance windows,
    emergency changes, starts without approval, overruns), each explained in words."""
    from services.changes import ChangeStore, active_findings

    settings, cfg = setup(config, "console")
    configure_logging("console", "WARNING")
    since = _local_day(start, 0, cfg.changes.timezone)

    async def go() -> None:
        store = await ChangeStore.open(settings.store_url)
        try:
            state = await store.load()
        finally:
            await store.close()
        found = active_findings(state, since=since, gemeente=gemeente)
        if as_json:
            for finding in found:
                typer.echo(finding.model_dump_json())
            return
        if not found:
            console.print("Geen bevindingen in de wijzigingskalender.")
            return
        for finding in found:
            numbers = ", ".join(f"{c.supplier} {c.number or c.hub_id}" for c in finding.changes)
            console.print(f"[bold]{finding.kind}[/] ({numbers}) [dim]{finding.finding_id}[/]")
            console.print(f"  {finding.explanation}\n", soft_wrap=True)

    run(go())
