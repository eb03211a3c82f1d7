"""Journal text shared by systems that send comments as one formatted string."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

__all__ = ["JournalEntry", "split_journal"]

_HEADER = re.compile(
    r"^(?P<at>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) - (?P<author>.+?)"
    r" \((?P<label>[^()\n]+)\)[ \t]*$",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    created_at: datetime | None
    author: str | None
    label: str | None
    body: str


def split_journal(text: str, tz: tzinfo) -> list[JournalEntry]:
    """Entries of ``"<datetime> - <author> (<label>)\\n<text>\\n\\n"`` blocks, oldest first.

    Text without such headers is one entry with no author or time. Datetimes in journal
    display values are in the reading user's timezone, given as ``tz``.
    """
    text = text.strip()
    if not text:
        return []
    headers = list(_HEADER.finditer(text))
    if not headers:
        return [JournalEntry(None, None, None, text)]
    entries = []
    for index, match in enumerate(headers):
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        body = text[match.end() : end].strip()
        try:
            at: datetime | None = datetime.fromisoformat(match["at"]).replace(tzinfo=tz)
        except ValueError:  # an impossible date in a header: keep the entry, without a time
            at = None
        entries.append(JournalEntry(at, match["author"].strip(), match["label"].strip(), body))
    entries.sort(key=lambda e: e.created_at or datetime.min.replace(tzinfo=tz))
    return entries
