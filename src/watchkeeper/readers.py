"""The probe context of a process that has the store open: probes that judge backups, pushes or
other checks' history read it through the callables set here, never by opening the store."""

from __future__ import annotations

from collections.abc import Callable

from watchkeeper.backups.status import figures_reader
from watchkeeper.config.schema import Config
from watchkeeper.probes import ProbeContext
from watchkeeper.store.errors import error_reader
from watchkeeper.store.history import HistoryReader
from watchkeeper.store.push import push_reader
from watchkeeper.store.store import Store


def probe_context(store: Store | None, config: Callable[[], Config]) -> ProbeContext:
    """Given the open store (None: none) and where the config in force is read from, return a
    ProbeContext whose store readers are set."""
    if store is None:
        return ProbeContext()
    history = HistoryReader(store.engine)
    return ProbeContext(
        backup_figures=figures_reader(store.engine, lambda: config().backups),
        recent_results=store.recent,
        push_figures=push_reader(store.engine),
        error_events=error_reader(store.engine),
        measurement_points=history.measurement_points,
        rollup_points=history.rollup_points,
        status_events=history.status_events,
        latency_points=history.latency_points,
    )
