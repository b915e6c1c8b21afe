"""The config of ``deps`` checks: a project's dependencies audited by pip-audit or npm."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.specs.base import Spec


class DepsTool(StrEnum):
    """The program a ``deps`` check runs."""

    PIP_AUDIT = "pip-audit"
    NPM_AUDIT = "npm-audit"
    NPM_OUTDATED = "npm-outdated"

    @property
    def is_npm(self) -> bool:
        """Return True for the tools that are npm subcommands."""
        return self is not DepsTool.PIP_AUDIT


class DepsSpec(Spec):
    """A project's dependencies → ``vulnerabilities``, ``critical``, ``high``, ``moderate``,
    ``low``, ``vulnerable_packages`` (audits) or ``outdated``, ``outdated_packages``."""

    tool: DepsTool
    path_fields: ClassVar[tuple[str, ...]] = ("path",)

    path: str = Field(description="the project directory the tool runs in")
    program: str | None = Field(
        default=None,
        description="the pip-audit or npm executable; by default the one beside Watchkeeper's "
        "Python, else the one on PATH",
    )
    requirements: str | None = Field(
        default=None,
        description="pip-audit: a requirements file (relative to path); without it pip-audit "
        "audits the project at path (pyproject.toml)",
    )
    resolve: bool = Field(
        default=True,
        description="pip-audit: let pip resolve the requirements' dependencies; false audits "
        "pinned requirements as written (--no-deps --disable-pip)",
    )
    osv_url: str | None = Field(
        default=None,
        description="pip-audit: query this OSV API (e.g. https://api.osv.dev/v1/query or a "
        "mirror) instead of PyPI's advisories",
    )
    registry: str | None = Field(
        default=None, description="npm: the registry whose audit endpoint and metadata are used"
    )
    omit_dev: bool = Field(default=False, description="npm: leave dev dependencies out")

    @field_validator("registry", "osv_url")
    @classmethod
    def _no_credentials(cls, v: str | None) -> str | None:
        # The URL goes on the tool's command line, which every user of the host can read (ps).
        # Only what is wrong is said: the URL itself holds the credentials.
        try:
            userinfo = v is not None and urlsplit(v).netloc.rpartition("@")[1] == "@"
        except ValueError:
            raise ValueError("not a URL") from None
        if userinfo:
            raise ValueError(
                "must not hold credentials (user:password@): the URL goes on the tool's "
                "command line, where any user of the host can read it; keep them in the tool's "
                "own config (npm: the project's .npmrc, //host/:_authToken=${NPM_TOKEN})"
            )
        return v

    @model_validator(mode="after")
    def _options_fit_tool(self) -> DepsSpec:
        pip_only = {"requirements": self.requirements, "osv_url": self.osv_url}
        npm_only = {"registry": self.registry, "omit_dev": self.omit_dev}
        wrong = npm_only if self.tool is DepsTool.PIP_AUDIT else pip_only
        given = [name for name, value in wrong.items() if value]
        if self.tool.is_npm and not self.resolve:
            given.append("resolve")
        if given:
            raise ValueError(f"{', '.join(given)} cannot be used with tool {self.tool}")
        if not self.resolve and self.requirements is None:
            raise ValueError("resolve: false needs a pinned requirements file")
        return self
