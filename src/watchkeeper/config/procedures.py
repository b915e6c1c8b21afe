"""The config of procedures (scheduled checklists) and runbooks (step lists run on demand)."""

from __future__ import annotations

import shlex
import sys
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.types import (
    Condition,
    Duration,
    Model,
    ScheduleText,
    one_or_more,
    valid_name,
)


class StepKind(StrEnum):
    """Who decides a step: a check's result, a command's exit code, or a person."""

    CHECK = "check"
    RUN = "run"
    MANUAL = "manual"


class MaintenanceOperation(StrEnum):
    """What a maintenance step does to a PostgreSQL database."""

    VACUUM_ANALYZE = "vacuum_analyze"
    ANALYZE = "analyze"
    VACUUM = "vacuum"

    @property
    def sql(self) -> str:
        """Return the statement's verb, e.g. ``VACUUM (ANALYZE)``."""
        return {"vacuum_analyze": "VACUUM (ANALYZE)", "analyze": "ANALYZE", "vacuum": "VACUUM"}[
            self.value
        ]


class Maintenance(Model):
    """``VACUUM``/``ANALYZE`` on a PostgreSQL database whose URL is in an environment variable
    (so that no password is ever on a command line), for some tables or the whole database."""

    url_env: str = Field(default="DATABASE_URL", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    operation: MaintenanceOperation = MaintenanceOperation.VACUUM_ANALYZE
    tables: tuple[str, ...] = ()

    def argv(self) -> tuple[str, ...]:
        """Return the command that does it: ``watchkeeper maintain`` with this Python."""
        tables = [arg for table in self.tables for arg in ("--table", table)]
        return (
            sys.executable,
            "-m",
            "watchkeeper",
            "maintain",
            "--url-env",
            self.url_env,
            "--operation",
            self.operation.value,
            *tables,
        )

    @property
    def label(self) -> str:
        """Return how the step reads, e.g. ``VACUUM (ANALYZE) users, orders ($DATABASE_URL)``."""
        what = ", ".join(self.tables) or "the whole database"
        return f"{self.operation.sql} {what} (${self.url_env})"


class Step(Model):
    """One step: ``check: NAME``, ``run: [argv…]``, ``maintenance: {…}`` (a run step doing
    VACUUM/ANALYZE) or ``manual: what a person verifies``."""

    check: str | None = None
    run: tuple[str, ...] | None = None
    manual: str | None = None
    title: str | None = Field(default=None, description="how the step reads; default from the step")
    timeout: Duration = 300.0
    confirm: bool = Field(default=False, description="runbooks: ask before running this step")

    @model_validator(mode="before")
    @classmethod
    def _maintenance(cls, data: Any) -> Any:
        # A maintenance step is a run step of `watchkeeper maintain`: the runs, logs, timeouts and
        # claims of run steps serve it unchanged.
        if not isinstance(data, dict) or "maintenance" not in data:
            return data
        if "run" in data:
            raise ValueError("a step has exactly one of check:, run:, maintenance: or manual:")
        rest = {k: v for k, v in data.items() if k != "maintenance"}
        maintenance = Maintenance.model_validate(data["maintenance"] or {})
        return {"title": maintenance.label, **rest, "run": maintenance.argv()}

    @field_validator("run", mode="before")
    @classmethod
    def _argv(cls, v: Any) -> Any:
        # `run: "git log -3"` is split like a shell would, but never run by one.
        return shlex.split(v) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        given = [k for k in StepKind if getattr(self, k.value) is not None]
        if len(given) != 1:
            raise ValueError("a step has exactly one of check:, run: or manual:")
        if self.run is not None and not self.run:
            raise ValueError("run: needs a program, e.g. [git, log, --oneline, '-3']")
        return self

    @property
    def kind(self) -> StepKind:
        """Return whether this step is a check, a command or manual."""
        return next(k for k in StepKind if getattr(self, k.value) is not None)

    @property
    def label(self) -> str:
        """Return the text a checklist shows for this step."""
        if self.title:
            return self.title
        if self.check is not None:
            return f"Check {self.check} passes"
        if self.run is not None:
            return "Run " + shlex.join(self.run)
        return self.manual or ""


def _not_empty(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    # A validator rather than min_length: an invalid step would also count as a missing one.
    if not steps:
        raise ValueError("needs at least one step (check:, run: or manual:)")
    return steps


class Procedure(Model):
    """A routine from the guide: on its schedule it becomes a checklist run someone must complete."""

    name: str
    title: str = ""
    description: str = ""
    schedule: ScheduleText | None = Field(
        default=None, description="when a run is created; none: started by hand only"
    )
    owner: str = ""
    duration: Duration | None = Field(default=None, description="how long the routine takes")
    priority: Literal["critical", "high", "medium", "low"] = "medium"
    window: Duration | None = Field(
        default=None,
        description="time to complete a run before it is overdue; default: until the next",
    )
    notify: tuple[str, ...] = Field(
        default=(), description="channels told of overdue runs and escalations; default: all"
    )
    steps: tuple[Step, ...]
    escalate_if: tuple[Condition, ...] = Field(
        default=(),
        description="over failed_steps, skipped_steps, passed_steps, total_steps, overdue",
    )
    escalate_to: str | None = Field(
        default=None,
        description="an incident severity to open when escalating; default: alert only",
    )

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        return valid_name(v, "procedure")

    @field_validator("notify", mode="before")
    @classmethod
    def _channels(cls, v: Any) -> Any:
        return one_or_more(v)

    @field_validator("steps")
    @classmethod
    def _some_steps(cls, v: tuple[Step, ...]) -> tuple[Step, ...]:
        return _not_empty(v)

    @model_validator(mode="after")
    def _no_confirm(self) -> Procedure:
        if any(step.confirm for step in self.steps):
            raise ValueError("confirm: is for runbooks; a procedure's run: steps run on schedule")
        return self

    @property
    def heading(self) -> str:
        """Return the title, or the name when there is none."""
        return self.title or self.name


class Runbook(Model):
    """Named steps for a known situation ("Restart service"), run with ``watchkeeper runbook run``."""

    name: str
    title: str = ""
    description: str = ""
    steps: tuple[Step, ...]
    keep_going: bool = Field(default=False, description="run later steps after one fails")

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        return valid_name(v, "runbook")

    @field_validator("steps")
    @classmethod
    def _no_checks(cls, v: tuple[Step, ...]) -> tuple[Step, ...]:
        if any(step.kind is StepKind.CHECK for step in v):
            raise ValueError("a runbook step is run: or manual: (checks belong in procedures)")
        return _not_empty(v)

    @property
    def heading(self) -> str:
        """Return the title, or the name when there is none."""
        return self.title or self.name
