"""The log probe reads real log files with errors planted over time, as the Frappe guide (003)
reviews them: errors in the last 24h, recurring ones, bursts within an hour, new kinds."""

from __future__ import annotations

import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from watchkeeper.config.specs.log import LogSpec
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.log import probe_log, scan_logs
from watchkeeper.results import Status

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TOKEN = "ghp_Zx81kQ0p1LmN2oP3qR4sT5uV6wX7"


def at(hours_ago: float) -> str:
    """Return an ISO-8601 date ``hours_ago`` hours before NOW, as a log line starts with."""
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def write_log(path: Path, lines: list[str], modified_hours_ago: float = 0.0) -> Path:
    """Write ``lines`` to ``path`` and set its mtime ``modified_hours_ago`` before NOW."""
    path.write_text("\n".join(lines) + "\n")
    mtime = (NOW - timedelta(hours=modified_hours_ago)).timestamp()
    os.utime(path, (mtime, mtime))
    return path


async def measure(spec: LogSpec, ctx: ProbeContext) -> dict[str, object]:
    return await probe_log(spec, ctx, timeout=10, now=NOW)


def by_text(measured: dict[str, object]) -> dict[str, int]:
    top = measured["top_errors"]
    assert isinstance(top, list)
    return {entry["text"]: entry["count"] for entry in top}


async def test_errors_in_the_window_are_counted_grouped_and_ranked(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    lines = [f"{at(30)} ERROR payment 17 declined"]  # before the window
    lines += [f"{at(20 - i)} ERROR payment {100 + i} declined" for i in range(7)]
    lines += [f"{at(12)} INFO member 5 signed up", f"{at(6)} CRITICAL mandate 'NL91' rejected"]
    lines += [f"{at(5 - i)} ERROR sync of member {i} failed: timeout" for i in range(3)]
    lines += [f"{at(1)} WARNING slow page /members/77 (2.5s)"]
    write_log(tmp_path / "app.log", lines)

    measured = await measure(LogSpec(paths=(str(tmp_path / "*.log"),)), ctx)

    assert measured["error_count"] == 11
    assert by_text(measured) == {
        "ERROR payment <n> declined": 7,
        "ERROR sync of member <n> failed: timeout": 3,
        "CRITICAL mandate <str> rejected": 1,
    }
    top = measured["top_errors"]
    assert isinstance(top, list)
    assert top[0]["example"] == f"{at(14)} ERROR payment 106 declined"  # the newest one
    assert measured["recurring"] == [top[0]["fingerprint"]]
    assert measured["max_recurrence"] == 7
    # Payments failed before the window too: only the other two kinds are new.
    assert measured["new_types"] == [top[1]["fingerprint"], top[2]["fingerprint"]]
    assert measured["burst"] is False
    assert measured["burst_peak_per_hour"] == 1  # an hour apart: never two within one hour
    assert (measured["files"], measured["undated_files"]) == (1, [])


async def test_a_burst_is_more_than_the_limit_within_any_hour(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    # 25 errors from 08:50 to 09:38: neither clock hour holds more than 20, a sliding hour does.
    burst = [f"{at(3 + 10 / 60 - i * 2 / 60)} ERROR queue stalled" for i in range(25)]
    spread = [f"{at(23 - i)} ERROR nightly job failed" for i in range(20)]
    write_log(tmp_path / "app.log", sorted(spread + burst))

    measured = await measure(LogSpec(paths=(str(tmp_path / "app.log"),)), ctx)

    assert measured["burst"] is True
    assert measured["burst_peak_per_hour"] == 25
    assert measured["error_count"] == 45


async def test_the_guides_thresholds_apply(ctx: ProbeContext, tmp_path: Path) -> None:
    write_log(
        tmp_path / "app.log", [f"{at(20 - i)} ERROR login failed for 4{i}" for i in range(12)]
    )
    # Guide 003: > 5 in 24h needs investigation; the same error > 10 times, or > 20 in an hour,
    # escalates.
    spec = LogSpec(paths=(str(tmp_path / "app.log"),), recurring_over=5, burst_over=20)
    rules = Rules.parse(
        expect=[],
        warn=["recurring"],
        critical=["max_recurrence > 10", "error_count > 50"],
        default_expect=spec.default_expect,
    )

    status, message = judge(rules, await measure(spec, ctx))

    assert status is Status.CRITICAL
    assert "max_recurrence > 10" in message


async def test_rotated_files_count_and_tell_old_kinds_from_new(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    write_log(
        tmp_path / "app.log.2",
        [f"{at(24 * 10)} ERROR cache miss storm on node 3"],  # beyond the 7-day history
        modified_hours_ago=24 * 10,
    )
    write_log(
        tmp_path / "app.log.1",
        [f"{at(72)} ERROR mail bounce for 88", f"{at(26)} ERROR mail bounce for 12"],
        modified_hours_ago=26,
    )
    write_log(
        tmp_path / "app.log",
        [
            f"{at(23)} ERROR mail bounce for 9",
            f"{at(2)} ERROR cache miss storm on node 5",
            f"{at(1)} ERROR disk quota exceeded",
        ],
    )
    (tmp_path / "app.log.3.gz").write_bytes(b"\x1f\x8b not read")

    measured = await measure(LogSpec(paths=(str(tmp_path / "app.log*"),)), ctx)

    assert measured["error_count"] == 3
    assert measured["files"] == 2  # app.log.2 is older than the history, the .gz is compressed
    top = measured["top_errors"]
    assert isinstance(top, list)
    new = {entry["text"] for entry in top if entry["fingerprint"] in measured["new_types"]}
    assert new == {"ERROR cache miss storm on node <n>", "ERROR disk quota exceeded"}


async def test_a_traceback_belongs_to_the_line_above_it(ctx: ProbeContext, tmp_path: Path) -> None:
    lines = [
        f"{at(5)} ERROR import of batch 12 failed",  # logger.exception: one error with its detail
        "Traceback (most recent call last):",
        '  File "importer.py", line 40, in run',
        "KeyError: 'iban'",
        f"{at(4)} INFO worker 2 restarted",  # a bare traceback: an error of its own
        "Traceback (most recent call last):",
        '  File "sepa.py", line 9, in collect',
        "ValueError: amount -3 is negative",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "sepa.py", line 12, in collect',
        "RuntimeError: collection 551 aborted",
        f"{at(3)} INFO done",
    ]
    write_log(tmp_path / "worker.log", lines)

    measured = await measure(LogSpec(paths=(str(tmp_path / "worker.log"),)), ctx)

    assert by_text(measured) == {
        "ERROR import of batch <n> failed": 1,
        "RuntimeError: collection <n> aborted": 1,
    }


async def test_examples_never_keep_a_token(ctx: ProbeContext, tmp_path: Path) -> None:
    write_log(tmp_path / "app.log", [f"{at(1)} ERROR auth rejected token={TOKEN}"])

    measured = await measure(LogSpec(paths=(str(tmp_path / "app.log"),)), ctx)

    assert TOKEN not in repr(measured)
    assert by_text(measured) == {"ERROR auth rejected token=<redacted>": 1}


async def test_a_file_without_dates_takes_its_modification_time(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    recent = write_log(tmp_path / "recent.out", ["ERROR boom 1", "ok", "ERROR boom 2"], 2)
    write_log(tmp_path / "stale.out", ["ERROR boom 3"], modified_hours_ago=48)

    measured = await measure(LogSpec(paths=(str(tmp_path / "*.out"),)), ctx)

    assert by_text(measured) == {"ERROR boom <n>": 2}
    assert measured["undated_files"] == [str(recent), str(tmp_path / "stale.out")]


async def test_a_custom_timestamp_and_level(ctx: ProbeContext, tmp_path: Path) -> None:
    def nginx(hours_ago: float) -> str:
        return (NOW - timedelta(hours=hours_ago)).strftime("%d/%b/%Y:%H:%M:%S +0000")

    write_log(
        tmp_path / "error.log",
        [
            f'10.0.0.1 - - [{nginx(30)}] "GET /api/x HTTP/1.1" 502 0',
            f'10.0.0.2 - - [{nginx(3)}] "GET /api/members/8 HTTP/1.1" 502 0',
            f'10.0.0.3 - - [{nginx(2)}] "GET /api/x HTTP/1.1" 200 512',
        ],
    )
    spec = LogSpec(
        paths=(str(tmp_path / "error.log"),),
        level=r'" 5\d\d ',
        timestamp=r"\[([^\]]+)\]",
        timestamp_format="%d/%b/%Y:%H:%M:%S %z",
    )

    measured = await measure(spec, ctx)

    assert measured["error_count"] == 1


def test_the_spec_takes_a_glob_as_shorthand_and_rejects_bad_patterns() -> None:
    assert LogSpec.model_validate("/var/log/app/*.log").paths == ("/var/log/app/*.log",)
    with pytest.raises(ValueError, match="bad regular expression"):
        LogSpec(paths=("x",), level="(unclosed")


async def test_no_matching_file_is_an_error(ctx: ProbeContext, tmp_path: Path) -> None:
    with pytest.raises(ProbeError, match="no log file matches"):
        await measure(LogSpec(paths=(str(tmp_path / "missing-*.log"),)), ctx)


async def test_the_timeout_is_kept(ctx: ProbeContext, tmp_path: Path) -> None:
    write_log(tmp_path / "app.log", [f"{at(1)} ERROR x"])

    with pytest.raises(ProbeError, match="timed out"):
        await probe_log(LogSpec(paths=(str(tmp_path / "app.log"),)), ctx, timeout=1e-9, now=NOW)


def test_a_200_mb_log_costs_its_recent_tail(tmp_path: Path) -> None:
    # 200 MB of last month's lines, then a day of recent ones: only the tail is read.
    old = "".join(f"{at(24 * 40)} ERROR old thing {i} happened\n" for i in range(20_000)).encode()
    path = tmp_path / "big.log"
    with path.open("wb") as file:
        while file.tell() < 200 * 2**20:
            file.write(old)
        for i in range(2_000):
            file.write(f"{at(20 - i / 100)} INFO request {i} served\n".encode())
        file.write(f"{at(1)} ERROR new thing 1 happened\n".encode())
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))
    spec = LogSpec(paths=(str(path),))

    tracemalloc.start()
    started = time.perf_counter()
    measured = scan_logs(spec, NOW.timestamp(), timeout=60)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert measured["error_count"] == 1
    # The history reaches 7 days before the window, not 40: the old kind is not met, so new.
    assert measured["new_types"] == [measured["top_errors"][0]["fingerprint"]]
    assert elapsed < 5
    assert peak < 16 * 2**20


async def test_short_passwords_never_reach_the_measurements(
    ctx: ProbeContext, tmp_path: Path
) -> None:
    write_log(
        tmp_path / "app.log",
        [
            f"{at(2)} ERROR cannot connect to postgres://app:hunter2@db:5432/shop",
            f"{at(1)} ERROR login refused for password=abc123 (user 7)",
        ],
    )

    measured = await measure(LogSpec(paths=(str(tmp_path / "app.log"),)), ctx)

    assert "hunter2" not in repr(measured)
    assert "abc123" not in repr(measured)
    assert set(by_text(measured)) == {
        "ERROR cannot connect to postgres://app:<redacted>@db:<n>/shop",
        "ERROR login refused for password=<redacted> (user <n>)",
    }
