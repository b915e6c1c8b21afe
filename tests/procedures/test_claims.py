"""The machine claims an item before running it: two deciders at once (tasks or processes, on
SQLite and PostgreSQL) run a command once, a dead decider's claim expires, and a person's tick
made while the command runs stands."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from tests.procedures.checklist_support import GATED, PYTHON, Gate, config_of, run
from watchkeeper.checklists.decisions import claim, decide
from watchkeeper.checklists.history import events
from watchkeeper.checklists.model import EventKind, ItemState
from watchkeeper.config.secrets import Secrets
from watchkeeper.incidents.model import MACHINE
from watchkeeper.procedures.machine import CLAIM_MARGIN, Pass, decide_machine_items, since
from watchkeeper.procedures.schedule import start_run
from watchkeeper.results import Result
from watchkeeper.store.store import Store
from watchkeeper.store.tables import checklist_items

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

APPEND = "import os, sys; open(sys.argv[1], 'a').write(str(os.getpid()) + chr(10))"
"""Appends its PID to the file ``argv[1]``: one line per time the command ran."""

DECIDER = """
import asyncio, json, sys
from datetime import datetime
from watchkeeper.config.loader import load_config
from watchkeeper.procedures.machine import decide_machine_items, since
from watchkeeper.store.store import Store
from watchkeeper.store.tables import checklist_items

async def no_checks(name):
    return None

async def main():
    config, url, run_id, now = sys.argv[1:]
    loaded = load_config(config)
    store = Store.open(url)
    try:
        done = await decide_machine_items(
            store.engine, int(run_id), loaded.config, no_checks, loaded.secrets,
            since(datetime.fromisoformat(now)),
        )
    finally:
        store.close()
    print(json.dumps({"decided": done.decided, "elsewhere": list(done.elsewhere)}))

asyncio.run(main())
"""
"""A second process deciding a run, as ``watchkeeper checklist start`` beside the service does."""


def procedure(program: str, *args: str | Path | int) -> str:
    """Return a config whose only procedure runs ``python -c program args``."""
    argv = ", ".join(f'"{a}"' for a in (PYTHON, "-c", program, *args))
    return f"procedures:\n  - name: deploy-check\n    steps:\n      - run: [{argv}]\n"


def started(store: Store, text: str) -> int:
    (found,) = config_of(text).procedures
    with store.engine.begin() as connection:
        return start_run(connection, found, "ana", T0, secrets=Secrets())


def started_again(store: Store, text: str) -> int:
    """Start a second run of the procedure, a minute after the first."""
    (found,) = config_of(text).procedures
    with store.engine.begin() as connection:
        return start_run(connection, found, "ana", T0 + timedelta(minutes=1), secrets=Secrets())


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def url_of(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


async def test_two_deciders_at_once_run_the_command_exactly_once(
    any_store: Store, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    other = Store.open(url_of(any_store))
    try:
        async with Gate() as gate:
            text = procedure(f"{APPEND}; {GATED}", ran, gate.port)
            run_id = started(any_store, text)
            config = config_of(text)
            deciders = [
                asyncio.create_task(
                    decide_machine_items(
                        store.engine, run_id, config, _unused, Secrets(), since(T0)
                    )
                )
                for store in (any_store, other)
            ]
            await gate.reached()
            # The command waits at the gate: the other decider must give up on the item now.
            finished, _ = await asyncio.wait(
                deciders, timeout=30, return_when=asyncio.FIRST_COMPLETED
            )
            (loser,) = finished
            assert loser.result() == Pass(elsewhere=(1,))
            gate.open()
            passes = await asyncio.gather(*deciders)
    finally:
        other.close()
    assert len(lines(ran)) == 1 and gate.arrivals == 1
    assert sorted(p.decided for p in passes) == [0, 1]
    (item,) = run(any_store.engine, run_id).items
    assert (item.state, item.decided_by) == (ItemState.PASSED, MACHINE)


async def test_two_processes_deciding_one_run_run_the_command_exactly_once(
    any_store: Store, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    async with Gate() as gate:
        text = procedure(f"{APPEND}; {GATED}", ran, gate.port)
        config = tmp_path / "watchkeeper.yaml"
        config.write_text(text)
        run_id = started(any_store, text)
        args = (config, url_of(any_store), str(run_id), T0.isoformat())
        processes = [
            await asyncio.create_subprocess_exec(
                PYTHON,
                "-c",
                DECIDER,
                *map(str, args),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for _ in range(2)
        ]
        outputs = [asyncio.create_task(p.communicate()) for p in processes]
        await gate.reached(timeout=60)
        finished, _ = await asyncio.wait(outputs, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        (loser,) = finished
        out, err = loser.result()
        assert json.loads(out) == {"decided": 0, "elsewhere": [1]}, err.decode()
        gate.open()
        results = await asyncio.gather(*outputs)
    assert len(lines(ran)) == 1 and gate.arrivals == 1
    assert sorted(json.loads(out)["decided"] for out, _ in results) == [0, 1]
    assert run(any_store.engine, run_id).items[0].state is ItemState.PASSED


async def test_the_claim_of_a_decider_that_died_expires_and_the_item_is_run_then(
    any_store: Store, tmp_path: Path
) -> None:
    ran = tmp_path / "ran"
    text = procedure(APPEND, ran)
    run_id = started(any_store, text)
    (item,) = run(any_store.engine, run_id).items
    with any_store.engine.begin() as connection:
        # A decider claimed the item for five minutes, then died before running it.
        assert claim(connection, item.id, T0 + timedelta(minutes=5), T0)
    config = config_of(text)
    early = T0 + timedelta(minutes=1)
    late = T0 + timedelta(minutes=6)
    assert await decide_machine_items(
        any_store.engine, run_id, config, _unused, Secrets(), since(early)
    ) == Pass(elsewhere=(1,))
    assert lines(ran) == []
    done = await decide_machine_items(
        any_store.engine, run_id, config, _unused, Secrets(), since(late)
    )
    assert done == Pass(decided=1)
    assert len(lines(ran)) == 1
    decided_at = run(any_store.engine, run_id).items[0].decided_at
    assert decided_at is not None and late <= decided_at < late + timedelta(seconds=30)


async def test_a_claim_counts_from_when_its_command_starts_not_from_the_pass(
    any_store: Store, tmp_path: Path
) -> None:
    # One pass decides runs one after another from one `now`; the second command starts a
    # second later, and its claim must still cover its whole timeout from then.
    slow = "import time; time.sleep(1)"
    text = procedure(slow).replace("      - run:", "      - timeout: 30s\n        run:")
    first, second = started(any_store, text), started_again(any_store, text)
    config, clock = config_of(text), since(T0)
    for run_id in (first, second):
        await decide_machine_items(any_store.engine, run_id, config, _unused, Secrets(), clock)
    with any_store.engine.connect() as connection:
        claimed = connection.scalar(
            select(checklist_items.c.claimed_until).where(checklist_items.c.run_id == second)
        )
    assert claimed >= T0 + timedelta(seconds=1 + 30 + CLAIM_MARGIN)


async def test_a_persons_tick_made_while_the_command_runs_stands(
    any_store: Store, tmp_path: Path
) -> None:
    async with Gate() as gate:
        text = procedure(f"{GATED}; sys.exit(3)", gate.port)
        run_id = started(any_store, text)
        decider = asyncio.create_task(
            decide_machine_items(
                any_store.engine, run_id, config_of(text), _unused, Secrets(), since(T0)
            )
        )
        await gate.reached()
        with any_store.engine.begin() as connection:
            decide(
                connection,
                run_id,
                1,
                ItemState.PASSED,
                "ana",
                T0 + timedelta(minutes=1),
                "deployed by hand",
            )
        gate.open()
        assert await decider == Pass()
    (item,) = run(any_store.engine, run_id).items
    assert (item.state, item.decided_by, item.note, item.exit_code) == (
        ItemState.PASSED,
        "ana",
        "deployed by hand",
        None,
    )
    with any_store.engine.connect() as connection:
        history = events(connection, run_id)
    assert [(e.kind, e.actor) for e in history] == [(EventKind.DECIDED, "ana")]


async def _unused(name: str) -> Result | None:
    raise AssertionError(f"no check should run, but {name} was asked for")
