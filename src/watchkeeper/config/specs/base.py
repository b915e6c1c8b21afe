"""The base of every probe kind's config."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict


class Spec(BaseModel):
    """Base of every probe spec: unknown keys are errors, a default ``expect``, and the fields
    holding file paths (``path_fields``), which count from the config file's directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_expect: ClassVar[tuple[str, ...]] = ()
    default_warn: ClassVar[tuple[str, ...]] = ()
    """Conditions used when a check gives no ``expect`` (or no ``warn``) of its own."""
    path_fields: ClassVar[tuple[str, ...]] = ()
    reads_store: ClassVar[bool] = False
    """Whether the probe judges what is in the store (a catalogue, pings, other checks' results)."""

    def rooted(self, base: Path) -> Self:
        """Given the config file's directory, return this spec with its relative paths (and
        patterns) made absolute under it: a service's working directory is no guide to them."""
        changed: dict[str, object] = {}
        for name in self.path_fields:
            value = getattr(self, name)
            if isinstance(value, str):
                changed[name] = _under(base, value)
            elif isinstance(value, Sequence):
                changed[name] = tuple(_under(base, v) for v in value)
        return self.model_copy(update=changed) if changed else self


def paths_shorthand(data: object) -> object:
    """Given a spec's raw config, return it with the ``paths`` shorthands spelled out: a string or
    a list of them for the whole spec (``log: /var/log/*.log``), a string for ``paths``."""
    if isinstance(data, str):
        return {"paths": [data]}
    if isinstance(data, list):
        return {"paths": data}
    if isinstance(data, dict) and isinstance(data.get("paths"), str):
        return {**data, "paths": [data["paths"]]}
    return data


def _under(base: Path, path: str) -> str:
    expanded = Path(path).expanduser()
    return str(expanded if expanded.is_absolute() else base / expanded)
