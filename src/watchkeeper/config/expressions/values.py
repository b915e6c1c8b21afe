"""Deciding a compiled condition: walking measurement paths and comparing the values found."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from watchkeeper.config.expressions.tokens import ExpressionError, Segment, scan_path

Getter = Callable[[Mapping[str, Any]], Any]
Check = Callable[[Mapping[str, Any]], bool]


class EvaluationError(Exception):
    """A parsed condition that cannot be decided on these measurements."""


_MISSING: Any = object()
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def resolve(measurements: Mapping[str, Any], path: str) -> Any:
    """Given measurements and a path such as ``json.agents[0].status``, return the value there."""
    return walk(measurements, _parse_path(path), path)


@lru_cache(maxsize=1024)
def _parse_path(path: str) -> tuple[Segment, ...]:
    try:
        segments, end = scan_path(path, 0)
        if end != len(path):
            raise ExpressionError(f"unexpected {path[end]!r}", end)
    except ExpressionError as exc:
        raise EvaluationError(f"bad path {path!r}: {exc}") from None
    return segments


def walk(measurements: Mapping[str, Any], segments: tuple[Segment, ...], name: str) -> Any:
    """Given measurements and a path's segments, return the value there; raise EvaluationError."""
    value = measurements.get(str(segments[0]), _MISSING)
    for seg in segments[1:]:
        if value is _MISSING:
            break
        value = _step(value, seg)
    if value is _MISSING:
        raise EvaluationError(f"no measurement {name!r}")
    return value


def _step(value: Any, seg: Segment) -> Any:
    if isinstance(value, Mapping):
        if isinstance(seg, int):
            found = value.get(seg, _MISSING)
            return value.get(str(seg), _MISSING) if found is _MISSING else found
        return _key(value, seg)
    if isinstance(value, list | tuple) and isinstance(seg, int):
        return value[seg] if -len(value) <= seg < len(value) else _MISSING
    return _MISSING


def _key(mapping: Mapping[Any, Any], key: str) -> Any:
    """Given a mapping and a key, return its value, exactly or else ignoring case (for headers)."""
    found = mapping.get(key, _MISSING)
    if found is _MISSING:
        folded = key.casefold()
        for k, v in mapping.items():
            if isinstance(k, str) and k.casefold() == folded:
                return v
    return found


def compare(op: str, left: Getter, right: Getter) -> Check:
    """Given a comparison operator and its operands, return the check it makes."""
    if op == "==":
        return lambda m: _equal(left(m), right(m))
    if op == "!=":
        return lambda m: not _equal(left(m), right(m))
    if op == "contains":
        return lambda m: _contains(left(m), right(m))
    order = _ORDERINGS[op]
    return lambda m: _ordered(order, left(m), right(m))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    if value is None:
        written = "null"
    elif isinstance(value, bool):
        written = "true" if value else "false"
    else:
        written = repr(str(value) if isinstance(value, str) else value)
    if len(written) > 60:
        written = written[:57] + "..."
    return f"{written} ({_kind(value)})"


def _equal(a: Any, b: Any) -> bool:
    return _kind(a) == _kind(b) and bool(a == b)


def _ordered(order: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
    kind = _kind(a)
    if kind == _kind(b) and kind in ("number", "text"):
        return bool(order(a, b))
    raise EvaluationError(f"cannot compare {_show(a)} with {_show(b)}")


def _contains(container: Any, item: Any) -> bool:
    if isinstance(container, list | tuple):
        return any(_equal(element, item) for element in container)
    if isinstance(container, str | Mapping):
        if not isinstance(item, str):
            raise EvaluationError(f"cannot look for {_show(item)} in {_kind(container)}")
        if isinstance(container, str):
            return item in container
        return _key(container, item) is not _MISSING
    raise EvaluationError(
        f"'contains' needs text, a list or a mapping on its left, not {_show(container)}"
    )


def matches(pattern: re.Pattern[str], value: Any) -> bool:
    """Given a pattern and a value, return whether the pattern is found in it."""
    if isinstance(value, str) or _kind(value) == "number":
        return pattern.search(str(value)) is not None
    raise EvaluationError(f"'matches' needs text or a number on its left, not {_show(value)}")
