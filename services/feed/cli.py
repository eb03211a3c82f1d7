"""The cockpit's command groups: ``schakel feed rebuild|hash-password`` and ``schakel audit
verify`` (collected by the composition root, :data:`services.bootstrap.COMMANDS`)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli_common import console, err, quiet_settings, run

__all__ = ["audit_app", "feed_app"]

feed_app = typer.Typer(
    name="feed", no_args_is_help=True, help="The regie's cockpit: its read model."
)
audit_app = typer.Typer(
    name="audit", no_args_is_help=True, help="Audit evidence: the tickets' hash chains."
)
StoreOpt = Annotated[
    str | None, typer.Option("--store", help="Read model URL (default: $SCHAKEL_STORE_URL).")
]


@feed_app.command("rebuild")
def feed_rebuild(
    store: Annotated[
        str,
        typer.Option(
            "--store", help="URL of a fresh read model, e.g. sqlite+aiosqlite:///rebuilt.db."
        ),
    ],
) -> None:
    """Replay every outcome topic from its beginning into a fresh read model."""
    from services.feed import ReadModel, rebuild

    settings = quiet_settings()

    async def go() -> None:
        model = await ReadModel.open(store)
        try:
            if await model.count_tickets():
                err.print(f"[red]{store} is not empty[/]: rebuild into a fresh read model")
                raise typer.Exit(2)
            report = await rebuild(settings.kafka_bootstrap, model)
        finally:
            await model.close()
        console.print(
            f"[green]{report.records} record(s)[/] from {len(report.topics)} topic(s) projected "
            f"in {report.seconds:.1f}s"
            + (f", {report.unreadable} unreadable" if report.unreadable else "")
        )

    run(go())


@feed_app.command("hash-password")
def feed_hash_password(
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """An argon2 hash for a cockpit account in the config (feed.accounts[].password_hash)."""
    from services.feed.auth import hash_password

    console.print(hash_password(password), soft_wrap=True)


@audit_app.command("verify")
def audit_verify(
    hub_id: Annotated[
        str | None, typer.Argument(help="One ticket's hub id (default: every ticket).")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """Check the hash chains of the tickets' timelines: a changed, inserted or missing entry
    is named, and the exit status is 1."""
    from services.feed import ReadModel

    settings = quiet_settings()

    async def go() -> None:
        model = await ReadModel.open(store or settings.store_url)
        try:
            checked, problems = await model.verify(hub_id)
        finally:
            await model.close()
        for problem in problems:
            err.print(f"[red]broken[/] {problem}")
        if hub_id is not None and checked and not problems:
            console.print(f"[green]ok[/]: the chain of {hub_id} is intact")
        else:
            console.print(f"{checked} chain(s) checked, {len(problems)} broken")
        if problems:
            raise typer.Exit(1)

    run(go())
