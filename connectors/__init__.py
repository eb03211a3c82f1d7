"""Connectors: one package per supplier system, translating native <-> common.

A connector imports :mod:`schemas`, never :mod:`services`. :func:`translator_for` builds the
translator of a supplier's system once; it is then used for every record of that supplier.
"""

from __future__ import annotations

from importlib import import_module

from connectors._base import (
    NO_HEADERS,
    Entity,
    InboundRecord,
    SupplierContext,
    Translation,
    Translator,
    TranslatorFactory,
)
from connectors.errors import (
    AuthenticationFailed,
    ConnectorError,
    InvalidValue,
    MalformedPayload,
    MissingField,
    UnsupportedPayload,
)
from schemas import SupplierSystem

__all__ = [
    "NO_HEADERS",
    "AuthenticationFailed",
    "ConnectorError",
    "Entity",
    "InboundRecord",
    "InvalidValue",
    "MalformedPayload",
    "MissingField",
    "SupplierContext",
    "Translation",
    "Translator",
    "TranslatorFactory",
    "UnsupportedPayload",
    "translator_for",
]

#: system -> "module:factory"; imported lazily so a broken connector cannot stop the others.
_FACTORIES: dict[SupplierSystem, str] = {
    SupplierSystem.SERVICENOW: "connectors.servicenow:ServiceNowTranslator",
    SupplierSystem.TOPDESK: "connectors.topdesk:TopdeskTranslator",
    SupplierSystem.JIRA: "connectors.jira:JiraTranslator",
    SupplierSystem.XURRENT: "connectors.xurrent:XurrentTranslator",
    SupplierSystem.MAPPED: "connectors.mapped:MappedTranslator",
}


def translator_for(ctx: SupplierContext) -> Translator:
    """The translator for ``ctx.system``, built for this supplier."""
    module_name, _, attr = _FACTORIES[ctx.system].partition(":")
    factory: TranslatorFactory = getattr(import_module(module_name), attr)
    return factory(ctx)
