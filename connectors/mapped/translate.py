"""A supplier's own JSON -> common model, by a declarative YAML mapping.

A supplier without one of the known ITSM tools is onboarded by writing a mapping document
(``config/mappings/<supplier>.yaml``) instead of a connector. The mapping is loaded, checked
against the common model and compiled when the translator is built, so a wrong mapping stops
the hub at start-up with the file, line and reason (:class:`MappingError`), and translating
a payload only walks precompiled paths and lookup tables.

The mapping language
--------------------
Top level: ``mapping_version: 1``, optional ``description``, ``timezone`` (IANA name, for
datetimes without an offset; default the supplier's ``timezone``), ``value_maps`` (named
lookup tables ``{supplier code: common value}``, overridable per supplier by the hub
configuration's ``value_maps``) and one block per entity kind it handles: ``incident``,
``change``, ``ci``. An entity block says:

- ``when: {path, equals}``: the payloads it reads (value compared ignoring case and spaces);
- ``record_id``, ``number``, ``updated_at``, ``version`` (a counter, or a datetime with a
  ``format``, read as epoch ms; default ``updated_at`` in epoch ms), ``event_key`` (the paths
  whose values make one supplier event, after ``<kind>:<record_id>``), ``created_when`` and
  ``deleted_when`` (conditions for the event's action; default ``updated``);
- ``fields``: common-model field (``title``, ``status``, ``ci.name``, ``resolution.code``,
  ``supplier_ref.correlation_id``, ``origin.actor``, ...) -> a *field spec*;
- ``comments``: ``path`` to a list, and field specs per item for ``body``, ``id``,
  ``author``, ``created_at`` and ``visibility`` (to ``public``/``internal``; default internal).

A field spec is a path (``applicatie.naam``, ``notities[0].tekst``), a list of alternative
paths, or a mapping of: ``path``, ``value_map`` (with ``unmapped: error | keep | default``),
``format`` (``iso8601``, ``epoch_ms``, ``epoch_s`` or a strftime pattern) and ``timezone``
for datetimes, ``default``, ``required``, ``join`` (a list of texts as one text), or a
``constant``. See :mod:`connectors.mapped.model` for an example and
:mod:`connectors.mapped._entity` for the rules the common model implies.

Payloads
--------
One JSON object per record. Not JSON or not an object is MalformedPayload; an object
without any ``when`` path is MalformedPayload, with a value no entity claims
UnsupportedPayload; a required value that is absent is MissingField; a value that cannot be
read (unknown code, bad datetime, wrong shape) is InvalidValue.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from connectors._base import InboundRecord, SupplierContext, Translation
from connectors.errors import MalformedPayload, UnsupportedPayload
from connectors.mapped._compile import CompiledMapping, compile_mapping, fold
from connectors.mapped._readers import code_text
from connectors.mapped.loader import load_mapping, mapping_path
from schemas import SupplierSystem

__all__ = ["MappedTranslator", "check_mapping"]


def check_mapping(ctx: SupplierContext) -> CompiledMapping:
    """Load and compile the supplier's mapping (``ctx.options``); MappingError if wrong."""
    return compile_mapping(load_mapping(mapping_path(ctx.options)), ctx)


class MappedTranslator:
    """Translates one supplier's payloads with its declarative mapping."""

    system = SupplierSystem.MAPPED

    def __init__(self, ctx: SupplierContext) -> None:
        self.ctx = ctx
        compiled = check_mapping(ctx)
        self._dispatch = compiled.dispatch
        self._described = compiled.described
        self._paths = " or ".join(f"'{path}'" for _, path, _ in compiled.dispatch)

    def translate(self, record: InboundRecord) -> Sequence[Translation]:
        try:
            doc = orjson.loads(record.value)
        except orjson.JSONDecodeError as exc:
            raise MalformedPayload(f"not valid JSON: {exc}") from None
        if type(doc) is not dict:
            raise MalformedPayload("a payload of this supplier is a JSON object")
        seen: object = None
        for get, path, table in self._dispatch:
            value = get(doc)
            if value is None or value == "":
                continue
            seen = value
            reader = table.get(value) if type(value) is str else None
            if reader is None and type(value) not in (dict, list):
                reader = table.get(fold(code_text(value, path)))
            if reader is not None:
                return [reader.translate(doc)]
        if seen is None:
            raise MalformedPayload(f"no {self._paths} to tell what the payload is")
        if type(seen) in (dict, list):
            raise MalformedPayload(f"{self._paths} holds a {type(seen).__name__}, not a code")
        shown = repr(seen) if len(repr(seen)) <= 60 else repr(seen)[:57] + "..."
        raise UnsupportedPayload(
            f"{shown} is not a kind of record this mapping translates ({self._described})"
        )
