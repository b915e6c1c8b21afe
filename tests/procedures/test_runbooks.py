"""Runbooks run real commands step by step, ask before risky ones, and log every step to the store."""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from watchkeeper.config.loader import load_config
from watchkeeper.config.procedures import Runbook, Step, StepKind
from watchkeeper.config.secrets import Secrets
from watchkeeper.procedures.model import RunbookOutcome, StepOutcome
from watchkeeper.procedures.runbooks import (
    INTERRUPTED,
    RunbookRun,
    StepRecord,
    run_runbook,
    runbook_run,
    runbook_runs,
)
from watchkeeper.store.store import Store

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PY = sys.executable


def ticking(start: datetime = START) -> Callable[[], datetime]:
    """Return a clock that moves one second on each reading."""
    moments: Iterator[datetime] = (start + timedelta(seconds=n) for n in range(10_000))
    return lambda: next(moments)


def python(code: str, **step: Any) -> Step:
    """Return a run: step executing ``code`` with this Python."""
    return Step(run=(PY, "-c", code), **step)


def touching(path: Path, **step: Any) -> Step:
    """Return a run: step that creates ``path``: it exists only if the step ran."""
    return python(f"open({str(path)!r}, 'w').close()", **step)


class Person:
    """Answers questions from a script, and remembers what was asked."""

    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def __call__(self, question: str) -> bool:
        self.asked.append(question)
        return self.answers.pop(0)


def nobody(question: str) -> bool:
    raise AssertionError(f"nobody should have been asked {question!r}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A migrated SQLite store, for tests about running rather than storing."""
    opened = Store.open(f"sqlite:///{tmp_path}/watchkeeper.db")
    yield opened
    opened.close()


async def run(store: Store, runbook: Runbook, **kwargs: Any) -> RunbookRun:
    kwargs.setdefault("ask", nobody)
    kwargs.setdefault("secrets", Secrets())
    return await run_runbook(store.engine, runbook, actor="ana", clock=ticking(), **kwargs)


def logged(store: Store, run_id: int) -> RunbookRun:
    with store.engine.connect() as connection:
        found = runbook_run(connection, run_id)
    assert found is not None
    return found


def outcomes(run: RunbookRun) -> list[StepOutcome]:
    return [step.outcome for step in run.steps]


async def test_a_runbook_stops_at_a_failing_step_with_its_log_in_the_store(
    any_store: Store, tmp_path: Path
) -> None:
    never = tmp_path / "never-ran"
    runbook = Runbook(
        name="deploy-hotfix",
        steps=(
            python("print('ok')"),
            python("import sys; print('bad', file=sys.stderr); sys.exit(3)", title="Migrate"),
            touching(never),
        ),
    )
    seen: list[StepRecord] = []

    done = await run(any_store, runbook, on_step=seen.append)

    assert done.outcome is RunbookOutcome.FAILED
    assert not never.exists()
    assert done == logged(any_store, done.id)
    first, second, third = done.steps
    assert (first.outcome, first.exit_code, first.output) == (StepOutcome.PASSED, 0, "ok\n")
    assert (second.outcome, second.exit_code, second.output) == (StepOutcome.FAILED, 3, "bad\n")
    assert second.text == "Migrate" and second.argv == runbook.steps[1].run
    assert (third.outcome, third.exit_code, third.output) == (StepOutcome.SKIPPED, None, None)
    assert [s.position for s in done.steps] == [1, 2, 3]
    assert [s.kind for s in done.steps] == [StepKind.RUN] * 3
    assert seen == [first, second]
    assert (done.runbook, done.started_by, done.started_at) == ("deploy-hotfix", "ana", START)
    assert done.finished_at is not None and done.finished_at > second.started_at


async def test_keep_going_runs_the_steps_after_a_failure(store: Store, tmp_path: Path) -> None:
    after = tmp_path / "after"
    runbook = Runbook(name="clear-caches", steps=(python("raise SystemExit(1)"), touching(after)))

    done = await run(store, runbook, keep_going=True)

    assert outcomes(done) == [StepOutcome.FAILED, StepOutcome.PASSED]
    assert after.exists()
    assert done.outcome is RunbookOutcome.FAILED


async def test_the_keep_going_argument_overrides_the_runbooks_setting(
    store: Store, tmp_path: Path
) -> None:
    after = tmp_path / "after"
    runbook = Runbook(
        name="clear-caches", keep_going=True, steps=(python("raise SystemExit(1)"), touching(after))
    )

    stopped = await run(store, runbook, keep_going=False)
    assert outcomes(stopped) == [StepOutcome.FAILED, StepOutcome.SKIPPED] and not after.exists()

    kept_going = await run(store, runbook)
    assert outcomes(kept_going) == [StepOutcome.FAILED, StepOutcome.PASSED] and after.exists()


async def test_a_declined_confirmation_aborts_the_run_and_runs_nothing_after_it(
    store: Store, tmp_path: Path
) -> None:
    confirmed, declined, later = (tmp_path / name for name in ("confirmed", "declined", "later"))
    runbook = Runbook(
        name="emergency-rollback",
        steps=(
            touching(confirmed, confirm=True),
            touching(declined, confirm=True),
            touching(later),
        ),
    )
    person = Person(True, False)

    done = await run(store, runbook, ask=person, keep_going=True)

    assert done.outcome is RunbookOutcome.ABORTED
    assert outcomes(done) == [StepOutcome.PASSED, StepOutcome.DECLINED, StepOutcome.SKIPPED]
    assert confirmed.exists() and not declined.exists() and not later.exists()
    assert person.asked == [f"Run `{shlex.join(step.run or ())}`?" for step in runbook.steps[:2]]
    assert logged(store, done.id).outcome is RunbookOutcome.ABORTED


async def test_manual_steps_pass_when_done_and_fail_when_not(store: Store) -> None:
    runbook = Runbook(
        name="restart-service",
        steps=(
            Step(manual="Tell #ops the service restarts"),
            Step(manual="The dashboard is green"),
            Step(manual="Close the incident"),
        ),
    )
    person = Person(True, False)

    done = await run(store, runbook, ask=person)

    assert person.asked == [
        "Tell #ops the service restarts — done?",
        "The dashboard is green — done?",
    ]
    assert outcomes(done) == [StepOutcome.PASSED, StepOutcome.FAILED, StepOutcome.SKIPPED]
    assert [s.kind for s in done.steps] == [StepKind.MANUAL] * 3
    assert done.outcome is RunbookOutcome.FAILED


async def test_every_step_passing_succeeds(store: Store) -> None:
    runbook = Runbook(name="r", steps=(python("pass"), Step(manual="Look", confirm=True)))

    done = await run(store, runbook, ask=Person(True))

    assert done.outcome is RunbookOutcome.SUCCEEDED
    assert outcomes(logged(store, done.id)) == [StepOutcome.PASSED, StepOutcome.PASSED]


async def test_an_unattended_run_asks_nothing_and_logs_manual_steps_as_not_checked(
    store: Store, tmp_path: Path
) -> None:
    runbook = Runbook(
        name="r",
        steps=(touching(tmp_path / "ran", confirm=True), Step(manual="The dashboard is green")),
    )

    done = await run(store, runbook, unattended=True)

    assert (tmp_path / "ran").exists()
    assert done.outcome is RunbookOutcome.SUCCEEDED
    steps = logged(store, done.id).steps
    assert [(s.outcome, s.output) for s in steps] == [
        (StepOutcome.PASSED, ""),
        (StepOutcome.SKIPPED, "not checked by a person: the run was unattended (--yes)"),
    ]


async def test_the_end_of_a_long_output_is_kept_where_the_error_is(store: Store) -> None:
    code = "import sys; print('progress ' * 20_000); sys.exit('error: the disk is full')"

    done = await run(store, Runbook(name="r", steps=(python(code),)))

    (step,) = logged(store, done.id).steps
    assert step.outcome is StepOutcome.FAILED
    assert step.output is not None
    assert "error: the disk is full" in step.output
    assert "[output cut: the last 32768 bytes" in step.output


async def test_a_hung_step_is_killed_at_its_timeout_and_fails(store: Store) -> None:
    runbook = Runbook(
        name="r", steps=(python("import time; time.sleep(60)", timeout=0.5), python("pass"))
    )
    began = time.perf_counter()

    done = await run(store, runbook)

    assert time.perf_counter() - began < 10
    hung = logged(store, done.id).steps[0]
    assert hung.outcome is StepOutcome.FAILED and hung.exit_code is None
    assert hung.output is not None and hung.output.startswith("timed out after 500ms")
    assert 400 < hung.duration_ms < 10_000
    assert outcomes(done) == [StepOutcome.FAILED, StepOutcome.SKIPPED]


async def test_a_missing_program_fails_the_step_with_the_reason(store: Store) -> None:
    runbook = Runbook(name="r", steps=(Step(run=("no-such-program-here", "x")),))

    done = await run(store, runbook)

    (step,) = logged(store, done.id).steps
    assert (step.outcome, step.output) == (
        StepOutcome.FAILED,
        "command not found: no-such-program-here",
    )


async def test_secrets_from_the_environment_are_redacted_in_the_log(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEPLOY_TOKEN", "tok-4f9a2c")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "runbooks:\n"
        "  - name: deploy\n"
        "    steps:\n"
        f"      - run: [{PY}, -c, 'print(\"given ${{DEPLOY_TOKEN}}\")']\n"
        f'      - run: [{PY}, -c, \'import os, sys; sys.exit("env " + os.environ["DEPLOY_TOKEN"])\']\n'
    )
    loaded = load_config(config)
    runbook = loaded.config.runbook("deploy")
    assert runbook is not None

    done = await run(store, runbook, secrets=loaded.secrets, keep_going=True)

    given, from_env = logged(store, done.id).steps
    assert given.output == "given ***\n"
    assert given.argv is not None and "tok-4f9a2c" not in " ".join(given.argv)
    assert "tok-4f9a2c" not in given.text
    assert (from_env.exit_code, from_env.output) == (1, "env ***\n")


async def test_an_interrupted_run_is_logged_as_aborted(store: Store, tmp_path: Path) -> None:
    later = tmp_path / "later"
    runbook = Runbook(name="r", steps=(python("import time; time.sleep(60)"), touching(later)))
    started = asyncio.Event()
    task = asyncio.create_task(run(store, runbook, on_start=lambda position, step: started.set()))
    await started.wait()

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (aborted,) = runbook_runs_of(store, "r")
    assert aborted.outcome is RunbookOutcome.ABORTED and aborted.finished_at is not None
    assert outcomes(logged(store, aborted.id)) == [StepOutcome.FAILED, StepOutcome.SKIPPED]
    assert logged(store, aborted.id).steps[0].output == INTERRUPTED
    assert not later.exists()


async def test_a_failing_question_is_logged_as_aborted_and_re_raised(store: Store) -> None:
    def broken(question: str) -> bool:
        raise EOFError("stdin closed")

    runbook = Runbook(name="r", steps=(Step(manual="Look"), python("pass")))

    with pytest.raises(EOFError):
        await run(store, runbook, ask=broken)

    (aborted,) = runbook_runs_of(store, "r")
    steps = logged(store, aborted.id).steps
    assert aborted.outcome is RunbookOutcome.ABORTED
    assert [(s.outcome, s.output) for s in steps] == [
        (StepOutcome.FAILED, "stopped by an error: EOFError: stdin closed"),
        (StepOutcome.SKIPPED, None),
    ]


async def test_runs_are_listed_newest_first_per_runbook(any_store: Store) -> None:
    ok = Runbook(name="restart", steps=(python("pass"),))
    bad = Runbook(name="rollback", steps=(python("raise SystemExit(2)"),))
    first = await run_runbook(
        any_store.engine, ok, actor="ana", ask=nobody, secrets=Secrets(), clock=ticking()
    )
    second = await run_runbook(
        any_store.engine,
        bad,
        actor="bo",
        ask=nobody,
        secrets=Secrets(),
        clock=ticking(START + timedelta(hours=1)),
    )
    third = await run_runbook(
        any_store.engine,
        ok,
        actor="cy",
        ask=nobody,
        secrets=Secrets(),
        clock=ticking(START + timedelta(hours=2)),
    )

    everything = runbook_runs_of(any_store)
    assert [r.id for r in everything] == [third.id, second.id, first.id]
    assert [r.outcome for r in everything] == [
        RunbookOutcome.SUCCEEDED,
        RunbookOutcome.FAILED,
        RunbookOutcome.SUCCEEDED,
    ]
    assert [(r.started_by, r.started_at) for r in everything] == [
        ("cy", START + timedelta(hours=2)),
        ("bo", START + timedelta(hours=1)),
        ("ana", START),
    ]
    assert all(r.steps == () for r in everything)
    assert [r.id for r in runbook_runs_of(any_store, "restart")] == [third.id, first.id]
    assert [r.id for r in runbook_runs_of(any_store, "restart", limit=1)] == [third.id]
    with any_store.engine.connect() as connection:
        assert runbook_run(connection, third.id + 100) is None


def runbook_runs_of(store: Store, runbook: str | None = None, limit: int = 50) -> list[RunbookRun]:
    with store.engine.connect() as connection:
        return runbook_runs(connection, runbook, limit)
