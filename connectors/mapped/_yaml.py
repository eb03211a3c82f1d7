"""YAML with locations: the data of a mapping document and where each key and item stands.

The document is composed into nodes with PyYAML's SafeLoader (no tags are constructed, no
code runs) and turned into plain data here, recording the 1-based line and column of every
mapping key and sequence item, so a mistake found later can name its line.

Scalars follow YAML 1.2's core schema, not PyYAML's YAML 1.1: ``~``/``null``/empty is None,
``true``/``false`` are booleans and *every other scalar is text as written* (``Nee``, ``No``,
``01`` and ``1.0`` stay text; numbers are read where a number is meant). Mapping keys are
always text as written. Duplicate keys are reported, not silently overwritten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = ["Loc", "YamlData", "compose"]

Loc = tuple[str | int, ...]

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_MAX_DEPTH = 64


@dataclass(slots=True)
class YamlData:
    """The document's data, the position of every key/item, and the problems found."""

    data: Any = None
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    problems: list[tuple[Loc, str, tuple[int, int] | None]] = field(default_factory=list)

    def position(self, loc: Loc) -> tuple[int, int] | None:
        """The position of ``loc``, or of the nearest enclosing key or item that has one."""
        marks = self.marks
        for end in range(len(loc), -1, -1):
            found = marks.get(loc[:end])
            if found is not None:
                return found
        return None


def compose(text: str) -> YamlData:
    """The data of one YAML document; syntax errors are problems with their position."""
    out = YamlData()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark is not None else None
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "not valid YAML"
        out.problems.append(((), f"not valid YAML: {reason}", where))
        return out
    except yaml.YAMLError as exc:
        out.problems.append(((), f"not valid YAML: {exc}", None))
        return out
    if root is None:
        out.problems.append(((), "the document is empty", None))
        return out
    out.marks[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
    out.data = _Converter(out).value(root, (), ())
    return out


class _Converter:
    __slots__ = ("out",)

    def __init__(self, out: YamlData) -> None:
        self.out = out

    def value(self, node: yaml.Node, loc: Loc, active: tuple[int, ...]) -> Any:
        if id(node) in active or len(active) > _MAX_DEPTH:
            self._problem(loc, "an alias refers to its own ancestor (recursive document)", node)
            return None
        active = (*active, id(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc, active)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.out.marks[(*loc, index)] = _pos(item)
                items.append(self.value(item, (*loc, index), active))
            return items
        return scalar(node)

    def _mapping(self, node: yaml.MappingNode, loc: Loc, active: tuple[int, ...]) -> Any:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(loc, "a key must be a plain text, not a list or mapping", key_node)
                continue
            key = str(key_node.value)
            if key == "<<" and key_node.tag == "tag:yaml.org,2002:merge":
                self._problem(loc, "merge keys (<<) are not supported in a mapping", key_node)
                continue
            if key in result:
                self._problem((*loc, key), f"duplicate key '{key}'", key_node)
                continue
            self.out.marks[(*loc, key)] = _pos(key_node)
            result[key] = self.value(value_node, (*loc, key), active)
        return result

    def _problem(self, loc: Loc, reason: str, node: yaml.Node) -> None:
        self.out.problems.append((loc, reason, _pos(node)))


def scalar(node: yaml.Node) -> str | bool | None:
    text = str(node.value)
    if getattr(node, "style", None):  # quoted or block scalar: always text
        return text
    if _NULL.fullmatch(text):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return text


def _pos(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)
