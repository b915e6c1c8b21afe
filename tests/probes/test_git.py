"""The git probe reads real repositories made with the git CLI: a bare remote and clones of it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.probes.silent_server import assert_no_process_left, live_children, silent_port
from watchkeeper.config.specs.git import GitSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.git import probe_git
from watchkeeper.results import Status

DAY = 86_400


def git(cwd: Path, *args: str, committed: float | None = None) -> str:
    """Run git in ``cwd`` as a fixed identity; ``committed`` dates a commit (epoch seconds)."""
    env = os.environ | {
        "GIT_AUTHOR_NAME": "Test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "Test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    if committed is not None:
        env |= {"GIT_AUTHOR_DATE": f"@{committed:.0f}", "GIT_COMMITTER_DATE": f"@{committed:.0f}"}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def commit(repo: Path, name: str, committed: float | None = None) -> None:
    """Add a file and commit it."""
    (repo / name).write_text(f"{name}\n")
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", f"add {name}", committed=committed)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository with one commit on main."""
    bare = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    git(seed, "checkout", "-q", "-b", "main")
    commit(seed, "README")
    git(seed, "push", "-q", "origin", "main")
    return bare


def clone(remote: Path, where: Path) -> Path:
    git(where.parent, "clone", "-q", str(remote), str(where))
    return where


async def test_a_fresh_clone_is_clean_and_even_with_upstream(
    remote: Path, tmp_path: Path, ctx: ProbeContext
) -> None:
    repo = clone(remote, tmp_path / "work")

    measured = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)

    assert measured["clean"] is True
    assert (measured["changed_files"], measured["untracked"]) == (0, 0)
    assert (measured["ahead"], measured["behind"]) == (0, 0)
    assert measured["branch"] == "main"
    assert measured["upstream"] == "origin/main"
    assert measured["head"] == git(repo, "rev-parse", "--short=7", "HEAD")
    assert measured["detached"] is False


async def test_changes_and_untracked_files_are_counted(
    remote: Path, tmp_path: Path, ctx: ProbeContext
) -> None:
    repo = clone(remote, tmp_path / "work")
    (repo / "README").write_text("edited\n")
    (repo / "new-1.txt").write_text("x\n")
    (repo / "new-2.txt").write_text("x\n")
    (repo / "staged.txt").write_text("x\n")
    git(repo, "add", "staged.txt")

    measured = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)

    assert measured["clean"] is False
    assert measured["changed_files"] == 2
    assert measured["untracked"] == 2
    status, _ = judge(Rules.parse(["clean"]), measured)
    assert status is Status.CRITICAL


async def test_ahead_and_behind_without_fetching_then_with_fetch(
    remote: Path, tmp_path: Path, ctx: ProbeContext
) -> None:
    repo = clone(remote, tmp_path / "work")
    other = clone(remote, tmp_path / "other")
    commit(other, "theirs-1")
    commit(other, "theirs-2")
    git(other, "push", "-q", "origin", "main")
    commit(repo, "mine")

    before = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)
    fetched = await probe_git(GitSpec(path=str(repo), fetch=True), ctx, timeout=10)

    # Without a fetch, the remote's new commits are not known yet.
    assert (before["ahead"], before["behind"]) == (1, 0)
    assert (fetched["ahead"], fetched["behind"]) == (1, 2)


async def test_remote_branch_overrides_the_upstream(
    remote: Path, tmp_path: Path, ctx: ProbeContext
) -> None:
    repo = clone(remote, tmp_path / "work")
    git(repo, "checkout", "-q", "-b", "feature")
    commit(repo, "feature-1")
    commit(repo, "feature-2")

    plain = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)
    measured = await probe_git(
        GitSpec(path=str(repo), remote_branch="origin/main", fetch=True), ctx, timeout=10
    )

    assert plain["upstream"] is None
    assert "ahead" not in plain and "behind" not in plain
    assert measured["branch"] == "feature"
    assert (measured["upstream"], measured["ahead"], measured["behind"]) == ("origin/main", 2, 0)


async def test_last_commit_age_is_measured_from_the_commit_date(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    repo = tmp_path / "old"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    commit(repo, "ancient", committed=time.time() - 10 * DAY)

    measured = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)

    assert measured["last_commit_age"] == pytest.approx(10 * DAY, abs=60)
    status, message = judge(Rules.parse([], warn=["last_commit_age > 7d"]), measured)
    assert status is Status.WARNING
    assert "last_commit_age = 10d" in message


async def test_an_empty_repository_and_a_detached_head(tmp_path: Path, ctx: ProbeContext) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))

    empty = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)
    commit(repo, "one")
    commit(repo, "two")
    git(repo, "checkout", "-q", "--detach", "HEAD~1")
    detached = await probe_git(GitSpec(path=str(repo)), ctx, timeout=10)

    assert (empty["head"], empty["last_commit_age"], empty["branch"]) == (None, None, "main")
    assert detached["detached"] is True
    assert detached["branch"] is None
    assert detached["head"] == git(repo, "rev-parse", "--short=7", "HEAD")


async def test_not_a_repository_and_a_failing_fetch_are_errors(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    commit(repo, "one")
    git(repo, "remote", "add", "origin", str(tmp_path / "no-such-remote.git"))

    with pytest.raises(ProbeError, match="git status failed: fatal: not a git repository"):
        await probe_git(GitSpec(path=str(plain)), ctx, timeout=10)
    with pytest.raises(ProbeError, match="git fetch failed: fatal: "):
        await probe_git(
            GitSpec(path=str(repo), remote_branch="origin/main", fetch=True), ctx, timeout=10
        )


async def test_a_token_in_the_remote_url_is_not_repeated(
    tmp_path: Path, closed_port: int, ctx: ProbeContext
) -> None:
    token = "ghp_" + "Q" * 36
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    commit(repo, "one")
    git(repo, "remote", "add", "origin", f"http://deploy:{token}@127.0.0.1:{closed_port}/r.git")

    with pytest.raises(ProbeError, match="git fetch failed") as failed:
        await probe_git(GitSpec(path=str(repo), fetch=True), ctx, timeout=10)

    assert token not in str(failed.value)


@pytest.mark.parametrize("scheme", ["git", "http"])
async def test_a_fetch_from_a_silent_remote_ends_at_the_timeout_leaving_no_process(
    tmp_path: Path, scheme: str, ctx: ProbeContext
) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    commit(repo, "one")
    with silent_port() as port:
        git(repo, "remote", "add", "origin", f"{scheme}://127.0.0.1:{port}/r.git")
        before, started = live_children(), time.monotonic()
        with pytest.raises(
            ProbeError, match=r"^git fetch: timed out after 2s; killed process group"
        ) as failed:
            await probe_git(GitSpec(path=str(repo), fetch=True), ctx, timeout=2)
        # The timeout, plus at most the grace a SIGTERM gets before SIGKILL.
        assert time.monotonic() - started < 2 + 2

    assert_no_process_left(str(failed.value), before)
