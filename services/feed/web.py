"""The cockpit over HTTP: the API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``)
and server-rendered pages in Dutch (Jinja2, htmx shipped in ``static/``, server-sent events
for live updates, charts as inline SVG).

Every list has a CSV export (``?format=csv``). Who asks decides what is shown
(:class:`~services.feed.auth.Principal`): an FB account or token sees only tickets routed to
its own gemeente, and a ticket of another gemeente is "not found" (its existence is not
revealed). Replay, manual routing, triage, dead letters and the audit log are the regie's.

The navigation is :data:`NAV`; another page joins it with one entry (and its route).
A package that is not the feed adds pages through ``build_app(..., pages=[install])``: each
``install`` gets a :class:`PageKit` (the app, the template environment, the page renderer,
the caller dependency) and adds its routes, templates and navigation entries; the
composition root hands them over (override ``feed_pages``), so the feed imports no other
service.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from services.contract import Runtime
from services.feed.actions import Actions, Replayer
from services.feed.auth import SESSION_COOKIE, Access, Principal
from services.feed.charts import bar_chart, line_chart
from services.feed.errors import ActionRefused, FeedError, Forbidden, NotFound, Unauthenticated
from services.feed.live import Changes
from services.feed.projector import STATUS_NL
from services.feed.store import ReadModel, TicketQuery
from services.topics_io import replay_dead_letters

__all__ = ["NAV", "NavItem", "PageKit", "build_app"]

HERE = Path(__file__).parent
ZONE = ZoneInfo("Europe/Amsterdam")


class NavItem(BaseModel):
    """One entry of the navigation: its path, label and who sees it."""

    path: str
    label: str
    regie_only: bool = False


#: the pages in the navigation, in order; a new page adds itself here
NAV: list[NavItem] = [
    NavItem(path="/", label="Overzicht"),
    NavItem(path="/meldingen", label="Meldingen"),
    NavItem(path="/leveranciers", label="Leveranciers"),
    NavItem(path="/triage", label="Triage", regie_only=True),
    NavItem(path="/dode-letters", label="Dode letters", regie_only=True),
    NavItem(path="/audit", label="Auditlog", regie_only=True),
]

SLA_NL = {
    "running": "loopt",
    "paused": "gepauzeerd",
    "at_risk": "dreigt",
    "breached": "verbroken",
    "met": "gehaald",
}
BASIS_NL = {"rule": "regel", "ci-owner": "CMDB-eigenaar", "triage": "triage", "regie": "regie"}
KIND_NL = {
    "version": "Versie",
    "routed": "Routering",
    "triage": "Triage",
    "reply": "Reactie FB",
    "sla": "SLA",
    "audit": "Uitkomst",
}

TICKET_COLUMNS = (
    "hub_id",
    "kind",
    "supplier",
    "number",
    "title",
    "status",
    "priority",
    "routed_to",
    "sla_state",
    "sla_due_at",
    "opened_at",
    "updated_at",
    "resolved_at",
    "reopen_count",
    "handoffs",
    "deliveries_ok",
    "deliveries_failed",
)


# --- helpers ---------------------------------------------------------------------------


def _local(value: Any, fmt: str = "%d-%m-%Y %H:%M") -> str:
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(ZONE).strftime(fmt))


def _left(due: Any, now: datetime) -> str:
    if not isinstance(due, datetime):
        return "-"
    if due.tzinfo is None:
        due = due.replace(tzinfo=UTC)
    seconds = int((due - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    return f"{sign}{hours}u {minutes:02d}m" if hours else f"{sign}{minutes}m"


def _csv(rows: Iterable[dict[str, Any]], columns: Sequence[str], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                v.isoformat() if isinstance(v := row.get(c), datetime) else ("" if v is None else v)
                for c in columns
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: Excel reads the UTF-8 then
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(
        orjson.dumps(
            data,
            default=str,
            option=orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS,
        ),
        status_code=status_code,
        media_type="application/json",
    )


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("snapshot", "search", "value", "key")}


class RouteRequest(BaseModel):
    """A manual route: the gemeente and team the regie picks, and why."""

    gemeente: str = Field(pattern=r"^GM[0-9]{4}$")
    team: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=2000)


# --- the app ---------------------------------------------------------------------------


async def _principal(request: Request) -> Principal:
    """The caller: a bearer token (machines) or the session cookie (people)."""
    access: Access = request.app.state.access
    bearer = access.from_bearer(request.headers.get("authorization"))
    if bearer is not None:
        return bearer
    person = access.from_session(request.cookies.get(SESSION_COOKIE))
    if person is None:
        raise Unauthenticated("meld u aan")
    return person


Who = Annotated[Principal, Depends(_principal)]


@dataclass(frozen=True)
class PageKit:
    """What another package's pages get to join the cockpit (see the module docstring)."""

    app: FastAPI
    env: Environment
    #: ``page(request, who, template, context, status=200)``: a page in the cockpit's frame
    page: Callable[..., HTMLResponse]
    #: the FastAPI dependency that gives the signed-in :class:`Principal` (401 otherwise)
    principal: Callable[[Request], Awaitable[Principal]]
    nav: list[NavItem] = field(default_factory=list)

    def add_nav(self, path: str, label: str, *, regie_only: bool = False) -> None:
        self.nav.append(NavItem(path=path, label=label, regie_only=regie_only))


def build_app(
    runtime: Runtime,
    model: ReadModel,
    changes: Changes,
    *,
    access: Access | None = None,
    replay: Replayer | None = None,
    pages: Sequence[Callable[[PageKit], None]] = (),
) -> FastAPI:
    """The cockpit's FastAPI app over ``model``; actions publish through the runtime."""
    config = runtime.config
    access = access or Access(config, os.environ)
    replayer: Any = replay or runtime.overrides.get("feed_replay") or replay_dead_letters
    actions = Actions(
        config,
        model,
        runtime.publisher,
        bootstrap=runtime.settings.kafka_bootstrap,
        replay=replayer,
        clock=runtime.clock,
    )
    clock: Callable[[], datetime] = runtime.clock
    gemeenten = {g.code: g for g in config.gemeenten}
    suppliers = {s.id: s for s in config.suppliers}
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["lokaal"] = _local
    env.globals.update(
        STATUS_NL=STATUS_NL,
        SLA_NL=SLA_NL,
        KIND_NL=KIND_NL,
        BASIS_NL=BASIS_NL,
        gemeenten=gemeenten,
        suppliers=suppliers,
    )

    app = FastAPI(
        title="Schakel cockpit",
        version="1",
        description="De regie: meldingen, routering, SLA, dode letters en audit van de hub.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.state.access = access

    @app.exception_handler(FeedError)
    async def feed_error(request: Request, error: FeedError) -> Response:
        status = {
            NotFound: 404,
            Forbidden: 403,
            Unauthenticated: 401,
            ActionRefused: 409,
        }.get(type(error), 400)
        if request.url.path.startswith("/api/"):
            return _json({"detail": error.reason}, status)
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", 303)
        who = access.from_session(request.cookies.get(SESSION_COOKIE))
        return page(request, who, "fout.html", {"status": status, "reason": error.reason}, status)

    def page(
        request: Request,
        who: Principal | None,
        template: str,
        context: dict[str, Any],
        status: int = 200,
    ) -> HTMLResponse:
        nav = [n for n in nav_items if who is not None and (who.is_regie or not n.regie_only)]
        html = env.get_template(template).render(
            request=request,
            who=who,
            nav=nav,
            path=request.url.path,
            now=clock(),
            **context,
        )
        return HTMLResponse(html, status_code=status)

    # -- data shared by the API and the pages -----------------------------------------------

    def query_of(
        supplier: str | None,
        gemeente: str | None,
        status: str | None,
        priority: str | None,
        sla: str | None,
        q: str | None,
        updated_since: datetime | None,
        kind: str | None,
        open_: bool | None,
        limit: int,
        offset: int,
    ) -> TicketQuery:
        return TicketQuery(
            supplier=supplier or None,
            gemeente=gemeente or None,
            status=status or None,
            priority=priority or None,
            sla=sla or None,
            text=q or None,
            updated_since=updated_since,
            kind=kind or None,
            open=open_,
            limit=limit,
            offset=offset,
        )

    async def overview_data(who: Principal) -> dict[str, Any]:
        now = clock()
        start_of_day = now.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
        scope = who.scope
        figures, at_risk, breaches = await asyncio.gather(
            model.figures(scope),
            model.at_risk(scope, limit=15),
            model.breached_since(start_of_day.astimezone(UTC), scope, limit=15),
        )
        data: dict[str, Any] = {
            "figures": figures,
            "at_risk": [{**r, "left": _left(r["sla_due_at"], now)} for r in at_risk],
            "breaches": breaches,
        }
        if who.is_regie:
            data["dead_letters"] = await model.dead_letters(limit=5, open_only=True)
            data["dead_letter_count"] = await model.count_open_dead_letters()
            data["triage"] = await model.triage_queue(limit=10)
        return data

    async def ticket_and_trail(who: Principal, hub_id: str) -> tuple[dict[str, Any], list[Any]]:
        ticket = await model.ticket(hub_id, who.scope)
        if ticket is None:
            raise NotFound(f"geen melding {hub_id}")
        trail = await model.timeline(hub_id)
        if not who.is_regie:  # the trail of another gemeente's routing is not shown to an FB team
            trail = [e for e in trail if _visible_to(e, who.gemeente)]
        return ticket, trail

    # -- API ---------------------------------------------------------------------------------

    api = APIRouter(prefix="/api/v1")

    @api.get("/tickets", summary="Meldingen met filters en paginering (format=csv: export)")
    async def api_tickets(
        who: Who,
        supplier: str | None = None,
        gemeente: str | None = None,
        status: str | None = None,
        priority: str | None = None,
        sla: Annotated[
            Literal["running", "paused", "at_risk", "breached", "met", "none"] | None, Query()
        ] = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
        updated_since: datetime | None = None,
        kind: Literal["incident", "change"] | None = None,
        open: bool | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        query = query_of(
            supplier, gemeente, status, priority, sla, q, updated_since, kind, open, limit, offset
        )
        rows, more = await model.tickets(query, who.scope)
        if format == "csv":
            return _csv(rows, TICKET_COLUMNS, "meldingen")
        return _json(
            {
                "items": [_public(r) for r in rows],
                "limit": limit,
                "offset": offset,
                "next_offset": offset + limit if more else None,
            }
        )

    @api.get("/tickets/{hub_id}", summary="Eén melding")
    async def api_ticket(who: Who, hub_id: str) -> Response:
        ticket, _ = await ticket_and_trail(who, hub_id)
        return _json(_public(ticket))

    @api.get("/tickets/{hub_id}/timeline", summary="De audittrail van een melding (hash-keten)")
    async def api_timeline(
        who: Who,
        hub_id: str,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        _, trail = await ticket_and_trail(who, hub_id)
        if format == "csv":
            rows = [{**e, "detail": orjson.dumps(e["detail"]).decode()} for e in trail]
            columns = ("seq", "at", "kind", "summary", "detail", "prev_hash", "hash")
            return _csv(rows, columns, f"tijdlijn-{hub_id}")
        return _json({"hub_id": hub_id, "entries": trail})

    @api.get("/figures", summary="Kerncijfers per leverancier")
    async def api_figures(who: Who, format: Literal["json", "csv"] = "json") -> Response:
        figures = await model.figures(who.scope)
        if format == "csv":
            columns = (
                "supplier",
                "total",
                "open",
                "at_risk",
                "breached",
                "mttr_hours",
                "reopen_rate",
                "handoffs",
                "handoffs_per_ticket",
            )
            return _csv(figures, columns, "kerncijfers")
        return _json({"suppliers": figures})

    @api.get("/suppliers/{supplier}/scorecard", summary="Scorekaart per maand")
    async def api_scorecard(
        who: Who,
        supplier: str,
        months: Annotated[int, Query(ge=1, le=36)] = 12,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        who.require_regie("scorekaarten zien")
        months_rows = await model.scorecard(supplier, months=months, now=clock())
        if format == "csv":
            columns = ("month", "volume", "resolved", "sla_met_pct", "mttr_hours")
            return _csv(months_rows, columns, f"scorekaart-{supplier}")
        return _json({"supplier": supplier, "months": months_rows})

    @api.get("/at-risk", summary="Open meldingen waarvan de SLA dreigt, minste tijd eerst")
    async def api_at_risk(who: Who, format: Literal["json", "csv"] = "json") -> Response:
        rows = await model.at_risk(who.scope, limit=500)
        if format == "csv":
            return _csv(
                rows,
                ("hub_id", "supplier", "number", "title", "priority", "sla_due_at", "routed_to"),
                "dreigend",
            )
        return _json({"items": rows})

    @api.get("/deadletters", summary="Dode letters (regie)")
    async def api_dead_letters(
        who: Who,
        limit: Annotated[int, Query(ge=1, le=5000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        who.require_regie("dode letters zien")
        rows = await model.dead_letters(limit=limit, offset=offset)
        if format == "csv":
            columns = (
                "partition",
                "offset",
                "failed_at",
                "service",
                "source_topic",
                "source_partition",
                "source_offset",
                "error_class",
                "reason",
                "size",
                "replayed_at",
                "replayed_by",
            )
            return _csv(rows, columns, "dode-letters")
        return _json({"items": rows})

    @api.post("/deadletters/{partition}/{offset}/replay", summary="Opnieuw aanbieden (regie)")
    async def api_replay(who: Who, partition: int, offset: int) -> Response:
        target = await actions.replay(who, partition, offset)
        return _json({"replayed": f"{partition}/{offset}", "topic": target})

    @api.get("/triage", summary="Triagewachtrij (regie)")
    async def api_triage(who: Who, format: Literal["json", "csv"] = "json") -> Response:
        who.require_regie("de triagewachtrij zien")
        rows = await model.triage_queue(limit=1000)
        if format == "csv":
            return _csv(rows, TICKET_COLUMNS, "triage")
        return _json({"items": [_public(r) for r in rows]})

    @api.post("/tickets/{hub_id}/route", summary="Handmatig routeren (regie)")
    async def api_route(who: Who, hub_id: str, body: RouteRequest) -> Response:
        routed = await actions.route(who, hub_id, body.gemeente, body.team, body.reason)
        return _json({"routed_event_id": routed}, 202)

    @api.get("/audit", summary="Auditlog: acties van mensen en uitkomsten (regie)")
    async def api_audit(
        who: Who,
        limit: Annotated[int, Query(ge=1, le=5000)] = 200,
        format: Literal["json", "csv"] = "json",
    ) -> Response:
        who.require_regie("het auditlog zien")
        rows = await model.audit_log(limit=limit)
        if format == "csv":
            rows = [{**r, "detail": orjson.dumps(r["detail"]).decode()} for r in rows]
            return _csv(
                rows,
                ("at", "actor", "action", "outcome", "hub_id", "summary", "detail"),
                "auditlog",
            )
        return _json({"items": rows})

    @api.get("/events", summary="Server-sent events: 'changed' bij elke verwerkte batch")
    async def api_events(who: Who, request: Request) -> StreamingResponse:
        async def stream() -> AsyncIterator[bytes]:
            seen = changes.version
            yield b"retry: 3000\n\n"
            while not await request.is_disconnected():
                now = await changes.wait(seen, 15.0)
                if now == seen:
                    yield b": nog hier\n\n"
                    continue
                seen = now
                yield f"event: changed\ndata: {now}\n\n".encode()

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    app.include_router(api)
    nav_items = list(NAV)
    kit = PageKit(app, env, page, _principal, nav_items)
    for install in pages:
        install(kit)

    # -- pages -------------------------------------------------------------------------------

    @app.get("/login", include_in_schema=False)
    async def login_page(request: Request, next: str = "/") -> Response:
        return page(request, None, "login.html", {"next": _safe_next(next), "error": None})

    @app.post("/login", include_in_schema=False)
    async def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        try:
            who = access.sign_in(username, password)
        except Unauthenticated as error:
            context = {"next": _safe_next(next), "error": error.reason, "username": username}
            return page(request, None, "login.html", context, 401)
        await actions.record(who, "login", f"{who.display} aangemeld")
        response = RedirectResponse(_safe_next(next), 303)
        response.set_cookie(
            SESSION_COOKIE,
            access.session_cookie(who),
            max_age=access.max_age_s,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(who: Who) -> Response:
        await actions.record(who, "logout", f"{who.display} afgemeld")
        response = RedirectResponse("/login", 303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/", include_in_schema=False)
    async def overview(request: Request, who: Who) -> Response:
        return page(request, who, "overzicht.html", await overview_data(who))

    @app.get("/fragment/overzicht", include_in_schema=False)
    async def overview_fragment(request: Request, who: Who) -> Response:
        return page(request, who, "_overzicht.html", await overview_data(who))

    @app.get("/meldingen", include_in_schema=False)
    async def ticket_list(
        request: Request,
        who: Who,
        supplier: str | None = None,
        gemeente: str | None = None,
        status: str | None = None,
        priority: str | None = None,
        sla: str | None = None,
        q: str | None = None,
        sinds: date | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        since = datetime(sinds.year, sinds.month, sinds.day, tzinfo=ZONE) if sinds else None
        query = query_of(
            supplier, gemeente, status, priority, sla, q, since, None, None, 50, offset
        )
        rows, more = await model.tickets(query, who.scope)
        filters = {
            "supplier": supplier or "",
            "gemeente": gemeente or "",
            "status": status or "",
            "priority": priority or "",
            "sla": sla or "",
            "q": q or "",
            "sinds": sinds.isoformat() if sinds else "",
        }
        context = {"rows": rows, "more": more, "offset": offset, "filters": filters}
        template = "_meldingen.html" if request.headers.get("hx-request") else "meldingen.html"
        return page(request, who, template, context)

    @app.get("/meldingen/{hub_id}", include_in_schema=False)
    async def ticket_page(request: Request, who: Who, hub_id: str) -> Response:
        ticket, trail = await ticket_and_trail(who, hub_id)
        newest_first = sorted(trail, key=lambda e: (e["at"], e["seq"]), reverse=True)
        context = {"t": ticket, "trail": newest_first, "count": len(trail)}
        return page(request, who, "melding.html", context)

    @app.get("/leveranciers", include_in_schema=False)
    async def suppliers_page(request: Request, who: Who) -> Response:
        figures = await model.figures(who.scope)
        chart = bar_chart(
            [(f["supplier"], f["open"]) for f in figures], title="Open meldingen per leverancier"
        )
        return page(request, who, "leveranciers.html", {"figures": figures, "chart": chart})

    @app.get("/leveranciers/{supplier}", include_in_schema=False)
    async def scorecard_page(request: Request, who: Who, supplier: str) -> Response:
        who.require_regie("scorekaarten zien")
        months = await model.scorecard(supplier, months=12, now=clock())
        figures = {f["supplier"]: f for f in await model.figures()}.get(supplier)
        charts = {
            "sla": line_chart(
                [(m["month"], m["sla_met_pct"]) for m in months],
                title="SLA gehaald (%)",
                maximum=100,
                unit="%",
            ),
            "volume": bar_chart([(m["month"], m["volume"]) for m in months], title="Volume"),
            "mttr": line_chart(
                [(m["month"], m["mttr_hours"]) for m in months],
                title="Gemiddelde oplostijd (uren)",
                unit="u",
            ),
        }
        context = {"supplier": supplier, "months": months, "charts": charts, "f": figures}
        return page(request, who, "scorekaart.html", context)

    @app.get("/dode-letters", include_in_schema=False)
    async def dead_letters_page(request: Request, who: Who, melding: str | None = None) -> Response:
        who.require_regie("dode letters zien")
        rows = await model.dead_letters(limit=200)
        return page(request, who, "dode_letters.html", {"rows": rows, "melding": melding})

    @app.post("/dode-letters/{partition}/{offset}/opnieuw", include_in_schema=False)
    async def replay_form(who: Who, partition: int, offset: int) -> Response:
        target = await actions.replay(who, partition, offset)
        done = f"Dode letter {partition}/{offset} opnieuw aangeboden op {target}"
        return RedirectResponse(f"/dode-letters?melding={quote(done)}", 303)

    @app.get("/triage", include_in_schema=False)
    async def triage_page(request: Request, who: Who, melding: str | None = None) -> Response:
        who.require_regie("de triagewachtrij zien")
        rows = await model.triage_queue(limit=200)
        return page(request, who, "triage.html", {"rows": rows, "melding": melding})

    @app.post("/triage/{hub_id}/routeer", include_in_schema=False)
    async def route_form(
        who: Who,
        hub_id: str,
        bestemming: Annotated[str, Form()],
        reden: Annotated[str, Form()],
    ) -> Response:
        gemeente, _, team = bestemming.partition("/")
        await actions.route(who, hub_id, gemeente, team, reden)
        done = f"Melding gerouteerd naar {gemeente}/{team}"
        return RedirectResponse(f"/triage?melding={quote(done)}", 303)

    @app.get("/audit", include_in_schema=False)
    async def audit_page(request: Request, who: Who) -> Response:
        who.require_regie("het auditlog zien")
        return page(request, who, "audit.html", {"rows": await model.audit_log(limit=300)})

    @app.get("/gezond", include_in_schema=False)
    @app.get("/healthz", include_in_schema=False)
    @app.get("/readyz", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "version": changes.version})

    return app


def _safe_next(target: str) -> str:
    """Only a path of this site (no open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _visible_to(entry: dict[str, Any], gemeente: str | None) -> bool:
    """Whether an FB team of ``gemeente`` may see a timeline entry: not the routing or
    outcomes that concern another gemeente."""
    detail = entry.get("detail") or {}
    other = detail.get("destination") or detail.get("gemeente")
    if entry["kind"] == "triage":
        return False
    return other is None or other == gemeente
