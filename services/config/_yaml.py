"""YAML on the node level: plain data plus the position of every value.

PyYAML's ``safe_load`` forgets where a value came from and silently keeps the last of two
equal keys. Here the document is composed into nodes (``yaml.compose`` with the safe
loader), converted to plain data by hand, and kept, so that a location such as
``("suppliers", 2, "kvk")`` can be turned back into a line and column.

Supported: the YAML 1.1 scalars of the safe loader, anchors and aliases, and merge keys
(``<<: *defaults``). Rejected with a problem: duplicate keys, keys that are not scalars,
recursive aliases and tags other than the standard ones.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from services.config._problems import Loc, format_loc
from services.config.errors import ConfigError, ConfigProblem

__all__ = ["Document", "compose"]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INVALID = object()


def _line_col_of(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def compose(text: str, file: str) -> Node | None:
    """The node tree of a single YAML document, or None for an empty one.

    Syntax errors become a :class:`ConfigError` at the position PyYAML reports.
    """
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or str(exc)
        if exc.context:
            started = exc.context_mark
            if started is not None and exc.problem_mark is not None and started != mark:
                message = (
                    f"{exc.context} (started at line {started.line + 1}, "
                    f"column {started.column + 1}): {message}"
                )
            else:
                message = f"{exc.context}: {message}"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise ConfigError([ConfigProblem(file, line, column, "", message)]) from None
    except yaml.reader.ReaderError as exc:
        line, column = _line_col_of(text, exc.position)
        raise ConfigError(
            [ConfigProblem(file, line, column, "", f"invalid character: {exc.reason}")]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(file, None, None, "", str(exc))]) from None


@dataclass(frozen=True, slots=True)
class _Entry:
    key: Hashable
    key_node: Node
    value_node: Node


class Document:
    """A composed YAML document: its plain data and the way back from locations to lines."""

    def __init__(self, root: Node, file: str) -> None:
        self._root = root
        self._file = file
        self._constructor = SafeConstructor()
        self._converted: dict[int, Any] = {}
        self._active: set[int] = set()
        self._problems: list[ConfigProblem] = []
        self._data = self._convert(root, ())

    @property
    def data(self) -> Any:
        """The document as dicts, lists and scalars."""
        return self._data

    @property
    def problems(self) -> list[ConfigProblem]:
        """What is wrong with the document on the YAML level (duplicate keys and the like)."""
        return sorted(self._problems, key=lambda p: (p.line or 0, p.column or 0))

    def problem(self, loc: Loc, message: str) -> ConfigProblem:
        """A problem at the node that ``loc`` (a pydantic error location) points to."""
        node, path = self._locate(loc)
        return self._at(node, path, message)

    # -- conversion --------------------------------------------------------------------

    def _at(self, node: Node, path: Loc, message: str) -> ConfigProblem:
        mark = node.start_mark
        return ConfigProblem(self._file, mark.line + 1, mark.column + 1, format_loc(path), message)

    def _convert(self, node: Node, path: Loc) -> Any:
        key = id(node)
        if key in self._converted:
            return self._converted[key]
        if key in self._active:
            self._problems.append(self._at(node, path, "recursive alias"))
            return None
        self._active.add(key)
        try:
            value = self._convert_new(node, path)
        finally:
            self._active.discard(key)
        self._converted[key] = value
        return value

    def _convert_new(self, node: Node, path: Loc) -> Any:
        if isinstance(node, MappingNode):
            if node.tag != _MAP_TAG:
                self._problems.append(self._at(node, path, f"unsupported tag {node.tag!r}"))
                return None
            entries = self._entries(node, path, report=True)
            return {e.key: self._convert(e.value_node, (*path, _loc_key(e.key))) for e in entries}
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                self._problems.append(self._at(node, path, f"unsupported tag {node.tag!r}"))
                return None
            return [self._convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _scalar(self, node: Node, path: Loc) -> Any:
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            message = exc.problem or str(exc)
        # The safe constructor raises plain Python errors too, such as ValueError for
        # "2025-02-30", which resolves as a timestamp.
        except Exception as exc:
            message = f"cannot read value: {exc}"
        self._problems.append(self._at(node, path, message))
        return None

    def _key(self, node: Node, path: Loc, *, report: bool) -> object:
        """The constructed key, or :data:`_INVALID` for keys that are not plain scalars."""
        if isinstance(node, ScalarNode):
            if report:
                value = self._scalar(node, path)
            else:
                try:
                    value = self._constructor.construct_object(node, deep=True)
                except Exception:
                    return _INVALID
            if isinstance(value, Hashable):
                return value
        if report:
            self._problems.append(self._at(node, path, "a mapping key must be a plain scalar"))
        return _INVALID

    def _entries(
        self,
        node: MappingNode,
        path: Loc,
        *,
        report: bool,
        visiting: frozenset[int] = frozenset(),
    ) -> list[_Entry]:
        """The effective entries of a mapping: its own keys, then merged ones not overridden.

        Earlier merge sources win over later ones. With ``report``, duplicate and invalid
        keys and bad merge sources are recorded as problems.
        """
        visiting = visiting | {id(node)}
        entries: list[_Entry] = []
        merged: list[_Entry] = []
        seen: dict[Hashable, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged += self._merged(value_node, path, report=report, visiting=visiting)
                continue
            key = self._key(key_node, path, report=report)
            if not isinstance(key, Hashable) or key is _INVALID:
                continue
            if key in seen:
                if report:
                    first = seen[key].start_mark.line + 1
                    self._problems.append(
                        self._at(
                            key_node,
                            (*path, _loc_key(key)),
                            f"duplicate key {key!r} (first defined on line {first})",
                        )
                    )
                continue
            seen[key] = key_node
            entries.append(_Entry(key, key_node, value_node))
        for entry in merged:
            if entry.key not in seen:
                seen[entry.key] = entry.key_node
                entries.append(entry)
        return entries

    def _merged(
        self, node: Node, path: Loc, *, report: bool, visiting: frozenset[int]
    ) -> list[_Entry]:
        # The merged mappings are anchored elsewhere in the document and checked there, so
        # their own keys are read without reporting.
        sources = node.value if isinstance(node, SequenceNode) else [node]
        entries: list[_Entry] = []
        for source in sources:
            if isinstance(source, MappingNode) and id(source) not in visiting:
                entries += self._entries(source, path, report=False, visiting=visiting)
            elif report:
                message = "a merge key (<<) takes a mapping or a list of mappings"
                self._problems.append(self._at(source, path, message))
        return entries

    # -- locations ---------------------------------------------------------------------

    def _locate(self, loc: Loc) -> tuple[Node, Loc]:
        """The node a pydantic location points to, and the location as written in the file.

        Items that have no counterpart in the document are skipped: the tag of a
        discriminated union ("webhook") and branch names after a scalar. A missing field
        (the last item, not in its mapping) points at the mapping and keeps its name.
        """
        node = self._root
        path: list[str | int] = []
        key_node: Node | None = None
        for position, item in enumerate(loc):
            last = position == len(loc) - 1
            if item == "[key]" and key_node is not None:
                node, key_node = key_node, None
                continue
            if (
                isinstance(node, SequenceNode)
                and isinstance(item, int)
                and 0 <= item < len(node.value)
            ):
                node, key_node = node.value[item], None
                path.append(item)
                continue
            if isinstance(node, MappingNode):
                entry = next(
                    (e for e in self._entries(node, (), report=False) if _same_key(e.key, item)),
                    None,
                )
                if entry is not None:
                    node, key_node = entry.value_node, entry.key_node
                    path.append(item)
                elif last:
                    path.append(item)
        return node, tuple(path)


def _loc_key(key: Hashable) -> str | int:
    if isinstance(key, int) and not isinstance(key, bool):
        return key
    return str(key)


def _same_key(key: Hashable, item: str | int) -> bool:
    if isinstance(item, int):
        return key == item and not isinstance(key, bool)
    return key == item or (not isinstance(key, str) and str(key) == item)
