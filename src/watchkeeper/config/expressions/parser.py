"""The recursive-descent parser that compiles a condition's tokens into closures."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from watchkeeper.config.expressions.tokens import (
    KEYWORDS,
    ExpressionError,
    Kind,
    Segment,
    Token,
    path_name,
    tokenize,
)
from watchkeeper.config.expressions.values import Check, Getter, compare, matches, walk

MAX_LENGTH = 2000
MAX_DEPTH = 50
CACHE_SIZE = 4096
"""Distinct condition texts kept compiled; a text parsed again after eviction is only slower."""


@dataclass(frozen=True)
class Expression:
    """A parsed condition and the measurement paths it reads."""

    source: str
    paths: tuple[str, ...]
    _check: Check = field(repr=False, compare=False)

    def evaluate(self, measurements: Mapping[str, Any]) -> bool:
        """Given a probe's measurements, return whether the condition holds."""
        return self._check(measurements)


def parse(text: str) -> Expression:
    """Given a condition such as ``status == 200``, return it compiled; raise ExpressionError."""
    return _parse_cached(text)


# Expressions are immutable, and thousands of checks share a few condition texts: validating the
# config and planning the checks then share one compiled Expression per text.
@lru_cache(maxsize=CACHE_SIZE)
def _parse_cached(text: str) -> Expression:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"condition is too long ({len(text)} characters; the limit is {MAX_LENGTH})", MAX_LENGTH
        )
    parser = _Parser(text)
    check = parser.parse()
    return Expression(text, tuple(parser.paths), check)


class _Parser:
    """Recursive descent, loosest first: or, and, not and parentheses, comparison."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.depth = 0
        self.paths: dict[str, None] = {}  # an ordered set

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Check:
        if self.peek().kind is Kind.END:
            raise ExpressionError("empty condition", 0)
        check = self.parse_or(None)
        token = self.peek()
        if token.kind is Kind.RPAREN:
            raise ExpressionError("unmatched ')'", token.start)
        if token.kind is not Kind.END:
            raise ExpressionError(
                f"unexpected {token.text!r} after the end of the condition{_hint(token)}",
                token.start,
            )
        return check

    def parse_or(self, after: Token | None) -> Check:
        checks = [self.parse_and(after)]
        while self.peek().kind is Kind.OR:
            checks.append(self.parse_and(self.advance()))
        return checks[0] if len(checks) == 1 else _any(tuple(checks))

    def parse_and(self, after: Token | None) -> Check:
        checks = [self.parse_not(after)]
        while self.peek().kind is Kind.AND:
            checks.append(self.parse_not(self.advance()))
        return checks[0] if len(checks) == 1 else _all(tuple(checks))

    def parse_not(self, after: Token | None) -> Check:
        token = self.peek()
        if token.kind is Kind.NOT:
            self.enter(self.advance())
            inner = self.parse_not(token)
            self.depth -= 1
            return lambda m: not inner(m)
        if token.kind is Kind.LPAREN:
            self.enter(self.advance())
            inner = self.parse_or(token)
            close = self.peek()
            if close.kind is not Kind.RPAREN:
                raise ExpressionError(
                    f"expected ')' to close the '(' opened at column {token.start + 1}"
                    f"{_got(close)}",
                    close.start,
                )
            self.advance()
            self.depth -= 1
            return inner
        return self.parse_comparison(after)

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"condition is nested too deeply (more than {MAX_DEPTH} levels of '(' or 'not')",
                token.start,
            )

    def parse_comparison(self, after: Token | None) -> Check:
        left, left_token = self.parse_operand("a condition", after)
        op = self.peek()
        if op.kind is not Kind.OPERATOR:
            if op.kind in (Kind.VALUE, Kind.STRING, Kind.PATH, Kind.LPAREN):
                raise ExpressionError(
                    f"expected an operator such as '==' or 'contains' after {left_token.text!r}"
                    f"{_got(op)}",
                    op.start,
                )
            return _truth(left, left_token)
        self.advance()
        if op.text == "matches":
            check = self.parse_pattern(left)
        else:
            right, _ = self.parse_operand("a value", op)
            check = compare(op.text, left, right)
        if self.peek().kind is Kind.OPERATOR:
            raise ExpressionError(
                "comparisons cannot be chained; join them with 'and', e.g. 'a > 1 and a < 5'",
                self.peek().start,
            )
        return check

    def parse_pattern(self, left: Getter) -> Check:
        token = self.peek()
        if token.kind is not Kind.STRING:
            raise ExpressionError(
                f"expected a quoted pattern after 'matches'{_got(token)}", token.start
            )
        self.advance()
        try:
            pattern = re.compile(token.value)
        except (re.error, RecursionError, OverflowError) as exc:
            raise ExpressionError(f"bad pattern {token.text}: {exc}", token.start) from None
        return lambda m: matches(pattern, left(m))

    def parse_operand(self, what: str, after: Token | None) -> tuple[Getter, Token]:
        token = self.peek()
        if token.kind is Kind.PATH:
            self.advance()
            segments: tuple[Segment, ...] = token.value
            name = path_name(segments)
            self.paths[name] = None
            return (lambda m: walk(m, segments, name)), token
        if token.kind in (Kind.VALUE, Kind.STRING):
            self.advance()
            value = token.value
            return (lambda m: value), token
        where = f" after {after.text!r}" if after else ""
        raise ExpressionError(f"expected {what}{where}{_got(token)}", token.start)


def _got(token: Token) -> str:
    return "" if token.kind is Kind.END else f", got {token.text!r}{_hint(token)}"


def _hint(token: Token) -> str:
    lower = token.text.lower()
    if token.kind is Kind.PATH and lower in KEYWORDS:
        return f" (keywords are lowercase: {lower!r})"
    return ""


def _truth(get: Getter, token: Token) -> Check:
    if token.kind is Kind.PATH:
        return lambda m: bool(get(m))
    if isinstance(token.value, bool):
        constant: bool = token.value
        return lambda m: constant
    raise ExpressionError(
        f"{token.text!r} on its own is not a condition; compare it with something, "
        "e.g. 'status == 200'",
        token.start,
    )


def _any(checks: tuple[Check, ...]) -> Check:
    return lambda m: any(check(m) for check in checks)


def _all(checks: tuple[Check, ...]) -> Check:
    return lambda m: all(check(m) for check in checks)
