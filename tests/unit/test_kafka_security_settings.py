"""How every Kafka client of a process connects: from the settings, in one place."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from faststream.security import SASLScram512

from services.config import KafkaSecurity, Settings
from services.kafka import broker_security, client_options


def test_plaintext_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SCHAKEL_KAFKA_SECURITY", "SCHAKEL_KAFKA_USERNAME", "SCHAKEL_KAFKA_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    security = Settings().kafka_security()
    assert security == KafkaSecurity()
    assert client_options("h:1", security) == {
        "bootstrap_servers": "h:1",
        "security_protocol": "PLAINTEXT",
    }
    assert broker_security(security) is None


def test_scram_from_the_environment_with_the_password_by_variable_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY", "SASL_PLAINTEXT")
    monkeypatch.setenv("SCHAKEL_KAFKA_USERNAME", "schakel-router")
    monkeypatch.setenv("SCHAKEL_KAFKA_PASSWORD_ENV", "ROUTER_KAFKA_PW")
    monkeypatch.setenv("ROUTER_KAFKA_PW", "s3cret-value")
    security = Settings().kafka_security()
    options = client_options("h:1", security)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "schakel-router"
    assert options["sasl_plain_password"] == "s3cret-value"
    assert "ssl_context" not in options
    assert "s3cret" not in repr(security)
    broker = broker_security(security)
    assert isinstance(broker, SASLScram512)
    assert (broker.username, broker.password, broker.use_ssl) == (
        "schakel-router",
        "s3cret-value",
        False,
    )


def test_sasl_without_a_user_or_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY", "SASL_SSL")
    monkeypatch.delenv("SCHAKEL_KAFKA_USERNAME", raising=False)
    with pytest.raises(ValueError, match="SCHAKEL_KAFKA_USERNAME"):
        Settings()
    monkeypatch.setenv("SCHAKEL_KAFKA_USERNAME", "schakel-router")
    monkeypatch.delenv("SCHAKEL_KAFKA_PASSWORD", raising=False)
    with pytest.raises(ValueError, match=r"\$SCHAKEL_KAFKA_PASSWORD is not set"):
        Settings().kafka_security()


def test_tls_checks_the_server_certificate_and_host(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SCHAKEL_KAFKA_SECURITY", "SASL_SSL")
    monkeypatch.setenv("SCHAKEL_KAFKA_USERNAME", "supplier-kpn")
    monkeypatch.setenv("SCHAKEL_KAFKA_PASSWORD", "pw-12345678")
    monkeypatch.setenv("SCHAKEL_KAFKA_CA_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="is not a file"):
        Settings()
    monkeypatch.delenv("SCHAKEL_KAFKA_CA_FILE")
    security = Settings().kafka_security()
    context = security.ssl_context()
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    options = client_options("h:1", security)
    assert options["security_protocol"] == "SASL_SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    broker = broker_security(security)
    assert broker is not None and broker.use_ssl
