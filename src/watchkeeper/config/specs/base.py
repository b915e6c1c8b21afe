"""The base of every probe kind's config."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """Base of every probe spec: unknown keys are errors, and a default ``expect``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_expect: ClassVar[tuple[str, ...]] = ()
