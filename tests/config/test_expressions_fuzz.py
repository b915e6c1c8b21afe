"""Fuzzing the condition language: no input crashes it, and what it decides matches a reference."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.config.expressions import EvaluationError, Expression, ExpressionError, parse

PATHS = ["status", "body", "json.status", "json.agents[0].status", "headers.content-type"]
PATHS += ['json["k"]', "tags[-1]", "ok", "x.y.z"]
LITERALS = ["200", "-5", "0", "1.5", "500ms", "1h30m", "14d", "512MB", "1GiB", "90%"]
LITERALS += ['"ok"', "'idle'", '"json"', '"^2\\d\\d$"', '"a|b"', "true", "false", "null"]
BROKEN = ["json.", "a[", "b]", "5x", "1.2.3", '"(unclosed"', '"unterminated', "#", "\\", "é", "AND"]
OPERATORS = ["==", "!=", "<", "<=", ">", ">=", "contains", "matches", "=", "=>", "!", "&&"]
CONNECTORS = ["and", "or", "and", "or", "and", "or", ")", "AND"]
KEYS = ["status", "body", "json", "agents", "headers", "content-type", "k", "tags", "ok", "x", "y"]

good_clauses = st.tuples(
    st.sampled_from(["", "", "not"]),
    st.sampled_from(PATHS),
    st.sampled_from(OPERATORS[:8]),
    st.sampled_from(LITERALS),
)
noisy_clauses = st.tuples(
    st.sampled_from(["", "not", "(", "((", ")"]),
    st.sampled_from(PATHS + LITERALS + BROKEN),
    st.sampled_from([*OPERATORS, ""]),
    st.sampled_from(PATHS + LITERALS + BROKEN),
)


@st.composite
def token_lists(draw: st.DrawFn) -> list[str]:
    """Return clause-shaped tokens, mostly well formed, so a good share reaches evaluation."""
    tokens: list[str] = []
    for noisy in draw(
        st.lists(st.sampled_from([False, False, False, True]), min_size=1, max_size=4)
    ):
        clause = draw(noisy_clauses if noisy else good_clauses)
        if tokens:
            tokens.append(draw(st.sampled_from(CONNECTORS)))
        tokens.extend(clause)
    return [token for token in tokens if token]


typical = st.sampled_from(
    [200, 503, -5, 0.5, 90, 1e9, True, None, "ok", "idle", "application/json"]
)
scalars = typical | st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=8,
)
shaped = st.fixed_dictionaries(
    {
        "status": scalars,
        "body": scalars,
        "ok": scalars,
        "tags": values,
        "headers": st.dictionaries(st.sampled_from(["Content-Type", "content-type"]), values),
        "json": st.fixed_dictionaries(
            {
                "status": scalars,
                "k": values,
                "agents": st.lists(st.fixed_dictionaries({"status": scalars}), max_size=2),
            }
        ),
    }
)
measurements = shaped | st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def parse_or_none(text: str) -> Expression | None:
    try:
        return parse(text)
    except ExpressionError as error:
        assert 0 <= error.position <= len(text)
        return None


@settings(max_examples=800)
@given(st.text(max_size=80))
def test_any_text_parses_or_raises_expression_error(text: str) -> None:
    parse_or_none(text)


@settings(max_examples=800)
@given(token_lists(), measurements)
def test_realistic_token_soup_parses_and_evaluates_or_fails_cleanly(
    tokens: list[str], data: dict[str, Any]
) -> None:
    expression = parse_or_none(" ".join(tokens))
    if expression is None:
        return
    try:
        result = expression.evaluate(data)
    except EvaluationError:
        return
    assert isinstance(result, bool)


# --- round trip against a reference ----------------------------------------------------------

KNOWN: dict[str, Any] = {
    "status": 200,
    "temperature": -3,
    "response_time": 90.0,
    "memory_bytes": 300_000_000,
    "disk_used_percent": 91,
    "body": "service healthy",
    "json": {"agents": [{"status": "idle"}, {"status": "busy"}]},
    "headers": {"Content-Type": "application/json"},
    "ok": True,
    "down": False,
}
ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
WORDS = ["service", "healthy", "service healthy", "idle", "busy", "json", "HEALTHY", "down", ""]
PATTERNS = ["^service", "healthy$", "ok|heal", "^idle$", "b.sy", "[0-9]+", "^$"]
TEXT_PATHS = {
    "body": "service healthy",
    "json.agents[0].status": "idle",
    "json.agents[-1].status": "busy",
    'json["agents"][1]["status"]': "busy",
    "headers.content-type": "application/json",
    "headers.CONTENT-TYPE": "application/json",
}


@dataclass(frozen=True)
class Node:
    """A generated condition: its text, how tightly it binds, and what it must decide."""

    text: str
    precedence: int  # 1 or, 2 and, 3 not, 4 comparison
    value: bool


def number_literal(draw: st.DrawFn) -> tuple[str, str, float]:
    """Return a path, a literal in that path's unit, and the literal's value."""
    kind = draw(st.sampled_from(["plain", "duration", "size", "percent"]))
    if kind == "plain":
        path, n = draw(st.sampled_from(["status", "temperature"])), draw(st.integers(-300, 300))
        return path, str(n), n
    if kind == "duration":
        minutes, seconds = draw(st.integers(0, 3)), draw(st.integers(0, 200))
        text = (f"{minutes}m" if minutes else "") + f"{seconds}s"
        return "response_time", text, minutes * 60.0 + seconds
    if kind == "size":
        unit, scale = draw(st.sampled_from([("MB", 1000**2), ("KiB", 1024), ("B", 1)]))
        n = draw(st.integers(0, 400))
        return "memory_bytes", f"{n}{unit}", n * scale
    n = draw(st.integers(0, 100))
    return "disk_used_percent", f"{n}%", n


def quoted(draw: st.DrawFn, text: str) -> str:
    return '"' + text + '"' if draw(st.booleans()) else "'" + text + "'"


@st.composite
def comparisons(draw: st.DrawFn) -> Node:
    kind = draw(st.sampled_from(["number", "text", "contains", "matches", "truth"]))
    if kind == "number":
        path, literal, number = number_literal(draw)
        op = draw(st.sampled_from(sorted(ORDERINGS)))
        return Node(f"{path} {op} {literal}", 4, ORDERINGS[op](KNOWN[path], number))
    if kind == "truth":
        path = draw(st.sampled_from(["ok", "down"]))
        return Node(path, 4, bool(KNOWN[path]))
    path = draw(st.sampled_from(sorted(TEXT_PATHS)))
    actual = TEXT_PATHS[path]
    if kind == "matches":
        pattern = draw(st.sampled_from(PATTERNS))
        return Node(f"{path} matches {quoted(draw, pattern)}", 4, bool(re.search(pattern, actual)))
    word = draw(st.sampled_from(WORDS))
    if kind == "contains":
        return Node(f"{path} contains {quoted(draw, word)}", 4, word in actual)
    op = draw(st.sampled_from(sorted(ORDERINGS)))
    return Node(f"{path} {op} {quoted(draw, word)}", 4, ORDERINGS[op](actual, word))


def wrap(draw: st.DrawFn, node: Node, needed: int) -> str:
    """Parenthesise a child that binds looser than its parent, and sometimes for no reason."""
    if node.precedence < needed or draw(st.integers(0, 5)) == 0:
        return f"({node.text})"
    return node.text


@st.composite
def combined(draw: st.DrawFn, children: st.SearchStrategy[Node]) -> Node:
    kind = draw(st.sampled_from(["not", "and", "or"]))
    if kind == "not":
        child = draw(children)
        return Node(f"not {wrap(draw, child, 3)}", 3, not child.value)
    left, right = draw(children), draw(children)
    precedence = 2 if kind == "and" else 1
    text = f"{wrap(draw, left, precedence)} {kind} {wrap(draw, right, precedence)}"
    value = (left.value and right.value) if kind == "and" else (left.value or right.value)
    return Node(text, precedence, value)


conditions = st.recursive(comparisons(), combined, max_leaves=8)


@settings(max_examples=300)
@given(conditions)
def test_generated_conditions_decide_like_the_reference(node: Node) -> None:
    assert parse(node.text).evaluate(KNOWN) is node.value, node.text
