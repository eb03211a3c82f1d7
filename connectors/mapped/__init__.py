"""Declarative mappings: a supplier's own JSON format -> common model, by a YAML document.

``MappedTranslator(ctx)`` reads the mapping named by ``ctx.options["mapping"]`` (relative to
``ctx.options["config_dir"]``), checks it against the common model and compiles it; a wrong
mapping raises :class:`MappingError` with file, line and reason.
"""

from connectors.mapped.errors import MappingError, Problem
from connectors.mapped.loader import LoadedMapping, load_mapping, mapping_path
from connectors.mapped.model import (
    CommentsSpec,
    Condition,
    EntitySpec,
    FieldSpec,
    MappingDocument,
)
from connectors.mapped.translate import MappedTranslator, check_mapping

__all__ = [
    "CommentsSpec",
    "Condition",
    "EntitySpec",
    "FieldSpec",
    "LoadedMapping",
    "MappedTranslator",
    "MappingDocument",
    "MappingError",
    "Problem",
    "check_mapping",
    "load_mapping",
    "mapping_path",
]
