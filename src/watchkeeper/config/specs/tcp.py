"""The config of ``tcp`` checks."""

from __future__ import annotations

from pydantic import Field

from watchkeeper.config.specs.base import Spec


class TcpSpec(Spec):
    """A TCP connect → ``connect_time``."""

    host: str
    port: int = Field(ge=1, le=65535)
