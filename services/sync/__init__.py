"""Sync (eBonding): replies from functioneel beheer flow back into the supplier's own tool.

Reads ``schakel.replies.v1``; turns each reply into the supplier system's native request
(:mod:`connectors.outbound`), publishes it on ``schakel.outbound.<supplier>`` and, where the
supplier has an API configured, sends it with retries, rate-limit handling and a dead letter
after the limit. Keeps the tickets' correlations and routes (:mod:`services.tickets`) from
the normalised and gemeente topics. Idempotent on the reply id; everything it writes is
marked, so the supplier's echo of it produces no new event.
"""

from services.sync.correlate import CorrelationBatch, read_batch
from services.sync.errors import (
    NotRoutedToTeam,
    ReplyRefused,
    SupplierCallFailed,
    SupplierRejected,
    SupplierUnavailable,
    SyncError,
    TransientCallError,
    UnknownTicket,
    UnreadableReply,
    Untranslatable,
)
from services.sync.service import CORRELATION_GROUP, GROUP_ID, SyncService
from services.sync.supplier_api import SUPPLIER_POLICY, CallResult, SupplierApi, authorization
from services.sync.syncer import (
    BatchResult,
    Syncer,
    command_message,
    decode_reply,
    plan_commands,
    reply_digest,
)

__all__ = [
    "CORRELATION_GROUP",
    "GROUP_ID",
    "SUPPLIER_POLICY",
    "BatchResult",
    "CallResult",
    "CorrelationBatch",
    "NotRoutedToTeam",
    "ReplyRefused",
    "SupplierApi",
    "SupplierCallFailed",
    "SupplierRejected",
    "SupplierUnavailable",
    "SyncError",
    "SyncService",
    "Syncer",
    "TransientCallError",
    "UnknownTicket",
    "UnreadableReply",
    "Untranslatable",
    "authorization",
    "command_message",
    "decode_reply",
    "plan_commands",
    "read_batch",
    "reply_digest",
]
