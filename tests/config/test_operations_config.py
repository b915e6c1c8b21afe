"""The config of incidents, procedures and runbooks: defaults from the guides, and every mistake
reported at its FILE:LINE:COLUMN."""

from __future__ import annotations

from pathlib import Path

from tests.config.test_loader import problems, write
from watchkeeper.config.loader import load_config
from watchkeeper.config.procedures import StepKind

CHECKS = """\
notifications:
  channels: {oncall: ["json://127.0.0.1:9/hook"]}
checks:
  - name: api-health
    http: {url: "http://127.0.0.1:9/health"}
"""


def test_the_default_severities_are_the_guides_p0_to_p3(tmp_path: Path) -> None:
    incidents = load_config(write(tmp_path, CHECKS), {}).config.incidents
    respond = {name: policy.respond_within for name, policy in incidents.severities.items()}
    assert respond == {"P0": 900.0, "P1": 3600.0, "P2": 14400.0, "P3": 172800.0}
    assert incidents.severities["P0"].update_status_page_within == 1800.0
    assert [n for n, p in incidents.severities.items() if p.postmortem == "required"] == [
        "P0",
        "P1",
    ]
    assert list(incidents.phases) == ["immediate", "investigation", "resolution", "post-incident"]
    assert incidents.phases["immediate"][0] == "Assess impact and severity level"


def test_a_procedure_reads_as_the_issue_writes_it(tmp_path: Path) -> None:
    text = (
        CHECKS
        + """\
procedures:
  - name: daily-health
    title: System Health Checks
    schedule: daily at 09:00
    owner: DevOps/Technical Lead
    duration: 15m
    priority: critical
    steps:
      - check: api-health
      - run: [git, log, --oneline, "-3"]
      - manual: All LLM providers show "Available" in the admin dashboard
      - run: "du -sh /var/log"
    escalate_if: ['failed_steps > 0']
"""
    )
    (procedure,) = load_config(write(tmp_path, text), {}).config.procedures
    assert [s.kind for s in procedure.steps] == [
        StepKind.CHECK,
        StepKind.RUN,
        StepKind.MANUAL,
        StepKind.RUN,
    ]
    assert procedure.steps[3].run == ("du", "-sh", "/var/log")
    assert [s.label for s in procedure.steps[:2]] == [
        "Check api-health passes",
        "Run git log --oneline -3",
    ]
    assert procedure.duration == 900.0
    assert procedure.heading == "System Health Checks"


def test_names_that_point_nowhere_are_reported_where_they_are(tmp_path: Path) -> None:
    text = (
        CHECKS
        + """\
incidents:
  escalation:
    - {level: 1, notify: oncall}
    - {level: 2, after: 30m, notify: [tech-lead]}
procedures:
  - name: daily
    notify: [pager]
    steps:
      - check: api-helth
    escalate_to: P9
"""
    )
    assert problems(tmp_path, text) == [
        "9:39: unknown channel 'tech-lead'; channels: oncall",
        "12:14: unknown channel 'pager'; channels: oncall",
        "14:16: unknown check 'api-helth' (did you mean 'api-health'?)",
        "15:18: unknown incident severity 'P9'; defined: P0, P1, P2, P3",
    ]


def test_mistakes_in_the_shape_are_reported_where_they_are(tmp_path: Path) -> None:
    text = (
        CHECKS
        + """\
incidents:
  escalation:
    - {level: 2, after: 30m, notify: oncall}
    - {level: 1, notify: oncall}
procedures:
  - name: daily
    steps:
      - {check: api-health, manual: look at it}
runbooks:
  - name: restart
    steps:
      - check: api-health
"""
    )
    assert problems(tmp_path, text) == [
        "8:5: escalation levels must be listed in increasing order, got [2, 1]",
        "13:9: a step has exactly one of check:, run: or manual:",
        "17:7: a runbook step is run: or manual: (checks belong in procedures)",
    ]


def test_an_unknown_severity_and_a_confirmed_procedure_step_are_refused(tmp_path: Path) -> None:
    text = (
        CHECKS
        + """\
incidents:
  open_when:
    - {match: {severity: critical}, severity: P7}
procedures:
  - name: daily
    steps:
      - {run: [systemctl, restart, app], confirm: true}
"""
    )
    found = problems(tmp_path, text)
    assert len(found) == 2, found
    assert found[0].startswith("7:3:") and "open_when names severity 'P7'" in found[0]
    assert found[1].startswith("10:5:") and "confirm: is for runbooks" in found[1]


def test_a_procedure_without_steps_is_refused(tmp_path: Path) -> None:
    text = CHECKS + "procedures:\n  - {name: daily, steps: []}\n"
    assert problems(tmp_path, text) == [
        "7:26: needs at least one step (check:, run: or manual:)",
    ]


def test_duplicate_procedure_and_runbook_names_are_refused(tmp_path: Path) -> None:
    text = (
        CHECKS
        + """\
procedures:
  - {name: daily, steps: [{manual: a}]}
  - {name: daily, steps: [{manual: b}]}
runbooks:
  - {name: fix, steps: [{manual: a}]}
  - {name: fix, steps: [{manual: b}]}
"""
    )
    assert problems(tmp_path, text) == [
        "8:12: duplicate procedure name 'daily'",
        "11:12: duplicate runbook name 'fix'",
    ]
