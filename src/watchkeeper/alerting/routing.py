"""Routing: which channels an alert goes to, in which group, and when its message is due."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from watchkeeper.alerting.matching import matches
from watchkeeper.alerting.model import Labels
from watchkeeper.config.alerting import Route
from watchkeeper.config.schedules import parse_schedule

LastSent = Callable[[str, str], datetime | None]
"""Given a channel and a group key, return when a message for that group last went out, if ever."""


@dataclass(frozen=True)
class Delivery:
    """One alert bound for one channel: the group its message gathers and when it is due."""

    channel: str
    group_key: str
    due_at: datetime
    digest: bool = False


def group_key(prefix: str, group_by: Sequence[str], labels: Labels) -> str:
    """Given a prefix, the labels to group by and an alert, return e.g. ``route1:service=backend``.

    With nothing to group by every check is its own group (``route1:check=api``); tags join with ``+``.
    """
    keys = group_by or ("check",)
    return f"{prefix}:" + ",".join(f"{key}={'+'.join(labels.values(key))}" for key in keys)


def route(
    labels: Labels,
    check_route: Sequence[str],
    routes: Sequence[Route],
    channels: Collection[str],
    now: datetime,
    tz: ZoneInfo,
    last_sent: LastSent,
) -> list[Delivery]:
    """Given an alert and the routing config, return where and when it is delivered ([] if unrouted).

    A check's own ``alert.route`` wins and is sent at once; with no routes at all every channel is;
    otherwise the first matching route decides, and later ones too while routes say ``continue``.
    Routes are numbered from 1 in group keys (``route1``, ``digest2``). Due times are in UTC.
    """
    # In UTC, because adding a delay to a local time is wall-clock arithmetic, off by an hour at DST.
    now = now.astimezone(UTC)
    if check_route or not routes:
        key = group_key("direct", (), labels)
        return [Delivery(channel, key, now) for channel in dict.fromkeys(check_route or channels)]
    deliveries: list[Delivery] = []
    for number, candidate in enumerate(routes, start=1):
        if matches(candidate.match, labels):
            deliveries += _deliveries(number, candidate, labels, now, tz, last_sent)
            if not candidate.continue_:
                break
    return deliveries


def _deliveries(
    number: int, route: Route, labels: Labels, now: datetime, tz: ZoneInfo, last_sent: LastSent
) -> list[Delivery]:
    if route.digest:
        due = parse_schedule(route.digest, tz).next_after(now)
        return [
            Delivery(channel, f"digest{number}", due, digest=True) for channel in route.channels
        ]
    key = group_key(f"route{number}", route.group_by, labels)
    return [
        Delivery(channel, key, _due(route, now, last_sent(channel, key)))
        for channel in route.channels
    ]


def _due(route: Route, now: datetime, last: datetime | None) -> datetime:
    # Alertmanager's timing: a new group waits group_wait to gather company; a group that has just
    # sent waits out group_interval so that one busy group does not page every few seconds. Without
    # group_by each check is its own group, and its recovery should not wait behind its own alert.
    interval = timedelta(seconds=route.group_interval)
    if route.group_by and last is not None and now - last < interval:
        return last.astimezone(UTC) + interval
    return now + timedelta(seconds=route.group_wait)
