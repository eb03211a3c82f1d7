"""HMAC-SHA256 signatures of webhook bodies: ``sha256=<hex>`` over the exact bytes sent."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_PREFIX", "sign_body", "verify_signature"]

SIGNATURE_PREFIX = "sha256="


def sign_body(body: bytes, secret: str | bytes) -> str:
    """The ``X-Schakel-Signature`` value of ``body`` under ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str | bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of ``body`` (constant-time comparison).

    For receivers (and the tests): verify the raw request body before parsing it.
    """
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    return hmac.compare_digest(sign_body(body, secret), header.strip())
