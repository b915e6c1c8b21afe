"""The command probe runs real programs and leaves none of their processes behind."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from pathlib import Path

import psutil
import pytest

from watchkeeper.config.specs import CommandSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.command import probe_command

# A command whose child starts a grandchild; both pids land in ``pids`` in the working directory.
FAMILY = 'sh -c "sleep 300 & echo \\$! >> pids; wait" & echo $! >> pids; wait'


def running(pid: int) -> bool:
    """Return True when ``pid`` is a live process (an unreaped zombie has already stopped)."""
    # Where PID 1 does not reap orphans (as in some containers), a killed grandchild stays a zombie.
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def survivors(pids: list[int]) -> list[int]:
    """Return the pids still running once killed processes had a moment to finish exiting."""
    # SIGKILL is asynchronous: a killed process may still be on its way out for a few ms.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(1):
            while any(running(pid) for pid in pids):
                await asyncio.sleep(0.01)
    return [pid for pid in pids if running(pid)]


async def pids_written(path: Path, count: int) -> list[int]:
    """Wait until ``path`` lists ``count`` pids, and return them."""
    async with asyncio.timeout(10):
        while True:
            lines = path.read_text().split() if path.exists() else []
            if len(lines) >= count:
                return [int(line) for line in lines]
            await asyncio.sleep(0.02)


async def test_command_probe_captures_exit_code_stdout_and_stderr(ctx: ProbeContext) -> None:
    spec = CommandSpec(argv=("sh", "-c", "echo out; echo err >&2; exit 3"))

    measured = await probe_command(spec, ctx, timeout=10)

    assert measured["exit_code"] == 3
    assert measured["stdout"] == "out\n"
    assert measured["stderr"] == "err\n"
    assert measured["stdout_truncated"] is False
    assert 0 < measured["duration"] < 10


async def test_command_probe_runs_argv_without_a_shell(ctx: ProbeContext) -> None:
    spec = CommandSpec(argv=("echo", "$HOME", "*", "a;b"))

    measured = await probe_command(spec, ctx, timeout=10)

    assert measured["stdout"] == "$HOME * a;b\n"


async def test_command_probe_applies_env_and_cwd(ctx: ProbeContext, tmp_path: Path) -> None:
    script = (
        "import os; print(os.getcwd()); print(os.environ['WK_GREETING']);"
        " print('PATH' in os.environ)"
    )
    spec = CommandSpec(
        argv=(sys.executable, "-c", script), cwd=str(tmp_path), env={"WK_GREETING": "hello"}
    )

    measured = await probe_command(spec, ctx, timeout=10)

    assert measured["stdout"].splitlines() == [str(tmp_path), "hello", "True"]


async def test_command_probe_keeps_invalid_utf8_as_replacement_characters(
    ctx: ProbeContext,
) -> None:
    spec = CommandSpec(
        argv=(sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'a\\xffb')")
    )

    measured = await probe_command(spec, ctx, timeout=10)

    assert measured["stdout"] == "a\ufffdb"


async def test_command_probe_truncates_huge_output_without_deadlock(ctx: ProbeContext) -> None:
    # Megabytes on stderr before stdout: a probe reading one pipe at a time would hang here.
    script = "import sys; sys.stderr.write('e' * 3_000_000); sys.stdout.write('o' * 3_000_000)"
    spec = CommandSpec(argv=(sys.executable, "-c", script), max_output=1000)

    measured = await probe_command(spec, ctx, timeout=20)

    assert measured["exit_code"] == 0
    assert measured["stdout"] == "o" * 1000
    assert measured["stderr"] == "e" * 1000
    assert measured["stdout_truncated"] is True
    assert measured["stderr_truncated"] is True


async def test_command_probe_can_keep_the_end_of_a_long_output(ctx: ProbeContext) -> None:
    script = "import sys; print('x' * 500_000); sys.stderr.write('boom: disk full')"
    spec = CommandSpec(argv=(sys.executable, "-c", script), max_output=100)

    measured = await probe_command(spec, ctx, timeout=20, tail=True)

    assert measured["stdout"] == "x" * 99 + "\n"
    assert measured["stderr"] == "boom: disk full"
    assert measured["stdout_truncated"] is True
    assert measured["stderr_truncated"] is False


async def test_command_probe_kills_the_whole_process_group_on_timeout(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    spec = CommandSpec(argv=("sh", "-c", FAMILY), cwd=str(tmp_path))
    started = time.monotonic()

    with pytest.raises(ProbeError, match=r"^timed out after 1s; killed process group \d+$") as err:
        await probe_command(spec, ctx, timeout=1)

    assert time.monotonic() - started < 3
    leader = int(re.findall(r"\d+", str(err.value))[-1])
    family = [leader, *await pids_written(tmp_path / "pids", 2)]
    assert await survivors(family) == []


async def test_command_probe_kills_a_group_that_ignores_sigterm(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    spec = CommandSpec(
        argv=("sh", "-c", "trap '' TERM; sleep 300 & echo $! > pids; wait"), cwd=str(tmp_path)
    )
    started = time.monotonic()

    with pytest.raises(ProbeError, match=r"timed out"):
        await probe_command(spec, ctx, timeout=0.5)

    assert time.monotonic() - started < 3
    sleeper = await pids_written(tmp_path / "pids", 1)
    assert await survivors(sleeper) == []


async def test_command_probe_kills_the_whole_process_group_when_cancelled(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    spec = CommandSpec(argv=("sh", "-c", FAMILY), cwd=str(tmp_path))
    task = asyncio.create_task(probe_command(spec, ctx, timeout=60))
    family = await pids_written(tmp_path / "pids", 2)
    assert all(running(pid) for pid in family)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert await survivors(family) == []


async def test_command_probe_reports_a_missing_program(ctx: ProbeContext) -> None:
    spec = CommandSpec(argv=("wk-no-such-program", "--help"))

    with pytest.raises(ProbeError, match=r"^command not found: wk-no-such-program$"):
        await probe_command(spec, ctx, timeout=10)


async def test_command_probe_reports_a_program_that_is_not_executable(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)

    with pytest.raises(ProbeError, match=r"^command not executable: "):
        await probe_command(CommandSpec(argv=(str(script),)), ctx, timeout=10)


async def test_command_probe_reports_a_missing_working_directory(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    spec = CommandSpec(argv=("true",), cwd=str(tmp_path / "gone"))

    with pytest.raises(ProbeError, match=r"cannot use working directory .*gone"):
        await probe_command(spec, ctx, timeout=10)
