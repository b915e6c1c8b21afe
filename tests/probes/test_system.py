"""The system probe reports this machine's real figures, in the units the evaluator expects."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from watchkeeper.config.specs import SystemSpec
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.system import probe_system


async def test_system_probe_reports_percentages_loads_and_counts(ctx: ProbeContext) -> None:
    measured = await probe_system(SystemSpec(cpu_sample=0.1), ctx, timeout=10)

    for name in ("cpu_percent", "memory_used_percent", "swap_used_percent", "disk_used_percent"):
        assert isinstance(measured[name], float), name
        assert 0.0 <= measured[name] <= 100.0, name
    assert 0 < measured["memory_available"] <= psutil.virtual_memory().total
    assert all(measured[f"load_{m}"] >= 0.0 for m in ("1m", "5m", "15m"))
    assert measured["process_count"] >= 1


async def test_system_probe_disk_figures_match_the_mount(ctx: ProbeContext) -> None:
    measured = await probe_system(SystemSpec(disk="/", cpu_sample=0.05), ctx, timeout=10)
    usage = psutil.disk_usage("/")

    assert measured["disk_total"] == usage.total
    # Other processes write meanwhile, so free space is compared within 1%.
    assert abs(measured["disk_free"] - usage.free) <= usage.total * 0.01
    assert abs(measured["disk_used_percent"] - usage.percent) <= 1.0
    assert measured["disk_free"] <= measured["disk_total"]


async def test_system_probe_reads_the_mount_holding_a_file(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    inside = tmp_path / "data.txt"
    inside.write_text("x")

    measured = await probe_system(SystemSpec(disk=str(inside), cpu_sample=0.05), ctx, timeout=10)

    assert measured["disk_total"] == psutil.disk_usage(str(tmp_path)).total


async def test_system_probe_samples_cpu_for_the_configured_time(ctx: ProbeContext) -> None:
    started = time.monotonic()

    await probe_system(SystemSpec(cpu_sample=0.3), ctx, timeout=10)

    assert 0.3 <= time.monotonic() - started < 2


async def test_system_probe_reports_a_missing_disk_path(ctx: ProbeContext, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir"

    with pytest.raises(ProbeError, match=f"cannot read disk usage of {missing}: No such file"):
        await probe_system(SystemSpec(disk=str(missing), cpu_sample=0.05), ctx, timeout=10)
