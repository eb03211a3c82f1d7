"""The SLA watch's command group: ``schakel sla show | report | recompute``.

Every figure is computed from the ticket histories in the SLA store as of the newest ticket
event it holds (the stream's time), never from the time the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from services.cli_common import ConfigOpt, console, err, run, setup
from services.config import ConfigError, load_config
from services.sla.pipeline import SlaWatch
from services.sla.store import SlaStore

__all__ = ["app"]

app = typer.Typer(name="sla", no_args_is_help=True, help="SLA clocks per supplier contract.")
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")]


@app.command("show")
def sla_show(
    hub_id: Annotated[str, typer.Argument(help="The ticket's hub id (the events' subject).")],
    config: ConfigOpt = None,
) -> None:
    """The SLA clocks of one ticket with every pause, in words."""
    from services.sla.reports import describe

    settings, cfg = setup(config, "console")
    watch = SlaWatch(cfg)

    async def go() -> None:
        store = await SlaStore.open(settings.store_url)
        try:
            history = (await store.load([hub_id])).get(hub_id)
            as_of = await store.newest_event()
        finally:
            await store.close()
        if history is None or as_of is None:
            err.print(f"no SLA clocks for hub id {hub_id!r} (not an incident or change seen)")
            raise typer.Exit(1)
        contract = watch.contracts.get(history.supplier)
        name = contract.contract.name if contract else "none"
        for line in describe(history, watch.evaluate(history, as_of), name):
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    run(go())


@app.command("report")
def sla_report(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM (Europe/Amsterdam).")],
    supplier: Annotated[str | None, typer.Option("--supplier", help="One supplier id.")] = None,
    fmt: FormatOpt = "table",
    config: ConfigOpt = None,
) -> None:
    """Per supplier and priority: tickets, met %, breaches, median and p90 resolution time in
    business minutes, minutes paused; for the tickets opened in the month."""
    import csv
    import sys

    from services.sla.reports import month_bounds, summarise, ticket_lines

    if fmt not in ("table", "json", "csv"):
        err.print(f"--format must be table, json or csv, not {fmt!r}")
        raise typer.Exit(2)
    try:
        start, end = month_bounds(month)
    except ValueError:
        err.print(f"--month must be YYYY-MM, not {month!r}")
        raise typer.Exit(2) from None
    settings, cfg = setup(config, "console")
    watch = SlaWatch(cfg)

    async def go() -> None:
        store = await SlaStore.open(settings.store_url)
        try:
            as_of = await store.newest_event() or end
            lines = []
            async for batch in store.histories(since=start, until=end):
                chosen = [h for h in batch if supplier is None or h.supplier == supplier]
                lines += ticket_lines(watch, chosen, as_of)
        finally:
            await store.close()
        groups = summarise(lines)
        if fmt == "json":
            document = {
                "month": month,
                "as_of": as_of.isoformat(),
                "supplier": supplier,
                "groups": [g.as_json() for g in groups],
                "tickets": [line.as_json() for line in lines],
            }
            sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
            return
        if fmt == "csv":
            rows = [g.as_json() for g in groups]
            writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else ["supplier"])
            writer.writeheader()
            writer.writerows(rows)
            return
        table = Table(
            title=f"SLA {month} (as of the ticket events up to {as_of:%Y-%m-%d %H:%M} UTC)"
        )
        for column in (
            "supplier",
            "priority",
            "tickets",
            "met %",
            "breaches",
            "median min",
            "p90 min",
            "paused min",
        ):
            table.add_column(
                column, justify="left" if column in ("supplier", "priority") else "right"
            )
        for g in groups:
            table.add_row(
                g.supplier,
                g.priority,
                str(g.tickets),
                "-" if g.met_percent is None else f"{g.met_percent:.1f}",
                str(g.breaches),
                "-" if g.median_resolution_minutes is None else f"{g.median_resolution_minutes:g}",
                "-" if g.p90_resolution_minutes is None else f"{g.p90_resolution_minutes:g}",
                f"{g.paused_minutes:g}",
            )
        console.print(table)

    run(go())


@app.command("recompute")
def sla_recompute(
    since: Annotated[
        str, typer.Option("--since", help="Tickets opened from this date (YYYY-MM-DD).")
    ],
    contracts: Annotated[
        Path | None,
        typer.Option(
            "--contracts", help="A what-if config file whose contracts and calendars to use."
        ),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Replay the ticket histories under the current (or what-if) contracts; the result is a
    new run beside the earlier ones. Prints the verdicts that flip and met % per supplier."""
    from datetime import date

    from rich.progress import Progress

    from services.sla.reports import AMSTERDAM, contracts_digest, recompute

    try:
        day = date.fromisoformat(since)
    except ValueError:
        err.print(f"--since must be a date YYYY-MM-DD, not {since!r}")
        raise typer.Exit(2) from None
    settings, cfg = setup(config, "console")
    what_if_cfg = cfg
    if contracts is not None:
        try:
            what_if_cfg = load_config(contracts)
        except ConfigError as exc:
            err.print(f"[bold red]contracts file refused[/]\n{exc}")
            raise typer.Exit(2) from None

    async def go() -> None:
        from datetime import datetime

        current = SlaWatch(cfg)
        store = await SlaStore.open(settings.store_url)
        try:
            total = await store.count(
                since=datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)
            )
            with Progress(console=err, transient=True) as progress:
                task = progress.add_task("replaying ticket histories", total=total)
                result = await recompute(
                    store,
                    current,
                    current if contracts is None else SlaWatch(what_if_cfg),
                    since=day,
                    contracts=contracts_digest(what_if_cfg),
                    progress=lambda n: progress.advance(task, n),
                )
        finally:
            await store.close()
        before = f"run {result.previous}" if result.previous else "the current contracts"
        console.print(
            f"run {result.run}: {len({c.hub_id for c in result.clocks})} ticket(s) since {day}, "
            f"compared with {before}"
        )
        table = Table(title="verdicts that flip")
        for column in ("hub id", "supplier", "number", "clock", "before", "after"):
            table.add_column(column)
        for old, new in result.flips:
            table.add_row(
                new.hub_id,
                new.supplier,
                new.number or "",
                new.clock,
                _verdict(old.met),
                _verdict(new.met),
            )
        console.print(table)
        met = Table(title="resolution met % per supplier")
        for column in ("supplier", "before", "after"):
            met.add_column(column)
        for name in sorted(set(result.met_before) | set(result.met_after)):
            met.add_row(name, _pct(result.met_before.get(name)), _pct(result.met_after.get(name)))
        console.print(met)

    run(go())


def _verdict(met: bool | None) -> str:
    return {True: "met", False: "breached", None: "no verdict"}[met]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
