"""The API's bodies for incidents: the edge of their dataclasses, timeline and figures included."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from watchkeeper.incidents.model import Incident, IncidentState, Level, TimelineEntry, TimelineKind
from watchkeeper.incidents.stats import SeverityStats
from watchkeeper.web.api.checklist_models import RunDetail, Text
from watchkeeper.web.api.models import AlertOut, Body


class IncidentIn(Body):
    """A new incident, opened by hand; ``severity`` is one the config defines (P0 to P3 by default)."""

    title: str = Field(pattern=r"\S", max_length=200, examples=["Checkout returns 502"])
    severity: str = Field(max_length=64, examples=["P1"])
    summary: str = Field(default="", max_length=10_000)


class TransitionIn(Body):
    """An incident's next step, with an optional note for the timeline."""

    note: str = Field(default="", max_length=10_000)


class NoteIn(Body):
    """A note on an incident's timeline; a public one is a status-page update."""

    text: Text
    public: bool = False


class PostmortemIn(Body):
    """Write the post-mortem; ``force`` replaces a file already written."""

    force: bool = False


class PostmortemOut(BaseModel):
    """A post-mortem as written: where, and what."""

    path: str
    markdown: str


class LevelOut(BaseModel):
    """An escalation level: who is told, ``after`` seconds from opening while unacknowledged."""

    level: int
    after: float
    notify: list[str]

    @classmethod
    def of(cls, lv: Level) -> LevelOut:
        """Given a Level, return its JSON form."""
        return cls(level=lv.level, after=lv.after, notify=list(lv.notify))


class PolicyOut(BaseModel):
    """The severity's SLA and escalation as they were when the incident opened (seconds)."""

    severity: str
    respond_within: float
    update_status_page_within: float | None
    postmortem_required: bool
    levels: list[LevelOut]


class IncidentOut(BaseModel):
    """An incident, its state, who moved it when, and its SLA: respond by ``respond_by``."""

    id: int
    title: str
    severity: str
    state: IncidentState
    active: bool
    summary: str
    source_key: str | None
    opened_at: datetime
    opened_by: str
    level: int
    respond_by: datetime
    response_breached_at: datetime | None
    status_update_breached_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    mitigated_at: datetime | None
    mitigated_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    postmortem_path: str | None
    policy: PolicyOut

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        """Given an Incident, return its JSON form."""
        p = i.policy
        policy = PolicyOut(
            severity=p.severity,
            respond_within=p.respond_within,
            update_status_page_within=p.update_status_page_within,
            postmortem_required=p.postmortem_required,
            levels=[LevelOut.of(lv) for lv in p.levels],
        )
        fields = {k: v for k, v in vars(i).items() if k in cls.model_fields and k != "policy"}
        return cls(**fields, active=i.state.active, policy=policy)


class SeverityStatsOut(BaseModel):
    """Incidents of one severity (null: all) opened in the period; times in seconds, null for none."""

    severity: str | None
    opened: int
    open: int = Field(description="still not resolved")
    mtta_seconds: float | None = Field(description="mean time to the first response")
    mttr_seconds: float | None = Field(description="mean time to resolution")
    response_breaches: int
    status_update_breaches: int

    @classmethod
    def of(cls, s: SeverityStats) -> SeverityStatsOut:
        """Given a SeverityStats, return its JSON form."""
        return cls(
            severity=s.severity,
            opened=s.opened,
            open=s.still_open,
            mtta_seconds=s.mtta,
            mttr_seconds=s.mttr,
            response_breaches=s.response_breaches,
            status_update_breaches=s.status_update_breaches,
        )


class IncidentStatsOut(BaseModel):
    """Incident figures for [since, until): per severity that had incidents, and overall."""

    since: datetime
    until: datetime
    severities: list[SeverityStatsOut]
    overall: SeverityStatsOut

    @classmethod
    def of(cls, found: list[SeverityStats], since: datetime, until: datetime) -> IncidentStatsOut:
        """Given ``incident_stats`` (the overall figures last) and its period, return the JSON form."""
        *severities, overall = found
        return cls(
            since=since,
            until=until,
            severities=[SeverityStatsOut.of(s) for s in severities],
            overall=SeverityStatsOut.of(overall),
        )


class TimelineEntryOut(BaseModel):
    """One line of an incident's timeline; a phase checklist's tick, note or completion has no id."""

    id: int | None
    at: datetime
    kind: TimelineKind
    actor: str | None
    text: str
    data: dict[str, Any]

    @classmethod
    def of(cls, e: TimelineEntry) -> TimelineEntryOut:
        """Given a TimelineEntry, return its JSON form."""
        return cls(id=e.id, at=e.at, kind=e.kind, actor=e.actor, text=e.text, data=e.data)


class IncidentDetail(IncidentOut):
    """An incident with its attached alerts, its timeline and its phase checklists."""

    alerts: list[AlertOut]
    timeline: list[TimelineEntryOut]
    checklists: list[RunDetail]
