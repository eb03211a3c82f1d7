"""The feed: the regie's cockpit over every outcome of the hub.

A projector (batch subscriber on every outcome topic) keeps a read model in the store
(SQLite by default, PostgreSQL in production; schema by Alembic migrations); an HTTP API under
``/api/v1`` and server-rendered pages in Dutch show it, with live updates. Every ticket's
timeline is its audit trail, hash-chained (``schakel audit verify``); the read model can be
rebuilt from the topics (``schakel feed rebuild``).
"""

from services.feed.chain import ChainProblem, verify_chain
from services.feed.errors import FeedError
from services.feed.rebuild import OUTCOME_PATTERN, RebuildReport, outcome_topics, rebuild
from services.feed.service import GROUP_ID, SERVICE, FeedService
from services.feed.store import ReadModel, Scope, TicketQuery, migrate

__all__ = [
    "GROUP_ID",
    "OUTCOME_PATTERN",
    "SERVICE",
    "ChainProblem",
    "FeedError",
    "FeedService",
    "ReadModel",
    "RebuildReport",
    "Scope",
    "TicketQuery",
    "migrate",
    "outcome_topics",
    "rebuild",
    "verify_chain",
]
