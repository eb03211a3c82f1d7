"""ServiceNow -> common model: finds each record's table and hands it to that table's reader.

Tables: ``incident`` (:mod:`._incident`), ``change_request`` (:mod:`._change`), every CMDB
class (``cmdb_ci*``, site classes ``u_cmdb_ci*``, ``service_offering``) and the relation table
``cmdb_rel_ci`` (:mod:`._cmdb`). The table is read from ``sys_class_name`` (a table name, or
its display label such as "Incident"), else the ``schakel-table`` header, else the number
prefix (INC, CHG), else the shape: ``cmdb_rel_ci`` is not extensible, so its records carry no
``sys_class_name`` but always ``parent``, ``child`` and ``type``.

Business rules may say what happened: a record field ``operation`` or the header
``schakel-operation`` holding ``insert``, ``update`` or ``delete`` (``current.operation()``).
Deletions are translated for CMDB records; for tickets they are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from connectors._base import InboundRecord, SupplierContext, Translation
from connectors.errors import MalformedPayload, UnsupportedPayload
from connectors.servicenow._change import ChangeReader
from connectors.servicenow._cmdb import CiReader
from connectors.servicenow._common import Shared, header_text, operation_of
from connectors.servicenow._incident import IncidentReader
from connectors.servicenow._native import Record, raw, records_of
from schemas import SupplierSystem
from schemas.wire import OPERATION, TABLE

__all__ = ["ServiceNowTranslator", "is_ci_table"]

_TABLES = {
    "incident": "incident",
    "change_request": "change_request",
    "change request": "change_request",
    "cmdb_rel_ci": "cmdb_rel_ci",
    "ci relationship": "cmdb_rel_ci",
}
_CI_PREFIXES = ("cmdb_ci", "u_cmdb_ci")
_CI_TABLES = frozenset({"cmdb_ci", "service_offering"})
_NUMBER_PREFIXES = (("INC", "incident"), ("CHG", "change_request"))


class ServiceNowTranslator:
    """Translates one supplier's ServiceNow records (raw, display or both forms)."""

    system = SupplierSystem.SERVICENOW

    def __init__(self, ctx: SupplierContext) -> None:
        self.ctx = ctx
        shared = Shared(ctx)
        self._incident = IncidentReader(ctx, shared)
        self._change = ChangeReader(ctx, shared)
        self._cmdb = CiReader(ctx, shared)

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        try:
            document = orjson.loads(record.value)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"not valid JSON: {exc}") from None
        records = records_of(document)
        if not records:
            raise UnsupportedPayload("ServiceNow response holds no records")
        headers = record.headers
        if headers:
            hint = header_text(headers, TABLE) or header_text(headers, "x-snc-table")
            op_header = header_text(headers, OPERATION)
        else:
            hint = op_header = ""
        if len(records) == 1:
            return [self._one(records[0], hint, op_header)]
        return [self._one(rec, hint, op_header) for rec in records]

    def _one(self, rec: Record, hint: str, op_header: str) -> Translation:
        table = table_of(rec, hint)
        operation = operation_of(rec, op_header) if op_header or "operation" in rec else None
        if table == "incident":
            return self._incident.translate(rec, operation)
        if table == "change_request":
            return self._change.translate(rec, operation)
        if table == "cmdb_rel_ci":
            return self._cmdb.relation(rec, operation)
        if is_ci_table(table):
            return self._cmdb.item(rec, table, operation)
        raise UnsupportedPayload(f"ServiceNow table '{table}' is not handled")


def is_ci_table(name: str) -> bool:
    return name.startswith(_CI_PREFIXES) or name in _CI_TABLES


def table_of(rec: Record, hint: str = "") -> str:
    """The record's table: ``sys_class_name``, else the header hint, else the number prefix."""
    declared = raw(rec, "sys_class_name").strip()
    if declared == "incident":
        return declared
    if declared:
        folded = declared.casefold()
        known = _TABLES.get(folded)
        if known is not None:
            return known
        if is_ci_table(folded):
            return folded
    if hint:
        folded = hint.casefold()
        return _TABLES.get(folded, folded)
    number = raw(rec, "number").strip().upper()
    for prefix, name in _NUMBER_PREFIXES:
        if number.startswith(prefix):
            return name
    if not declared and "parent" in rec and "child" in rec and "type" in rec:
        return "cmdb_rel_ci"  # not an extensible table, so its records have no sys_class_name
    if declared:
        return declared
    raise UnsupportedPayload("cannot tell the ServiceNow table (no sys_class_name or number)")
