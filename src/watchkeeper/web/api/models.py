"""The API's request and response bodies: the edge where internal dataclasses become JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from watchkeeper.alerting.model import AlertStatus, Severity
from watchkeeper.alerting.queries import AlertRow
from watchkeeper.alerting.silences import Silence
from watchkeeper.auth.access_log import Access
from watchkeeper.auth.model import Role, Token, User
from watchkeeper.results import Result, Status
from watchkeeper.views.dashboard import CheckView, Overall, Overview
from watchkeeper.views.series import Series

CheckState = Literal["ok", "warning", "critical", "error", "pending", "disabled"]
Uptimes = dict[str, float | None]


class Problem(BaseModel):
    """An error: what went wrong, or for a request that fails validation, a list of what and where."""

    detail: str | list[dict[str, Any]]


def problem(description: str) -> dict[str, Any]:
    """Return an entry of a route's ``responses`` for an error answered with a Problem."""
    return {"model": Problem, "description": description}


Responses = dict[int | str, dict[str, Any]]
"""A route's ``responses``: by status code, the description and model of each answer."""
ERRORS: Responses = {
    401: problem("no credentials, or ones that are unknown, revoked or expired"),
    403: problem("the role does not allow it, or a signed-in browser sent no CSRF token"),
    422: problem("invalid parameters or body"),
}
"""Errors every endpoint may answer."""
BAD_JSON: Responses = {400: problem("the body is not JSON")}
"""The error of endpoints that take a body."""


class Body(BaseModel):
    """A closed body: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ResultOut(BaseModel):
    """One run of a check."""

    check: str
    started_at: datetime
    status: Status
    duration_ms: float
    message: str
    measurements: dict[str, Any]
    maintenance: bool

    @classmethod
    def of(cls, r: Result) -> ResultOut:
        """Given a Result, return its JSON form."""
        return cls(
            check=r.check,
            started_at=r.started_at,
            status=r.status,
            duration_ms=r.duration_ms,
            message=r.message,
            measurements=r.measurements,
            maintenance=r.maintenance,
        )


class CheckOut(BaseModel):
    """A configured check with its newest result and uptime (share of ok results) per window."""

    name: str
    description: str
    service: str | None
    tags: list[str]
    kind: str
    enabled: bool
    schedule: str
    state: CheckState
    latest: ResultOut | None
    uptime: Uptimes
    silenced_by: int | None

    @classmethod
    def of(cls, v: CheckView) -> CheckOut:
        """Given a CheckView, return its JSON form."""
        return cls(
            name=v.name,
            description=v.check.description,
            service=v.check.service,
            tags=list(v.check.tags),
            kind=v.check.kind,
            enabled=v.check.enabled,
            schedule=v.schedule,
            state=v.state,
            latest=ResultOut.of(v.latest) if v.latest else None,
            uptime={w: v.uptime.ratio(w) for w in v.uptime.windows},
            silenced_by=v.silenced_by.id if v.silenced_by else None,
        )


class ServiceOut(BaseModel):
    """One service's checks in summary."""

    name: str
    overall: Overall
    checks: int
    failing: list[str]
    uptime: Uptimes


class SummaryOut(BaseModel):
    """The executive summary: overall state, the rule deciding it, and why it is what it is."""

    overall: Overall
    rule: str
    reasons: list[str]
    counts: dict[str, int]
    firing: dict[str, int]
    errors_24h: int
    uptime: Uptimes
    services: list[ServiceOut]

    @classmethod
    def of(cls, o: Overview) -> SummaryOut:
        """Given an Overview, return its JSON form."""
        return cls(
            overall=o.overall,
            rule=o.rule,
            reasons=o.reasons,
            counts=o.counts,
            firing=o.firing,
            errors_24h=o.errors_24h,
            uptime=o.uptime,
            services=[ServiceOut(**vars(s)) for s in o.services],
        )


class PointOut(BaseModel):
    """One bucket of a chart (or one raw result)."""

    start: datetime
    count: int
    failures: int
    avg_ms: float
    max_ms: float


class SeriesOut(BaseModel):
    """A check's chart points, oldest first; resolution is raw, minute or hour."""

    check: str
    since: datetime
    until: datetime
    resolution: str
    points: list[PointOut]

    @classmethod
    def of(cls, s: Series) -> SeriesOut:
        """Given a Series, return its JSON form."""
        return cls(
            check=s.check,
            since=s.since,
            until=s.until,
            resolution=s.resolution,
            points=[PointOut(**vars(p)) for p in s.points],
        )


class AlertOut(BaseModel):
    """An alert: firing or resolved."""

    id: int
    dedup_key: str
    check: str
    service: str | None
    severity: Severity
    state: AlertStatus
    since: datetime
    fired_at: datetime
    resolved_at: datetime | None
    message: str
    caused_by: str | None
    flapping: bool

    @classmethod
    def of(cls, a: AlertRow) -> AlertOut:
        """Given an AlertRow, return its JSON form."""
        fields = {k: v for k, v in vars(a).items() if k in cls.model_fields}
        return cls(**fields)


MatchKey = Literal["check", "service", "tag", "severity", "kind"]


class SilenceIn(Body):
    """A new silence: what it matches (every key must match; a key's values are alternatives)."""

    matchers: dict[MatchKey, list[str]] = Field(
        min_length=1, examples=[{"service": ["backend"], "check": ["api-*"]}]
    )
    duration: str = Field(default="1h", examples=["2h"], description="how long, e.g. 30m, 2h, 1d")
    comment: str = Field(default="", max_length=1000)


class SilenceOut(BaseModel):
    """A silence in force or still to come."""

    id: int
    matchers: dict[str, list[str]]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str

    @classmethod
    def of(cls, s: Silence) -> SilenceOut:
        """Given a Silence, return its JSON form."""
        return cls(
            id=s.id,
            matchers={k: list(v) for k, v in s.matchers.items()},
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            created_by=s.created_by,
            comment=s.comment,
        )


class UserIn(Body):
    """A new user."""

    name: str = Field(min_length=1, max_length=64)
    role: Role = Role.VIEWER
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    """A user (never their password or its hash)."""

    name: str
    role: Role
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        """Given a User, return its JSON form."""
        return cls(name=u.name, role=u.role, created_at=u.created_at)


class TokenIn(Body):
    """A new API token for a user; its role defaults to the user's and can only be narrower."""

    user: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    role: Role | None = None
    expires_in_days: int | None = Field(
        default=90, ge=1, le=3650, description="null for a token that never expires"
    )


class TokenOut(BaseModel):
    """A token as listed: its first characters, never the token."""

    id: int
    name: str
    prefix: str
    user: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool
    rotation_due: bool

    @classmethod
    def of(cls, t: Token, now: datetime) -> TokenOut:
        """Given a Token, return its JSON form as of ``now``."""
        return cls(
            **{k: v for k, v in vars(t).items() if k in cls.model_fields},
            active=t.active(now),
            rotation_due=t.rotation_due(now),
        )


class TokenCreated(BaseModel):
    """A new token: ``token`` is shown this once and cannot be read again."""

    token: str
    details: TokenOut


class AccessOut(BaseModel):
    """One access-log entry."""

    at: datetime
    actor: str | None
    via: str
    action: str
    method: str
    path: str
    status: int
    client: str | None

    @classmethod
    def of(cls, a: Access) -> AccessOut:
        """Given an Access, return its JSON form."""
        return cls(**vars(a))


class Me(BaseModel):
    """Who the request acts as."""

    user: str
    role: Role
    via: str
