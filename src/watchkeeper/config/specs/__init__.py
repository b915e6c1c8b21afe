"""The config of each probe kind: what a user writes under ``http:``, ``tcp:``, ``command:`` …,
one module per kind. These are plain validated data; the code that runs them lives in
``watchkeeper.probes``.

To add a kind: a module here with its spec, an entry in SPEC_KINDS, a field on
``watchkeeper.config.schema.Check``, and its probe in ``watchkeeper.probes``.
"""

from __future__ import annotations

from watchkeeper.config.specs.backup import BackupSpec
from watchkeeper.config.specs.base import Spec
from watchkeeper.config.specs.browser import BrowserSpec
from watchkeeper.config.specs.command import CommandSpec
from watchkeeper.config.specs.database import DatabaseSpec
from watchkeeper.config.specs.deps import DepsSpec
from watchkeeper.config.specs.errors import ErrorsSpec
from watchkeeper.config.specs.forecast import ForecastSpec
from watchkeeper.config.specs.git import GitSpec
from watchkeeper.config.specs.http import HttpSpec
from watchkeeper.config.specs.llm import LlmChainSpec, LlmSpec
from watchkeeper.config.specs.log import LogSpec
from watchkeeper.config.specs.postgres import PostgresSpec
from watchkeeper.config.specs.push import HeartbeatSpec, MetricSpec
from watchkeeper.config.specs.redis import RedisSpec
from watchkeeper.config.specs.secrets import SecretsSpec
from watchkeeper.config.specs.slo import SloSpec
from watchkeeper.config.specs.system import SystemSpec
from watchkeeper.config.specs.tcp import TcpSpec
from watchkeeper.config.specs.tls import TlsSpec
from watchkeeper.config.specs.trend import TrendSpec

SPEC_KINDS: dict[str, type[Spec]] = {
    "http": HttpSpec,
    "tcp": TcpSpec,
    "tls": TlsSpec,
    "command": CommandSpec,
    "system": SystemSpec,
    "database": DatabaseSpec,
    "backup": BackupSpec,
    "llm": LlmSpec,
    "llm_chain": LlmChainSpec,
    "redis": RedisSpec,
    "browser": BrowserSpec,
    "deps": DepsSpec,
    "git": GitSpec,
    "secrets": SecretsSpec,
    "log": LogSpec,
    "postgres": PostgresSpec,
    "heartbeat": HeartbeatSpec,
    "metric": MetricSpec,
    "errors": ErrorsSpec,
    "trend": TrendSpec,
    "forecast": ForecastSpec,
    "slo": SloSpec,
}
"""Every probe kind by the key a check names it with."""

__all__ = [
    "SPEC_KINDS",
    "BackupSpec",
    "BrowserSpec",
    "CommandSpec",
    "DatabaseSpec",
    "DepsSpec",
    "ErrorsSpec",
    "ForecastSpec",
    "GitSpec",
    "HeartbeatSpec",
    "HttpSpec",
    "LlmChainSpec",
    "LlmSpec",
    "LogSpec",
    "MetricSpec",
    "PostgresSpec",
    "RedisSpec",
    "SecretsSpec",
    "SloSpec",
    "Spec",
    "SystemSpec",
    "TcpSpec",
    "TlsSpec",
    "TrendSpec",
]
