"""The nouns of runbooks: how a step, and a whole run, ended."""

from __future__ import annotations

from enum import StrEnum


class StepOutcome(StrEnum):
    """How one runbook step ended."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    DECLINED = "declined"


class RunbookOutcome(StrEnum):
    """How a runbook run ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"
