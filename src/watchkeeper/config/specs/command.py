"""The config of ``command`` checks."""

from __future__ import annotations

import shlex
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.specs.base import Spec


class CommandSpec(Spec):
    """A program run without a shell → ``exit_code``, ``stdout``, ``stderr``, ``duration``."""

    default_expect: ClassVar[tuple[str, ...]] = ("exit_code == 0",)

    argv: tuple[str, ...]
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    max_output: int = 65_536

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: object) -> object:
        # `command: "git status"` and `command: [git, status]` are shorthands for `argv`.
        if isinstance(data, str):
            return {"argv": shlex.split(data)}
        if isinstance(data, list):
            return {"argv": data}
        if isinstance(data, dict) and isinstance(data.get("argv"), str):
            return {**data, "argv": shlex.split(data["argv"])}
        return data

    @field_validator("argv")
    @classmethod
    def _not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("argv must name a program")
        return v
