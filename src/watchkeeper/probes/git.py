"""The git probe: a working copy's changes, its distance from upstream and its last commit."""

from __future__ import annotations

import re
import time

from watchkeeper.config.specs import CommandSpec
from watchkeeper.config.specs.git import GitSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.command import probe_command
from watchkeeper.results import Measurements

_URL_USERINFO = re.compile(r"([a-z][a-z0-9+.-]*://)[^/@\s]+@", re.IGNORECASE)

_ENV = {
    # A probe has no terminal: a fetch that wants a password must fail, not wait for one.
    "GIT_TERMINAL_PROMPT": "0",
    # Numbers and branch names must not depend on the user's language.
    "LC_ALL": "C",
}


async def probe_git(spec: GitSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a git spec, return the working copy's state; fetch first only when asked to."""
    deadline = time.monotonic() + timeout
    if spec.fetch:
        remote = spec.remote_branch.split("/", 1)[0] if spec.remote_branch else None
        await _git(spec, ctx, deadline, "fetch", "--quiet", *([remote] if remote else []))
    status = await _git(spec, ctx, deadline, "status", "--porcelain=v2", "--branch")
    measured = _parse_status(status)
    if spec.remote_branch:
        between = f"HEAD...{spec.remote_branch}"
        counts = await _git(spec, ctx, deadline, "rev-list", "--left-right", "--count", between)
        ahead, behind = counts.split()
        measured |= {"upstream": spec.remote_branch, "ahead": int(ahead), "behind": int(behind)}
    if measured["head"] is not None:
        committed = await _git(spec, ctx, deadline, "log", "-1", "--format=%ct")
        measured["last_commit_age"] = max(0.0, time.time() - int(committed))
    else:
        measured["last_commit_age"] = None
    return measured


async def _git(spec: GitSpec, ctx: ProbeContext, deadline: float, *args: str) -> str:
    """Run one git command within what is left of the check's timeout; return its stdout."""
    # --no-optional-locks: a status taken by a monitor must not hold index.lock against the
    # people and deploy scripts working in that repository.
    argv = ("git", "--no-optional-locks", "-C", spec.path, *args)
    try:
        run = await probe_command(
            CommandSpec(argv=argv, env=_ENV), ctx, max(deadline - time.monotonic(), 0.001)
        )
    except ProbeError as exc:
        # Say which step hung: a fetch from a remote that never answers, most often.
        raise ProbeError(f"git {args[0]}: {exc}") from None
    if run["exit_code"] != 0:
        raise ProbeError(f"git {args[0]} failed: {_reason(run['stderr'], run['exit_code'])}")
    return str(run["stdout"]).strip()


def _reason(stderr: str, exit_code: int) -> str:
    """Given git's stderr, return its first fatal or error line, with credentials in URLs hidden."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # git says why first ("fatal: 'x' does not appear to be a git repository") then adds advice.
    first = next((line for line in lines if line.startswith(("fatal:", "error:"))), None)
    reason = first or (lines[-1] if lines else f"exit code {exit_code}")
    # A remote URL may carry a token (https://user:token@host/…): never repeat it.
    return _URL_USERINFO.sub(r"\1***@", reason)[:300]


def _parse_status(text: str) -> Measurements:
    """Given ``git status --porcelain=v2 --branch``, return the branch and the change counts."""
    headers: dict[str, str] = {}
    changed = untracked = 0
    for line in text.splitlines():
        if line.startswith("# "):
            key, _, value = line[2:].partition(" ")
            headers[key] = value
        elif line.startswith(("1 ", "2 ", "u ")):
            changed += 1
        elif line.startswith("? "):
            untracked += 1
    oid = headers.get("branch.oid", "(initial)")
    branch = headers.get("branch.head", "(detached)")
    measured: Measurements = {
        "clean": changed == 0 and untracked == 0,
        "changed_files": changed,
        "untracked": untracked,
        "branch": None if branch == "(detached)" else branch,
        "detached": branch == "(detached)",
        "head": None if oid == "(initial)" else oid[:7],
        "upstream": headers.get("branch.upstream"),
    }
    # branch.ab is there only when the upstream is set and still exists; otherwise ahead and
    # behind stay unmeasured rather than reading as zero.
    if "branch.ab" in headers:
        ahead, behind = headers["branch.ab"].split()
        measured |= {"ahead": int(ahead.lstrip("+")), "behind": int(behind.lstrip("-"))}
    return measured
