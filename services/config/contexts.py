"""What is derived from the configuration for the connectors: a supplier's context.

A connector knows a supplier only through its :class:`~connectors.SupplierContext` (id,
system, source URN, value maps, time zone, options, Schakel's own markers). Every service
that runs a connector (the normaliser translating, sync writing back, ``cmdb import``,
``schakel config check``) builds it here, from the same configuration, the same way.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from connectors import SupplierContext
from schemas import SupplierSystem
from services.config.models import SchakelConfig, SupplierConfig

__all__ = ["config_dir", "supplier_context", "supplier_contexts"]


def config_dir(config: SchakelConfig) -> str | None:
    """The directory of the configuration file (mapping files are relative to it)."""
    return str(config.source_path.parent) if config.source_path else None


def supplier_context(supplier: SupplierConfig, config_dir: str | None = None) -> SupplierContext:
    """What a connector may know of a supplier, from the hub configuration."""
    options: dict[str, str] = dict(supplier.options)
    if supplier.mapping:
        options["mapping"] = supplier.mapping
    if config_dir:
        options["config_dir"] = config_dir
    return SupplierContext(
        supplier=supplier.id,
        system=SupplierSystem(supplier.system),
        source=supplier.source_urn,
        value_maps=supplier.value_maps,
        timezone=ZoneInfo(supplier.timezone),
        options=options,
        schakel_marker=supplier.schakel_marker,
        schakel_accounts=frozenset(a.casefold() for a in supplier.schakel_accounts),
    )


def supplier_contexts(config: SchakelConfig) -> dict[str, SupplierContext]:
    """The context of every configured supplier, by supplier id."""
    directory = config_dir(config)
    return {s.id: supplier_context(s, directory) for s in config.suppliers}
