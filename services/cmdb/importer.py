"""``schakel cmdb import FILE``: a CMDB export onto ``schakel.cis.v1``.

Every CI of the export becomes a :class:`~schemas.ConfigurationItem` CloudEvent (type
``nl.itsm.ci.updated.v1``, or ``.deleted.v1``), keyed by its hub id, exactly as the normaliser
would publish it, so the router's CMDB table takes it like any other CI update. The CIs belong
to one supplier (``--supplier``, a supplier of the hub configuration): its id makes the hub
ids (``hub_id(supplier, ci, record_id)``) and its system the ``SupplierRef``; its KvK number
and system name make the CloudEvents ``source``.

Formats (``--format``, else by the file: ``.csv``; JSON with ``"result"`` is ServiceNow;
other JSON is a list):

**csv** -- UTF-8 (a BOM is fine), comma or semicolon separated, one header row naming these
columns (any order; unknown columns are refused, so a typo does not drop data silently):

===================== ======== ========================================================
column                required meaning
===================== ======== ========================================================
``record_id``         yes      the CI's immutable id in the source CMDB
``name``              yes      the CI's name, as tickets name it
``ci_class``          no       class, e.g. ``cmdb_ci_appl`` (default ``cmdb_ci``)
``status``            no       operational, non_operational, repair, standby, planned,
                               retired (default operational)
``gemeenten``         no       CBS codes, separated by ``;``, ``,`` or spaces
``fb_team``           no       owning FB team id
``gemma_component``   no       GEMMA reference component
``technical_supplier`` no      supplier id that runs it (default: ``--supplier``)
``support_group``     no       the supplier's support group
``number``            no       the human CI number
``relations``         no       ``kind:target_record_id`` pairs separated by ``;``, read
                               "<this CI> <kind> <target>", e.g.
                               ``runs_on:srv-001;depends_on:db-007``
``updated_at``        no       ISO 8601 with zone (default: the time of the import)
``version``           no       integer; higher is newer (default: ``updated_at`` in ms)
``deleted``           no       ``true`` removes the CI
===================== ======== ========================================================

**json** -- a list of objects with the same keys; ``gemeenten`` may be a list of codes and
``relations`` a list of ``{"kind", "target_record_id", "target_name"}`` objects.

**servicenow** -- a Table API export of ``cmdb_ci`` (or a subclass, or ``cmdb_rel_ci``):
``{"result": [...]}``, raw or display values, read by the ServiceNow connector with the
supplier's options (``ci_field_gemeenten`` etc.), so an imported CI is identical to the same
record arriving live.

An export with invalid rows (or a record id twice) is refused as a whole before anything is
published (:class:`~services.cmdb.errors.CmdbImportError`, every bad row with its reason),
unless ``skip_invalid`` is set; then the valid rows are published and the rest reported.
Publishing goes in chunks (one produce request per partition per chunk, acknowledged before
the next chunk is awaited), with a progress bar when a console is given. Importing the same
file twice gives the same event ids.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from connectors import ConnectorError, InboundRecord
from connectors.kit import gemeente_codes
from connectors.servicenow import ServiceNowTranslator
from schemas import ConfigurationItem, EntityKind, SupplierSystem, event_id, hub_id
from schemas.topics import CIS
from schemas.wire import TABLE, encode_normalised
from services.cmdb.errors import CmdbImportError, ImportProblem
from services.config import SupplierConfig, supplier_context
from services.kafka import wait_for_broker
from services.messaging import KafkaBatchPublisher, OutboundMessage, Publisher

__all__ = [
    "CSV_COLUMNS",
    "ExportFormat",
    "ImportReport",
    "ci_message",
    "cmdb_import",
    "detect_format",
    "read_export",
]

ExportFormat = Literal["csv", "json", "servicenow"]

#: The CSV header (and JSON keys) the import understands; the first two are required.
CSV_COLUMNS = (
    "record_id",
    "name",
    "ci_class",
    "status",
    "gemeenten",
    "fb_team",
    "gemma_component",
    "technical_supplier",
    "support_group",
    "number",
    "relations",
    "updated_at",
    "version",
    "deleted",
)
_REQUIRED = ("record_id", "name")
_KNOWN = frozenset(CSV_COLUMNS)
_TRUE = frozenset({"true", "1", "yes", "ja", "y", "j"})
_FALSE = frozenset({"false", "0", "no", "nee", "n", ""})


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    file: str
    format: ExportFormat
    published: int
    skipped: tuple[ImportProblem, ...]
    read_seconds: float
    publish_seconds: float

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.publish_seconds


def detect_format(path: Path, head: bytes) -> ExportFormat:
    """The format of an export: by extension, else by its first bytes."""
    if path.suffix.casefold() == ".csv":
        return "csv"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start == b"{":
        return "servicenow"
    if start == b"[":
        return "json"
    return "csv"


# --- reading ---------------------------------------------------------------------------


def _gemeenten(value: object) -> list[str]:
    """The connectors' one rule for CBS codes (so "0505" and "gm0505" are GM0505 here too)."""
    try:
        return list(gemeente_codes(value, "gemeenten"))
    except ConnectorError as exc:
        raise ValueError(exc.reason) from None


def _relations(value: object) -> list[dict[str, Any]]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [dict(v) if isinstance(v, dict) else {"bad": v} for v in value]
    relations = []
    for part in str(value).split(";"):
        part = part.strip()
        if not part:
            continue
        kind, sep, target = part.partition(":")
        if not sep or not kind.strip() or not target.strip():
            raise ValueError(f"relation {part!r} is not 'kind:target_record_id'")
        relations.append({"kind": kind.strip(), "target_record_id": target.strip()})
    return relations


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"deleted must be true or false, not {value!r}")


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _Builder:
    """Turns rows of the csv/json formats into ConfigurationItems of one supplier."""

    def __init__(self, supplier: SupplierConfig, now: datetime) -> None:
        self.supplier = supplier.id
        self.system = SupplierSystem(supplier.system)
        self.now = now

    def build(self, row: dict[str, Any]) -> ConfigurationItem:
        unknown = sorted(k for k in row if k not in _KNOWN)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(map(repr, unknown))}")
        record_id = _text(row.get("record_id"))
        name = _text(row.get("name"))
        missing = [f for f, v in (("record_id", record_id), ("name", name)) if v is None]
        if missing or record_id is None:
            raise ValueError(f"missing {' and '.join(missing)}")
        updated_text = _text(row.get("updated_at"))
        updated_at = datetime.fromisoformat(updated_text) if updated_text else self.now
        if updated_at.tzinfo is None:
            raise ValueError(f"updated_at {updated_text!r} has no time zone")
        version_text = _text(row.get("version"))
        version = int(version_text) if version_text else int(updated_at.timestamp() * 1000)
        deleted = _flag(row.get("deleted"))
        data: dict[str, Any] = {
            "hub_id": hub_id(self.supplier, EntityKind.CI, record_id),
            "supplier_ref": {
                "supplier": self.supplier,
                "system": self.system,
                "record_id": record_id,
                "number": _text(row.get("number")),
            },
            "name": name,
            "ci_class": _text(row.get("ci_class")) or "cmdb_ci",
            "gemeenten": _gemeenten(row.get("gemeenten")),
            "fb_team": _text(row.get("fb_team")),
            "gemma_component": _text(row.get("gemma_component")),
            "technical_supplier": _text(row.get("technical_supplier")) or self.supplier,
            "support_group": _text(row.get("support_group")),
            "relations": _relations(row.get("relations")),
            "deleted": deleted,
            "updated_at": updated_at,
            "version": version,
        }
        status = _text(row.get("status"))
        if status is not None:
            data["status"] = status.casefold()
        elif deleted:
            data["status"] = "retired"
        return ConfigurationItem.model_validate(data)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()
        )
    if isinstance(exc, ConnectorError):
        return exc.reason
    return str(exc)


def _csv_rows(text: str, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    header = text[:4096].split("\n", 1)[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = [f.strip() for f in reader.fieldnames or ()]
    unknown = [f for f in fields if f not in _KNOWN]
    missing = [f for f in _REQUIRED if f not in fields]
    if unknown or missing:
        message = "header: "
        if missing:
            message += f"missing column(s) {', '.join(missing)}"
        if unknown:
            message += ("; " if missing else "") + f"unknown column(s) {', '.join(unknown)}"
        message += f" (known: {', '.join(CSV_COLUMNS)})"
        raise CmdbImportError([ImportProblem(file, 1, message)])
    reader.fieldnames = fields
    for row in reader:
        extra = row.pop(None, None)
        if extra:
            yield reader.line_num, {"__extra__": extra}
            continue
        yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "")}


def _json_rows(document: object, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if not isinstance(document, list):
        raise CmdbImportError([ImportProblem(file, 0, "a JSON export is a list of CI objects")])
    for index, item in enumerate(document, start=1):
        yield index, item if isinstance(item, dict) else {"__not_an_object__": item}


def _servicenow(
    document: object, supplier: SupplierConfig, file: str, config_dir: str | None
) -> Iterator[tuple[int, ConfigurationItem | Exception, str]]:
    """(row, CI or error, native event key) per record of a Table API export."""
    if not isinstance(document, dict) or not isinstance(document.get("result"), list):
        raise CmdbImportError(
            [ImportProblem(file, 0, 'a ServiceNow export is {"result": [...]} (Table API)')]
        )
    translator = ServiceNowTranslator(supplier_context(supplier, config_dir))
    hint = {TABLE: b"cmdb_ci"}
    for index, record in enumerate(document["result"], start=1):
        if not isinstance(record, dict):
            yield index, ValueError("not a ServiceNow record object"), ""
            continue
        try:
            inbound = InboundRecord(value=orjson.dumps(record), headers=hint)
            (translation,) = translator.translate(inbound)
        except (ConnectorError, ValidationError, ValueError) as exc:
            yield index, exc, ""
            continue
        entity = translation.entity
        if not isinstance(entity, ConfigurationItem):
            yield index, ValueError(f"a {translation.kind.value}, not a CI"), ""
            continue
        yield index, entity, translation.native_event_key


def read_export(
    path: Path | str,
    supplier: SupplierConfig,
    *,
    fmt: ExportFormat | None = None,
    now: datetime | None = None,
    config_dir: str | None = None,
) -> tuple[ExportFormat, list[tuple[ConfigurationItem, str]], list[ImportProblem]]:
    """Read an export: its format, the CIs with their native event keys, and the problems.

    Raises :class:`CmdbImportError` for a file that cannot be read at all.
    """
    path = Path(path)
    file = str(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CmdbImportError([ImportProblem(file, 0, f"cannot read: {exc.strerror}")]) from None
    chosen = fmt or detect_format(path, content[:64])
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    found: list[tuple[ConfigurationItem, str]] = []
    problems: list[ImportProblem] = []
    seen: dict[str, int] = {}

    def keep(row: int, ci: ConfigurationItem, key: str) -> None:
        record_id = ci.supplier_ref.record_id
        first = seen.setdefault(record_id, row)
        if first != row:
            problems.append(
                ImportProblem(file, row, f"record_id {record_id!r} again (first at row {first})")
            )
        else:
            found.append((ci, key))

    if chosen == "servicenow":
        document = _load_json(content, file)
        for row, result, key in _servicenow(document, supplier, file, config_dir):
            if isinstance(result, Exception):
                problems.append(ImportProblem(file, row, _reason(result)))
            else:
                keep(row, result, key)
        return chosen, found, problems
    if chosen == "csv":
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CmdbImportError([ImportProblem(file, 0, f"not UTF-8: {exc}")]) from None
        rows = _csv_rows(text, file)
    else:
        rows = _json_rows(_load_json(content, file), file)
    builder = _Builder(supplier, moment)
    for row, fields in rows:
        if "__extra__" in fields:
            problems.append(ImportProblem(file, row, "more values than header columns"))
            continue
        if "__not_an_object__" in fields:
            problems.append(ImportProblem(file, row, "not a JSON object"))
            continue
        try:
            ci = builder.build(fields)
        except (ValidationError, ValueError, TypeError) as exc:
            problems.append(ImportProblem(file, row, _reason(exc)))
            continue
        keep(row, ci, f"cmdb-import:{ci.supplier_ref.record_id}:{ci.version}")
    return chosen, found, problems


def _load_json(content: bytes, file: str) -> object:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise CmdbImportError([ImportProblem(file, 0, f"not valid JSON: {exc}")]) from None


# --- publishing ------------------------------------------------------------------------


def ci_message(
    ci: ConfigurationItem, native_key: str, supplier: SupplierConfig, *, topic: str = CIS
) -> OutboundMessage:
    """The CloudEvent of one imported CI, keyed by its hub id: the record the normaliser
    publishes for the same CI arriving live (:func:`schemas.wire.encode_normalised`)."""
    record = encode_normalised(
        ci,
        kind=EntityKind.CI,
        action="deleted" if ci.deleted else "updated",
        event_id=event_id(supplier.id, native_key),
        source=supplier.source_urn,
        time=ci.updated_at,
    )
    return OutboundMessage(topic, record.value, record.key, record.headers)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


async def cmdb_import(
    path: Path | str,
    *,
    supplier: SupplierConfig,
    publisher: Publisher | None = None,
    bootstrap: str | None = None,
    fmt: ExportFormat | None = None,
    topic: str = CIS,
    chunk_size: int = 5000,
    skip_invalid: bool = False,
    console: Console | None = None,
    now: datetime | None = None,
    config_dir: str | None = None,
) -> ImportReport:
    """Publish the CIs of the export at ``path`` onto ``topic`` (default schakel.cis.v1).

    Give a started ``publisher``, or ``bootstrap`` to use a :class:`KafkaBatchPublisher` for
    the duration of the import (:class:`~services.errors.BrokerUnavailable` when Kafka does
    not answer). With ``console``, shows a progress bar.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    started = time.perf_counter()
    chosen, found, problems = read_export(path, supplier, fmt=fmt, now=now, config_dir=config_dir)
    if problems and not skip_invalid:
        raise CmdbImportError(problems)
    read_seconds = time.perf_counter() - started
    owned: KafkaBatchPublisher | None = None
    if publisher is None:
        if bootstrap is None:
            raise ValueError("give a publisher or the bootstrap servers")
        await wait_for_broker(bootstrap, timeout_s=30)
        owned = KafkaBatchPublisher(bootstrap, client_id="schakel-cmdb-import")
        await owned.start()
        publisher = owned
    started = time.perf_counter()
    try:
        await _publish(publisher, found, supplier, topic, chunk_size, console)
    finally:
        if owned is not None:
            await owned.stop()
    return ImportReport(
        file=str(path),
        format=chosen,
        published=len(found),
        skipped=tuple(problems),
        read_seconds=read_seconds,
        publish_seconds=time.perf_counter() - started,
    )


async def _publish(
    publisher: Publisher,
    found: Sequence[tuple[ConfigurationItem, str]],
    supplier: SupplierConfig,
    topic: str,
    chunk_size: int,
    console: Console | None,
) -> None:
    """Chunk by chunk; the next chunk is encoded while the previous one is in flight."""
    progress = _progress(console) if console is not None else None
    task = None
    if progress is not None:
        progress.start()
        task = progress.add_task("CI's publiceren", total=len(found), rate="")
    started = time.perf_counter()
    in_flight: asyncio.Task[None] | None = None
    done = 0
    try:
        for start in range(0, len(found), chunk_size):
            chunk = [
                ci_message(ci, key, supplier, topic=topic)
                for ci, key in found[start : start + chunk_size]
            ]
            if in_flight is not None:
                await in_flight
                done = start
                _advance(progress, task, done, started)
            in_flight = asyncio.ensure_future(publisher.send_all(chunk))
        if in_flight is not None:
            await in_flight
            done = len(found)
            _advance(progress, task, done, started)
    finally:
        if in_flight is not None and not in_flight.done():
            in_flight.cancel()
        if progress is not None:
            progress.stop()


def _advance(progress: Progress | None, task: Any, done: int, started: float) -> None:
    if progress is None or task is None:
        return
    elapsed = time.perf_counter() - started
    rate = f"{done / elapsed:,.0f} CI/s" if elapsed > 0 else ""
    progress.update(task, completed=done, rate=rate)
