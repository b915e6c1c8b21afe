"""Run the ``watchkeeper`` command as a user would: a real process, its output and exit code."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Ran:
    """What one run of the command printed and returned."""

    code: int
    stdout: str
    stderr: str


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return the environment for the command: this one, without a stray WATCHKEEPER_CONFIG."""
    env = {k: v for k, v in os.environ.items() if k != "WATCHKEEPER_CONFIG"}
    env["COLUMNS"] = "200"
    env.update(extra or {})
    return env


async def run_cli(
    *args: str | Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60,
) -> Ran:
    """Run ``python -m watchkeeper ARGS`` without blocking the event loop (test servers keep serving)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watchkeeper",
        *map(str, args),
        stdin=asyncio.subprocess.DEVNULL,  # a command that prompts must not wait on the test's terminal
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(env),
        cwd=cwd,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return Ran(proc.returncode, out.decode(), err.decode())
