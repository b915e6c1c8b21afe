"""The config of ``git`` checks: the state of a working copy."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from watchkeeper.config.specs.base import Spec


class GitSpec(Spec):
    """A repository's working copy → ``clean``, ``changed_files``, ``untracked``, ``ahead``,
    ``behind``, ``last_commit_age``, ``branch``, ``head``."""

    path_fields: ClassVar[tuple[str, ...]] = ("path",)

    path: str = Field(description="a directory inside the repository")
    remote_branch: str | None = Field(
        default=None,
        description="count ahead/behind against this ref (e.g. origin/main) instead of the "
        "branch's upstream",
    )
    fetch: bool = Field(
        default=False,
        description="fetch from the remote first; otherwise ahead/behind are as of the last fetch",
    )
