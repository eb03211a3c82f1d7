"""Who is asking: people with a signed session cookie, machines with a bearer token.

Roles: ``regie`` sees everything and may replay dead letters and route by hand; ``fb`` sees
only the tickets routed to its own gemeente (:class:`~services.feed.store.Scope`).

* People sign in on the login page with an account from the config
  (``feed.accounts``: username, role, gemeente, argon2 password hash). The session cookie holds
  the username, signed (itsdangerous) with the key in ``feed.session_secret_env`` and
  timestamped (``feed.session_hours``); it is ``HttpOnly`` and ``SameSite=Strict`` (a form on
  another site cannot post with it). The account is looked up on every request, so removing
  it from the config ends its sessions.
* Machines send ``Authorization: Bearer <token>``; each token's value is in the variable its
  config entry names (``feed.tokens``), compared as SHA-256 digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from services.config import SchakelConfig
from services.config.models import CockpitAccount
from services.feed.errors import Forbidden, Unauthenticated
from services.feed.store import Scope
from services.logs import get_logger

__all__ = ["SESSION_COOKIE", "Access", "Principal", "hash_password"]

SESSION_COOKIE = "schakel_sessie"
MIN_TOKEN_BYTES = 16

log = get_logger(__name__)
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash for the config (``schakel feed hash-password``)."""
    return _hasher.hash(password)


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in person or a machine."""

    name: str
    display: str
    role: Literal["regie", "fb"]
    gemeente: str | None
    kind: Literal["person", "machine"]

    @property
    def scope(self) -> Scope:
        return Scope(self.gemeente if self.role == "fb" else None)

    @property
    def is_regie(self) -> bool:
        return self.role == "regie"

    def require_regie(self, what: str) -> None:
        if not self.is_regie:
            raise Forbidden(f"alleen de regie mag {what}")


class Access:
    """Accounts, tokens and the session signer of one cockpit."""

    def __init__(self, config: SchakelConfig, env: Mapping[str, str]) -> None:
        feed = config.feed
        known = {g.code for g in config.gemeenten}
        for account in feed.accounts:
            if account.gemeente is not None and account.gemeente not in known:
                raise ValueError(
                    f"feed.accounts: {account.username} names gemeente {account.gemeente}, "
                    "which is not in the configuration"
                )
        self._accounts = {a.username: a for a in feed.accounts}
        self._tokens: dict[bytes, Principal] = {}
        for token in feed.tokens:
            value = env.get(token.token_env, "").strip()
            if not value:
                log.warning("cockpit token unusable: its variable is empty", token=token.name)
                continue
            if len(value.encode()) < MIN_TOKEN_BYTES:
                log.warning(
                    "cockpit token is short; use at least 32 random bytes", token=token.name
                )
            self._tokens[_digest(value)] = Principal(
                token.name, token.name, token.role, token.gemeente, "machine"
            )
        secret = env.get(feed.session_secret_env or "", "") if feed.session_secret_env else ""
        if not secret:
            secret = secrets.token_urlsafe(32)  # sessions end when the process does
        self._signer = URLSafeTimedSerializer(secret, salt="schakel-cockpit-sessie")
        self.max_age_s = int(feed.session_hours * 3600)

    # -- people ----------------------------------------------------------------------------

    def sign_in(self, username: str, password: str) -> Principal:
        account = self._accounts.get(username.strip())
        if account is None:
            _hasher.hash(password)  # as slow as a wrong password: no user enumeration by time
            raise Unauthenticated("onbekende gebruiker of verkeerd wachtwoord")
        try:
            _hasher.verify(account.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise Unauthenticated("onbekende gebruiker of verkeerd wachtwoord") from None
        return _person(account)

    def session_cookie(self, principal: Principal) -> str:
        return self._signer.dumps({"u": principal.name})

    def from_session(self, cookie: str | None) -> Principal | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age_s)
        except BadSignature:
            return None
        account = self._accounts.get(str(data.get("u", ""))) if isinstance(data, dict) else None
        return _person(account) if account is not None else None

    # -- machines --------------------------------------------------------------------------

    def from_bearer(self, authorization: str | None) -> Principal | None:
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("stuur 'Authorization: Bearer <token>'")
        wanted = _digest(token.strip())
        found: Principal | None = None
        for digest, principal in self._tokens.items():  # every digest compared: no early exit
            if hmac.compare_digest(digest, wanted):
                found = principal
        if found is None:
            raise Unauthenticated("onbekend token")
        return found


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _person(account: CockpitAccount) -> Principal:
    return Principal(account.username, account.name, account.role, account.gemeente, "person")
