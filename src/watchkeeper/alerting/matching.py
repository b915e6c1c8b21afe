"""Matchers: which alerts a route, silence, maintenance window or inhibit rule applies to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

from watchkeeper.alerting.model import Labels


def matches(matcher: Mapping[str, Sequence[str]], labels: Labels) -> bool:
    """Given a matcher and an alert's labels, return True if every key has a value matching one glob.

    Globs are case-sensitive fnmatch patterns; an empty matcher matches every alert, and a label
    without a value (a check with no service) matches no pattern.
    """
    return all(
        any(fnmatchcase(value, pattern) for value in labels.values(key) for pattern in patterns)
        for key, patterns in matcher.items()
    )
