"""The demo target's application log: history, steady traffic, recurring errors, bursts."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.demo.conftest import Served
from watchkeeper.demo.target_log import BURST_SIZE, NEW_TYPES, RECURRING, AppLog

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LINE = re.compile(
    r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (INFO|WARNING|ERROR|CRITICAL) \[([a-z]+)\] (.+)$"
)


def parsed(path: Path) -> list[tuple[datetime, str, str]]:
    """Return each line's time, level and message; fail on a line of another shape."""
    out = []
    for line in path.read_text().splitlines():
        match = LINE.match(line)
        assert match, line
        when = datetime.strptime(match[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        out.append((when, match[2], match[4]))
    return out


def fingerprint(message: str) -> str:
    """Numbers and hex ids replaced, as a log check groups messages."""
    return re.sub(r"\b[0-9a-f]{8}\b|\d+", "#", message)


def test_the_history_holds_two_days_of_recurring_errors_and_one_new_type(tmp_path: Path) -> None:
    log = AppLog(tmp_path / "app.log", random.Random(1))
    log.backfill(NOW)
    lines = parsed(log.path)
    assert [when for when, _, _ in lines] == sorted(when for when, _, _ in lines)
    assert NOW - timedelta(hours=48) <= lines[0][0] and lines[-1][0] < NOW

    day = [(level, m) for when, level, m in lines if when >= NOW - timedelta(days=1)]
    errors = [m for level, m in day if level == "ERROR"]
    assert len(errors) == 9  # under 003's "fewer than 10 a day"
    by_kind = Counter(fingerprint(m) for m in errors)
    recurring = by_kind.most_common(1)[0]
    assert recurring[1] == 6  # over "the same error more than 5 times in 24h"
    assert len({m for m in errors if fingerprint(m) == recurring[0]}) == 6  # ids vary
    new = fingerprint(NEW_TYPES[0].message.format(hex="00000000"))
    older = [fingerprint(m) for when, _, m in lines if when < NOW - timedelta(hours=1)]
    assert new in by_kind and new not in older
    assert log.count("ERROR", NOW - timedelta(days=1)) == 9


def test_a_kept_log_is_not_filled_again(tmp_path: Path) -> None:
    log = AppLog(tmp_path / "app.log", random.Random(1))
    log.backfill(NOW)
    size = log.path.stat().st_size
    AppLog(log.path, random.Random(2)).backfill(NOW + timedelta(hours=1))
    assert log.path.stat().st_size == size


def test_traffic_is_mostly_info_with_recurring_errors_and_rare_new_types(tmp_path: Path) -> None:
    log = AppLog(tmp_path / "app.log", random.Random(3))
    for i in range(20_000):  # about 28 hours of ticks
        log.tick(NOW + timedelta(seconds=5 * i))
    lines = parsed(log.path)
    levels = Counter(level for _, level, _ in lines)
    assert levels["INFO"] == 20_000
    errors = [m for _, level, m in lines if level in ("ERROR", "CRITICAL")]
    assert 20 < len(errors) < 120
    recurring = {fingerprint(t.message.format(n=1, ms=1, user=1)) for t in RECURRING[:2]}
    assert (
        Counter(fingerprint(m) for m in errors if fingerprint(m) in recurring).most_common(1)[0][1]
        > 5
    )
    assert any(fingerprint(m) not in recurring for m in errors)  # a new type turned up


async def test_switching_a_part_to_fail_writes_a_burst_and_each_failing_request_a_line(
    target: Served,
) -> None:
    path = target.directory / "app.log"
    before = parsed(path)
    await target.switch("fail", "health")
    await target.switch("fail", "health")  # already failing: no second burst
    async with target.http.get(target.url + "/api/health") as resp:
        assert resp.status == 503
    new = parsed(path)[len(before) :]
    failures = [m for _, level, m in new if level == "ERROR" and "db:5432" in m]
    assert len(failures) == BURST_SIZE + 1
    assert len({fingerprint(m) for m in failures}) == 1 and len(set(failures)) > 1
    span = max(w for w, _, _ in new) - min(w for w, _, _ in new)
    assert span < timedelta(minutes=1)  # a burst: more than 20 within the hour, at once


async def test_requests_leave_info_lines(target: Served) -> None:
    async with target.http.get(target.url + "/api/method/ping") as resp:
        assert resp.status == 200
    lines = parsed(target.directory / "app.log")
    assert ("INFO", "GET /api/method/ping 200") in [(level, m) for _, level, m in lines]
