"""How a supplier proves a webhook is its own: pure functions, no I/O, no logging.

Each supplier has one secret, in the environment variable its configuration names
(``credentials.webhook_secret_env``). What the secret is decides how the supplier signs:

* a shared secret: an HMAC-SHA256 signature of the exact body, in ``X-Hub-Signature:
  sha256=<hex>`` (Jira) or ``X-Schakel-Signature: <hex or base64>``, or the secret itself
  as ``Authorization: Bearer <secret>`` (tools that can only set a header);
* a PEM public key (``-----BEGIN PUBLIC KEY-----``, EC P-256): Xurrent's webhook policy,
  the body is ``{"jwt": "<ES256 token>"}`` or the bare token, verified with that key. A
  public key is no secret, so such a supplier can never use the shared-secret forms.

The verifiers return on success and raise :class:`~services.gateway.errors.MissingCredentials`
when there is nothing to verify, :class:`~services.gateway.errors.InvalidCredentials` when it
does not verify. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
    """HMAC signature or bearer token with this secret."""

    secret: bytes


@dataclass(frozen=True, slots=True)
class JwtKey:
    """ES256 JWT (Xurrent webhook policy) verified with this public key."""

    key: ec.EllipticCurvePublicKey


@dataclass(frozen=True, slots=True)
class Unconfigured:
    """The supplier cannot post: ``reason`` says what an operator must fix."""

    reason: str


SupplierAuth = SharedSecret | JwtKey | Unconfigured


# --- shared secrets ---------------------------------------------------------------------


def verify_hmac(secret: str | bytes, body: bytes, header: str | None) -> None:
    """Check an HMAC-SHA256 signature of ``body``.

    ``header`` is ``sha256=<hex>`` (Jira's ``X-Hub-Signature``) or the bare digest as hex or
    base64 (standard or URL-safe alphabet).
    """
    if header is None or not header.strip():
        raise MissingCredentials("no signature")
    provided = _digest_of(header.strip())
    if provided is None:
        raise InvalidCredentials(
            "the signature is not an HMAC-SHA256 digest (sha256=<hex>, hex or base64)"
        )
    expected = hmac.new(_as_bytes(secret), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, provided):
        raise InvalidCredentials("the signature does not match the body")


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
    (jwt.InvalidAudienceError, "the JWT is for another audience"),
    (jwt.InvalidAlgorithmError, f"the JWT is not signed with {JWT_ALGORITHM}"),
    (jwt.InvalidSignatureError, "the JWT signature does not verify with this supplier's key"),
    (jwt.DecodeError, "the JWT is not well-formed"),
)


def verify_xurrent_jwt(
    body: bytes,
    public_key_pem: str | bytes | ec.EllipticCurvePublicKey,
    *,
    audience: str | None = None,
    leeway_s: float = 60.0,
) -> dict[str, Any]:
    """Verify the ES256 JWT of a signed Xurrent webhook; its claims on success.

    Only ES256 is accepted (no algorithm confusion); ``exp``/``nbf``/``iat`` are checked
    when present, with ``leeway_s`` for clock skew; ``aud`` only when ``audience`` is given.
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
            options={"verify_aud": audience is not None},
        )
    except jwt.PyJWTError as exc:
        reason = next(
            (text for kind, text in _JWT_REASONS if isinstance(exc, kind)),
            "the JWT does not verify",
        )
        raise InvalidCredentials(reason) from None
    return claims


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
    name = supplier.credentials.webhook_secret_env
    if name is None:
        return Unconfigured("no credentials.webhook_secret_env in the configuration")
    value = environ.get(name, "").strip()
    if not value:
        return Unconfigured(f"environment variable {name} is not set")
    if is_public_key_pem(value):
        try:
            return JwtKey(load_public_key(value))
        except ValueError as exc:
            return Unconfigured(f"environment variable {name}: {exc}")
    return SharedSecret(value.encode())
