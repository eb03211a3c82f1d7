"""Which FB team is calling: a bearer token per team, from the environment.

Each team's token is in the variable its configuration names (``FbTeam.api_token_env``). The
token identifies one (gemeente, team); a token that two teams share identifies neither (it is
refused, and reported at start-up). Lookups compare SHA-256 digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from services.config import SchakelConfig
from services.logs import get_logger
from services.replies.errors import ReplyRequestRefused, Unauthenticated

__all__ = ["MIN_TOKEN_BYTES", "TeamDirectory", "TeamIdentity", "log_refusal", "team_directory"]

MIN_TOKEN_BYTES = 16

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class TeamIdentity:
    gemeente: str
    team: str


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class TeamDirectory:
    """Token digests -> team; :meth:`identify` reads an ``Authorization`` header."""

    def __init__(self, teams: Mapping[bytes, TeamIdentity]) -> None:
        self._teams = dict(teams)

    def __len__(self) -> int:
        return len(self._teams)

    def identify(self, authorization: str | None) -> TeamIdentity:
        if not authorization:
            raise Unauthenticated("send the team's token as 'Authorization: Bearer <token>'")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("send the team's token as 'Authorization: Bearer <token>'")
        wanted = _digest(token)
        found: TeamIdentity | None = None
        for digest, identity in self._teams.items():  # all compared: no early exit
            if hmac.compare_digest(digest, wanted):
                found = identity
        if found is None:
            raise Unauthenticated("the token is not a team's token")
        return found


def team_directory(config: SchakelConfig, env: Mapping[str, str]) -> TeamDirectory:
    """The teams that can call the API: those whose ``api_token_env`` holds a token."""
    by_digest: dict[bytes, TeamIdentity] = {}
    shared: set[bytes] = set()
    for gemeente in config.gemeenten:
        for team in gemeente.teams:
            if team.api_token_env is None:
                continue
            token = env.get(team.api_token_env, "").strip()
            if not token:
                log.warning(
                    "FB team cannot use the replies API: its token variable is empty",
                    gemeente=gemeente.code,
                    team=team.id,
                    variable=team.api_token_env,
                )
                continue
            if len(token.encode()) < MIN_TOKEN_BYTES:
                log.warning(
                    "FB team token is short; use at least 32 random bytes",
                    gemeente=gemeente.code,
                    team=team.id,
                )
            digest = _digest(token)
            if digest in by_digest:
                shared.add(digest)
            by_digest[digest] = TeamIdentity(gemeente.code, team.id)
    for digest in shared:
        log.error("two FB teams share one token; it is refused for both")
        del by_digest[digest]
    return TeamDirectory(by_digest)


def log_refusal(
    exc: ReplyRequestRefused,
    *,
    who: TeamIdentity | None,
    remote_addr: str | None,
    request_id: str,
    method: str,
    route: str,
) -> None:
    """Every refused request, one line: who (when the token named a team), why, from where.
    Cross-tenant attempts show as a team's 404 on a ticket not routed to it."""
    log.warning(
        "replies request refused",
        gemeente=who.gemeente if who else None,
        team=who.team if who else None,
        status=exc.status,
        problem=exc.slug,
        reason=exc.detail[:300],
        remote_addr=remote_addr,
        request_id=request_id,
        method=method,
        route=route,
    )
