"""Normaliser: native supplier payloads -> NL GOV CloudEvents with the common model."""

from services.normaliser.app import GROUP_ID, build_normaliser, register
from services.normaliser.pipeline import (
    BatchResult,
    Normaliser,
    RawRecord,
    SupplierRoute,
    VersionGate,
)
from services.normaliser.seed import seed_gate
from services.normaliser.transforms import redact_bsn, redact_entity

__all__ = [
    "GROUP_ID",
    "BatchResult",
    "Normaliser",
    "RawRecord",
    "SupplierRoute",
    "VersionGate",
    "build_normaliser",
    "redact_bsn",
    "redact_entity",
    "register",
    "seed_gate",
]
