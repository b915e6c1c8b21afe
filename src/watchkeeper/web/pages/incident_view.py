"""What the incident pages show of an incident: its row, who moved it when, its SLA and colour."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from watchkeeper.config.units import format_duration
from watchkeeper.incidents.model import Incident, IncidentState
from watchkeeper.web.pages.formats import ago_words, due_words, span_words, utc

SEVERITY_COLOURS = 4
"""Severities are coloured by rank in the config: the first red, then orange, amber, and blue."""


def incident_row(incident: Incident, now: datetime, ranks: Callable[[str], int]) -> dict[str, Any]:
    """Given an incident, return its row in the incidents tables: colour, response and duration."""
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "colour": ranks(incident.severity),
        "state": incident.state.value,
        "opened": utc(incident.opened_at),
        "opened_ago": ago_words(incident.opened_at, now),
        "opened_by": incident.opened_by,
        "respond": _respond(incident, now),
        "respond_by": utc(incident.respond_by),
        "breached": breached(incident, now),
        "level": incident.level,
        "ended": utc(incident.resolved_at or incident.closed_at),
        "took": span_words(
            (
                (incident.resolved_at or incident.closed_at or now) - incident.opened_at
            ).total_seconds()
        ),
    }


def breached(incident: Incident, now: datetime) -> bool:
    """Return True when the incident was answered too late, or is unanswered past its respond-by."""
    if incident.response_breached_at is not None:
        return True
    answered = incident.responded_at
    if answered is not None:
        return answered > incident.respond_by
    return now > incident.respond_by


def _respond(incident: Incident, now: datetime) -> str:
    answered = incident.responded_at
    if answered is not None:
        return f"answered in {span_words((answered - incident.opened_at).total_seconds())}"
    left = (incident.respond_by - now).total_seconds()
    if left < 0:
        return f"unanswered, overdue by {span_words(left)}"
    return f"respond within {span_words(left)}"


def state_steps(incident: Incident, now: datetime) -> list[dict[str, str]]:
    """Given an incident, return who took it through each state and when (blank if not reached)."""
    steps = []
    for state in IncidentState:
        name = "opened" if state is IncidentState.OPEN else state.value
        at: datetime | None = getattr(incident, f"{name}_at")
        by: str | None = getattr(incident, f"{name}_by")
        steps.append(
            {
                "step": name.capitalize(),
                "done": "1" if at is not None else "",
                "by": by or "",
                "at": utc(at),
                "ago": ago_words(at, now),
            }
        )
    return steps


def sla_view(incident: Incident, now: datetime) -> dict[str, Any]:
    """Given an incident, return its response SLA as of now (met, breached or running) and levels."""
    policy = incident.policy
    answered = incident.responded_at
    if answered is not None:
        met = answered <= incident.respond_by and incident.response_breached_at is None
        verdict = "met" if met else "breached"
        words = (
            f"answered {span_words((answered - incident.opened_at).total_seconds())} after opening"
        )
    elif now > incident.respond_by or incident.response_breached_at is not None:
        verdict, words = "breached", due_words(incident.respond_by, now)
    else:
        verdict, words = "running", due_words(incident.respond_by, now)
    return {
        "respond_within": format_duration(policy.respond_within),
        "respond_by": utc(incident.respond_by),
        "verdict": verdict,
        "words": words,
        "update_within": (
            format_duration(policy.update_status_page_within)
            if policy.update_status_page_within is not None
            else ""
        ),
        "update_breached": utc(incident.status_update_breached_at),
        "postmortem_required": policy.postmortem_required,
        "level": incident.level,
        "levels": [
            {
                "level": lv.level,
                "after": "at once" if lv.after == 0 else f"after {format_duration(lv.after)}",
                "notify": ", ".join(lv.notify),
                "reached": lv.level <= incident.level,
            }
            for lv in policy.levels
        ],
    }


def severity_ranks(severities: dict[str, Any]) -> Callable[[str], int]:
    """Return a severity's colour rank: its place in the config, the last colour for the rest."""
    order = {name: min(i, SEVERITY_COLOURS - 1) for i, name in enumerate(severities)}
    return lambda severity: order.get(severity, SEVERITY_COLOURS - 1)
