"""The gateway's verifiers: HMAC signatures, bearer tokens, Xurrent's ES256 JWTs, and how
configured secrets become credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given
from hypothesis import strategies as st

from connectors.xurrent._native import VERIFIED_HEADER
from services.config import SupplierCredentials
from services.gateway.auth import (
    JwtKey,
    SharedSecret,
    Unconfigured,
    load_public_key,
    resolve_credentials,
    signed_token,
    verify_bearer,
    verify_hmac,
    verify_xurrent_jwt,
)
from services.gateway.errors import InvalidCredentials, MissingCredentials
from services.gateway.intake import VERIFIED, ticket_key
from services.gateway.replay import ReplayGuard, replay_key
from services.messaging import OutboundMessage

SECRET = "s3cret-for-the-zaakplatform-webhook"
BODY = b'{"webhookEvent":"jira:issue_created","issue":{"key":"ZAAK-1"}}'
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def _digest(body: bytes = BODY, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def _pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


AUD = "https://schakel.example/webhooks/werkplekdienst"


def _token(claims: dict[str, Any] | None = None, key: Any = KEY, **options: Any) -> str:
    """A token with the claims a valid one needs (aud, exp in 5 min, a fresh jti), then
    ``claims`` over them (None as a value removes a claim)."""
    body: dict[str, Any] = {
        "event": "request.update",
        "object_id": 70112,
        "aud": AUD,
        "exp": time.time() + 300,
        "jti": f"jti-{time.monotonic_ns()}",
    }
    body.update(claims or {})
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode(body, key, algorithm=options.pop("algorithm", "ES256"), **options)


def _verify(body: bytes, key: Any = None, **options: Any) -> dict[str, Any]:
    return verify_xurrent_jwt(
        body, _pem(KEY) if key is None else key, audience=options.pop("audience", AUD), **options
    )


# -- HMAC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "sha256=" + _digest().hex(),  # Jira X-Hub-Signature
        "SHA256=" + _digest().hex().upper(),
        "  sha256=" + _digest().hex() + " ",
        _digest().hex(),  # X-Schakel-Signature, hex
        base64.b64encode(_digest()).decode(),  # base64
        base64.urlsafe_b64encode(_digest()).decode().rstrip("="),  # URL-safe, no padding
    ],
)
def test_hmac_signature_forms_verify(header: str) -> None:
    verify_hmac(SECRET, BODY, header)
    verify_hmac(SECRET.encode(), BODY, header)


@pytest.mark.parametrize(
    "header",
    [
        "sha256=" + _digest(secret="another-suppliers-secret").hex(),
        "sha256=" + _digest(BODY + b" ").hex(),
        "sha1=" + hashlib.sha1(BODY).hexdigest(),
        "sha256=" + base64.b64encode(_digest()).decode(),  # the prefixed form is hex only
        "sha256=" + _digest().hex()[:-2],
        "sha256=zz" + _digest().hex()[2:],
        base64.b64encode(_digest()[:16]).decode(),
        "not a signature at all",
        "sha256=",
    ],
)
def test_wrong_or_malformed_signatures_are_invalid(header: str) -> None:
    with pytest.raises(InvalidCredentials):
        verify_hmac(SECRET, BODY, header)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_absent_signature_is_missing(header: str | None) -> None:
    with pytest.raises(MissingCredentials):
        verify_hmac(SECRET, BODY, header)


@given(body=st.binary(max_size=512), secret=st.text(min_size=1, max_size=64), flip=st.integers())
def test_any_changed_byte_breaks_the_signature(body: bytes, secret: str, flip: int) -> None:
    header = "sha256=" + _digest(body, secret).hex()
    verify_hmac(secret, body, header)
    if body:
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        with pytest.raises(InvalidCredentials):
            verify_hmac(secret, changed, header)


# -- bearer ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [f"Bearer {SECRET}", f"bearer {SECRET}", f"  BEARER  {SECRET} "])
def test_bearer_token_verifies(header: str) -> None:
    verify_bearer(SECRET, header)


@pytest.mark.parametrize(
    "header", [f"Bearer {SECRET}x", f"Bearer {SECRET[:-1]}", "Bearer another-secret"]
)
def test_wrong_bearer_token_is_invalid(header: str) -> None:
    with pytest.raises(InvalidCredentials):
        verify_bearer(SECRET, header)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", f"Basic {SECRET}", SECRET])
def test_no_bearer_token_is_missing(header: str | None) -> None:
    with pytest.raises(MissingCredentials):
        verify_bearer(SECRET, header)


# -- Xurrent JWT -------------------------------------------------------------------------


def test_signed_body_and_bare_token_verify_and_return_the_claims() -> None:
    token = _token({"data": {"event": "request.update", "object_id": 1}, "exp": time.time() + 60})
    for body in (orjson.dumps({"jwt": token}), token.encode(), b"\n" + token.encode() + b"\n"):
        claims = _verify(body)
        assert claims["data"]["object_id"] == 1
    assert _verify(token.encode(), load_public_key(_pem(KEY)))["data"]


def test_jwt_signed_by_another_key_is_invalid() -> None:
    with pytest.raises(InvalidCredentials, match="does not verify"):
        _verify(orjson.dumps({"jwt": _token(key=OTHER_KEY)}))


def test_tampered_jwt_payload_is_invalid() -> None:
    header, _, signature = _token().split(".")
    forged = base64.urlsafe_b64encode(b'{"event":"request.update","object_id":666}').rstrip(b"=")
    with pytest.raises(InvalidCredentials):
        _verify(f"{header}.{forged.decode()}.{signature}".encode())


def test_algorithm_confusion_and_unsigned_tokens_are_refused() -> None:
    pem = _pem(KEY)
    unsigned = jwt.encode({"event": "request.update"}, None, algorithm="none")
    with pytest.raises(InvalidCredentials):
        _verify(orjson.dumps({"jwt": unsigned}), pem)
    # HS256 "signed" with the public key as secret: the classic confusion attack.
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
    payload = base64.urlsafe_b64encode(b'{"event":"request.update"}').rstrip(b"=")
    mac = hmac.new(pem.encode(), header + b"." + payload, hashlib.sha256).digest()
    forged = header + b"." + payload + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")
    with pytest.raises(InvalidCredentials, match="ES256"):
        _verify(forged, pem)


def test_expired_and_future_tokens_are_invalid_beyond_the_leeway() -> None:
    with pytest.raises(InvalidCredentials, match="expired"):
        _verify(_token({"exp": time.time() - 120}).encode())
    with pytest.raises(InvalidCredentials, match="not valid yet"):
        _verify(_token({"nbf": time.time() + 600}).encode())
    _verify(_token({"exp": time.time() - 10}).encode())  # within 60 s leeway


def test_a_token_needs_exp_aud_and_jti() -> None:
    for missing in ("exp", "aud", "jti"):
        with pytest.raises(InvalidCredentials, match="required claim"):
            _verify(_token({missing: None}).encode())
    with pytest.raises(InvalidCredentials, match="jti"):
        _verify(_token({"jti": ""}).encode())


def test_a_long_lived_token_is_refused() -> None:
    now = time.time()
    year_old = _token({"iat": now - 365 * 86400, "exp": now + 60}).encode()
    with pytest.raises(InvalidCredentials, match="lifetime"):
        _verify(year_old)
    for_a_year = _token({"exp": now + 365 * 86400}).encode()
    with pytest.raises(InvalidCredentials, match="longer than"):
        _verify(for_a_year)
    _verify(_token({"iat": now, "exp": now + 900}).encode())
    with pytest.raises(InvalidCredentials, match="longer than"):
        _verify(_token({"exp": now + 900}).encode(), max_lifetime_s=300)


def test_the_audience_must_be_the_configured_one() -> None:
    token = _token().encode()
    _verify(token, audience=AUD)
    with pytest.raises(InvalidCredentials, match="audience"):
        _verify(token, audience="https://elsewhere.example/")
    with pytest.raises(InvalidCredentials, match="audience"):
        _verify(_token({"aud": "https://elsewhere.example/"}).encode())


@pytest.mark.parametrize(
    "body",
    [
        orjson.dumps({"event": "request.update", "object_id": 1}),  # unsigned webhook
        b"not json and not a token",
        orjson.dumps(["jwt"]),
        b"",
    ],
)
def test_bodies_without_a_token_lack_credentials(body: bytes) -> None:
    with pytest.raises(MissingCredentials):
        _verify(body)


@pytest.mark.parametrize(
    "document",
    [
        {"jwt": "TOKEN", "event": "request.update", "object_id": 666},  # fields beside it
        {"jwt": 12},
        {"jwt": "  "},
    ],
)
def test_only_a_lone_jwt_field_is_a_signed_body(document: dict[str, Any]) -> None:
    if document["jwt"] == "TOKEN":
        document["jwt"] = _token()
    with pytest.raises(InvalidCredentials):
        signed_token(orjson.dumps(document))


def test_non_jwt_keys_are_refused() -> None:
    rsa_pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    p384_pem = _pem(ec.generate_private_key(ec.SECP384R1()))
    for pem in (
        rsa_pem,
        p384_pem,
        "-----BEGIN PUBLIC KEY-----\nnonsense\n-----END PUBLIC KEY-----",
    ):
        with pytest.raises(ValueError):
            load_public_key(pem)


def test_verified_header_is_the_one_the_xurrent_translator_reads() -> None:
    assert VERIFIED == VERIFIED_HEADER


# -- credentials from configuration ------------------------------------------------------


def _supplier(
    example_config: Any, like: str, env: str | None, new_id: str | None = None, **options: Any
) -> Any:
    supplier = example_config.supplier(like)
    return supplier.model_copy(
        update={
            "id": new_id or supplier.id,
            "credentials": SupplierCredentials(webhook_secret_env=env, **options),
        }
    )


def test_secrets_become_credentials_by_their_kind(example_config: Any) -> None:
    suppliers = [
        _supplier(example_config, "zaakplatform", "GW_JIRA"),
        _supplier(example_config, "werkplekdienst", "GW_XURRENT", webhook_jwt_audience=AUD),
        _supplier(example_config, "centric", "GW_UNSET"),
        _supplier(example_config, "kpn", None),
        _supplier(example_config, "leverancier-x", "GW_BAD_PEM", webhook_jwt_audience=AUD),
        _supplier(example_config, "werkplekdienst", "GW_XURRENT", "no-aud"),
        _supplier(example_config, "zaakplatform", "GW_TOKEN", "tok", webhook_auth="bearer"),
        _supplier(
            example_config,
            "zaakplatform",
            "GW_TS",
            "bearer-ts",
            webhook_auth="bearer",
            webhook_timestamp_window_s=300,
        ),
    ]
    environ = {
        "GW_JIRA": f"  {SECRET}\n",
        "GW_XURRENT": _pem(KEY) + "\n",
        "GW_BAD_PEM": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "GW_TOKEN": "a-bearer-token-0123456789",
        "GW_TS": "another-token-0123456789",
    }
    resolved = resolve_credentials(suppliers, environ)
    assert resolved["zaakplatform"] == SharedSecret(SECRET.encode(), "hmac")
    assert resolved["tok"] == SharedSecret(b"a-bearer-token-0123456789", "bearer")
    xurrent = resolved["werkplekdienst"]
    assert isinstance(xurrent, JwtKey) and xurrent.audience == AUD
    for unusable, reason in [
        ("centric", "GW_UNSET is not set"),
        ("kpn", "no credentials.webhook_secret_env"),
        ("leverancier-x", "GW_BAD_PEM"),
        ("no-aud", "webhook_jwt_audience"),
        ("bearer-ts", "needs webhook_auth: hmac"),
    ]:
        auth = resolved[unusable]
        assert isinstance(auth, Unconfigured)
        assert reason in auth.reason
        assert SECRET not in auth.reason


def test_suppliers_sharing_a_secret_can_post_as_neither(example_config: Any) -> None:
    suppliers = [
        _supplier(example_config, "zaakplatform", "GW_A"),
        _supplier(example_config, "centric", "GW_B"),
        _supplier(example_config, "kpn", "GW_C"),
    ]
    resolved = resolve_credentials(suppliers, {"GW_A": SECRET, "GW_B": SECRET, "GW_C": "other"})
    assert isinstance(resolved["zaakplatform"], Unconfigured)
    assert isinstance(resolved["centric"], Unconfigured)
    assert "share one webhook secret" in resolved["centric"].reason
    assert resolved["kpn"] == SharedSecret(b"other")


# -- record key --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "document", "key"),
    [
        ("jira", {"issue": {"key": "ZAAK-22", "id": "10021"}}, "ZAAK-22"),
        ("jira", {"issue": {"id": "10021"}}, "10021"),
        ("servicenow", {"number": "INC0000046", "sys_id": "a" * 32}, "INC0000046"),
        ("servicenow", {"sys_id": "a" * 32}, "a" * 32),
        ("servicenow", {"result": {"number": {"display_value": "X", "value": "CHG1"}}}, "CHG1"),
        ("topdesk", {"number": "I2510 017", "id": "uuid"}, "I2510 017"),
        ("xurrent", {"object_id": 70112}, "70112"),
        ("xurrent", {"object_id": True}, None),
        ("jira", {"issue": {"key": "x" * 300}}, None),
        ("jira", {"issue": {"key": "ZAAK\n1"}}, None),
        ("jira", ["issue"], None),
        ("topdesk", "number", None),
    ],
)
def test_ticket_key_is_the_suppliers_reference(system: str, document: Any, key: str | None) -> None:
    assert ticket_key(system, document) == key


# -- signed timestamps and replays ---------------------------------------------------------


def _signed_at(ts: int, body: bytes = BODY) -> str:
    return (
        "sha256=" + hmac.new(SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    )


def test_a_timestamp_is_signed_with_the_body_and_checked_against_the_window() -> None:
    now = 1_800_000_000
    verify_hmac(
        SECRET, BODY, _signed_at(now - 200), timestamp=str(now - 200), window_s=300, now=now
    )
    with pytest.raises(InvalidCredentials, match="300 s"):  # too old
        verify_hmac(
            SECRET, BODY, _signed_at(now - 400), timestamp=str(now - 400), window_s=300, now=now
        )
    with pytest.raises(InvalidCredentials, match="300 s"):  # from the future
        verify_hmac(
            SECRET, BODY, _signed_at(now + 400), timestamp=str(now + 400), window_s=300, now=now
        )
    with pytest.raises(InvalidCredentials, match="does not match"):  # a fresh stamp, old signature
        verify_hmac(SECRET, BODY, _signed_at(now - 400), timestamp=str(now), window_s=300, now=now)
    with pytest.raises(InvalidCredentials, match="does not match"):  # body signed alone
        verify_hmac(
            SECRET, BODY, "sha256=" + _digest().hex(), timestamp=str(now), window_s=300, now=now
        )
    with pytest.raises(MissingCredentials, match="X-Schakel-Timestamp"):
        verify_hmac(SECRET, BODY, _signed_at(now), timestamp=None, window_s=300, now=now)
    with pytest.raises(InvalidCredentials, match="Unix seconds"):
        verify_hmac(SECRET, BODY, _signed_at(now), timestamp="2026-12-04", window_s=300, now=now)


def test_the_replay_guard_remembers_until_expiry_and_forgets_what_was_not_stored() -> None:
    clock = [0.0]
    guard = ReplayGuard(max_entries=3, clock=lambda: clock[0])
    first, again = OutboundMessage("t", b"1"), OutboundMessage("t", b"1", b"k")
    key = replay_key("zaakplatform", "hmac", b"digest")
    assert guard.reserve(key, 60, first)
    assert not guard.reserve(key, 60, again)  # a replay
    assert not guard.reserve(replay_key("zaakplatform", "hmac", b"digest"), 60, again)
    assert guard.reserve(replay_key("centric", "hmac", b"digest"), 60, again)  # other supplier
    guard.forget(first)  # its publication failed: the retry is no replay
    assert guard.reserve(key, 60, first)
    guard.accepted(first)
    guard.forget(first)  # stored: forgetting it no longer frees the key
    assert not guard.reserve(key, 60, again)
    clock[0] = 61.0
    assert guard.reserve(key, 60, again)  # expired
    for n in range(5):
        guard.reserve(replay_key("x", "jwt", str(n).encode()), 60, OutboundMessage("t", b"%d" % n))
    assert len(guard) == 3  # bounded
