"""The API's bodies for incidents, checklists, procedures and runbooks: the edge of their dataclasses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from watchkeeper.checklists.model import Item, ItemState, NoteField, Run, RunState
from watchkeeper.config.procedures import Procedure, Runbook, Step, StepKind
from watchkeeper.incidents.model import Incident, IncidentState, Level, TimelineEntry, TimelineKind
from watchkeeper.incidents.stats import SeverityStats
from watchkeeper.procedures.model import RunbookOutcome, StepOutcome
from watchkeeper.procedures.runbooks import RunbookRun, StepRecord
from watchkeeper.procedures.stats import ProcedureStats
from watchkeeper.web.api.models import AlertOut, Body

Text = Annotated[str, Field(pattern=r"\S", max_length=10_000)]
"""Free text that says something: at least one character that is not a space."""


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


class Decision(StrEnum):
    """What a person decides for a checklist item."""

    PASSED = ItemState.PASSED.value
    FAILED = ItemState.FAILED.value
    SKIPPED = ItemState.SKIPPED.value


class DecisionIn(Body):
    """A person's decision on a checklist item, with an optional note."""

    state: Decision
    note: str = Field(default="", max_length=10_000)


class RunNoteIn(Body):
    """A line added to one of a run's notes (what was there stays)."""

    field: NoteField
    text: Text


class ItemOut(BaseModel):
    """A checklist item: decided by a check, a command's exit code, or a person."""

    position: int
    kind: StepKind
    text: str
    state: ItemState
    check_name: str | None
    argv: list[str] | None
    timeout: float | None
    decided_by: str | None
    decided_at: datetime | None
    note: str
    output: str | None
    exit_code: int | None

    @classmethod
    def of(cls, i: Item) -> ItemOut:
        """Given an Item, return its JSON form."""
        fields = {k: v for k, v in vars(i).items() if k in cls.model_fields and k != "argv"}
        return cls(**fields, argv=list(i.argv) if i.argv is not None else None)


class RunOut(BaseModel):
    """A checklist run in summary: a procedure's occurrence or an incident's phase."""

    id: int
    title: str
    state: RunState
    procedure: str | None
    incident_id: int | None
    phase: str | None
    owner: str
    scheduled_for: datetime
    due_at: datetime | None
    overdue: bool = Field(description="open past its due time, as of this answer")
    created_at: datetime
    created_by: str
    completed_at: datetime | None
    completed_by: str | None
    escalated_at: datetime | None
    counts: dict[ItemState, int]

    @classmethod
    def of(cls, r: Run, now: datetime) -> RunOut:
        """Given a Run, return its JSON form as of ``now``."""
        return cls(**_run_fields(cls, r, now))


class RunDetail(RunOut):
    """A checklist run with its items and notes."""

    items: list[ItemOut]
    issues_found: str
    actions_taken: str
    escalations_made: str

    @classmethod
    def of(cls, r: Run, now: datetime) -> RunDetail:
        """Given a Run, return its JSON form as of ``now``, items included."""
        return cls(**_run_fields(cls, r, now), items=[ItemOut.of(i) for i in r.items])


def _run_fields(model: type[RunOut], r: Run, now: datetime) -> dict[str, Any]:
    fields = {k: v for k, v in vars(r).items() if k in model.model_fields and k != "items"}
    return {**fields, "overdue": r.overdue(now), "counts": r.counts()}


class IncidentDetail(IncidentOut):
    """An incident with its attached alerts, its timeline and its phase checklists."""

    alerts: list[AlertOut]
    timeline: list[TimelineEntryOut]
    checklists: list[RunDetail]


class StepOut(BaseModel):
    """A configured step: ``check`` a check passes, ``run`` a command exits 0, or ``manual``."""

    kind: StepKind
    text: str
    check: str | None
    run: list[str] | None
    timeout: float | None
    confirm: bool

    @classmethod
    def of(cls, s: Step) -> StepOut:
        """Given a Step, return its JSON form."""
        return cls(
            kind=s.kind,
            text=s.label,
            check=s.check,
            run=list(s.run) if s.run is not None else None,
            timeout=s.timeout if s.kind is StepKind.RUN else None,
            confirm=s.confirm,
        )


class ProcedureStatsOut(BaseModel):
    """How a procedure's runs scheduled in the period went; rates are fractions, null for no data."""

    runs: int
    completed: int
    completion_rate: float | None = Field(description="completed ÷ (completed + open past due)")
    on_time_rate: float | None = Field(description="completed by their due time ÷ completed")
    overdue_open: int = Field(description="runs still open past their due time")
    last_completed_at: datetime | None

    @classmethod
    def of(cls, s: ProcedureStats) -> ProcedureStatsOut:
        """Given a ProcedureStats, return its JSON form."""
        return cls(
            runs=s.runs,
            completed=s.completed,
            completion_rate=s.completion_rate,
            on_time_rate=s.on_time_rate,
            overdue_open=s.overdue_open,
            last_completed_at=s.last_completed_at,
        )


class ProcedureOut(BaseModel):
    """A configured procedure, when it next falls due, and how its runs went lately."""

    name: str
    title: str
    description: str
    schedule: str | None
    owner: str
    priority: Literal["critical", "high", "medium", "low"]
    window: float | None = Field(description="seconds to complete a run; null: until the next")
    steps: list[StepOut]
    next_due: datetime | None = Field(description="the next scheduled run; null: none known")
    stats: ProcedureStatsOut = Field(description="runs scheduled in the last 30 days")

    @classmethod
    def of(cls, p: Procedure, s: ProcedureStats) -> ProcedureOut:
        """Given a configured Procedure and its stats, return its JSON form."""
        return cls(
            name=p.name,
            title=p.heading,
            description=p.description,
            schedule=p.schedule,
            owner=p.owner,
            priority=p.priority,
            window=p.window,
            steps=[StepOut.of(step) for step in p.steps],
            next_due=s.next_due_at,
            stats=ProcedureStatsOut.of(s),
        )


class RunbookRunOut(BaseModel):
    """A runbook run: who started it, when, how it ended (null while running or if it died)."""

    id: int
    runbook: str
    started_at: datetime
    started_by: str
    finished_at: datetime | None
    outcome: RunbookOutcome | None

    @classmethod
    def of(cls, r: RunbookRun) -> RunbookRunOut:
        """Given a RunbookRun, return its JSON form without steps."""
        return cls(**{k: v for k, v in vars(r).items() if k in cls.model_fields})


class StepRecordOut(BaseModel):
    """How one runbook step went; the output is redacted of secrets."""

    position: int
    kind: StepKind
    text: str
    outcome: StepOutcome
    started_at: datetime
    duration_ms: float
    argv: list[str] | None
    exit_code: int | None
    output: str | None

    @classmethod
    def of(cls, s: StepRecord) -> StepRecordOut:
        """Given a StepRecord, return its JSON form."""
        fields = {k: v for k, v in vars(s).items() if k in cls.model_fields and k != "argv"}
        return cls(**fields, argv=list(s.argv) if s.argv is not None else None)


class RunbookRunDetail(RunbookRunOut):
    """A runbook run with the log of each step."""

    steps: list[StepRecordOut]

    @classmethod
    def of(cls, r: RunbookRun) -> RunbookRunDetail:
        """Given a RunbookRun read with its steps, return its JSON form."""
        base = RunbookRunOut.of(r).model_dump()
        return cls(**base, steps=[StepRecordOut.of(s) for s in r.steps])


class RunbookOut(BaseModel):
    """A configured runbook and its newest run."""

    name: str
    title: str
    description: str
    keep_going: bool
    steps: list[StepOut]
    last_run: RunbookRunOut | None

    @classmethod
    def of(cls, r: Runbook, last: RunbookRun | None) -> RunbookOut:
        """Given a Runbook and its newest run, return its JSON form."""
        return cls(
            name=r.name,
            title=r.heading,
            description=r.description,
            keep_going=r.keep_going,
            steps=[StepOut.of(s) for s in r.steps],
            last_run=RunbookRunOut.of(last) if last is not None else None,
        )
