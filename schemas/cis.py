"""ConfigurationItem: the CMDB record routing is decided on."""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemas._types import MODEL_CONFIG, GemeenteCode, ShortText, UtcDatetime
from schemas.tickets import Origin, SupplierRef
from schemas.vocab import CiStatus

__all__ = ["CiRelation", "ConfigurationItem"]


class CiRelation(BaseModel):
    """A directed relation, read "<this CI> <kind> <target>" (e.g. "runs on")."""

    model_config = MODEL_CONFIG

    kind: str = Field(description="Relation label from this CI's side, e.g. 'depends_on'.")
    target_record_id: str
    target_name: str | None = None


class ConfigurationItem(BaseModel):
    model_config = MODEL_CONFIG

    hub_id: str
    supplier_ref: SupplierRef
    name: ShortText
    ci_class: str = Field(description="The supplier's class, e.g. cmdb_ci_appl.")
    status: CiStatus = CiStatus.OPERATIONAL
    supplier_status: str | None = None
    gemeenten: tuple[GemeenteCode, ...] = Field(
        default=(), description="CBS codes of the gemeenten that own or use this CI."
    )
    fb_team: str | None = Field(default=None, description="Owning FB team id, when known.")
    technical_supplier: str | None = Field(default=None, description="Supplier id that runs it.")
    gemma_component: str | None = Field(
        default=None, description="GEMMA reference component, e.g. 'Zaakregistratiecomponent'."
    )
    support_group: str | None = None
    relations: tuple[CiRelation, ...] = ()
    deleted: bool = False
    updated_at: UtcDatetime
    version: int = Field(ge=0)
    origin: Origin = Origin()
