"""Tokens of the condition language, and the tokenizer that turns a condition's text into them."""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, NamedTuple

from watchkeeper.config.units import UnitError, parse_duration, parse_size

Segment = str | int


class ExpressionError(ValueError):
    """A condition that cannot be parsed."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at column {position + 1})")
        self.message = message
        self.position = position


class Kind(Enum):
    """What a token is."""

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


class Token(NamedTuple):
    """One token of a condition, with where it starts."""

    kind: Kind
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
    "and": Kind.AND,
    "or": Kind.OR,
    "not": Kind.NOT,
    "contains": Kind.OPERATOR,
    "matches": Kind.OPERATOR,
}
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
KEYWORDS = frozenset(_WORDS) | frozenset(_CONSTANTS)
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


def tokenize(text: str) -> list[Token]:
    """Given a condition's text, return its tokens, ending with an END token; raise ExpressionError."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c in "()":
            tokens.append(Token(Kind.LPAREN if c == "(" else Kind.RPAREN, c, start))
            i += 1
        elif c in "\"'":
            value, i = _scan_string(text, start)
            tokens.append(Token(Kind.STRING, text[start:i], start, value))
        elif m := _NUMBER_WORD.match(text, i):
            i = m.end()
            tokens.append(Token(Kind.VALUE, m.group(), start, _number(m.group(), start)))
        elif m := _IDENT.match(text, i):
            word = m.group()
            if word in _WORDS:
                i = m.end()
                tokens.append(Token(_WORDS[word], word, start))
            elif word in _CONSTANTS:
                i = m.end()
                tokens.append(Token(Kind.VALUE, word, start, _CONSTANTS[word]))
            else:
                segments, i = scan_path(text, start)
                tokens.append(Token(Kind.PATH, text[start:i], start, segments))
        elif m := _OPERATOR_CHARS.match(text, i):
            i = m.end()
            tokens.append(Token(Kind.OPERATOR, _operator(m.group(), start), start))
        else:
            raise ExpressionError(f"unexpected character {c!r}", start)
    tokens.append(Token(Kind.END, "", len(text)))
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


def scan_path(text: str, start: int) -> tuple[tuple[Segment, ...], int]:
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


def path_name(segments: tuple[Segment, ...]) -> str:
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
