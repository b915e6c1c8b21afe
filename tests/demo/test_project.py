"""The demo's project: a real git repository, made with the git CLI, that the git, secrets and
deps probes look at as the examples do."""

from __future__ import annotations

import subprocess
from pathlib import Path

from watchkeeper.config.specs.git import GitSpec
from watchkeeper.config.specs.secrets import SecretsSpec
from watchkeeper.demo.project import create_project
from watchkeeper.probes.base import ProbeContext
from watchkeeper.probes.git import probe_git
from watchkeeper.probes.secrets import probe_secrets


async def test_the_project_is_one_clean_commit_without_secrets(tmp_path: Path) -> None:
    project = tmp_path / "project"
    create_project(project)
    ctx = ProbeContext()

    git = await probe_git(GitSpec(path=str(project)), ctx, timeout=10)
    scan = await probe_secrets(SecretsSpec(paths=(str(project),)), ctx, timeout=10)

    assert git["clean"] is True
    assert git["branch"] == "main"
    log = subprocess.run(
        ["git", "-C", str(project), "log", "--format=%s"], capture_output=True, text=True
    )
    assert log.stdout.splitlines() == ["Demo app: first release"]
    assert scan["count"] == 0
    assert scan["files_scanned"] >= 4  # package.json, its lock, requirements, .env.production


async def test_a_planted_secret_is_found_and_the_project_is_kept(tmp_path: Path) -> None:
    project = tmp_path / "project"
    create_project(project)
    env = project / ".env.production"
    # The README's way to plant one: a key-shaped value in the environment file.
    env.write_text(env.read_text() + "DATABASE_URL=postgresql://app:s3cr3t-Pa55@db:5432/app\n")

    create_project(project)  # a demo started again keeps the project as it was left
    scan = await probe_secrets(SecretsSpec(paths=(str(project),)), ProbeContext(), timeout=10)

    assert scan["count"] == 1
    assert scan["findings"] == [f"{env}:7:url_credentials"]
