"""Reading Jira's native shapes defensively: any JSON value may stand where an object is due.

Jira sends rich text in two forms: wiki markup as a plain string (webhooks, REST v2) and
Atlassian Document Format documents (REST v3), read here into plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.errors import MalformedPayload

__all__ = [
    "JsonObject",
    "adf_text",
    "fold",
    "header",
    "id_text",
    "label",
    "obj",
    "rich_text",
    "text",
]

JsonObject = dict[str, Any]

_EMPTY: JsonObject = {}

#: ADF inline nodes that carry their text in ``attrs``: node type -> attribute names, in order.
_INLINE_ATTRS: dict[str, tuple[str, ...]] = {
    "mention": ("text", "id"),
    "emoji": ("text", "shortName"),
    "status": ("text",),
    "inlineCard": ("url",),
}
_END_OF_BLOCK = object()


def obj(value: object, where: str) -> JsonObject:
    """``value`` when it is a JSON object, {} when absent; MalformedPayload otherwise."""
    if isinstance(value, dict):
        return value
    if value is None:
        return _EMPTY
    raise MalformedPayload(f"Jira '{where}' is not a JSON object")


def text(value: object) -> str:
    """A string field as text; "" for absent or for a value of another type."""
    return value if isinstance(value, str) else ""


def id_text(value: object) -> str:
    """An id that Jira sends as a string ("10021") and some tools as a number."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def label(value: object) -> str:
    """The shown label of a field: a string, ``name``/``value``/``displayName`` of an object
    (select option, component, group, user), or the first such label of a list."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        for item in value:
            found = item.strip() if isinstance(item, str) else _object_label(item)
            if found:
                return found
        return ""
    return _object_label(value)


def _object_label(value: object) -> str:
    if isinstance(value, dict):
        for key in ("name", "value", "displayName", "label"):
            shown = value.get(key)
            if isinstance(shown, str) and shown.strip():
                return shown.strip()
    return ""


def fold(code: str) -> str:
    """Case- and space-insensitive form of a label (as :class:`ValueMap` compares them)."""
    return " ".join(code.split()).casefold()


def header(headers: Mapping[str, bytes], name: str) -> str:
    """A header's value as text ("" when absent); header names compare case-insensitively."""
    raw = headers.get(name)
    if raw is None:
        lowered = name.lower()
        raw = headers.get(lowered)
        if raw is None:
            for key, value in headers.items():
                if key.lower() == lowered:
                    raw = value
                    break
    if isinstance(raw, bytes | bytearray):
        return bytes(raw).decode("utf-8", "replace").strip()
    if isinstance(raw, str):
        return raw.strip()
    return ""


def rich_text(value: object, where: str) -> str:
    """Wiki markup (a string, kept as written) or an ADF document read into plain text."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return adf_text(value)
    raise MalformedPayload(f"Jira '{where}' is neither text nor an ADF document")


def adf_text(document: Mapping[str, Any]) -> str:
    """The plain text of an Atlassian Document Format document.

    Each block (paragraph, heading, list item, code block, table cell, ...) becomes one line;
    blank blocks are left out; a hard break is a newline inside its line. Mentions, emoji,
    status lozenges and inline cards give their text. Iterative, so nesting depth is no risk.
    """
    lines: list[str] = []
    parts: list[str] = []
    stack: list[object] = [document]
    while stack:
        node = stack.pop()
        if node is _END_OF_BLOCK:
            _flush(parts, lines)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "text":
            value = node.get("text")
            if isinstance(value, str):
                parts.append(value)
            continue
        if kind == "hardBreak":
            parts.append("\n")
            continue
        names = _INLINE_ATTRS.get(kind) if isinstance(kind, str) else None
        if names is not None:
            attrs = node.get("attrs")
            if isinstance(attrs, dict):
                for attr in names:
                    shown = attrs.get(attr)
                    if isinstance(shown, str) and shown:
                        parts.append(shown)
                        break
            continue
        content = node.get("content")
        if isinstance(content, list):
            _flush(parts, lines)
            stack.append(_END_OF_BLOCK)
            stack.extend(reversed(content))
    _flush(parts, lines)
    return "\n".join(lines)


def _flush(parts: list[str], lines: list[str]) -> None:
    if parts:
        line = "".join(parts)
        parts.clear()
        if line.strip():
            lines.append(line)
