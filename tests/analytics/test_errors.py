"""Error patterns find what the guide's daily error review looks for: recurring, new and bursting
kinds of error, with the guide's escalation verdicts, the same verdicts on all errors together,
and clusters of errors close in time."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.analytics.errors import (
    Cluster,
    ErrorEvent,
    ErrorLevel,
    Overall,
    PatternRules,
    PatternVerdict,
    Trigger,
    clusters,
    fingerprint_of,
    overall,
    patterns,
)
from watchkeeper.analytics.fingerprints import fingerprint

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
DAY_AGO = NOW - dt.timedelta(hours=24)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def at(offset: dt.timedelta, message: str, **fields: object) -> ErrorEvent:
    """An event ``offset`` after the window's start (24h before NOW)."""
    return ErrorEvent(DAY_AGO + offset, message, **fields)  # type: ignore[arg-type]


def key(message: str) -> str:
    return fingerprint(message).key


# A day of sparse background errors: one an hour at half past, four kinds in turn.
BACKGROUND = [
    at(h * HOUR + 30 * MINUTE, text.format(n=h))
    for h in range(24)
    for text in [
        (
            "timeout calling payments after {n}00ms",
            "mail queue stuck at {n} messages",
            "ValueError: bad postcode '{n}AB'",
            "cache miss storm on shard {n}",
        )[h % 4]
    ]
]
BURST_START = DAY_AGO + 10 * HOUR
# 30 deadlocks in 20 minutes, 10:00 to 10:20 into the day; background errors sit at 9:30 and 10:30.
BURST = [
    ErrorEvent(BURST_START + dt.timedelta(minutes=20) * i / 29, f"Deadlock on row {1000 + i}")
    for i in range(30)
]
DEADLOCK = key("Deadlock on row 1")


def test_a_planted_burst_is_flagged_for_its_kind_only_and_clustered() -> None:
    found = patterns(BACKGROUND + BURST, NOW)

    assert [p.fingerprint.key for p in found if p.burst] == [DEADLOCK]
    deadlock = found[0]
    assert deadlock.fingerprint.key == DEADLOCK
    assert (deadlock.count, deadlock.peak) == (30, 30)
    assert deadlock.verdict is PatternVerdict.ESCALATE
    assert Trigger.BURST in deadlock.triggers
    assert max(p.peak for p in found[1:]) == 1

    assert clusters(BACKGROUND + BURST) == [
        Cluster(
            start=BURST_START,
            end=BURST_START + dt.timedelta(minutes=20),
            count=30,
            fingerprints=(DEADLOCK,),
        )
    ]
    assert clusters(BACKGROUND) == []


def test_a_burst_is_more_than_twenty_within_one_hour() -> None:
    twenty = [at(HOUR + i * 3 * MINUTE, f"disk full on volume {i}") for i in range(20)]
    found = patterns(twenty, NOW)
    assert (found[0].peak, found[0].burst) == (20, False)

    # A 21st inside the same hour of the first makes a burst; one an hour after the first does not.
    assert patterns([*twenty, at(HOUR + 59 * MINUTE, "disk full on volume 9")], NOW)[0].burst
    assert not patterns([*twenty, at(2 * HOUR, "disk full on volume 9")], NOW)[0].burst


def hourly(
    message: str, times: int, first: dt.timedelta = HOUR, **fields: object
) -> list[ErrorEvent]:
    """``times`` events of one kind, an hour apart from ``first`` into the window (never a burst)."""
    return [at(first + i * HOUR, message.format(i), **fields) for i in range(times)]


TWO_DAYS_AGO = dt.timedelta(hours=-24)
KNOWN = [
    *hourly("old five {}", 1, TWO_DAYS_AGO),
    *hourly("old five {}", 5),
    *hourly("old six {}", 1, TWO_DAYS_AGO),
    *hourly("old six {}", 6),
    *hourly("old eleven {}", 1, TWO_DAYS_AGO),
    *hourly("old eleven {}", 11),
    *hourly("fresh {}", 1, 20 * HOUR),
    *hourly("fresh fatal {}", 1, 23 * HOUR, level=ErrorLevel.CRITICAL),
    *[at(10 * MINUTE + i * 20 * MINUTE, f"flood {i}") for i in range(51)],
    # Before the window only, at its very start (the window is open there), and after now.
    *hourly("gone {}", 3, TWO_DAYS_AGO),
    at(dt.timedelta(0), "edge 1"),
    ErrorEvent(NOW + MINUTE, "future 1"),
]


def test_recurring_new_and_escalated_kinds_follow_the_guide() -> None:
    found = {p.fingerprint.key: p for p in patterns(KNOWN, NOW)}

    expected = {
        "flood 1": (51, True, PatternVerdict.CRITICAL),
        "old eleven 1": (11, False, PatternVerdict.ESCALATE),
        "fresh fatal 1": (1, True, PatternVerdict.ESCALATE),
        "old six 1": (6, False, PatternVerdict.INVESTIGATE),
        "fresh 1": (1, True, PatternVerdict.INVESTIGATE),
        "old five 1": (5, False, PatternVerdict.NONE),
    }
    assert {k: (p.count, p.new, p.verdict) for k, p in found.items()} == {
        key(m): v for m, v in expected.items()
    }
    assert found[key("flood 1")].triggers == (
        Trigger.RECURRING,
        Trigger.NEW,
        Trigger.REPEATED,
        Trigger.FLOOD,
    )
    assert found[key("old eleven 1")].triggers == (Trigger.RECURRING, Trigger.REPEATED)
    assert found[key("fresh fatal 1")].triggers == (Trigger.NEW, Trigger.NEW_CRITICAL)
    assert found[key("old six 1")].triggers == (Trigger.RECURRING,)
    assert found[key("old six 1")].recurring
    assert not found[key("old five 1")].recurring
    assert found[key("fresh 1")].triggers == (Trigger.NEW,)
    assert found[key("old five 1")].triggers == ()


def test_patterns_come_gravest_first_then_most_frequent() -> None:
    order = [p.fingerprint.key for p in patterns(KNOWN, NOW)]
    # The verdict first (fresh fatal outranks old six), then the count (old eleven before fresh fatal).
    assert order == [
        key(m)
        for m in ["flood 1", "old eleven 1", "fresh fatal 1", "old six 1", "fresh 1", "old five 1"]
    ]


def test_first_and_last_seen_span_the_whole_history_up_to_now() -> None:
    found = {p.fingerprint.key: p for p in patterns(KNOWN, NOW)}
    old = found[key("old six 1")]
    assert old.first_seen == DAY_AGO + TWO_DAYS_AGO
    assert old.last_seen == DAY_AGO + 6 * HOUR
    assert not old.new


def test_thresholds_and_the_window_can_be_changed() -> None:
    strict = PatternRules(recurring_over=4, escalate_over=100, critical_over=100)
    found = {p.fingerprint.key: p for p in patterns(KNOWN, NOW, rules=strict)}
    assert found[key("old five 1")].verdict is PatternVerdict.INVESTIGATE
    assert found[key("flood 1")].verdict is PatternVerdict.INVESTIGATE

    # Over the last 8 hours: the two fresh kinds and the flood's last three (16h10 to 16h50 in),
    # which is no longer new: it was first seen before this shorter window.
    recent = {p.fingerprint.key: p for p in patterns(KNOWN, NOW, window=8 * HOUR)}
    assert {k: p.count for k, p in recent.items()} == {
        key("fresh 1"): 1,
        key("fresh fatal 1"): 1,
        key("flood 1"): 3,
    }
    assert not recent[key("flood 1")].new


def test_the_example_is_the_newest_message_with_tokens_masked() -> None:
    token = "sk_live_AbCdEf0123456789QwErTy"
    events = [
        at(HOUR, "login failed for user 7 with key sk_live_ZyXwVu9876543210PoIuYt"),
        at(2 * HOUR, f"login failed for user 9 with key {token}"),
    ]
    (found,) = patterns(events, NOW)
    assert found.count == 2
    assert found.example == "login failed for user 9 with key <redacted>"


def test_level_and_sources_summarise_the_window() -> None:
    events = [
        at(HOUR, "quota exceeded 1", level=ErrorLevel.WARNING, source="api"),
        at(2 * HOUR, "quota exceeded 2", level=ErrorLevel.ERROR, source="log:app"),
        at(3 * HOUR, "quota exceeded 3", level=ErrorLevel.INFO, source="api"),
    ]
    (found,) = patterns(events, NOW)
    assert found.level is ErrorLevel.ERROR
    assert found.sources == ("api", "log:app")


def test_the_fingerprint_of_an_event_with_a_stack_is_its_last_frame_and_message() -> None:
    def event(message: str, *stack: str) -> ErrorEvent:
        return ErrorEvent(NOW, message, stack=stack)

    saved = event(
        "KeyError: 'id'", 'File "app.py", line 3, in main', 'File "m.py", line 41, in save'
    )
    # Line numbers move with every deployment; the frame's file and function do not.
    moved = event(
        "KeyError: 'sku'", 'File "app.py", line 9, in run', 'File "m.py", line 57, in save'
    )
    elsewhere = event("KeyError: 'id'", 'File "m.py", line 41, in load')

    assert fingerprint_of(saved) == fingerprint_of(moved)
    assert fingerprint_of(saved) != fingerprint_of(elsewhere)
    assert fingerprint_of(saved).text == "File <str>, line <n>, in save: KeyError: <str>"
    assert fingerprint_of(event("KeyError: 'id'")) == fingerprint("KeyError: 'id'")
    assert fingerprint_of(event("KeyError: 'id'", " ", "")) == fingerprint("KeyError: 'id'")


def test_a_cluster_spans_kinds_and_needs_enough_events_close_enough() -> None:
    kinds = ["db connection refused on {}", "upstream 502 from {}", "job {} failed"]
    cascade = [
        at(10 * HOUR + i * 30 * dt.timedelta(seconds=1), kinds[i % 3].format(i)) for i in range(13)
    ]
    (found,) = clusters(cascade)
    # 13 events in turn: the first kind has one more than the others, which tie (key order).
    assert found.count == 13
    assert found.fingerprints[0] == key("db connection refused on 1")
    assert set(found.fingerprints) == {key(k.format(1)) for k in kinds}

    assert clusters(cascade[:9]) == []
    assert len(clusters(cascade[:9], min_events=9)) == 1


def test_a_gap_of_exactly_the_limit_joins_and_a_longer_one_splits() -> None:
    five = dt.timedelta(minutes=5)
    chain = [at(i * five, f"retry {i}") for i in range(10)]
    assert [c.count for c in clusters(chain)] == [10]
    stretched = [at(i * (five + dt.timedelta(seconds=1)), f"retry {i}") for i in range(10)]
    assert clusters(stretched) == []


def test_a_storm_of_thirty_different_errors_in_an_hour_escalates_overall_but_no_kind() -> None:
    failures = ["timeout", "connection refused", "bad gateway", "permission denied", "disk full"]
    components = ["auth", "billing", "cart", "mail", "search", "cache"]
    # 30 errors within 29 minutes, 30 kinds: each kind seen once, so each alone is merely new.
    storm = [
        at(5 * HOUR + i * MINUTE, f"{failure} in {component}")
        for i, (failure, component) in enumerate(itertools.product(failures, components))
    ]

    assert {p.verdict for p in patterns(storm, NOW)} == {PatternVerdict.INVESTIGATE}
    assert overall(storm, NOW) == Overall(
        count=30,
        kinds=30,
        peak=30,
        triggers=(Trigger.OVER_TARGET, Trigger.BURST),
        verdict=PatternVerdict.ESCALATE,
    )


def test_all_errors_together_follow_the_guides_daily_and_hourly_totals() -> None:
    quiet = BACKGROUND[:9]
    assert overall(quiet, NOW) == Overall(9, 4, 1, (), PatternVerdict.NONE)
    # The daily checklist's target is fewer than 10 errors in 24 hours.
    assert overall(BACKGROUND[:10], NOW).triggers == (Trigger.OVER_TARGET,)
    assert overall(BACKGROUND[:10], NOW).verdict is PatternVerdict.INVESTIGATE
    # 24 background and 30 deadlocks make 54 > 50 in the day, 31 of them within one hour.
    day = overall(BACKGROUND + BURST, NOW)
    assert (day.count, day.kinds, day.peak) == (54, 5, 31)
    assert day.triggers == (Trigger.OVER_TARGET, Trigger.BURST, Trigger.FLOOD)
    assert day.verdict is PatternVerdict.CRITICAL


def test_overall_counts_only_the_window_and_never_the_future() -> None:
    found = overall(KNOWN, NOW, window=8 * HOUR)
    # As in patterns over 8 hours: the two fresh kinds and the flood's last three.
    assert (found.count, found.kinds) == (5, 3)
    assert overall([], NOW) == Overall(0, 0, 0, (), PatternVerdict.NONE)


def test_times_must_carry_a_timezone_and_arguments_must_make_sense() -> None:
    naive = dt.datetime(2026, 3, 10, 12, 0)
    with pytest.raises(ValueError, match="no timezone"):
        ErrorEvent(naive, "naive")
    with pytest.raises(ValueError, match="timezone-aware"):
        patterns([], naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        overall([], naive)
    with pytest.raises(ValueError, match="window"):
        patterns([], NOW, window=dt.timedelta(0))
    with pytest.raises(ValueError, match="window"):
        overall([], NOW, window=dt.timedelta(0))
    with pytest.raises(ValueError, match="min_events"):
        clusters([], min_events=0)
    with pytest.raises(ValueError, match="burst_span"):
        PatternRules(burst_span=dt.timedelta(0))


MESSAGES = ["timeout after {}ms", "user {} not found", "Deadlock on row {}", "disk /dev/sd{} full"]
events_strategy = st.lists(
    st.builds(
        ErrorEvent,
        time=st.integers(-30 * 3600, 3600).map(lambda s: NOW + dt.timedelta(seconds=s)),
        message=st.builds(str.format, st.sampled_from(MESSAGES), st.integers(0, 99)),
        level=st.sampled_from(ErrorLevel),
        source=st.sampled_from(["", "api", "log:app"]),
        stack=st.sampled_from([(), ("a.py, line 3, in f",), ("b.py, line 8, in g",)]),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(events=events_strategy, data=st.data())
def test_the_order_events_come_in_changes_nothing(
    events: list[ErrorEvent], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(events))
    small = PatternRules(recurring_over=1, escalate_over=2, burst_over=2, critical_over=3)
    assert patterns(shuffled, NOW, rules=small) == patterns(events, NOW, rules=small)
    assert overall(shuffled, NOW, rules=small) == overall(events, NOW, rules=small)
    gap = dt.timedelta(minutes=30)
    assert clusters(shuffled, gap, min_events=2) == clusters(events, gap, min_events=2)


@settings(max_examples=60, deadline=None)
@given(events=events_strategy)
def test_counts_add_up_to_the_events_in_the_window_and_clusters_partition_them(
    events: list[ErrorEvent],
) -> None:
    in_window = [e for e in events if DAY_AGO < e.time <= NOW]
    found = patterns(events, NOW)
    assert sum(p.count for p in found) == len(in_window)
    assert (overall(events, NOW).count, overall(events, NOW).kinds) == (len(in_window), len(found))
    assert overall(events, NOW).peak >= max((p.peak for p in found), default=0)
    assert sum(c.count for c in clusters(events, min_events=1)) == len(events)
