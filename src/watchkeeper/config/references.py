"""Names in the config that must point somewhere: dependencies, channels, checks, severities."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable

from watchkeeper.config.procedures import StepKind
from watchkeeper.config.reading import Path_
from watchkeeper.config.schema import JUDGES, Config, backup_check_name
from watchkeeper.config.specs.slo import SloSpec
from watchkeeper.config.specs.trend import HistorySpec


def dangling(config: Config) -> list[tuple[Path_, str]]:
    """Given a validated config, return each reference that points nowhere: where, and what is wrong."""
    problems: list[tuple[Path_, str]] = []
    checks = {c.name for c in config.checks}
    problems += _backup_checks(config)
    problems += _chains(config)
    checks |= {backup_check_name(b.name) for b in config.backups}
    problems += _watched_checks(config, checks)
    channels = set(config.notifications.channels)

    def channel(loc: Path_, name: str) -> None:
        if name not in channels:
            problems.append((loc, _unknown_channel(name, channels)))

    for i, check in enumerate(config.checks):
        for j, dep in enumerate(check.depends_on):
            if dep == check.name:
                problems.append(
                    (("checks", i, "depends_on", j), f"check {dep!r} cannot depend on itself")
                )
            elif dep not in checks:
                problems.append(
                    (("checks", i, "depends_on", j), f"unknown check {dep!r}{_close(dep, checks)}")
                )
        for j, name in enumerate(check.alert.route if check.alert else ()):
            channel(("checks", i, "alert", "route", j), name)
    for i, route in enumerate(config.notifications.routes):
        for j, name in enumerate(route.channels):
            channel(("notifications", "routes", i, "channels", j), name)
    for name, urls in config.notifications.channels.items():
        for j, url in enumerate(urls):
            if not _apprise_accepts(url):
                problems.append(
                    (
                        ("notifications", "channels", name, j),
                        f"channel {name!r}: not a URL Apprise can send to (e.g. json://host/path, "
                        "mailto://user@host, slack://…)",
                    )
                )
    cycle = _dependency_cycle({c.name: c.depends_on for c in config.checks})
    if cycle:
        index = next(i for i, c in enumerate(config.checks) if c.name == cycle[0])
        problems.append(
            (("checks", index, "depends_on"), f"dependency cycle: {' -> '.join(cycle)}")
        )
    problems += _operations(config, checks, channel)
    return problems


def _operations(
    config: Config, checks: set[str], channel: Callable[[Path_, str], None]
) -> list[tuple[Path_, str]]:
    """Check what incidents, procedures and runbooks name: channels, checks, severities, duplicates."""
    problems: list[tuple[Path_, str]] = []
    incidents = config.incidents
    severities = set(incidents.severities)
    for i, level in enumerate(incidents.escalation):
        for j, name in enumerate(level.notify):
            channel(("incidents", "escalation", i, "notify", j), name)
    for severity, policy in incidents.severities.items():
        for i, level in enumerate(policy.escalation or ()):
            for j, name in enumerate(level.notify):
                channel(("incidents", "severities", severity, "escalation", i, "notify", j), name)
    for i, report in enumerate(config.reports):
        for j, name in enumerate(report.notify):
            channel(("reports", i, "notify", j), name)
    named = {
        "procedures": [p.name for p in config.procedures],
        "runbooks": [r.name for r in config.runbooks],
        "backups": [b.name for b in config.backups],
        "reports": [r.name for r in config.reports],
    }
    for section, names in named.items():
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                problems.append(((section, i, "name"), f"duplicate {section[:-1]} name {name!r}"))
            seen.add(name)
    for i, procedure in enumerate(config.procedures):
        for j, name in enumerate(procedure.notify):
            channel(("procedures", i, "notify", j), name)
        for j, step in enumerate(procedure.steps):
            if step.kind is StepKind.CHECK and step.check not in checks:
                name = step.check or ""
                problems.append(
                    (
                        ("procedures", i, "steps", j, "check"),
                        f"unknown check {name!r}{_close(name, checks)}",
                    )
                )
        if procedure.escalate_to is not None and procedure.escalate_to not in severities:
            problems.append(
                (
                    ("procedures", i, "escalate_to"),
                    f"unknown incident severity {procedure.escalate_to!r}; "
                    f"defined: {', '.join(sorted(severities))}",
                )
            )
    return problems


def _backup_checks(config: Config) -> list[tuple[Path_, str]]:
    """Check that backup checks name a backup, and that no check takes a backup's own check name."""
    problems: list[tuple[Path_, str]] = []
    backups = {b.name for b in config.backups}
    own = {backup_check_name(name): name for name in backups}
    for i, check in enumerate(config.checks):
        if check.backup is not None and check.backup.name not in backups:
            name = check.backup.name
            problems.append(
                (("checks", i, "backup", "name"), f"unknown backup {name!r}{_close(name, backups)}")
            )
        if check.name in own:
            problems.append(
                (
                    ("checks", i, "name"),
                    f"check name {check.name!r} is taken by the backup {own[check.name]!r}'s own "
                    "check; choose another",
                )
            )
    return problems


def _chains(config: Config) -> list[tuple[Path_, str]]:
    """Check that each ``llm_chain`` names ``llm`` checks."""
    problems: list[tuple[Path_, str]] = []
    llms = {c.name for c in config.checks if c.llm is not None}
    for i, check in enumerate(config.checks):
        for j, name in enumerate(check.llm_chain.providers if check.llm_chain else ()):
            if name not in llms:
                problems.append(
                    (
                        ("checks", i, "llm_chain", "providers", j),
                        f"unknown llm check {name!r}{_close(name, llms)}",
                    )
                )
    return problems


def _watched_checks(config: Config, checks: set[str]) -> list[tuple[Path_, str]]:
    """Check that each ``trend``, ``forecast`` and ``slo`` watches other checks that exist (an
    ``slo`` of a service: a service some check has)."""
    problems: list[tuple[Path_, str]] = []
    # What an SLO of a service can judge: its checks that are not judges themselves.
    services = {c.service for c in config.checks if c.service and not isinstance(c.spec, JUDGES)}
    for i, check in enumerate(config.checks):
        spec = check.spec
        if isinstance(spec, SloSpec) and spec.service is not None:
            if spec.service not in services:
                problems.append(
                    (
                        ("checks", i, check.kind, "service"),
                        f"no check of the service {spec.service!r} to judge"
                        f"{_close(spec.service, services)}",
                    )
                )
            continue
        if not isinstance(spec, HistorySpec | SloSpec):
            continue
        field = "checks" if isinstance(spec, SloSpec) and spec.checks else "check"
        for j, name in enumerate(spec.watched):
            where: Path_ = ("checks", i, check.kind, field, *((j,) if field == "checks" else ()))
            if name == check.name:
                problems.append((where, f"check {check.name!r} cannot watch itself"))
            elif name not in checks:
                problems.append((where, f"unknown check {name!r}{_close(name, checks)}"))
    return problems


def _close(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_channel(name: str, channels: set[str]) -> str:
    known = ", ".join(sorted(channels)) or "none are defined under notifications.channels"
    return f"unknown channel {name!r}{_close(name, channels)}; channels: {known}"


def _apprise_accepts(url: str) -> bool:
    import apprise  # slow to import: only configs with channels pay for it

    # Apprise logs the URL it could not parse, secrets and all: the loader reports it instead.
    apprise_log = logging.getLogger("apprise")
    was_disabled, apprise_log.disabled = apprise_log.disabled, True
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None
    finally:
        apprise_log.disabled = was_disabled


def _dependency_cycle(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    """Return one cycle of ``depends_on`` as a path of names, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done or name not in graph:
            return None
        for dep in graph[name]:
            found = visit(dep, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for start in graph:
        found = visit(start, [])
        if found:
            return found
    return None
