"""How a supplier proves a webhook is its own: pure functions, no I/O, no logging.

Each supplier has one secret, in the environment variable its configuration names
(``credentials.webhook_secret_env``). What the secret is decides how the supplier signs:

* a shared secret, used one way only (``credentials.webhook_auth``): ``hmac``, an
  HMAC-SHA256 signature of the exact body in ``X-Hub-Signature: sha256=<hex>`` (Jira) or
  ``X-Schakel-Signature: <hex or base64>``, where a supplier with
  ``webhook_timestamp_window_s`` signs ``<X-Schakel-Timestamp>.<body>`` and the timestamp
  must be within the window; or ``bearer``, the secret itself as ``Authorization: Bearer
  <secret>`` (tools that can only set a header). A signing secret is never a bearer token:
  one captured bearer request would give the signing key away;
* a PEM public key (``-----BEGIN PUBLIC KEY-----``, EC P-256): Xurrent's webhook policy,
  the body is ``{"jwt": "<ES256 token>"}`` or the bare token, verified with that key; the
  token needs ``exp`` within the configured lifetime, the configured ``aud`` and a ``jti``
  (whose reuse :mod:`services.gateway.replay` recognises). A public key is no secret, so
  such a supplier can never use the shared-secret forms.

The verifiers return on success and raise :class:`~services.gateway.errors.MissingCredentials`
when there is nothing to verify, :class:`~services.gateway.errors.InvalidCredentials` when it
does not verify. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt
import orjson
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from services.config import SupplierConfig
from services.gateway.errors import InvalidCredentials, MissingCredentials

__all__ = [
    "JwtKey",
    "SharedSecret",
    "SupplierAuth",
    "Unconfigured",
    "is_public_key_pem",
    "load_public_key",
    "resolve_credentials",
    "signed_token",
    "verify_bearer",
    "verify_hmac",
    "verify_xurrent_jwt",
]

JWT_ALGORITHM = "ES256"
MIN_SECRET_BYTES = 16
_PEM_MARK = "-----BEGIN PUBLIC KEY-----"
_DIGEST_BYTES = 32
_MAX_TOKEN = 1_000_000


@dataclass(frozen=True, slots=True)
class SharedSecret:
    """HMAC signature (``mode="hmac"``, optionally with a signed timestamp within
    ``window_s``) or bearer token (``mode="bearer"``) with this secret."""

    secret: bytes
    mode: Literal["hmac", "bearer"] = "hmac"
    window_s: int | None = None


@dataclass(frozen=True, slots=True)
class JwtKey:
    """ES256 JWT (Xurrent webhook policy) verified with this public key, for ``audience``,
    valid for at most ``max_lifetime_s``."""

    key: ec.EllipticCurvePublicKey
    audience: str = ""
    max_lifetime_s: int = 900


@dataclass(frozen=True, slots=True)
class Unconfigured:
    """The supplier cannot post: ``reason`` says what an operator must fix."""

    reason: str


SupplierAuth = SharedSecret | JwtKey | Unconfigured


# --- shared secrets ---------------------------------------------------------------------


def verify_hmac(
    secret: str | bytes,
    body: bytes,
    header: str | None,
    *,
    timestamp: str | None = None,
    window_s: int | None = None,
    now: float | None = None,
) -> bytes:
    """Check an HMAC-SHA256 signature of ``body``; the verified digest on success.

    ``header`` is ``sha256=<hex>`` (Jira's ``X-Hub-Signature``) or the bare digest as hex or
    base64 (standard or URL-safe alphabet). With ``window_s``, ``timestamp`` (Unix seconds,
    ``X-Schakel-Timestamp``) is required, signed with the body as ``<timestamp>.<body>``,
    and at most ``window_s`` from ``now`` (default: the wall clock).
    """
    if header is None or not header.strip():
        raise MissingCredentials("no signature")
    signed = body
    if window_s is not None:
        signed = _timestamped(body, timestamp, window_s, time.time() if now is None else now)
    provided = _digest_of(header.strip())
    if provided is None:
        raise InvalidCredentials(
            "the signature is not an HMAC-SHA256 digest (sha256=<hex>, hex or base64)"
        )
    expected = hmac.new(_as_bytes(secret), signed, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, provided):
        raise InvalidCredentials("the signature does not match the body")
    return expected


def _timestamped(body: bytes, timestamp: str | None, window_s: int, now: float) -> bytes:
    if timestamp is None or not timestamp.strip():
        raise MissingCredentials(
            "this supplier signs '<X-Schakel-Timestamp>.<body>': send X-Schakel-Timestamp"
        )
    text = timestamp.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise InvalidCredentials("X-Schakel-Timestamp must be Unix seconds")
    if abs(now - int(text)) > window_s:
        raise InvalidCredentials(
            f"X-Schakel-Timestamp is more than {window_s} s from the gateway's clock"
        )
    return text.encode() + b"." + body


def _digest_of(text: str) -> bytes | None:
    prefixed = text[:7].lower() == "sha256="
    if prefixed:
        text = text[7:]
    digest: bytes | None = None
    if len(text) == 2 * _DIGEST_BYTES:
        try:
            digest = bytes.fromhex(text)
        except ValueError:
            return None
    elif not prefixed and text.isascii():
        padded = text + "=" * (-len(text) % 4)
        alphabet = b"-_" if "-" in text or "_" in text else None
        try:
            digest = base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            return None
    return digest if digest is not None and len(digest) == _DIGEST_BYTES else None


def verify_bearer(secret: str | bytes, authorization: str | None) -> None:
    """Check ``Authorization: Bearer <token>`` against the secret (constant-time)."""
    if authorization is None:
        raise MissingCredentials("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise MissingCredentials("the Authorization header is not 'Bearer <token>'")
    # Digests of equal length: the comparison reveals neither content nor length.
    given = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
    wanted = hashlib.sha256(_as_bytes(secret)).digest()
    if not hmac.compare_digest(given, wanted):
        raise InvalidCredentials("the bearer token is not this supplier's")


def _as_bytes(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


# --- Xurrent's signed webhooks ----------------------------------------------------------


def is_public_key_pem(text: str) -> bool:
    """Whether a configured secret is a PEM public key rather than a shared secret."""
    return text.lstrip().startswith(_PEM_MARK)


def load_public_key(pem: str | bytes) -> ec.EllipticCurvePublicKey:
    """The EC P-256 public key of a PEM text; ValueError for anything else."""
    try:
        key = load_pem_public_key(_as_bytes(pem))
    except UnsupportedAlgorithm as exc:
        raise ValueError(f"unsupported public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("not an EC P-256 (secp256r1) public key, which ES256 needs")
    return key


def signed_token(body: bytes) -> str:
    """The JWT of a signed Xurrent body: ``{"jwt": "<token>"}`` and nothing else, or the
    bare token text.

    Other keys next to ``jwt`` are refused: they would travel unverified beside the token.
    """
    stripped = body.strip()
    if (
        stripped.startswith(b"eyJ")
        and stripped.count(b".") == 2
        and len(stripped) <= _MAX_TOKEN
        and stripped.isascii()
    ):
        return stripped.decode("ascii")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MissingCredentials("the body is neither a signed JWT nor JSON holding one") from None
    if not isinstance(document, dict) or "jwt" not in document:
        raise MissingCredentials('this supplier signs its webhooks: the body must be {"jwt": ...}')
    token = document["jwt"]
    if len(document) != 1 or not isinstance(token, str) or not token.strip():
        raise InvalidCredentials('a signed webhook body is {"jwt": "<token>"} and nothing else')
    return token.strip()


_JWT_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "the JWT has expired"),
    (jwt.ImmatureSignatureError, "the JWT is not valid yet"),
    (jwt.MissingRequiredClaimError, "the JWT lacks a required claim (exp, aud, jti)"),
    (jwt.InvalidAudienceError, "the JWT is for another audience"),
    (jwt.InvalidAlgorithmError, f"the JWT is not signed with {JWT_ALGORITHM}"),
    (jwt.InvalidSignatureError, "the JWT signature does not verify with this supplier's key"),
    (jwt.DecodeError, "the JWT is not well-formed"),
)


def verify_xurrent_jwt(
    body: bytes,
    public_key_pem: str | bytes | ec.EllipticCurvePublicKey,
    *,
    audience: str,
    max_lifetime_s: float = 900.0,
    leeway_s: float = 60.0,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify the ES256 JWT of a signed Xurrent webhook; its claims on success.

    Only ES256 is accepted (no algorithm confusion). Required: ``exp`` (not passed, and at
    most ``max_lifetime_s`` after ``iat`` when given and after now: a token valid for a
    year is refused), ``aud`` equal to ``audience``, a non-empty ``jti`` (the caller
    refuses its reuse); ``nbf``/``iat`` are checked when present; ``leeway_s`` for skew.
    """
    token = signed_token(body)
    key = (
        public_key_pem
        if isinstance(public_key_pem, ec.EllipticCurvePublicKey)
        else load_public_key(public_key_pem)
    )
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            leeway=leeway_s,
            options={"require": ["exp", "aud", "jti"], "verify_aud": True},
        )
    except jwt.PyJWTError as exc:
        reason = next(
            (text for kind, text in _JWT_REASONS if isinstance(exc, kind)),
            "the JWT does not verify",
        )
        raise InvalidCredentials(reason) from None
    _check_lifetime(claims, max_lifetime_s, leeway_s, time.time() if now is None else now)
    return claims


def _check_lifetime(claims: dict[str, Any], max_s: float, leeway_s: float, now: float) -> None:
    exp, iat, jti = claims["exp"], claims.get("iat"), claims["jti"]
    if not isinstance(jti, str) or not jti.strip() or len(jti) > 500:
        raise InvalidCredentials("the JWT's jti must be a non-empty string")
    if exp - now > max_s + leeway_s:
        raise InvalidCredentials(f"the JWT is valid for longer than {max_s:g} s")
    if isinstance(iat, int | float) and exp - iat > max_s:
        raise InvalidCredentials(f"the JWT's lifetime (exp - iat) is above {max_s:g} s")


# --- from configuration to credentials --------------------------------------------------


def resolve_credentials(
    suppliers: Iterable[SupplierConfig], environ: Mapping[str, str]
) -> dict[str, SupplierAuth]:
    """Each supplier's credential, read from the environment variable its config names.

    A supplier without one (no variable named, variable unset or empty, a PEM that is not an
    EC P-256 public key) gets :class:`Unconfigured` with the reason. Two suppliers with the
    same shared secret could post as each other, so both become Unconfigured.
    """
    resolved: dict[str, SupplierAuth] = {}
    for supplier in suppliers:
        resolved[supplier.id] = _credential_of(supplier, environ)
    owners: dict[bytes, list[str]] = {}
    for supplier_id, auth in resolved.items():
        if isinstance(auth, SharedSecret):
            owners.setdefault(hashlib.sha256(auth.secret).digest(), []).append(supplier_id)
    for ids in owners.values():
        if len(ids) > 1:
            for supplier_id in ids:
                resolved[supplier_id] = Unconfigured(
                    f"suppliers {', '.join(ids)} share one webhook secret; each needs its own"
                )
    return resolved


def _credential_of(supplier: SupplierConfig, environ: Mapping[str, str]) -> SupplierAuth:
    credentials = supplier.credentials
    name = credentials.webhook_secret_env
    if name is None:
        return Unconfigured("no credentials.webhook_secret_env in the configuration")
    value = environ.get(name, "").strip()
    if not value:
        return Unconfigured(f"environment variable {name} is not set")
    if is_public_key_pem(value):
        if credentials.webhook_jwt_audience is None:
            return Unconfigured(
                "a public key needs credentials.webhook_jwt_audience (the JWTs' aud)"
            )
        try:
            key = load_public_key(value)
        except ValueError as exc:
            return Unconfigured(f"environment variable {name}: {exc}")
        return JwtKey(key, credentials.webhook_jwt_audience, credentials.webhook_jwt_max_lifetime_s)
    if credentials.webhook_auth == "bearer" and credentials.webhook_timestamp_window_s:
        return Unconfigured("webhook_timestamp_window_s needs webhook_auth: hmac (a signature)")
    return SharedSecret(
        value.encode(), credentials.webhook_auth, credentials.webhook_timestamp_window_s
    )
