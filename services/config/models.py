"""The configuration of the hub: suppliers, gemeenten with their FB teams, routing rules.

Every model is frozen and rejects unknown keys, so a typo in the YAML file is an error
rather than a silently ignored setting. Secrets never appear here: credentials are the
*names* of environment variables that hold them.

Checks that span several fields or models (unique ids, references from routing rules to
suppliers, gemeenten and teams) report the exact location of the fault, so that
:func:`services.config.load_config` can point at the offending line.
"""

import re
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    PositiveFloat,
    PositiveInt,
    PrivateAttr,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from services.config._problems import Loc, problems_error
from services.config.changes import ChangesConfig
from services.config.errors import (
    UnknownGemeenteError,
    UnknownSupplierError,
    UnknownTeamError,
)

__all__ = [
    "CI_OWNERS",
    "Channel",
    "CockpitAccount",
    "CockpitToken",
    "EmailChannel",
    "FbTeam",
    "FeedConfig",
    "FeedRetention",
    "Gemeente",
    "Priority",
    "Recipient",
    "RoutingConfig",
    "RoutingRule",
    "RuleMatch",
    "SchakelConfig",
    "ServiceWindow",
    "SlaCalendar",
    "SlaCalendarVersion",
    "SlaConfig",
    "SlaRules",
    "SlaTarget",
    "SupplierConfig",
    "SupplierContract",
    "SupplierCredentials",
    "SystemName",
    "TopdeskChannel",
    "WebhookChannel",
]

SystemName = Literal["servicenow", "topdesk", "jira", "xurrent", "mapped"]
"""The supplier's ITSM tool; "mapped" means a declarative YAML mapping (connectors/mapped)."""

Priority = Literal["P1", "P2", "P3", "P4", "P5"]

CI_OWNERS = "ci-owners"
"""Recipient gemeente meaning: every gemeente that owns the configuration item."""

_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_RECIPIENT_GEMEENTE = re.compile(r"GM[0-9]{4}|" + re.escape(CI_OWNERS))


def _check_env_name(value: str) -> str:
    if not _ENV_NAME.fullmatch(value):
        raise PydanticCustomError(
            "env_var_name",
            "must be the name of an environment variable (A-Z, 0-9 and _, such as "
            "SCHAKEL_SECRET_KPN_WEBHOOK), never the secret itself",
        )
    return value


def _check_email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise PydanticCustomError("email", "not an e-mail address: {value}", {"value": repr(value)})
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "timezone",
            "unknown IANA time zone {value} (such as 'Europe/Amsterdam')",
            {"value": repr(value)},
        ) from None
    return value


def _local_time(value: time) -> time:
    if value.tzinfo is not None:
        raise PydanticCustomError(
            "local_time", "a local time without zone, such as 08:00 (the calendar's zone applies)"
        )
    return value


def _kvk_as_text(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        raise PydanticCustomError(
            "kvk_number_type",
            'write the KvK number as a quoted string such as "01234567"; as a bare number '
            "YAML drops leading zeros or reads it as octal",
        )
    return value


def _check_recipient_gemeente(value: str) -> str:
    if not _RECIPIENT_GEMEENTE.fullmatch(value):
        raise PydanticCustomError(
            "recipient_gemeente",
            "must be a CBS gemeentecode (GM and four digits, such as GM0505) or {ci_owners!r}",
            {"ci_owners": CI_OWNERS},
        )
    return value


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")]
Text = Annotated[str, StringConstraints(min_length=1)]
EnvVarName = Annotated[str, AfterValidator(_check_env_name)]
EmailAddress = Annotated[str, AfterValidator(_check_email)]
GemeenteCode = Annotated[str, StringConstraints(pattern=r"^GM[0-9]{4}$")]
KvkNumber = Annotated[str, BeforeValidator(_kvk_as_text), StringConstraints(pattern=r"^[0-9]{8}$")]
TimeZoneName = Annotated[str, AfterValidator(_check_timezone)]
LocalTime = Annotated[time, AfterValidator(_local_time)]
RecipientGemeente = Annotated[str, AfterValidator(_check_recipient_gemeente)]


def _duplicates(values: Iterator[tuple[int, str]], what: str, field: str) -> list[tuple[Loc, str]]:
    """Problems for every value that repeats an earlier one, located at the repetition."""
    first: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for index, value in values:
        if value in first:
            problems.append(
                ((index, field), f"duplicate {what} {value!r} (first at index {first[value]})")
            )
        else:
            first[value] = index
    return problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- suppliers --------------------------------------------------------------------------


class SlaTarget(_Model):
    """Contracted response and resolve times for one priority.

    ``business_hours`` false means the clock runs 24x7 (usual for P1 and P2).
    """

    priority: Priority
    response_minutes: PositiveInt
    resolve_minutes: PositiveInt
    business_hours: bool

    @model_validator(mode="after")
    def _resolve_after_response(self) -> Self:
        if self.resolve_minutes < self.response_minutes:
            raise problems_error(
                [(("resolve_minutes",), "must not be shorter than response_minutes")]
            )
        return self


HoldReasonName = Literal[
    "awaiting_caller", "awaiting_supplier", "awaiting_problem", "awaiting_change", "other"
]
"""A hold reason of the common model (``schemas.vocab.HoldReason``)."""

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _default_pause_reasons() -> list[HoldReasonName]:
    return ["awaiting_caller"]


def _working_days() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


class SlaRules(_Model):
    """What stops and restarts a contract's clocks (the defaults are what most DVOs say).

    - ``pause_hold_reasons``: an incident on hold for one of these reasons stops its
      resolution clock. Waiting for the caller or customer stops it; waiting for the
      supplier's own vendor (``awaiting_supplier``) does not: that is the supplier's risk.
    - ``pause_change_on_hold``: a change on hold stops its clock (changes carry no reason).
    - ``priority_change``: ``current`` (default): from the moment a ticket's priority changes,
      the new priority's target (and its calendar) applies to the whole clock, measured from
      the ticket's start with the business time already used kept; a threshold already
      passed under the new target fires at the moment of the change. ``initial``: the
      priority the ticket opened with holds for its whole life.
    - ``warning_percents``: a warning event when a running clock has used this share of its
      target (default 75 % and 90 %); 100 % is the breach.
    - ``discrepancy_tolerance_minutes``: a supplier's own due time (TOPdesk target date,
      Xurrent resolution target, ...) further than this from the contract's is published
      as a discrepancy.

    Fixed, for every contract alike: the response clock stops at the supplier's first
    response (the ticket leaves status ``new``); the resolution clock stops when the ticket is
    resolved or closed, does not count the time it stays resolved, and resumes where it
    stopped when the ticket is reopened; a cancelled ticket stops both clocks without verdict.
    """

    pause_hold_reasons: list[HoldReasonName] = Field(default_factory=_default_pause_reasons)
    pause_change_on_hold: bool = True
    priority_change: Literal["current", "initial"] = "current"
    warning_percents: list[Annotated[int, Field(gt=0, lt=100)]] = Field(
        default_factory=lambda: [75, 90]
    )
    discrepancy_tolerance_minutes: Annotated[int, Field(ge=0)] = 15

    @model_validator(mode="after")
    def _ascending(self) -> Self:
        if self.warning_percents != sorted(set(self.warning_percents)):
            raise problems_error(
                [(("warning_percents",), "must be ascending without repeats, such as [75, 90]")]
            )
        return self


class SupplierContract(_Model):
    """The contract with a supplier (for example "DAP-2025") and its SLA per priority.

    ``calendar`` names the business-hours calendar (``sla.calendars``) of the targets with
    ``business_hours: true``; the others run 24x7. ``change_sla`` sets targets for changes
    (response: the change leaves ``new``; resolution: it reaches review or closed); without
    it changes have no clock.
    """

    name: Text
    sla: list[SlaTarget] = Field(min_length=1)
    change_sla: list[SlaTarget] = Field(default_factory=list)
    calendar: Slug = "werkdagen"
    rules: SlaRules = Field(default_factory=SlaRules)

    @model_validator(mode="after")
    def _unique_priorities(self) -> Self:
        problems = [
            ((field, *loc), msg)
            for field, targets in (("sla", self.sla), ("change_sla", self.change_sla))
            for loc, msg in _duplicates(
                ((i, t.priority) for i, t in enumerate(targets)), "priority", "priority"
            )
        ]
        if problems:
            raise problems_error(problems)
        return self

    def target(self, priority: Priority) -> SlaTarget | None:
        """The SLA target for ``priority``, or None when the contract sets none."""
        return next((t for t in self.sla if t.priority == priority), None)

    def change_target(self, priority: Priority) -> SlaTarget | None:
        """The change target for ``priority``, or None when the contract sets none."""
        return next((t for t in self.change_sla if t.priority == priority), None)


class SupplierCredentials(_Model):
    """Where the secrets for a supplier are: names of environment variables, never values.

    How the gateway checks the supplier's webhooks (``webhook_secret_env`` holds either a
    shared secret or, for Xurrent's signed webhooks, a PEM public key):

    * ``webhook_auth``: a shared secret is used one way only, ``hmac`` (the body signed,
      default) or ``bearer`` (the secret sent as a token, for tools that can only set a
      header); a signing secret is never accepted as a bearer token;
    * ``webhook_timestamp_window_s``: the supplier's tool sends ``X-Schakel-Timestamp``
      (Unix seconds) and signs ``<timestamp>.<body>``; requests further from now are refused;
    * ``webhook_jwt_audience`` (required for a public key) and
      ``webhook_jwt_max_lifetime_s``: the signed JWT must carry this ``aud``, an ``exp`` at
      most this far after its ``iat`` (and after now), and a ``jti`` not seen before.
    """

    webhook_secret_env: EnvVarName | None = None
    webhook_auth: Literal["hmac", "bearer"] = "hmac"
    webhook_timestamp_window_s: PositiveInt | None = None
    webhook_jwt_audience: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    webhook_jwt_max_lifetime_s: PositiveInt = 900
    api_token_env: EnvVarName | None = None
    api_base_url: HttpUrl | None = None


class SupplierConfig(_Model):
    """One supplier and the tool it publishes from.

    ``id`` names the inbound topic ``schakel.inbound.<id>``. ``kvk`` and ``system_name``
    make the CloudEvents ``source`` of everything normalised from this supplier
    (:attr:`source_urn`, NL GOV profile). ``value_maps`` override the connector's lookup
    tables per table, for example ``{"priority": {"Hoog": "P2"}}``. ``mapping`` is the
    declarative YAML mapping of a "mapped" supplier, relative to the config file.
    """

    id: Slug
    name: Text
    system: SystemName
    kvk: KvkNumber
    system_name: Slug
    credentials: SupplierCredentials = Field(default_factory=SupplierCredentials)
    contract: SupplierContract | None = None
    value_maps: dict[Text, dict[str, str]] = Field(default_factory=dict)
    mapping: Text | None = None
    max_payload_bytes: PositiveInt = 1_048_576
    timezone: TimeZoneName = "Europe/Amsterdam"
    options: dict[Text, str] = Field(
        default_factory=dict,
        description="Connector options, e.g. ci_field_gemeenten, default_priority, "
        "request_type_field (see each connector's docstring).",
    )
    schakel_accounts: list[Text] = Field(
        default_factory=lambda: ["schakel", "schakel-integration"],
        description="Accounts (names or ids) Schakel writes into this supplier's tool with; "
        "changes made by them are echoes and produce no new event.",
    )
    schakel_marker: Text = Field(
        default="[schakel]", description="Prefix of comments Schakel writes into the tool."
    )

    @model_validator(mode="after")
    def _mapping_iff_mapped(self) -> Self:
        if self.system == "mapped" and self.mapping is None:
            message = (
                "required when system is 'mapped': the path of the YAML mapping, "
                "relative to this config file"
            )
            raise problems_error([(("mapping",), message)])
        if self.system != "mapped" and self.mapping is not None:
            raise problems_error(
                [(("mapping",), f"only allowed when system is 'mapped' (not {self.system!r})")]
            )
        return self

    @property
    def source_urn(self) -> str:
        """The CloudEvents ``source``: ``urn:nld:kvk:<kvk>:systeem:<system_name>``."""
        return f"urn:nld:kvk:{self.kvk}:systeem:{self.system_name}"

    @property
    def tz(self) -> ZoneInfo:
        """The time zone in which the supplier's tool writes naive timestamps."""
        return ZoneInfo(self.timezone)


# --- gemeenten and their FB channels ----------------------------------------------------


class WebhookChannel(_Model):
    """Deliver to an HTTPS endpoint of the FB team, signed with the secret in ``secret_env``."""

    type: Literal["webhook"]
    url: HttpUrl
    secret_env: EnvVarName
    timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)


class EmailChannel(_Model):
    """Deliver by e-mail through an SMTP relay."""

    type: Literal["email"]
    to: list[EmailAddress] = Field(min_length=1)
    smtp_host: Text = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    sender: EmailAddress


class TopdeskChannel(_Model):
    """Deliver into the gemeente's own TOPdesk as incidents for an operator group."""

    type: Literal["topdesk"]
    base_url: HttpUrl
    username_env: EnvVarName
    password_env: EnvVarName
    operator_group: Text | None = None
    category: Text | None = None


Channel = Annotated[WebhookChannel | EmailChannel | TopdeskChannel, Field(discriminator="type")]


class FbTeam(_Model):
    """A team of functioneel beheerders, the GEMMA components it owns and its channels.

    ``api_token_env`` names the variable with the token this team uses to answer through
    the hub's HTTP API.
    """

    id: Slug
    name: Text
    gemma_components: list[Text] = Field(default_factory=list)
    channels: list[Channel] = Field(min_length=1)
    api_token_env: EnvVarName | None = None


class Gemeente(_Model):
    """A gemeente by CBS gemeentecode, with its FB teams.

    A GEMMA component is owned by at most one team of a gemeente (compared without regard
    to case); tickets for components no team owns go to ``default_team``.
    """

    code: GemeenteCode
    name: Text
    teams: list[FbTeam] = Field(min_length=1)
    default_team: Slug

    @model_validator(mode="after")
    def _check_teams(self) -> Self:
        problems = [
            (("teams", *loc), msg)
            for loc, msg in _duplicates(
                ((i, t.id) for i, t in enumerate(self.teams)), "team id", "id"
            )
        ]
        owner: dict[str, str] = {}
        for i, team in enumerate(self.teams):
            for j, component in enumerate(team.gemma_components):
                other = owner.setdefault(component.casefold(), team.id)
                if other != team.id:
                    problems.append(
                        (
                            ("teams", i, "gemma_components", j),
                            f"{component!r} is already owned by team {other!r}",
                        )
                    )
        ids = [t.id for t in self.teams]
        if self.default_team not in ids:
            problems.append(
                (("default_team",), f"no team {self.default_team!r}; teams: {', '.join(ids)}")
            )
        if problems:
            raise problems_error(problems)
        return self

    def team(self, team_id: str) -> FbTeam:
        """The team with this id; :class:`UnknownTeamError` if there is none."""
        for team in self.teams:
            if team.id == team_id:
                return team
        raise UnknownTeamError(self.code, team_id)

    def responsible_team(self, gemma_component: str | None) -> FbTeam:
        """The team that owns ``gemma_component``, else the default team."""
        if gemma_component is not None:
            wanted = gemma_component.casefold()
            for team in self.teams:
                if any(c.casefold() == wanted for c in team.gemma_components):
                    return team
        return self.team(self.default_team)


# --- routing ----------------------------------------------------------------------------


class RuleMatch(_Model):
    """What a rule matches. Fields combine with AND, the values of one field with OR.

    ``ci`` names configuration items, ``gemma_component`` the GEMMA reference component of
    the CI, ``supplier`` supplier ids; ``keywords`` match as case-insensitive substrings of
    the ticket's title or description. At least one field must be set.
    """

    ci: list[Text] | None = Field(default=None, min_length=1)
    gemma_component: list[Text] | None = Field(default=None, min_length=1)
    category: list[Text] | None = Field(default=None, min_length=1)
    supplier: list[Slug] | None = Field(default=None, min_length=1)
    priority: list[Priority] | None = Field(default=None, min_length=1)
    keywords: list[Text] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise PydanticCustomError(
                "empty_match",
                "set at least one of: {fields}",
                {"fields": ", ".join(type(self).model_fields)},
            )
        return self


class Recipient(_Model):
    """Who receives a matched ticket.

    ``gemeente`` is a CBS gemeentecode or ``"ci-owners"``: every gemeente that owns the CI
    according to the CMDB. ``team`` None means the team of that gemeente that owns the CI's
    GEMMA component, else the gemeente's default team. A named team with ``"ci-owners"``
    must exist in at least one gemeente; owners without that team get their default team.
    """

    gemeente: RecipientGemeente
    team: Slug | None = None


class RoutingRule(_Model):
    """A content-based routing rule: when ``match`` holds, send to ``recipients``."""

    id: Slug
    description: Text
    match: RuleMatch
    recipients: list[Recipient] = Field(min_length=1)
    stop: bool = True


class RoutingConfig(_Model):
    """The routing rules, in evaluation order.

    The router evaluates ``rules`` in file order and sends the ticket to the recipients of
    every matching rule; the first matching rule with ``stop`` true ends the evaluation.
    If no rule matched, the ticket goes to the gemeenten that own its CI according to the
    CMDB (each to the team owning the CI's GEMMA component, else its default team). If that
    finds nobody either, it goes to the regie's ``triage_team`` queue. A ticket is never
    routed nowhere. A rule whose recipients resolve to nobody (``ci-owners`` for a CI that
    no gemeente owns) counts as not matched.
    """

    rules: list[RoutingRule] = Field(default_factory=list)
    triage_team: Slug = "regie-triage"

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        problems = _duplicates(((i, r.id) for i, r in enumerate(self.rules)), "rule id", "id")
        if problems:
            raise problems_error([(("rules", *loc), msg) for loc, msg in problems])
        return self


# --- SLA calendars ---------------------------------------------------------------------


class ServiceWindow(_Model):
    """Weekly service hours in the calendar's time zone: ``days`` from ``start`` to ``end``."""

    days: list[Weekday] = Field(default_factory=_working_days, min_length=1)
    start: LocalTime = time(8, 0)
    end: LocalTime = time(17, 0)

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.end <= self.start:
            raise problems_error([(("end",), "must be later than start on the same day")])
        return self


class SlaCalendarVersion(_Model):
    """A business calendar as it holds from ``effective_from`` (a date in its time zone).

    ``hours: 24x7`` counts every minute (a daylight-saving night has 23 or 25 hours);
    ``hours: window`` counts the ``window`` on days that are not public holidays (the
    ``holidays`` package, country NL, Dutch names) or ``closing_days``.

    ``bevrijdingsdag`` is a choice, not a default: ``every_year`` (the Cao Gemeenten since
    2024) or ``lustrum`` (only in years divisible by 5, the national public category).
    ``good_friday``: whether Goede Vrijdag is a closing day.
    """

    effective_from: date
    timezone: TimeZoneName = "Europe/Amsterdam"
    hours: Literal["24x7", "window"] = "window"
    window: ServiceWindow = Field(default_factory=ServiceWindow)
    public_holidays: bool = True
    bevrijdingsdag: Literal["every_year", "lustrum"]
    good_friday: bool
    closing_days: list[date] = Field(default_factory=list)


class SlaCalendar(_Model):
    """A named business calendar; each version applies to tickets opened from its
    ``effective_from`` on (tickets opened before keep the version they started under)."""

    id: Slug
    versions: list[SlaCalendarVersion] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        dates = [v.effective_from for v in self.versions]
        if dates != sorted(set(dates)):
            raise problems_error(
                [(("versions",), "effective_from must ascend, one version per date")]
            )
        return self

    def version_at(self, day: date) -> SlaCalendarVersion:
        """The version in force on ``day`` (the first one for days before any)."""
        found = self.versions[0]
        for version in self.versions:
            if version.effective_from <= day:
                found = version
        return found


def _default_calendars() -> list[SlaCalendar]:
    return [
        SlaCalendar(
            id="werkdagen",
            versions=[
                SlaCalendarVersion(
                    effective_from=date(2024, 1, 1), bevrijdingsdag="every_year", good_friday=False
                )
            ],
        )
    ]


class SlaConfig(_Model):
    """The SLA watch: business calendars the suppliers' contracts refer to by id."""

    calendars: list[SlaCalendar] = Field(default_factory=_default_calendars)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        problems = _duplicates(
            ((i, c.id) for i, c in enumerate(self.calendars)), "calendar id", "id"
        )
        if problems:
            raise problems_error([(("calendars", *loc), msg) for loc, msg in problems])
        return self

    def calendar(self, calendar_id: str) -> SlaCalendar:
        for calendar in self.calendars:
            if calendar.id == calendar_id:
                return calendar
        raise KeyError(calendar_id)


# --- the regie's cockpit (services/feed) ---------------------------------------------------


class CockpitAccount(_Model):
    """A person who signs in to the cockpit. ``role`` regie sees everything and may replay
    dead letters and route by hand; ``fb`` sees only tickets routed to ``gemeente``.
    ``password_hash`` is an argon2 hash (``schakel feed hash-password``), never a password."""

    username: Slug
    name: Text
    role: Literal["regie", "fb"]
    gemeente: GemeenteCode | None = None
    password_hash: Annotated[str, StringConstraints(pattern=r"^\$argon2(id|i|d)\$")]

    @model_validator(mode="after")
    def _gemeente_for_fb(self) -> Self:
        if (self.role == "fb") != (self.gemeente is not None):
            raise problems_error([(("gemeente",), "an fb account needs a gemeente; regie none")])
        return self


class CockpitToken(_Model):
    """A machine's bearer token for the cockpit's API: its value in ``token_env``."""

    name: Slug
    role: Literal["regie", "fb"]
    gemeente: GemeenteCode | None = None
    token_env: EnvVarName

    @model_validator(mode="after")
    def _gemeente_for_fb(self) -> Self:
        if (self.role == "fb") != (self.gemeente is not None):
            raise problems_error([(("gemeente",), "an fb token needs a gemeente; regie none")])
        return self


RetainedTable = Literal["tickets", "audit", "dead_letters", "cis"]


def _default_retention() -> dict[RetainedTable, float]:
    return {"tickets": 7.0, "audit": 7.0, "dead_letters": 1.0}


class FeedRetention(_Model):
    """How long the hub keeps its records, in years (docs/RETENTION.md: the Archiefwet).

    ``topics``: topic name -> years (Kafka's retention.ms); ``tables``: read-model table
    (tickets, audit, dead_letters, cis) -> years; a table not named is kept."""

    topics: dict[str, PositiveFloat] = Field(default_factory=dict)
    tables: dict[RetainedTable, PositiveFloat] = Field(default_factory=_default_retention)


class FeedConfig(_Model):
    """The cockpit: its accounts and machine tokens, the variable holding the key that signs
    session cookies (a random key per start when unset: sessions end with the process),
    and retention."""

    accounts: list[CockpitAccount] = Field(default_factory=list)
    tokens: list[CockpitToken] = Field(default_factory=list)
    session_secret_env: EnvVarName | None = None
    session_hours: PositiveFloat = 10.0
    retention: FeedRetention = Field(default_factory=FeedRetention)


# --- the whole -------------------------------------------------------------------------


class PrivacyConfig(_Model):
    """Personal-data minimisation per class: ``mask`` (default) or ``keep``. Applied to every
    normalised event (so to routed events, deliveries and e-mails) and to log lines; see
    :mod:`services.privacy`."""

    email: Literal["mask", "keep"] = "mask"
    phone: Literal["mask", "keep"] = "mask"
    iban: Literal["mask", "keep"] = "mask"
    bsn: Literal["mask", "keep"] = "mask"


class SchakelConfig(_Model):
    """The complete hub configuration, normally read by :func:`services.config.load_config`.

    Beyond the checks of its parts: supplier ids and gemeente codes are unique, and every
    supplier, gemeente and team a routing rule names exists.
    """

    suppliers: list[SupplierConfig] = Field(min_length=1)
    gemeenten: list[Gemeente] = Field(min_length=1)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    changes: ChangesConfig = Field(default_factory=ChangesConfig)
    feed: FeedConfig = Field(default_factory=FeedConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)

    _source_path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems = [
            (("suppliers", *loc), msg)
            for loc, msg in _duplicates(
                ((i, s.id) for i, s in enumerate(self.suppliers)), "supplier id", "id"
            )
        ]
        problems += [
            (("gemeenten", *loc), msg)
            for loc, msg in _duplicates(
                ((i, g.code) for i, g in enumerate(self.gemeenten)), "gemeente code", "code"
            )
        ]
        for i, rule in enumerate(self.routing.rules):
            problems += self._rule_problems(("routing", "rules", i), rule)
        calendars = [c.id for c in self.sla.calendars]
        for i, supplier in enumerate(self.suppliers):
            if supplier.contract is not None and supplier.contract.calendar not in calendars:
                problems.append(
                    (
                        ("suppliers", i, "contract", "calendar"),
                        f"unknown SLA calendar {supplier.contract.calendar!r}; "
                        f"calendars: {', '.join(calendars)}",
                    )
                )
        codes = {g.code for g in self.gemeenten}
        problems += [
            (("changes", "gemeenten", code), f"unknown gemeente {code!r}")
            for code in self.changes.gemeenten
            if code not in codes
        ]
        if problems:
            raise problems_error(problems)
        return self

    def _rule_problems(self, at: Loc, rule: RoutingRule) -> list[tuple[Loc, str]]:
        suppliers = [s.id for s in self.suppliers]
        gemeenten = {g.code: g for g in self.gemeenten}
        problems: list[tuple[Loc, str]] = []
        for j, supplier in enumerate(rule.match.supplier or ()):
            if supplier not in suppliers:
                problems.append(
                    (
                        (*at, "match", "supplier", j),
                        f"unknown supplier {supplier!r}; suppliers: {', '.join(suppliers)}",
                    )
                )
        for k, recipient in enumerate(rule.recipients):
            here = (*at, "recipients", k)
            if recipient.gemeente == CI_OWNERS:
                if recipient.team is not None and not any(
                    t.id == recipient.team for g in self.gemeenten for t in g.teams
                ):
                    problems.append(((*here, "team"), f"no gemeente has a team {recipient.team!r}"))
                continue
            gemeente = gemeenten.get(recipient.gemeente)
            if gemeente is None:
                problems.append(
                    (
                        (*here, "gemeente"),
                        f"unknown gemeente {recipient.gemeente!r}; "
                        f"gemeenten: {', '.join(gemeenten)}",
                    )
                )
            elif recipient.team is not None and recipient.team not in (
                ids := [t.id for t in gemeente.teams]
            ):
                problems.append(
                    (
                        (*here, "team"),
                        f"{gemeente.code} ({gemeente.name}) has no team {recipient.team!r}; "
                        f"teams: {', '.join(ids)}",
                    )
                )
        return problems

    @property
    def source_path(self) -> Path | None:
        """The file this configuration was loaded from, if any."""
        return self._source_path

    def supplier(self, supplier_id: str) -> SupplierConfig:
        """The supplier with this id; :class:`UnknownSupplierError` if there is none."""
        for supplier in self.suppliers:
            if supplier.id == supplier_id:
                return supplier
        raise UnknownSupplierError(supplier_id)

    def gemeente(self, code: str) -> Gemeente:
        """The gemeente with this CBS code; :class:`UnknownGemeenteError` if there is none."""
        for gemeente in self.gemeenten:
            if gemeente.code == code:
                return gemeente
        raise UnknownGemeenteError(code)

    def mapping_path(self, supplier_id: str) -> Path | None:
        """The declarative mapping file of a "mapped" supplier, resolved against the file
        this configuration was loaded from (else the working directory)."""
        mapping = self.supplier(supplier_id).mapping
        if mapping is None:
            return None
        base = self._source_path.parent if self._source_path is not None else Path()
        return base / mapping
