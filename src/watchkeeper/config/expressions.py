"""The condition language of checks: ``status == 200``, ``latency > 500ms``, ``body matches "ok"``.

A hand-written tokenizer and recursive-descent parser compile a condition once into closures, so
deciding it on a probe's measurements is a handful of function calls. Nothing is ever ``eval``'d.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any, NamedTuple

from watchkeeper.config.units import UnitError, parse_duration, parse_size

MAX_LENGTH = 2000
MAX_DEPTH = 50

Getter = Callable[[Mapping[str, Any]], Any]
Check = Callable[[Mapping[str, Any]], bool]
Segment = str | int


class ExpressionError(ValueError):
    """A condition that cannot be parsed."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at column {position + 1})")
        self.message = message
        self.position = position


class EvaluationError(Exception):
    """A parsed condition that cannot be decided on these measurements."""


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
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"condition is too long ({len(text)} characters; the limit is {MAX_LENGTH})", MAX_LENGTH
        )
    parser = _Parser(text)
    check = parser.parse()
    return Expression(text, tuple(parser.paths), check)


def resolve(measurements: Mapping[str, Any], path: str) -> Any:
    """Given measurements and a path such as ``json.agents[0].status``, return the value there."""
    return _walk(measurements, _parse_path(path), path)


# --- tokens ---------------------------------------------------------------------------------


class _Kind(Enum):
    VALUE = "value"  # numbers, durations, sizes, percentages, true, false, null
    STRING = "string"
    PATH = "path"
    OPERATOR = "operator"  # == != < <= > >= contains matches
    AND = "and"
    OR = "or"
    NOT = "not"
    LPAREN = "("
    RPAREN = ")"
    END = "end"


class _Token(NamedTuple):
    kind: _Kind
    text: str  # as written, for messages
    start: int
    value: Any = None  # VALUE: the value; STRING: the decoded text; PATH: a tuple of segments


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER_WORD = re.compile(r"-?[0-9][0-9A-Za-z_.%]*")
_INDEX = re.compile(r"-?[0-9]+")
_OPERATOR_CHARS = re.compile(r"[=!<>&|]+")
_INT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+\.[0-9]+")
_PERCENT = re.compile(r"([0-9]+(?:\.[0-9]+)?)%")
_WORDS = {
    "and": _Kind.AND,
    "or": _Kind.OR,
    "not": _Kind.NOT,
    "contains": _Kind.OPERATOR,
    "matches": _Kind.OPERATOR,
}
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
_OPERATORS = {"==", "!=", "<", "<=", ">", ">="}
_SUGGESTIONS = {
    "=>": ">=",
    "=<": "<=",
    "===": "==",
    "!==": "!=",
    "<>": "!=",
    "&&": "and",
    "&": "and",
    "||": "or",
    "|": "or",
}
# Unknown escapes keep their backslash, so a pattern like "\d+" works without doubling it.
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "()":
            tokens.append(_Token(_Kind.LPAREN if c == "(" else _Kind.RPAREN, c, start))
            i += 1
        elif c in "\"'":
            value, i = _scan_string(text, start)
            tokens.append(_Token(_Kind.STRING, text[start:i], start, value))
        elif m := _NUMBER_WORD.match(text, i):
            i = m.end()
            tokens.append(_Token(_Kind.VALUE, m.group(), start, _number(m.group(), start)))
        elif m := _IDENT.match(text, i):
            word = m.group()
            if word in _WORDS:
                i = m.end()
                tokens.append(_Token(_WORDS[word], word, start))
            elif word in _CONSTANTS:
                i = m.end()
                tokens.append(_Token(_Kind.VALUE, word, start, _CONSTANTS[word]))
            else:
                segments, i = _scan_path(text, start)
                tokens.append(_Token(_Kind.PATH, text[start:i], start, segments))
        elif m := _OPERATOR_CHARS.match(text, i):
            i = m.end()
            tokens.append(_Token(_Kind.OPERATOR, _operator(m.group(), start), start))
        else:
            raise ExpressionError(f"unexpected character {c!r}", start)
    tokens.append(_Token(_Kind.END, "", len(text)))
    return tokens


def _operator(op: str, start: int) -> str:
    if op in _OPERATORS:
        return op
    if op == "=":
        raise ExpressionError("'=' is not an operator; use '=='", start)
    if op == "!":
        raise ExpressionError("'!' is not an operator; use 'not' or '!='", start)
    hint = f"; did you mean {_SUGGESTIONS[op]!r}?" if op in _SUGGESTIONS else ""
    raise ExpressionError(f"unknown operator {op!r}{hint}", start)


def _number(word: str, start: int) -> Any:
    sign = -1 if word.startswith("-") else 1
    body = word.removeprefix("-")
    if _INT.fullmatch(body):
        return sign * int(body)
    if _DECIMAL.fullmatch(body):
        return sign * float(body)
    if m := _PERCENT.fullmatch(body):
        return sign * _number(m.group(1), start)
    if not any(c.isalpha() for c in body):
        kind = "percentage" if "%" in body else "number"
        raise ExpressionError(f"bad {kind} {word!r}", start)
    is_size = body[-1] in "bB"
    try:
        return sign * (parse_size(body) if is_size else parse_duration(body))
    except (UnitError, OverflowError):
        if is_size:
            raise ExpressionError(
                f"bad size {word!r}; expected e.g. 512MB or 1GiB", start
            ) from None
        raise ExpressionError(
            f"bad duration {word!r}; expected e.g. 500ms, 30s, 5m, 1h30m or 14d", start
        ) from None


def _scan_string(text: str, start: int) -> tuple[str, int]:
    quote, i = text[start], start + 1
    out: list[str] = []
    while i < len(text):
        c = text[i]
        if c == quote:
            return "".join(out), i + 1
        if c == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], c + text[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    raise ExpressionError("unterminated string", start)


def _scan_path(text: str, start: int) -> tuple[tuple[Segment, ...], int]:
    """Given text with a name at start, return the path's segments and where it ends."""
    first = _IDENT.match(text, start)
    if first is None:
        raise ExpressionError("a path starts with a name", start)
    segments: list[Segment] = [first.group()]
    i = first.end()
    while i < len(text) and text[i] in ".[":
        if text[i] == ".":
            name = _IDENT.match(text, i + 1)
            if name is None:
                raise ExpressionError("expected a name after '.'", i + 1)
            segments.append(name.group())
            i = name.end()
            continue
        i = _skip_spaces(text, i + 1)
        if text[i : i + 1] in ("'", '"'):
            key, i = _scan_string(text, i)
            segments.append(key)
        elif index := _INDEX.match(text, i):
            segments.append(int(index.group()))
            i = index.end()
        else:
            raise ExpressionError("expected a number or a quoted key after '['", i)
        i = _skip_spaces(text, i)
        if text[i : i + 1] != "]":
            raise ExpressionError("expected ']'", i)
        i += 1
    return tuple(segments), i


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _path_name(segments: tuple[Segment, ...]) -> str:
    """Given path segments, return the path written the one canonical way."""
    parts = [str(segments[0])]
    for seg in segments[1:]:
        if isinstance(seg, int):
            parts.append(f"[{seg}]")
        elif _IDENT.fullmatch(seg):
            parts.append(f".{seg}")
        else:
            parts.append('["' + seg.replace("\\", "\\\\").replace('"', '\\"') + '"]')
    return "".join(parts)


# --- parser ---------------------------------------------------------------------------------


class _Parser:
    """Recursive descent, loosest first: or, and, not and parentheses, comparison."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.paths: dict[str, None] = {}  # an ordered set

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Check:
        if self.peek().kind is _Kind.END:
            raise ExpressionError("empty condition", 0)
        check = self.parse_or(None)
        token = self.peek()
        if token.kind is _Kind.RPAREN:
            raise ExpressionError("unmatched ')'", token.start)
        if token.kind is not _Kind.END:
            raise ExpressionError(
                f"unexpected {token.text!r} after the end of the condition{_hint(token)}",
                token.start,
            )
        return check

    def parse_or(self, after: _Token | None) -> Check:
        checks = [self.parse_and(after)]
        while self.peek().kind is _Kind.OR:
            checks.append(self.parse_and(self.advance()))
        return checks[0] if len(checks) == 1 else _any(tuple(checks))

    def parse_and(self, after: _Token | None) -> Check:
        checks = [self.parse_not(after)]
        while self.peek().kind is _Kind.AND:
            checks.append(self.parse_not(self.advance()))
        return checks[0] if len(checks) == 1 else _all(tuple(checks))

    def parse_not(self, after: _Token | None) -> Check:
        token = self.peek()
        if token.kind is _Kind.NOT:
            self.enter(self.advance())
            inner = self.parse_not(token)
            self.depth -= 1
            return lambda m: not inner(m)
        if token.kind is _Kind.LPAREN:
            self.enter(self.advance())
            inner = self.parse_or(token)
            close = self.peek()
            if close.kind is not _Kind.RPAREN:
                raise ExpressionError(
                    f"expected ')' to close the '(' opened at column {token.start + 1}"
                    f"{_got(close)}",
                    close.start,
                )
            self.advance()
            self.depth -= 1
            return inner
        return self.parse_comparison(after)

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"condition is nested too deeply (more than {MAX_DEPTH} levels of '(' or 'not')",
                token.start,
            )

    def parse_comparison(self, after: _Token | None) -> Check:
        left, left_token = self.parse_operand("a condition", after)
        op = self.peek()
        if op.kind is not _Kind.OPERATOR:
            if op.kind in (_Kind.VALUE, _Kind.STRING, _Kind.PATH, _Kind.LPAREN):
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
            check = _compare(op.text, left, right)
        if self.peek().kind is _Kind.OPERATOR:
            raise ExpressionError(
                "comparisons cannot be chained; join them with 'and', e.g. 'a > 1 and a < 5'",
                self.peek().start,
            )
        return check

    def parse_pattern(self, left: Getter) -> Check:
        token = self.peek()
        if token.kind is not _Kind.STRING:
            raise ExpressionError(
                f"expected a quoted pattern after 'matches'{_got(token)}", token.start
            )
        self.advance()
        try:
            pattern = re.compile(token.value)
        except (re.error, RecursionError, OverflowError) as exc:
            raise ExpressionError(f"bad pattern {token.text}: {exc}", token.start) from None
        return lambda m: _matches(pattern, left(m))

    def parse_operand(self, what: str, after: _Token | None) -> tuple[Getter, _Token]:
        token = self.peek()
        if token.kind is _Kind.PATH:
            self.advance()
            segments: tuple[Segment, ...] = token.value
            name = _path_name(segments)
            self.paths[name] = None
            return (lambda m: _walk(m, segments, name)), token
        if token.kind in (_Kind.VALUE, _Kind.STRING):
            self.advance()
            value = token.value
            return (lambda m: value), token
        where = f" after {after.text!r}" if after else ""
        raise ExpressionError(f"expected {what}{where}{_got(token)}", token.start)


def _got(token: _Token) -> str:
    return "" if token.kind is _Kind.END else f", got {token.text!r}{_hint(token)}"


def _hint(token: _Token) -> str:
    lower = token.text.lower()
    if token.kind is _Kind.PATH and (lower in _WORDS or lower in _CONSTANTS):
        return f" (keywords are lowercase: {lower!r})"
    return ""


def _truth(get: Getter, token: _Token) -> Check:
    if token.kind is _Kind.PATH:
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


# --- evaluation -----------------------------------------------------------------------------

_MISSING: Any = object()
_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@lru_cache(maxsize=1024)
def _parse_path(path: str) -> tuple[Segment, ...]:
    try:
        segments, end = _scan_path(path, 0)
        if end != len(path):
            raise ExpressionError(f"unexpected {path[end]!r}", end)
    except ExpressionError as exc:
        raise EvaluationError(f"bad path {path!r}: {exc}") from None
    return segments


def _walk(measurements: Mapping[str, Any], segments: tuple[Segment, ...], name: str) -> Any:
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


def _compare(op: str, left: Getter, right: Getter) -> Check:
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


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    if isinstance(value, str) or _kind(value) == "number":
        return pattern.search(str(value)) is not None
    raise EvaluationError(f"'matches' needs text or a number on its left, not {_show(value)}")
