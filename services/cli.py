"""The ``schakel`` command line (typer)."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated, cast

import orjson
import typer
from rich.table import Table

from services.bootstrap import COMMANDS, SERVICES, bootstrap, settle_heap, specs_for
from services.cli_common import ConfigOpt, console, err, run, setup
from services.config import SchakelConfig, Settings, get_settings
from services.logs import configure_logging, get_logger

__all__ = ["app", "main"]

app = typer.Typer(no_args_is_help=True, help="Schakel: the regie's integration hub.")
deadletter_app = typer.Typer(no_args_is_help=True, help="Inspect and replay dead letters.")
app.add_typer(deadletter_app, name="deadletter")
for _group in COMMANDS:  # the service packages' command groups (services.bootstrap)
    app.add_typer(_group)
log = get_logger("schakel.cli")

HostOpt = Annotated[str | None, typer.Option(help="Listen address (default: $SCHAKEL_HTTP_HOST).")]


def _serve(settings: Settings, config: SchakelConfig, names: list[str]) -> None:
    """Run ``names`` (every service when empty) in this process until SIGINT/SIGTERM."""
    try:
        hub = bootstrap(settings, config, names)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    hub.app.after_startup(settle_heap)
    run(hub.app.run())


@app.command()
def serve(
    services: Annotated[
        list[str] | None,
        typer.Argument(help=f"Services to run (default: all): {', '.join(SERVICES)}."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Run hub services: all in one process, or the named ones (scale out per service)."""
    settings, cfg = setup(config)
    _serve(settings, cfg, services or [])


@app.command()
def gateway(
    config: ConfigOpt = None,
    host: HostOpt = None,
    port: Annotated[int | None, typer.Option(help="Port (default: $SCHAKEL_GATEWAY_PORT).")] = None,
) -> None:
    """Run the webhook gateway: suppliers POST native webhooks, the hub puts them on Kafka."""
    settings, cfg = setup(config)
    update = {
        "http_host": host or settings.http_host,
        "gateway_port": port or settings.gateway_port,
    }
    _serve(settings.model_copy(update=update), cfg, ["gateway"])


@app.command()
def replies(
    config: ConfigOpt = None,
    host: HostOpt = None,
    port: Annotated[int | None, typer.Option(help="Port (default: $SCHAKEL_REPLIES_PORT).")] = None,
) -> None:
    """Run the replies API: FB teams comment, ask, accept/reject and raise priority."""
    settings, cfg = setup(config)
    update = {
        "http_host": host or settings.http_host,
        "replies_port": port or settings.replies_port,
    }
    _serve(settings.model_copy(update=update), cfg, ["replies"])


@app.command()
def demo(
    count: Annotated[int, typer.Option(help="Supplier events to publish (0: until Ctrl-C).")] = 0,
    rate: Annotated[float, typer.Option(help="Events per second.")] = 20.0,
    hub: Annotated[bool, typer.Option(help="Also run all hub services in this process.")] = True,
    config: ConfigOpt = None,
) -> None:
    """Publish realistic supplier traffic onto the inbound topics (and run the hub)."""
    from services.demo.runner import run_demo

    settings, cfg = setup(config, "console")
    run(run_demo(settings, cfg, count=count, rate=rate, with_hub=hub, console=console))


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="Topic to print, e.g. schakel.incidents.v1.")],
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep waiting for new events.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--max", "-n", help="Stop after N events.")] = None,
    latest: Annotated[
        bool, typer.Option(help="Start at the end instead of the beginning.")
    ] = False,
    raw: Annotated[bool, typer.Option(help="Print the JSON as stored, one per line.")] = False,
) -> None:
    """Pretty-print the events on a topic."""
    from services.demo.render import render_record
    from services.topics_io import read_topic

    settings = get_settings()
    configure_logging("console", "WARNING")

    async def go() -> None:
        try:
            async for rec in read_topic(
                settings.kafka_bootstrap,
                topic,
                from_beginning=not latest,
                follow=follow,
                limit=limit,
            ):
                if raw:
                    console.print_json(rec.value.decode("utf-8", "replace")) if _is_json(
                        rec.value
                    ) else console.print(repr(rec.value))
                else:
                    console.print(render_record(rec))
        except LookupError as exc:
            err.print(f"[red]{exc}[/]")
            raise typer.Exit(2) from None

    run(go())


def _is_json(value: bytes) -> bool:
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return False
    return True


@deadletter_app.command("list")
def deadletter_list(
    limit: Annotated[int | None, typer.Option("--max", "-n", help="Show at most N.")] = None,
) -> None:
    """List dead letters: where each came from and why."""
    from schemas.topics import DEADLETTER
    from services.messaging import DLQ_ERROR, DLQ_ERROR_CLASS, DLQ_SERVICE
    from services.topics_io import origin_of, read_topic

    settings = get_settings()
    configure_logging("console", "WARNING")

    async def go() -> None:
        table = Table(title=DEADLETTER, show_lines=False)
        for column in ("offset", "service", "error", "from", "bytes", "reason"):
            table.add_column(column, overflow="fold")
        n = 0
        async for rec in read_topic(settings.kafka_bootstrap, DEADLETTER, limit=limit):
            h = rec.headers
            table.add_row(
                str(rec.offset),
                h.get(DLQ_SERVICE, b"").decode(),
                h.get(DLQ_ERROR_CLASS, b"").decode(),
                origin_of(rec),
                str(len(rec.value)),
                h.get(DLQ_ERROR, b"").decode(),
            )
            n += 1
        console.print(table)
        console.print(f"{n} dead letter(s)")

    run(go())


@deadletter_app.command("replay")
def deadletter_replay(
    offsets: Annotated[
        list[int] | None, typer.Option("--offset", help="Dead-letter offsets to replay.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
) -> None:
    """Send dead letters back to the topic they failed on, once their cause is fixed."""
    from schemas.topics import DEADLETTER
    from services.topics_io import read_topic, replay_dead_letters

    if not offsets and not all_:
        err.print("name --offset N (repeatable) or --all")
        raise typer.Exit(2)
    settings = get_settings()
    configure_logging("console", "WARNING")

    async def go() -> None:
        wanted = set(offsets or [])
        chosen = [
            rec
            async for rec in read_topic(settings.kafka_bootstrap, DEADLETTER)
            if all_ or rec.offset in wanted
        ]
        done = await replay_dead_letters(settings.kafka_bootstrap, chosen)
        for offset, target in done:
            console.print(f"replayed dead letter {offset} -> {target}")
        missing = wanted - {o for o, _ in done}
        if missing:
            err.print(f"[yellow]not found: {sorted(missing)}[/]")

    run(go())


@app.command()
def topics(config: ConfigOpt = None) -> None:
    """Create the hub's topics (explicit partitions, retention, compaction) if missing."""
    from services.kafka import ensure_topics

    settings, cfg = setup(config)

    async def go() -> None:
        created = await ensure_topics(
            settings.kafka_bootstrap, specs_for(cfg), wait_s=settings.kafka_wait_s
        )
        console.print(
            f"{len(created)} topic(s) created" + (f": {', '.join(created)}" if created else "")
        )

    run(go())


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate the configuration file and print a summary."""
    _, cfg = setup(config)
    console.print(
        f"[green]ok[/]: {len(cfg.suppliers)} suppliers, {len(cfg.gemeenten)} gemeenten, "
        f"{len(cfg.routing.rules)} routing rules"
    )


cmdb_app = typer.Typer(no_args_is_help=True, help="The CMDB the router routes on.")
app.add_typer(cmdb_app, name="cmdb")


@cmdb_app.command("import")
def cmdb_import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CMDB export: CSV (documented header), JSON list, or a ServiceNow cmdb_ci "
            'Table API export {"result": [...]}.',
            exists=True,
            dir_okay=False,
        ),
    ],
    supplier: Annotated[
        str, typer.Option("--supplier", "-s", help="Supplier id (config) the CIs belong to.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv, json or servicenow (default: by the file)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(min=1, help="CIs per produce round trip (acknowledged each).")
    ] = 5000,
    skip_invalid: Annotated[
        bool, typer.Option(help="Publish the valid rows and report the others.")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Load a CMDB export onto schakel.cis.v1, keyed by hub id: what the router routes on."""
    from services.cmdb import CmdbImportError, ExportFormat, cmdb_import
    from services.config import UnknownSupplierError, config_dir

    settings, cfg = setup(config, "console")
    try:
        chosen = cfg.supplier(supplier)
    except UnknownSupplierError:
        known = ", ".join(s.id for s in cfg.suppliers)
        err.print(f"[red]unknown supplier {supplier!r}[/]; suppliers: {known}")
        raise typer.Exit(2) from None
    if fmt not in (None, "csv", "json", "servicenow"):
        err.print(f"[red]unknown format {fmt!r}[/]: csv, json or servicenow")
        raise typer.Exit(2)
    directory = config_dir(cfg)

    async def go() -> None:
        try:
            report = await cmdb_import(
                file,
                supplier=chosen,
                bootstrap=settings.kafka_bootstrap,
                fmt=cast("ExportFormat | None", fmt),
                chunk_size=chunk_size,
                skip_invalid=skip_invalid,
                console=console,
                config_dir=directory,
            )
        except CmdbImportError as exc:
            err.print(
                f"[bold red]CMDB export refused[/] ({len(exc.problems)} problem(s); nothing "
                f"published; --skip-invalid publishes the valid rows)\n{exc}"
            )
            raise typer.Exit(2) from None
        for problem in report.skipped[:20]:
            err.print(f"[yellow]skipped[/] {problem}")
        if len(report.skipped) > 20:
            err.print(f"[yellow]... and {len(report.skipped) - 20} more skipped[/]")
        rate = report.published / report.seconds if report.seconds else 0.0
        console.print(
            f"[green]{report.published} CI(s)[/] from {report.format} published to "
            f"schakel.cis.v1 as supplier {chosen.id} in {report.seconds:.1f}s "
            f"({rate:,.0f} CI/s)" + (f", {len(report.skipped)} skipped" if report.skipped else "")
        )

    run(go())


deploy_app = typer.Typer(no_args_is_help=True, help="Deployment manifests from code and config.")
app.add_typer(deploy_app, name="deploy")


@deploy_app.command("render")
def deploy_render(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The deploy directory to write into.")
    ] = Path("deploy"),
    config: ConfigOpt = None,
) -> None:
    """Write the Strimzi manifests (Kafka, node pool, a KafkaTopic per hub topic) and the
    Kubernetes Deployments of every service, from the code and the config."""
    from services.manifests import write

    _, cfg = setup(config, "console")
    for path in write(cfg, out):
        console.print(f"wrote {path}")


acl_app = typer.Typer(
    no_args_is_help=True, help="Kafka ACLs of suppliers, gemeenten and hub services."
)
app.add_typer(acl_app, name="acl")


@acl_app.command("plan")
def acl_plan(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    users: Annotated[
        bool, typer.Option("--users", help="Only the SCRAM user names the ACLs name.")
    ] = False,
) -> None:
    """Print the ACLs the config implies (one source of truth: config/schakel.yaml)."""
    from services.acl import plan, principals

    _, cfg = setup(config, "console")
    if users:
        for name in principals(cfg):
            typer.echo(name)
        return
    for binding in plan(cfg):
        typer.echo(orjson.dumps(binding.as_json()).decode() if as_json else str(binding))


@acl_app.command("apply")
def acl_apply(
    config: ConfigOpt = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="Also delete ACLs of the hub's principals that the plan lacks."
        ),
    ] = False,
) -> None:
    """Create the planned ACLs the broker lacks (as the admin: SCHAKEL_KAFKA_USERNAME)."""
    from services.acl import AclError, apply, plan

    settings, cfg = setup(config)

    async def go() -> None:
        try:
            done = await apply(settings.kafka_bootstrap, plan(cfg), prune=prune)
        except AclError as exc:
            err.print(f"[bold red]ACLs refused:[/] {exc}")
            raise typer.Exit(1) from None
        for binding in done.created:
            console.print(f"[green]+[/] {binding}", highlight=False)
        for binding in done.deleted:
            console.print(f"[red]-[/] {binding}", highlight=False)
        console.print(
            f"{len(done.created)} created, {len(done.deleted)} deleted, {done.kept} already there"
        )

    run(go())


@app.command("asyncapi")
def asyncapi_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write it.")] = Path(
        "docs/asyncapi.yaml"
    ),
) -> None:
    """Write the AsyncAPI 3.0 document of the hub (channels, keys, message schemas)."""
    from services.asyncapi import write

    console.print(f"wrote {write(out)}")


def main() -> None:
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    app()
