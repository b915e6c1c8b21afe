"""The config of ``backup`` checks."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from watchkeeper.config.specs.base import Spec


class BackupSpec(Spec):
    """A configured backup's catalogue → ``age``, ``size``, ``count``, ``last_failed``,
    ``verify_failed``, ``last_verified_age``, ``last_restore_time``, ``max_age``."""

    default_expect: ClassVar[tuple[str, ...]] = ("not last_failed", "not verify_failed")
    reads_store: ClassVar[bool] = True

    name: str = Field(description="the name of a backup under `backups:`")
