"""Test material for the change calendar: the CI table, changes with windows, configs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from schemas import (
    Change,
    ChangeRisk,
    ChangeStatus,
    ChangeType,
    CiRef,
    EntityKind,
    SupplierRef,
    SupplierSystem,
    hub_id,
)
from services.cmdb import CiTable
from services.config import SchakelConfig
from services.config.changes import ChangesConfig

__all__ = ["T0", "CiTable", "change", "with_changes"]

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def change(
    record_id: str,
    start: datetime | None,
    end: datetime | None,
    *,
    ci: str | None = None,
    ci_record: str | None = None,
    supplier: str = "kpn",
    title: str | None = None,
    change_type: ChangeType = ChangeType.NORMAL,
    status: ChangeStatus = ChangeStatus.SCHEDULED,
    approval: str | None = "approved",
    version: int = 1,
    actual_start: datetime | None = None,
    actual_end: datetime | None = None,
    close_code: str | None = None,
    number: str | None = None,
) -> Change:
    ref = CiRef(name=ci, record_id=ci_record) if (ci or ci_record) else None
    return Change(
        hub_id=hub_id(supplier, EntityKind.CHANGE, record_id),
        supplier_ref=SupplierRef(
            supplier=supplier,
            system=SupplierSystem.SERVICENOW,
            record_id=record_id,
            number=number or record_id.upper(),
        ),
        title=title or f"Wijziging {record_id}",
        change_type=change_type,
        status=status,
        risk=ChangeRisk.MODERATE,
        ci=ref,
        approval=approval,
        planned_start=start,
        planned_end=end,
        actual_start=actual_start,
        actual_end=actual_end,
        close_code=close_code,
        updated_at=T0,
        version=version,
    )


def with_changes(base: SchakelConfig, **changes: Any) -> SchakelConfig:
    """``base`` with a ``changes:`` section made of ``changes`` (validated as the YAML is)."""
    return base.model_copy(update={"changes": ChangesConfig.model_validate(changes)})


def names(items: Sequence[Any]) -> list[str]:
    return [getattr(i, "name", str(i)) for i in items]
