"""Structured logging: JSON when not on a terminal (production), console in the demo.

Every line about a ticket carries ``hub_id`` (and ``event_id`` / ``correlation_id`` where there
is one): bind them with ``log.bind(hub_id=...)`` or pass them as keywords.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import orjson
import structlog

from services.privacy import PrivacyPolicy, log_processor

__all__ = ["configure_logging", "get_logger"]


def _dumps(value: object, default: object = None) -> str:
    # OPT_NON_STR_KEYS: a logged mapping keyed by partition numbers must not break the line
    return orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS).decode()  # type: ignore[arg-type]


class _StderrLogger:
    """Writes each line to whatever ``sys.stderr`` is at that moment (not at configuration),
    so a logger cached by structlog survives a swapped stream (test runners, daemons)."""

    def msg(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log = debug = info = warning = warn = error = critical = exception = fatal = msg


def _stderr_logger(*_args: object) -> _StderrLogger:
    return _StderrLogger()


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stdlib handler on the current ``sys.stderr``."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


class _RetriedByTheClient(logging.Filter):
    """aiokafka logs some conditions at error level that it then retries by itself and that
    are normal while a fresh broker or topic settles (the group coordinator still loading,
    a partition leader not elected yet). They are warnings: nobody need act on them."""

    _TRANSIENT = (
        "GroupCoordinatorNotAvailable",
        "NotCoordinatorForGroup",
        "NotCoordinator",
        "CoordinatorLoadInProgress",
        "NotLeaderForPartition",
        "LeaderNotAvailable",
    )

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.name.startswith("aiokafka"):
            message = record.getMessage()
            if any(marker in message for marker in self._TRANSIENT):
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def configure_logging(
    fmt: Literal["json", "console", "auto"] = "auto",
    level: str = "INFO",
    privacy: PrivacyPolicy | None = None,
) -> None:
    """Set up structlog (and route stdlib logging, e.g. aiokafka's, through it). Every line
    passes :func:`services.privacy.log_processor` last, so no e-mail address, phone number,
    IBAN or BSN reaches a log (per ``privacy``; all masked by default)."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
        shared.append(structlog.processors.format_exc_info)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    shared.append(log_processor(privacy or PrivacyPolicy()))
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.addFilter(_RetriedByTheClient())
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))  # libraries: warnings and errors only
    logging.getLogger("schakel").setLevel(numeric)  # ours via stdlib, e.g. FastStream's lines


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
