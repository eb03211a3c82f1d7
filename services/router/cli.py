"""The router's command group: ``schakel route explain <hub-id>``."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli_common import console, quiet_settings, run

__all__ = ["app"]

app = typer.Typer(name="route", no_args_is_help=True, help="Routing decisions.")


@app.command("explain")
def route_explain(
    hub_id: Annotated[str, typer.Argument(help="The ticket's hub id (the events' subject).")],
) -> None:
    """Print every routing decision about a ticket, oldest first, in words."""
    from services.router.explain import explain

    settings = quiet_settings()

    async def go() -> None:
        if not await explain(settings.store_url, hub_id, console):
            raise typer.Exit(1)

    run(go())
