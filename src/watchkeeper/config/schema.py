"""The validated shape of ``watchkeeper.yaml``."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.alerting import (
    AlertingConfig,
    AlertRule,
    MaintenanceWindow,
    NotificationsConfig,
)
from watchkeeper.config.backups import Backup
from watchkeeper.config.incidents import IncidentsConfig
from watchkeeper.config.procedures import Procedure, Runbook
from watchkeeper.config.reports import ReportSchedule
from watchkeeper.config.specs import (
    SPEC_KINDS,
    BackupSpec,
    BrowserSpec,
    CommandSpec,
    DatabaseSpec,
    DepsSpec,
    ErrorsSpec,
    ForecastSpec,
    GitSpec,
    HeartbeatSpec,
    HttpSpec,
    LlmChainSpec,
    LlmSpec,
    LogSpec,
    MetricSpec,
    PostgresSpec,
    RedisSpec,
    SecretsSpec,
    SloSpec,
    Spec,
    SystemSpec,
    TcpSpec,
    TlsSpec,
    TrendSpec,
)
from watchkeeper.config.specs.trend import HistorySpec
from watchkeeper.config.types import (
    Condition,
    Duration,
    Model,
    ScheduleText,
    at_least_a_millisecond,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Defaults(Model):
    """What every check gets unless it says otherwise."""

    interval: Duration = 60.0
    timeout: Duration = 10.0
    timezone: str = "UTC"
    concurrency: int = Field(default=256, ge=1, le=10_000)
    """How many checks may run at once; more wait their turn (a measured response time stays honest)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {v!r}: use an IANA name such as UTC or Europe/Amsterdam"
            ) from None
        return v

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, v: float) -> float:
        return at_least_a_millisecond(v) or v


class Retention(Model):
    """How long results are kept: raw results, then per-minute, per-hour and per-day rollups."""

    raw: Duration = 14 * 86400.0
    minute: Duration = 30 * 86400.0
    hour: Duration = 400 * 86400.0
    day: Duration | None = None
    access_log: Duration = 400 * 86400.0
    reports: Duration = Field(
        default=400 * 86400.0, description="how long written reports are kept"
    )


class StatusPage(Model):
    """The public, read-only status page: which services it shows, under what title."""

    enabled: bool = True
    title: str = "Service status"
    services: tuple[str, ...] = Field(default=(), description="services shown; empty shows all")


class Server(Model):
    """Where ``watchkeeper serve`` listens, the URL people reach it at, and what answers unsigned."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    base_url: str | None = None
    session_lifetime: Duration = 12 * 3600.0
    public_metrics: bool = Field(
        default=False,
        description="serve /metrics without a token (for a scraper on a trusted network)",
    )
    status_page: StatusPage = StatusPage()


class Check(Model):
    """One check: a probe, when it runs, and the conditions that judge its measurements."""

    name: str
    description: str = ""
    service: str | None = None
    tags: tuple[str, ...] = ()
    enabled: bool = True
    interval: Duration | None = None
    schedule: ScheduleText | None = None
    timeout: Duration | None = None
    expect: tuple[Condition, ...] = ()
    warn: tuple[Condition, ...] = ()
    critical: tuple[Condition, ...] = ()
    alert: AlertRule | None = None
    depends_on: tuple[str, ...] = ()

    http: HttpSpec | None = None
    tcp: TcpSpec | None = None
    tls: TlsSpec | None = None
    command: CommandSpec | None = None
    system: SystemSpec | None = None
    database: DatabaseSpec | None = None
    backup: BackupSpec | None = None
    llm: LlmSpec | None = None
    llm_chain: LlmChainSpec | None = None
    redis: RedisSpec | None = None
    browser: BrowserSpec | None = None
    deps: DepsSpec | None = None
    git: GitSpec | None = None
    secrets: SecretsSpec | None = None
    log: LogSpec | None = None
    postgres: PostgresSpec | None = None
    heartbeat: HeartbeatSpec | None = None
    metric: MetricSpec | None = None
    errors: ErrorsSpec | None = None
    trend: TrendSpec | None = None
    forecast: ForecastSpec | None = None
    slo: SloSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_probe(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = [k for k in SPEC_KINDS if k in data]
            # A misspelt kind (`htp:`) is better reported as an unknown key with a did-you-mean.
            misspelt = any(
                difflib.get_close_matches(str(k), SPEC_KINDS, cutoff=0.6)
                for k in data
                if k not in cls.model_fields
            )
            if not kinds and not misspelt:
                raise ValueError(f"a check needs one probe: {', '.join(SPEC_KINDS)}")
            if len(kinds) > 1:
                raise ValueError(f"a check has one probe, this one has {' and '.join(kinds)}")
            if "interval" in data and "schedule" in data:
                raise ValueError("give either interval or schedule, not both")
        return data

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                f"bad check name {v!r}: use letters, digits, '-', '_' and '.', starting with a letter or digit"
            )
        return v

    @field_validator("interval", "timeout")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        return at_least_a_millisecond(v)

    @property
    def kind(self) -> str:
        """Return the probe kind this check uses, e.g. ``http``."""
        return next(k for k in SPEC_KINDS if getattr(self, k) is not None)

    def rooted(self, base: Path) -> Check:
        """Given the config file's directory, return this check with its probe's relative paths
        made absolute under it."""
        spec = self.spec
        rooted = spec.rooted(base)
        return self if rooted is spec else self.model_copy(update={self.kind: rooted})

    @property
    def spec(self) -> Spec:
        """Return the probe's spec."""
        spec: Spec = getattr(self, self.kind)
        return spec


JUDGES = (ErrorsSpec, HistorySpec, SloSpec)
"""The kinds that judge other checks' data: an SLO of a service judges its other checks."""


def backup_check_name(backup: str) -> str:
    """Given a backup's name, return the name of the check that watches it."""
    return f"backup.{backup}"


class Config(Model):
    """The whole file."""

    version: Literal[1] = 1
    store: str | None = Field(default=None, description="a SQLite path or URL, or a PostgreSQL URL")
    defaults: Defaults = Defaults()
    retention: Retention = Retention()
    server: Server = Server()
    alerting: AlertingConfig = AlertingConfig()
    notifications: NotificationsConfig = NotificationsConfig()
    maintenance: tuple[MaintenanceWindow, ...] = ()
    checks: tuple[Check, ...] = ()
    incidents: IncidentsConfig = IncidentsConfig()
    procedures: tuple[Procedure, ...] = ()
    runbooks: tuple[Runbook, ...] = ()
    backups: tuple[Backup, ...] = ()
    reports: tuple[ReportSchedule, ...] = ()

    def procedure(self, name: str) -> Procedure | None:
        """Return the procedure called ``name``, if there is one."""
        return next((p for p in self.procedures if p.name == name), None)

    def runbook(self, name: str) -> Runbook | None:
        """Return the runbook called ``name``, if there is one."""
        return next((r for r in self.runbooks if r.name == name), None)

    def backup(self, name: str) -> Backup | None:
        """Return the backup called ``name``, if there is one."""
        return next((b for b in self.backups if b.name == name), None)

    def rooted(self, base: Path) -> Config:
        """Given the config file's directory, return this config with the checks' relative paths
        made absolute under it."""
        return self.model_copy(update={"checks": tuple(c.rooted(base) for c in self.checks)})

    def with_backup_checks(self) -> Config:
        """Return this config with each backup's own check added: ``backup.NAME``, which fails
        when its newest good copy is older than ``max_age``, its last attempt failed, or its last
        restore test failed."""
        own = tuple(
            Check(
                name=backup_check_name(b.name),
                description=f"the backups of {b.name}: fresh, taken, restorable",
                tags=("backup",),
                backup=BackupSpec(name=b.name),
                expect=(
                    *BackupSpec.default_expect,
                    *(("age <= max_age",) if b.max_age is not None else ()),
                ),
            )
            for b in self.backups
        )
        return self.model_copy(update={"checks": (*self.checks, *own)}) if own else self

    def with_service_slos(self) -> Config:
        """Return this config with each ``slo`` of a service watching that service's checks
        (those that judge other checks' history left out)."""
        changed = False
        checks = []
        for check in self.checks:
            spec = check.slo
            if spec is not None and spec.service is not None:
                watched = tuple(
                    c.name
                    for c in self.checks
                    if c.service == spec.service and not isinstance(c.spec, JUDGES)
                )
                check = check.model_copy(
                    update={"slo": spec.model_copy(update={"checks": watched})}
                )
                changed = True
            checks.append(check)
        return self.model_copy(update={"checks": tuple(checks)}) if changed else self

    def alert_rule(self, check: Check) -> AlertRule:
        """Return the check's alert rule: its own keys over the alerting defaults."""
        if check.alert is None:
            return self.alerting.defaults
        merged = {
            **self.alerting.defaults.model_dump(by_alias=True),
            **check.alert.model_dump(by_alias=True, exclude_unset=True),
        }
        return AlertRule.model_validate(merged)
