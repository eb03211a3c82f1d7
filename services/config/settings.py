"""Process settings from the environment (``SCHAKEL_*``), as opposed to the YAML config.

======================== ============================ ===============================
variable                 field                        default
======================== ============================ ===============================
SCHAKEL_KAFKA_BOOTSTRAP  kafka_bootstrap              127.0.0.1:9092
SCHAKEL_CONFIG           config_path                  config/schakel.yaml
SCHAKEL_LOG_FORMAT       log_format                   auto (json, console or auto)
SCHAKEL_LOG_LEVEL        log_level                    INFO
SCHAKEL_STORE_URL        store_url                    sqlite+aiosqlite:///schakel.db
SCHAKEL_HTTP_HOST        http_host                    127.0.0.1
SCHAKEL_HTTP_PORT        http_port                    8080
======================== ============================ ===============================
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]

_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class Settings(BaseSettings):
    """Where Kafka, the config file and the store are, and how to log and serve HTTP."""

    model_config = SettingsConfigDict(
        env_prefix="SCHAKEL_", extra="ignore", frozen=True, populate_by_name=True
    )

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", min_length=1)
    config_path: Path = Field(
        default=Path("config/schakel.yaml"), validation_alias="SCHAKEL_CONFIG"
    )
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: str = "INFO"
    store_url: str = Field(default="sqlite+aiosqlite:///schakel.db", min_length=1)
    http_host: str = Field(default="127.0.0.1", min_length=1)
    http_port: int = Field(default=8080, ge=1, le=65535)
    gateway_port: int = Field(default=8088, ge=1, le=65535)
    replies_port: int = Field(default=8089, ge=1, le=65535)
    replies_source: str = Field(
        default="urn:nld:kvk:00000000:systeem:schakel-replies",
        description="CloudEvents source of FB replies: the regie's own URN (set its OIN here).",
    )
    delivery_backoff_initial_s: float = Field(default=0.5, gt=0)
    delivery_backoff_max_s: float = Field(default=30.0, gt=0)
    delivery_retry_after_cap_s: float = Field(default=60.0, gt=0)
    delivery_max_elapsed_s: float = Field(
        default=120.0, gt=0, description="Retry budget of one delivery, across its attempts."
    )
    delivery_default_max_attempts: int = Field(default=5, ge=1)
    delivery_concurrency: int = Field(default=32, ge=1)
    delivery_smtp_timeout_s: float = Field(default=30.0, gt=0)
    delivery_topdesk_timeout_s: float = Field(default=15.0, gt=0)
    normaliser_seed_window: int = Field(
        default=2_000,
        ge=0,
        description="Records per partition of the normalised topics read at start to rebuild "
        "the normaliser's idempotency gate (0: start empty).",
    )
    kafka_wait_s: float = Field(
        default=60.0, gt=0, description="How long to retry an absent broker at start-up."
    )
    group_suffix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Appended to every consumer group id: keeps a benchmark's or a second "
        "hub's groups apart from the production ones on a shared broker.",
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return level

    @property
    def log_level_number(self) -> int:
        """The level as the number the logging module uses."""
        return logging.getLevelNamesMapping()[self.log_level]


@functools.cache
def get_settings() -> Settings:
    """The settings of this process, read from the environment once.

    Tests that change the environment call ``get_settings.cache_clear()``.
    """
    return Settings()
