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
SCHAKEL_OPS_HOST         ops_host                     127.0.0.1 (/metrics, /livez, /readyz)
SCHAKEL_OPS_PORT         ops_port                     9400 (0: a free port)
SCHAKEL_SLA_TICK_S       sla_tick_s                   1.0
SCHAKEL_SLA_CLOCK_START  sla_clock_start              (unset: the wall clock)
======================== ============================ ===============================

How every Kafka client of the process connects (producer, consumers, admin clients alike;
:meth:`Settings.kafka_security` is the one place they take it from):

============================== ======================== =================================
variable                       field                    default
============================== ======================== =================================
SCHAKEL_KAFKA_SECURITY         kafka_security_protocol  PLAINTEXT (SASL_PLAINTEXT, SASL_SSL,
                                                        SSL)
SCHAKEL_KAFKA_SASL_MECHANISM   kafka_sasl_mechanism     SCRAM-SHA-512 (SCRAM-SHA-256)
SCHAKEL_KAFKA_USERNAME         kafka_username           (none; required with SASL)
SCHAKEL_KAFKA_PASSWORD_ENV     kafka_password_env       SCHAKEL_KAFKA_PASSWORD: the *name*
                                                        of the variable with the password
SCHAKEL_KAFKA_CA_FILE          kafka_ca_file            (none: the system's CAs, with TLS)
============================== ======================== =================================
"""

from __future__ import annotations

import functools
import logging
import os
import ssl
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["KafkaSecurity", "Settings", "get_settings"]

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]


@dataclass(frozen=True)
class KafkaSecurity:
    """As whom and how a Kafka client connects: protocol, SASL/SCRAM login, TLS trust.

    The password never shows in ``repr`` (nor in logs of this object).
    """

    protocol: SecurityProtocol = "PLAINTEXT"
    mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SASL_SSL", "SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context (server certificate checked against ``ca_file`` or the system's
        CAs, host name verified), or None without TLS."""
        if not self.tls:
            return None
        cafile = str(self.ca_file) if self.ca_file is not None else None
        return ssl.create_default_context(cafile=cafile)

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments of aiokafka's producer, consumer and admin client."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.sasl:
            options |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        return options


_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")


class Settings(BaseSettings):
    """Where Kafka, the config file and the store are, and how to log and serve HTTP."""

    model_config = SettingsConfigDict(
        env_prefix="SCHAKEL_", extra="ignore", frozen=True, populate_by_name=True
    )

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", min_length=1)
    kafka_security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", validation_alias="SCHAKEL_KAFKA_SECURITY"
    )
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_username: str | None = Field(default=None, min_length=1)
    kafka_password_env: str = Field(
        default="SCHAKEL_KAFKA_PASSWORD",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="The name of the environment variable holding the Kafka password.",
    )
    kafka_ca_file: Path | None = None
    config_path: Path = Field(
        default=Path("config/schakel.yaml"), validation_alias="SCHAKEL_CONFIG"
    )
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: str = "INFO"
    store_url: str = Field(default="sqlite+aiosqlite:///schakel.db", min_length=1)
    http_host: str = Field(default="127.0.0.1", min_length=1)
    http_port: int = Field(default=8080, ge=1, le=65535)
    http_header_timeout_s: float = Field(
        default=10.0, gt=0, description="Deadline for a request's line and headers."
    )
    http_trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; empty: none (the peer address is the client).",
    )
    ops_host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Listen address of /metrics, /livez and /readyz (0.0.0.0 in a pod).",
    )
    ops_port: int = Field(
        default=9400,
        ge=0,
        le=65535,
        description="Port of /metrics, /livez and /readyz in every hub process; 0: a free port. "
        "A port in use is logged and the hub runs on without it.",
    )
    ops_stuck_after_s: float = Field(
        default=300.0,
        gt=0,
        description="A consumer with lag that finished no batch for this long is not ready.",
    )
    gateway_port: int = Field(default=8088, ge=0, le=65535, description="0: a free port")
    replies_port: int = Field(default=8089, ge=0, le=65535, description="0: a free port")
    replies_source: str = Field(
        default="urn:nld:kvk:00000000:systeem:schakel-replies",
        description="CloudEvents source of FB replies: the regie's own URN (set its OIN here).",
    )
    delivery_backoff_initial_s: float = Field(default=0.5, gt=0)
    delivery_backoff_max_s: float = Field(default=30.0, gt=0)
    delivery_retry_after_cap_s: float = Field(default=60.0, gt=0)
    delivery_max_elapsed_s: float = Field(
        default=10.0,
        gt=0,
        description="Retry budget of one delivery inside its batch; what still fails for a "
        "transient reason is parked (SCHAKEL_PARK_*).",
    )
    delivery_default_max_attempts: int = Field(default=5, ge=1)
    delivery_concurrency: int = Field(default=32, ge=1)
    delivery_smtp_timeout_s: float = Field(default=30.0, gt=0)
    delivery_topdesk_timeout_s: float = Field(default=15.0, gt=0)
    park_horizon_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="How long parked deliveries and supplier calls are retried before they "
        "are dead-lettered (counted from the first failure).",
    )
    park_initial_delay_s: float = Field(default=5.0, gt=0)
    park_max_delay_s: float = Field(default=900.0, gt=0)
    park_circuit_failures: int = Field(
        default=5, ge=1, description="Transient failures in a row that open a circuit."
    )
    park_probe_interval_s: float = Field(
        default=30.0, gt=0, description="How often an open circuit lets one call through."
    )
    park_tick_s: float = Field(default=1.0, gt=0)
    normaliser_seed_window: int = Field(
        default=2_000,
        ge=0,
        description="Records per partition of the normalised topics read at start to rebuild "
        "the normaliser's idempotency gate (0: start empty).",
    )
    sla_source: str = Field(
        default="urn:nld:kvk:00000000:systeem:schakel-sla",
        description="CloudEvents source of SLA events: the regie's own URN (set its OIN here).",
    )
    sla_tick_s: float = Field(
        default=1.0, gt=0, description="How often the SLA timer looks for what fell due."
    )
    sla_clock_start: datetime | None = Field(
        default=None,
        description="Tests and demos: the SLA service's clock stood at this time at "
        "sla_clock_anchor (default: process start) and runs sla_clock_speed times as fast.",
    )
    sla_clock_anchor: datetime | None = None
    sla_clock_speed: float = Field(default=1.0, gt=0)
    kafka_wait_s: float = Field(
        default=60.0, gt=0, description="How long to retry an absent broker at start-up."
    )
    group_suffix: str = Field(
        default="",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Appended to every consumer group id: keeps a benchmark's or a second "
        "hub's groups apart from the production ones on a shared broker.",
    )

    @model_validator(mode="after")
    def _sasl_needs_a_user(self) -> Self:
        if self.kafka_security_protocol.startswith("SASL_") and not self.kafka_username:
            raise ValueError(
                f"SCHAKEL_KAFKA_SECURITY={self.kafka_security_protocol} needs "
                "SCHAKEL_KAFKA_USERNAME (and the password in $SCHAKEL_KAFKA_PASSWORD_ENV)"
            )
        if self.kafka_ca_file is not None and not self.kafka_ca_file.is_file():
            raise ValueError(f"SCHAKEL_KAFKA_CA_FILE {self.kafka_ca_file} is not a file")
        return self

    def kafka_security(self) -> KafkaSecurity:
        """How this process's Kafka clients connect; the password is read from the
        environment variable named by ``kafka_password_env`` now (ValueError if unset)."""
        password = None
        if self.kafka_security_protocol.startswith("SASL_"):
            password = os.environ.get(self.kafka_password_env)
            if not password:
                raise ValueError(
                    f"Kafka user {self.kafka_username!r}: the password variable "
                    f"${self.kafka_password_env} is not set"
                )
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_username,
            password=password,
            ca_file=self.kafka_ca_file,
        )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)}")
        return level

    @property
    def trusted_proxies(self) -> list[str]:
        """:attr:`http_trusted_proxies` as a list."""
        return [p.strip() for p in self.http_trusted_proxies.split(",") if p.strip()]

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
