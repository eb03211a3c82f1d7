"""What the command line's groups share: settings and config with readable refusals, running
a coroutine with the CLI's exit codes, and the consoles.

A leaf for command groups: ``services/cli.py`` and every service package's ``cli.py`` (the
groups the composition root collects in :data:`services.bootstrap.COMMANDS`) import it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from connectors.mapped import MappingError
from services.config import ConfigError, SchakelConfig, Settings, get_settings, load_config
from services.errors import BrokerUnavailable
from services.logs import configure_logging

__all__ = ["ConfigOpt", "console", "err", "quiet_settings", "run", "setup"]

console = Console()
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (default: $SCHAKEL_CONFIG).")
]


def setup(
    config_path: Path | None, log_format: str | None = None
) -> tuple[Settings, SchakelConfig]:
    """The process settings and the checked hub config; exit code 2 with the reasons if the
    config (or a declarative mapping in it) is refused."""
    settings = get_settings()
    configure_logging(log_format or settings.log_format, settings.log_level)  # type: ignore[arg-type]
    try:
        config = load_config(config_path or settings.config_path)
        _check_mappings(config)
    except (ConfigError, MappingError) as exc:
        err.print(f"[bold red]configuration refused[/]\n{exc}")
        raise typer.Exit(2) from None
    return settings, config


def quiet_settings() -> Settings:
    """The process settings, logging only warnings to the console (tools that print)."""
    settings = get_settings()
    configure_logging("console", "WARNING")
    return settings


def _check_mappings(config: SchakelConfig) -> None:
    """Declarative mappings are part of the config: a bad one stops start-up, with its line."""
    from connectors.mapped import check_mapping
    from services.config import supplier_contexts

    contexts = supplier_contexts(config)
    for supplier in config.suppliers:
        if supplier.system == "mapped":
            check_mapping(contexts[supplier.id])


def run(coro: Coroutine[Any, Any, object]) -> None:
    """Run ``coro``; exit code 3 when Kafka does not answer. SIGINT (Ctrl-C) and SIGTERM
    cancel it, so its ``finally`` blocks and exit stacks stop what it started (consumers
    commit what was acknowledged, servers close) and the command ends quietly, exit 0."""
    try:
        asyncio.run(_until_signalled(coro))
    except BrokerUnavailable as exc:
        err.print(f"[bold red]Kafka unavailable:[/] {exc}")
        raise typer.Exit(3) from None
    except KeyboardInterrupt:  # a signal before the loop ran
        pass


async def _until_signalled(coro: Coroutine[Any, Any, object]) -> None:
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    signalled: list[int] = []

    def stop(signum: int) -> None:
        if not signalled:
            main.cancel()
        signalled.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum)
    try:
        await coro
    except asyncio.CancelledError:
        if not signalled:
            raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
