"""Benchmarks of issue 2: check throughput, scheduler lag and memory, against the issue's targets.

In one run, against nginx serving a small JSON file on 127.0.0.1:

1. ``reference``: nginx's own rate (wrk -t2 -c100 -d10s); prometheus-blackbox-exporter's probes/s
   through its /probe endpoint (wrk -c100 -d10s; it opens a fresh connection per probe); a bare
   aiohttp loop (100 workers, one session), with keep-alive and with a fresh connection per request.
2. ``pipeline``: the whole Watchkeeper service with N HTTP checks every 1s (more than it can run),
   counting results WRITTEN to a SQLite store per second over a window after a warm-up; with
   keep-alive and with a fresh connection per check.
3. ``lag``: 10,000 HTTP checks every 60s from a YAML file for ~75 s: scheduler start lag
   (Scheduler.lag), runs and skips, config load time, and resident memory before and after.
4. ``alerts`` (issue 3): alert latency, from a failing (or recovered) result to the message at a
   ``json://`` receiver, through a real ``watchkeeper serve`` (see alerts.py).
5. ``dashboard`` (issue 4): server time of the summary, the checks table and a check's 30-day page
   with 1,000 checks and a month of one-minute history in SQLite (see dashboard.py; the store is
   generated once, ~20 minutes, and cached in bench/.cache).
6. ``operations`` (issue 5): one pass of the incident and of the procedure loop with 1,000 open
   incidents and 200 procedures, and the incident figures over a month (see operations.py).
7. ``backups`` (issue 6): taking and restore-testing a ~200 MB SQLite database and a ~200 MB
   PostgreSQL table, the idle backup pass of ``serve`` with 100 scheduled backups, and the status
   of 100 backups with 1,000 catalogue entries each (see backups.py).
8. ``heartbeat`` (issue 7): heartbeat pings per second accepted and stored by a real
   ``watchkeeper serve``, on SQLite and on PostgreSQL (see heartbeat.py).
9. ``analytics`` (issue 8): a report of each period over a year of rollups for 200 checks, and
   the ``slo``, ``forecast`` and ``errors`` checks over a month of results (see analytics.py).

Usage: ``python bench/run.py [--only reference,pipeline,lag,alerts,dashboard,operations,backups,heartbeat,analytics]
[--checks N] [--seconds S]``. Installs nginx, wrk and prometheus-blackbox-exporter with apt-get if missing (as
root). Each workload runs in its own process (see workloads.py); every process started is stopped
before the script ends.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import servers

HERE = Path(__file__).resolve().parent
PARTS = (
    "reference",
    "pipeline",
    "lag",
    "alerts",
    "dashboard",
    "operations",
    "backups",
    "heartbeat",
    "analytics",
)
PINGS_TARGET = 2500.0
"""Stored heartbeat pings a second on this 2-core machine: ten times Healthchecks.io's ~250/s."""

PIPELINE_KEEPALIVE_TARGET = 5000.0
LAG_P99_TARGET_MS = 50.0
RSS_TARGET_MB = 150.0
PAGE_P95_TARGET_MS = 100.0
REPORT_TARGET_MS = 2000.0
"""Gathering one report over 200 checks' year of rollups: quick enough to write on request."""
CHECK_TARGET_MS = 2000.0
"""Reading and judging one analysis check's month of data, run every few minutes."""
PASS_TARGET_MS = 200.0
"""A pass of the incident, procedure or backup loop, which runs every 2 s, should take under a
tenth of it."""


@dataclass
class Row:
    """One figure of the report, with its target and verdict when it has one."""

    figure: str
    value: str
    target: str = ""
    verdict: str = ""


def verdict(ok: bool) -> str:
    """Return PASS or MISS."""
    return "PASS" if ok else "MISS"


def workload(args: list[str], log: Path, timeout: float) -> dict[str, Any]:
    """Run ``workloads.py`` with ``args`` in a fresh process; return the JSON it prints."""
    with log.open("ab") as err:
        done = subprocess.run(
            [sys.executable, str(HERE / "workloads.py"), *args],
            stdout=subprocess.PIPE,
            stderr=err,
            timeout=timeout,
        )
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"workload {args[0]} failed with {done.returncode}:\n{tail}")
    result: dict[str, Any] = json.loads(done.stdout.decode().splitlines()[-1])
    return result


def say(text: str) -> None:
    """Print a progress line at once."""
    print(text, flush=True)


def reference(url: str, log: Path, rows: list[Row]) -> float | None:
    """Measure nginx, blackbox_exporter and a bare aiohttp loop; return blackbox's probes/s."""
    say("nginx: wrk -t2 -c100 -d10s …")
    plain = servers.wrk(url)
    rows.append(Row("nginx, wrk -t2 -c100 (req/s)", f"{plain.requests_per_second:,.0f}"))
    say("blackbox_exporter: wrk -t2 -c100 -d10s on /probe …")
    with servers.blackbox(url) as probe_url:
        if not servers.probe_succeeds(probe_url):
            raise RuntimeError(f"blackbox_exporter cannot probe {url}")
        probes = servers.wrk(probe_url)
    rows.append(Row("blackbox_exporter, wrk -c100, fresh conn (probes/s)", _rate(probes)))
    for fresh in (False, True):
        mode = "fresh conn" if fresh else "keep-alive"
        say(f"bare aiohttp loop, 100 workers, {mode}: 2 s warm-up + 10 s …")
        args = ["bare", url, "--warmup", "2", "--seconds", "10", *(["--fresh"] if fresh else [])]
        bare = workload(args, log, timeout=60)
        rows.append(
            Row(f"bare aiohttp loop, 100 workers, {mode} (req/s)", f"{bare['per_second']:,.0f}")
        )
    return probes.requests_per_second


def _rate(result: servers.WrkResult) -> str:
    errors = f" ({result.errors} errors)" if result.errors else ""
    return f"{result.requests_per_second:,.0f}{errors}"


def pipeline(
    url: str, opts: argparse.Namespace, log: Path, blackbox: float | None, rows: list[Row]
) -> None:
    """Measure results written per second through the whole service, keep-alive and fresh."""
    for fresh in (False, True):
        mode = "fresh conn" if fresh else "keep-alive"
        say(
            f"pipeline, {opts.checks} checks every 1s, {mode}: {opts.warmup:g} s warm-up + {opts.seconds:g} s …"
        )
        args = ["pipeline", url, "--checks", str(opts.checks), "--warmup", str(opts.warmup)]
        args += ["--seconds", str(opts.seconds), *(["--fresh"] if fresh else [])]
        got = workload(args, log, timeout=opts.warmup + opts.seconds + 120)
        say(f"  {json.dumps(got)}")
        rate = got["per_second"]
        errors = got["statuses"].get("error", 0)
        others = ", ".join(f"{n:,} {st}" for st, n in sorted(got["statuses"].items()) if st != "ok")
        value = f"{rate:,.0f}" + (f" ({others})" if others else "")
        figure = f"pipeline, {mode}: results written/s (CPU {got['cpu_percent']:.0f}%)"
        # A result is written whatever its status, but errors (refused, timed out) cost less.
        honest = errors <= 0.01 * max(1, got["written"])
        if not fresh:
            ok = rate >= PIPELINE_KEEPALIVE_TARGET and honest
            rows.append(Row(figure, value, f"≥ {PIPELINE_KEEPALIVE_TARGET:,.0f}", verdict(ok)))
        elif blackbox is None:
            rows.append(Row(figure, value, "≥ blackbox_exporter", "not measured (--only)"))
        else:
            ok = rate >= blackbox and honest
            rows.append(Row(figure, value, f"≥ {blackbox:,.0f} (blackbox)", verdict(ok)))
        finished = f"{got['finished_per_second']:,.0f}"
        rows.append(
            Row(f"pipeline, {mode}: runs finished/s (skipped {got['skipped']:,})", finished)
        )


def lag(url: str, opts: argparse.Namespace, log: Path, rows: list[Row]) -> None:
    """Measure scheduler lag, runs, config load time and memory with many checks every 60s."""
    say(f"scheduler, {opts.lag_checks} checks every 60s from YAML: {opts.lag_seconds:g} s …")
    args = ["lag", url, "--checks", str(opts.lag_checks), "--seconds", str(opts.lag_seconds)]
    got = workload(args, log, timeout=opts.lag_seconds + 180)
    say(f"  {json.dumps(got)}")
    n = f"{got['checks']:,}"
    p99 = got["lag_p99_ms"]
    rows += [
        Row(f"config load, {n} checks from YAML (s)", f"{got['config_load_seconds']:.1f}"),
        Row("scheduler lag p50 (ms)", f"{got['lag_p50_ms']:.1f}"),
        Row(
            "scheduler lag p99 (ms, last 5,000 starts)",
            f"{p99:.1f}",
            f"< {LAG_P99_TARGET_MS:g}",
            verdict(p99 < LAG_P99_TARGET_MS),
        ),
        Row(
            "scheduler lag, worst p99 sampled every 10 s (ms)",
            f"{got['lag_worst_sampled_p99_ms']:.1f}",
        ),
        Row("scheduler lag max (ms, last 5,000 starts)", f"{got['lag_max_ms']:.1f}"),
        Row(f"runs in {got['seconds']:g} s / skipped", f"{got['runs']:,} / {got['skipped']:,}"),
        Row("RSS before loading the config (MB)", f"{got['baseline_rss_mb']:.0f}"),
        Row(
            f"RSS with {n} checks scheduled (MB)",
            f"{got['rss_mb']:.0f}",
            f"< {RSS_TARGET_MB:g}",
            verdict(got["rss_mb"] < RSS_TARGET_MB),
        ),
        Row("peak RSS (MB)", f"{got['peak_rss_mb']:.0f}"),
    ]


def alert_latency(opts: argparse.Namespace, rows: list[Row]) -> None:
    """Measure alert latency with alerts.py in its own process."""
    say(f"alert latency: {opts.alert_trials} firing/resolved pairs")
    done = subprocess.run(
        [sys.executable, str(HERE / "alerts.py"), "--trials", str(opts.alert_trials)],
        stdout=subprocess.PIPE,
        check=True,
        timeout=600,
    )
    got = json.loads(done.stdout.decode().splitlines()[-1])
    for kind in ("firing", "resolved"):
        rows.append(Row(f"alert latency, {kind}: p50 (ms)", f"{got[kind + '_p50_ms']:.0f}"))
        rows.append(Row(f"alert latency, {kind}: p99 (ms)", f"{got[kind + '_p99_ms']:.0f}"))


def dashboard(opts: argparse.Namespace, rows: list[Row]) -> None:
    """Measure the dashboard's pages with dashboard.py in its own process."""
    say("dashboard: 1,000 checks, 30 days of history (generated once, then cached) …")
    args = ["--requests", str(opts.page_requests), "--cold", str(opts.page_cold)]
    done = subprocess.run(
        [sys.executable, str(HERE / "dashboard.py"), *args],
        stdout=subprocess.PIPE,
        check=True,
        timeout=3 * 3600,
    )
    got = json.loads(done.stdout.decode().splitlines()[-1])
    counts = got["rows"]
    store = (
        f"{counts['results']:,} raw / {counts['rollups_minute']:,} minute rollups, "
        f"{got['db_bytes'] / 2**30:.1f} GiB"
    )
    if got["generated_seconds"] is not None:
        store += f", generated in {got['generated_seconds'] / 60:.0f} min"
    rows.append(Row("dashboard store (1,000 checks x 30 days)", store))
    for page, figures in got["pages"].items():
        name = f"{page} page ({figures['path']}, {figures['body_bytes'] / 1000:,.0f} KB)"
        for kind in ("steady", "cold"):
            f = figures[kind]
            p95 = f["server_p95_ms"]
            rows.append(
                Row(
                    f"{name}, {kind} ({f['n']}): server p50 / p95 / max (ms)",
                    f"{f['server_p50_ms']:.0f} / {p95:.0f} / {f['server_max_ms']:.0f}",
                    f"p95 < {PAGE_P95_TARGET_MS:g}",
                    verdict(p95 < PAGE_P95_TARGET_MS),
                )
            )
            rows.append(
                Row(
                    f"{name}, {kind}: client p50 / p95 (ms)",
                    f"{f['client_p50_ms']:.0f} / {f['client_p95_ms']:.0f}",
                )
            )
        rows.append(
            Row(
                f"{name}, first request: server / client (ms)",
                f"{figures['first_server_ms']:.0f} / {figures['first_client_ms']:.0f}",
            )
        )
    rows.append(
        Row(
            "dashboard uptime read, every check (refreshed every 10 s): p50 / max (ms)",
            f"{got['uptime_read_p50_ms']:.0f} / {got['uptime_read_max_ms']:.0f}",
        )
    )


def operations(rows: list[Row]) -> None:
    """Measure the incident and procedure passes with operations.py in its own process."""
    say("operations: 1,000 open incidents, 200 procedures due every minute …")
    done = subprocess.run(
        [sys.executable, str(HERE / "operations.py")],
        stdout=subprocess.PIPE,
        check=True,
        timeout=1800,
    )
    got = json.loads(done.stdout.decode().splitlines()[-1])
    incident, procedure = got["incident_pass"], got["procedure_pass"]
    n = got["incidents"]

    def timed(figure: str, values: dict[str, float], target: bool = True) -> None:
        rows.append(
            Row(
                f"{figure}: p50 / max (ms)",
                f"{values['p50']:.0f} / {values['max']:.0f}",
                f"max < {PASS_TARGET_MS:g}" if target else "",
                verdict(values["max"] < PASS_TARGET_MS) if target else "",
            )
        )

    rows.append(
        Row(
            f"incident pass opening {got['alerts'] // 2} incidents from alerts and escalating "
            f"{n} (messages queued) (ms)",
            f"{incident['first_pass_ms']:.0f} ({incident['first_pass_messages']:,})",
        )
    )
    timed(f"incident pass, {n} open incidents, steady", incident["steady"])
    timed(f"incident pass, {n} acknowledged incidents", incident["acknowledged"])
    timed(
        f"procedure pass creating {got['procedures']} runs and marking as many overdue",
        procedure["due"],
        target=False,
    )
    timed(f"procedure pass, {got['procedures']} procedures, nothing due", procedure["idle"])
    timed(
        f"incident figures over 30 days, {got['history']:,} closed and the open incidents",
        got["incident_stats_30d"],
    )


def heartbeat(rows: list[Row]) -> None:
    """Measure heartbeat ingest with heartbeat.py in its own process."""
    say("heartbeat: pings through a real serve, SQLite then PostgreSQL …")
    done = subprocess.run(
        [sys.executable, str(HERE / "heartbeat.py")],
        stdout=subprocess.PIPE,
        check=True,
        timeout=600,
    )
    got = json.loads(done.stdout.decode().splitlines()[-1])
    for run in got["heartbeat_ingest"]:
        rows.append(
            Row(
                f"heartbeat pings, {run['store']} store, wrk -t1 -c64 for {run['seconds']:.0f} s: "
                "stored/s (accepted/s; lost; p50 / p99)",
                f"{run['stored_per_second']:,} ({run['accepted_per_second']:,}; {run['lost']}; "
                f"{run['latency_p50']} / {run['latency_p99']})",
                f">= {PINGS_TARGET:,.0f}/s, none lost",
                verdict(run["stored_per_second"] >= PINGS_TARGET and run["lost"] == 0),
            )
        )


def analytics(rows: list[Row]) -> None:
    """Measure reports and the analysis checks with analytics.py in its own process."""
    say("analytics: reports over a year of rollups for 200 checks, checks over a month …")
    done = subprocess.run(
        [sys.executable, str(HERE / "analytics.py")],
        stdout=subprocess.PIPE,
        check=True,
        timeout=1800,
    )
    got = json.loads(done.stdout.decode().splitlines()[-1])
    made = got["reports"]
    for period in ("daily", "weekly", "monthly", "quarterly"):
        one = made[period]
        rows.append(
            Row(
                f"{period} report, 200 checks, {made['rollup_rows']:,} rollup rows: gather / HTML / "
                "Markdown (ms); HTML size",
                f"{one['build_ms']} / {one['html_ms']} / {one['markdown_ms']}; "
                f"{one['html_bytes'] / 1e6:.2f} MB",
                f"gather < {REPORT_TARGET_MS:,.0f}",
                verdict(one["build_ms"] < REPORT_TARGET_MS),
            )
        )
    checks = got["checks"]
    for figure, spent in (
        (f"slo check: read {checks['slo_events']:,} statuses + judge (ms)",
         (checks["slo_read_ms"], checks["slo_judge_ms"])),
        (f"forecast check: read {checks['forecast_points']:,} points + fit (ms)",
         (checks["forecast_read_ms"], checks["forecast_fit_ms"])),
        (f"errors check: judge {checks['errors_events']:,} events in a day (ms)",
         (0, checks["errors_judge_ms"])),
    ):  # fmt: skip
        rows.append(
            Row(
                figure,
                " + ".join(str(v) for v in spent if v) or "0",
                f"< {CHECK_TARGET_MS:,.0f}",
                verdict(sum(spent) < CHECK_TARGET_MS),
            )
        )


def backups(rows: list[Row]) -> None:
    """Measure big backups, the idle backup pass and the backups' status with backups.py in its
    own process."""
    say("backups: 200 MB SQLite and PostgreSQL sources, 100 scheduled backups …")
    done = subprocess.run(
        [sys.executable, str(HERE / "backups.py")],
        stdout=subprocess.PIPE,
        check=True,
        timeout=900,
    )
    got = json.loads(done.stdout.decode().splitlines()[-1])
    lite, pg = got["sqlite"], got["postgres"]
    rows += [
        Row(
            f"SQLite source, {lite['source_mb']:.0f} MB: take (online backup, fsync, SHA-256): "
            "s / MB/s",
            f"{lite['take_seconds']:.2f} / {lite['take_mb_per_second']:.0f}",
        ),
        Row(
            "SQLite take: process RSS before / peak (MB); backup file (MB)",
            f"{lite['take_rss_baseline_mb']} / {lite['take_rss_peak_mb']}; {lite['backup_mb']:.0f}",
        ),
        Row(
            "SQLite verify (checksum, restore + integrity_check, smoke query): s (restore alone)",
            f"{lite['verify_seconds']:.2f} ({lite['restore_seconds']:.2f})",
        ),
        Row(
            f"PostgreSQL table, {pg['table_mb']:.0f} MB ({pg['rows']:,} rows): take (pg_dump -Fc, "
            "SHA-256): s / MB/s of table data",
            f"{pg['take_seconds']:.2f} / {pg['take_mb_per_second']:.0f}",
        ),
        Row(
            "PostgreSQL take: peak RSS, Python + pg_dump (MB); dump file (MB)",
            f"{pg['take_rss_peak_mb']}; {pg['backup_mb']:.0f}",
        ),
        Row(
            "PostgreSQL verify (checksum, pg_restore into a scratch database, smoke query, drop): "
            "s (restore alone)",
            f"{pg['verify_seconds']:.2f} ({pg['restore_seconds']:.2f})",
        ),
    ]
    n = got["backups"]
    for key, label in (
        ("sqlite_store", "SQLite store"),
        ("postgresql_store", "PostgreSQL store"),
        ("sqlite_store_with_restore_tests", "SQLite store, a restore test scheduled each too"),
    ):
        passes = got["worker"][key]
        idle = passes["idle"]
        rows += [
            Row(
                f"backup pass, {n} backups, {label}: first pass, {passes['first_pass_jobs']} jobs "
                "(ms)",
                f"{passes['first_pass_ms']:,.0f}",
            ),
            Row(
                f"backup pass, {n} backups, {label}, nothing due ({got['passes']} passes): "
                "p50 / p95 / max (ms)",
                f"{idle['p50']:.0f} / {idle['p95']:.0f} / {idle['max']:.0f}",
                f"p95 < {PASS_TARGET_MS:g}",
                verdict(idle["p95"] < PASS_TARGET_MS),
            ),
        ]
    status = got["status"]
    rows.append(
        Row(
            f"backup_status of {n} backups x {got['entries']:,} entries "
            f"({got['verifications']:,} restore tests), SQLite: first / p50 / max (ms)",
            f"{status['first']:.0f} / {status['p50']:.0f} / {status['max']:.0f}",
            f"p50 < {PAGE_P95_TARGET_MS:g}",
            verdict(status["p50"] < PAGE_P95_TARGET_MS),
        )
    )


def machine() -> str:
    """Return a line naming the CPU, cores, memory, Python, uvloop and aiohttp, and today's date."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in ("uvloop", "aiohttp")
    )
    return (
        f"{model.group(1) if model else 'unknown CPU'}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"{versions}, {datetime.date.today().isoformat()}"
    )


def report(rows: list[Row]) -> str:
    """Return the rows as a Markdown table."""
    lines = ["| figure | measured | target | verdict |", "|---|---:|---|---|"]
    lines += [f"| {r.figure} | {r.value} | {r.target} | {r.verdict} |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    """Run the chosen parts and print their figures beside the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", default=",".join(PARTS), help=f"comma-separated of {', '.join(PARTS)}"
    )
    parser.add_argument(
        "--checks", type=int, default=8000, help="checks offered per second in the pipeline run"
    )
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument(
        "--seconds", type=float, default=15.0, help="measured window of each pipeline run"
    )
    parser.add_argument("--lag-checks", type=int, default=10_000)
    parser.add_argument("--lag-seconds", type=float, default=75.0)
    parser.add_argument("--alert-trials", type=int, default=40)
    parser.add_argument(
        "--page-requests", type=int, default=200, help="back-to-back requests per dashboard page"
    )
    parser.add_argument(
        "--page-cold",
        type=int,
        default=8,
        help="dashboard requests per page made cold (10.5 s apart)",
    )
    opts = parser.parse_args()
    parts = set(opts.only.split(","))
    if parts - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(parts - set(PARTS)))}")
    # So that `kill` cleans up like Ctrl-C: the servers' context managers stop what they started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    servers.ensure_tools()
    say(machine())
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="wk-bench-logs-") as logs, servers.nginx() as url:
        log = Path(logs) / "workloads.log"
        say(f"target: {url}")
        blackbox = reference(url, log, rows) if "reference" in parts else None
        if "pipeline" in parts:
            pipeline(url, opts, log, blackbox, rows)
        if "lag" in parts:
            lag(url, opts, log, rows)
        if "alerts" in parts:
            alert_latency(opts, rows)
        if "dashboard" in parts:
            dashboard(opts, rows)
        if "operations" in parts:
            operations(rows)
        if "backups" in parts:
            backups(rows)
        if "heartbeat" in parts:
            heartbeat(rows)
        if "analytics" in parts:
            analytics(rows)
    print()
    print(report(rows))


if __name__ == "__main__":
    main()
