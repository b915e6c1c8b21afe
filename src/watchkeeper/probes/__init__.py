"""Probes: one module per kind, each an async function from a spec to measurements.

To add a kind: a spec model in ``watchkeeper.config.specs`` and a function here.
"""

from __future__ import annotations

from typing import Any

from watchkeeper.config.specs import (
    BackupSpec,
    BrowserSpec,
    CommandSpec,
    DatabaseSpec,
    DepsSpec,
    ErrorsSpec,
    ForecastSpec,
    GitSpec,
    HeartbeatSpec,
    HttpSpec,
    LlmChainSpec,
    LlmSpec,
    LogSpec,
    MetricSpec,
    PostgresSpec,
    RedisSpec,
    SecretsSpec,
    SloSpec,
    Spec,
    SystemSpec,
    TcpSpec,
    TlsSpec,
    TrendSpec,
)
from watchkeeper.probes.backup import probe_backup
from watchkeeper.probes.base import Probe, ProbeContext, ProbeError
from watchkeeper.probes.browser import probe_browser
from watchkeeper.probes.command import probe_command
from watchkeeper.probes.database import probe_database
from watchkeeper.probes.deps import probe_deps
from watchkeeper.probes.errors import probe_errors
from watchkeeper.probes.forecast import probe_forecast
from watchkeeper.probes.git import probe_git
from watchkeeper.probes.heartbeat import probe_heartbeat
from watchkeeper.probes.http import probe_http
from watchkeeper.probes.llm import probe_llm
from watchkeeper.probes.llm_chain import probe_llm_chain
from watchkeeper.probes.log import probe_log
from watchkeeper.probes.metric import probe_metric
from watchkeeper.probes.postgres import probe_postgres
from watchkeeper.probes.redis import probe_redis
from watchkeeper.probes.secrets import probe_secrets
from watchkeeper.probes.slo import probe_slo
from watchkeeper.probes.system import probe_system
from watchkeeper.probes.tcp import probe_tcp
from watchkeeper.probes.tls import probe_tls
from watchkeeper.probes.trend import probe_trend

PROBES: dict[type[Spec], Probe[Any]] = {
    HttpSpec: probe_http,
    TcpSpec: probe_tcp,
    TlsSpec: probe_tls,
    CommandSpec: probe_command,
    SystemSpec: probe_system,
    DatabaseSpec: probe_database,
    BackupSpec: probe_backup,
    LlmSpec: probe_llm,
    LlmChainSpec: probe_llm_chain,
    RedisSpec: probe_redis,
    BrowserSpec: probe_browser,
    DepsSpec: probe_deps,
    GitSpec: probe_git,
    SecretsSpec: probe_secrets,
    LogSpec: probe_log,
    PostgresSpec: probe_postgres,
    HeartbeatSpec: probe_heartbeat,
    MetricSpec: probe_metric,
    ErrorsSpec: probe_errors,
    TrendSpec: probe_trend,
    ForecastSpec: probe_forecast,
    SloSpec: probe_slo,
}


def probe_for(spec: Spec) -> Probe[Any]:
    """Given a spec, return the probe that measures it."""
    return PROBES[type(spec)]


__all__ = ["PROBES", "Probe", "ProbeContext", "ProbeError", "probe_for"]
