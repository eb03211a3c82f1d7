"""Replies API: functioneel beheer answers on its tickets, without the supplier's portal.

``POST /api/v1/tickets/{hub_id}/replies`` with the team's bearer token: a comment (public or
internal), a request for information, accepting or rejecting a resolution, raising the
priority. The reply goes onto ``schakel.replies.v1`` (answered 202 after the broker's ack);
the sync service carries it into the supplier's tool. A team acts only on tickets routed to it.

Run it with ``schakel replies`` (or ``schakel serve replies``): :class:`RepliesService`.
"""

from services.replies.api import API_PREFIX, DEFAULT_SOURCE, create_app, problem_response
from services.replies.auth import TeamDirectory, TeamIdentity, team_directory
from services.replies.errors import (
    InvalidReply,
    NotApplicable,
    RepliesError,
    ReplyNotStored,
    ReplyRequestRefused,
    TicketNotFound,
    Unauthenticated,
)
from services.replies.intake import (
    ReplyBody,
    check_applicable,
    make_reply,
    reply_id_for,
    reply_message,
)
from services.replies.service import RepliesService

__all__ = [
    "API_PREFIX",
    "DEFAULT_SOURCE",
    "InvalidReply",
    "NotApplicable",
    "RepliesError",
    "RepliesService",
    "ReplyBody",
    "ReplyNotStored",
    "ReplyRequestRefused",
    "TeamDirectory",
    "TeamIdentity",
    "TicketNotFound",
    "Unauthenticated",
    "check_applicable",
    "create_app",
    "make_reply",
    "problem_response",
    "reply_id_for",
    "reply_message",
    "team_directory",
]
