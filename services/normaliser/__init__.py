"""Normaliser: native supplier payloads -> NL GOV CloudEvents with the common model."""

from services.normaliser.pipeline import (
    BatchResult,
    Normaliser,
    RawRecord,
    SupplierRoute,
    VersionGate,
)
from services.normaliser.seed import seed_gate
from services.normaliser.service import (
    GROUP_ID,
    NormaliserService,
    build_normaliser,
)
from services.normaliser.transforms import redact_bsn, redact_entity

__all__ = [
    "GROUP_ID",
    "BatchResult",
    "Normaliser",
    "NormaliserService",
    "RawRecord",
    "SupplierRoute",
    "VersionGate",
    "build_normaliser",
    "redact_bsn",
    "redact_entity",
    "seed_gate",
]
