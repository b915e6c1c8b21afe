"""The condition language, as a user of ``expect:``/``warn:``/``critical:`` would read it."""

from __future__ import annotations

import time
from typing import Any

import pytest

from watchkeeper.config.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    EvaluationError,
    Expression,
    ExpressionError,
    parse,
    resolve,
)
from watchkeeper.config.schema import Config
from watchkeeper.engine.plan import plan_checks
from watchkeeper.results import Status

MEASUREMENTS: dict[str, Any] = {
    "status": 200,
    "response_time": 0.25,
    "cert_expires_in": 20 * 86400.0,
    "disk_used_percent": 91.5,
    "memory_bytes": 300_000_000,
    "exit_code": 0,
    "stdout": "all clean",
    "body": "service healthy",
    "temperature": -3,
    "ok": True,
    "down": False,
    "nothing": None,
    "empty": "",
    "tags": ["prod", "eu", 5],
    "headers": {"Content-Type": "application/json; charset=utf-8", "X-Request-Id": "abc"},
    "json": {
        "status": "healthy",
        "ok": True,
        "agents": [{"status": "idle"}, {"status": "busy"}],
        "weird key": {"x": 1},
        "counts": {"0": "zero"},
    },
    "hostname_matches": True,
    "state": Status.OK,
}


def holds(text: str, measurements: dict[str, Any] | None = None) -> bool:
    return parse(text).evaluate(MEASUREMENTS if measurements is None else measurements)


def parse_error(text: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    return info.value


def evaluation_error(text: str) -> str:
    with pytest.raises(EvaluationError) as info:
        holds(text)
    return str(info.value)


# --- the conditions the seeds write ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status == 200", True),
        ('json.status == "healthy"', True),
        ("response_time > 500ms", False),
        ("cert_expires_in > 14d", True),
        ("disk_used_percent > 90", True),
        ('headers.content-type contains "json"', True),
        ('body matches "ok|healthy"', True),
        ('json.agents[0].status == "idle" and not (memory_bytes > 512MB)', True),
        ('exit_code == 0 or stdout contains "clean"', True),
    ],
)
def test_conditions_from_the_seeds_decide_as_written(text: str, expected: bool) -> None:
    assert holds(text) is expected


# --- operators -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status == 200", True),
        ("status != 200", False),
        ("status < 300", True),
        ("status <= 200", True),
        ("status > 200", False),
        ("status >= 201", False),
        ('json.status < "zebra"', True),
        ('json.status >= "healthy"', True),
        ("response_time == 0.25", True),
        ("status == 200.0", True),
    ],
)
def test_comparison_operators_compare_numbers_and_text(text: str, expected: bool) -> None:
    assert holds(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('stdout contains "clean"', True),
        ('stdout contains "dirty"', False),
        ('tags contains "eu"', True),
        ("tags contains 5", True),
        ('tags contains "5"', False),
        ('headers contains "content-type"', True),
        ('headers contains "Server"', False),
        ('json contains "weird key"', True),
    ],
)
def test_contains_is_substring_membership_or_key(text: str, expected: bool) -> None:
    assert holds(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('body matches "^service"', True),
        ('body matches "^healthy"', False),
        (r'body matches "\bhealthy$"', True),
        ('status matches "^2\\d\\d$"', True),
        ('status matches "^5"', False),
        ('state matches "^ok$"', True),
    ],
)
def test_matches_searches_text_and_the_digits_of_numbers(text: str, expected: bool) -> None:
    assert holds(text) is expected


def test_matches_compiles_its_pattern_when_parsed() -> None:
    error = parse_error('body matches "(unclosed"')
    assert error.message.startswith("bad pattern")
    assert error.position == len("body matches ")


def test_matches_needs_a_quoted_pattern() -> None:
    error = parse_error("body matches stdout")
    assert error.message == "expected a quoted pattern after 'matches', got 'stdout'"


def test_a_bare_path_is_tested_for_truth() -> None:
    assert holds("ok") is True
    assert holds("hostname_matches") is True
    assert holds("json.ok") is True
    assert holds("down") is False
    assert holds("nothing") is False
    assert holds("empty") is False
    assert holds("not down") is True


def test_true_and_false_stand_alone_as_conditions() -> None:
    assert holds("true") is True
    assert holds("false or ok") is True


def test_a_lone_number_is_refused_as_a_condition() -> None:
    error = parse_error("200")
    assert "on its own is not a condition" in error.message
    assert error.position == 0


# --- precedence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # or < and: true or (false and false)
        ("ok or down and down", True),
        ("(ok or down) and down", False),
        # not binds tighter than and: (not ok) and down
        ("not ok and down", False),
        ("not (ok and down)", True),
        # not binds looser than comparison: not (status == 500)
        ("not status == 500", True),
        ("not not ok", True),
        ("down or down or ok", True),
        ("ok and ok and down", False),
    ],
)
def test_precedence_is_or_then_and_then_not_then_comparison(text: str, expected: bool) -> None:
    assert holds(text) is expected


def test_and_and_or_stop_at_the_first_deciding_side() -> None:
    assert holds("ok or missing == 1") is True
    assert holds("down and missing == 1") is False


# --- literals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("42", 42),
        ("-5", -5),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ('"double"', "double"),
        ("'single'", "single"),
        (r'"say \"hi\""', 'say "hi"'),
        (r"'it\'s'", "it's"),
        (r'"tab\there"', "tab\there"),
        (r'"back\\slash"', "back\\slash"),
        (r'"\d+"', "\\d+"),
        ("true", True),
        ("false", False),
        ("null", None),
        ("500ms", 0.5),
        ("2s", 2.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("14d", 14 * 86400.0),
        ("1w", 7 * 86400.0),
        ("1h30m", 5400.0),
        ("-5m", -300.0),
        ("512MB", 512_000_000),
        ("1GiB", 1024**3),
        ("10KB", 10_000),
        ("5B", 5),
        ("90%", 90),
        ("12.5%", 12.5),
    ],
)
def test_literals_read_units_into_seconds_bytes_and_plain_numbers(literal: str, value: Any) -> None:
    assert holds(f"x == {literal}", {"x": value}) is True
    assert resolve({"x": value}, "x") == value


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("5x", "bad duration '5x'"),
        ("3hours", "bad duration '3hours'"),
        ("5XB", "bad size '5XB'"),
        ("1.2.3", "bad number '1.2.3'"),
        ("5%%", "bad percentage '5%%'"),
    ],
)
def test_a_bad_unit_names_the_literal(literal: str, message: str) -> None:
    error = parse_error(f"x > {literal}")
    assert error.message.startswith(message)
    assert error.position == len("x > ")


def test_null_equals_only_null() -> None:
    assert holds("nothing == null") is True
    assert holds("status == null") is False
    assert holds("status != null") is True
    assert holds("empty == null") is False


# --- comparison semantics --------------------------------------------------------------------


def test_a_boolean_is_not_a_number() -> None:
    assert holds("true == 1") is False
    assert holds("ok != 1") is True
    assert holds("ok == true") is True
    assert "cannot compare true (boolean) with 1 (number)" in evaluation_error("ok > 1")


def test_equality_between_different_types_is_false_not_an_error() -> None:
    assert holds('status == "200"') is False
    assert holds('status != "200"') is True
    assert holds("tags == null") is False


def test_string_enums_compare_as_text() -> None:
    assert holds('state == "ok"') is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("body < 5", "cannot compare 'service healthy' (text) with 5 (number)"),
        ('status >= "abc"', "cannot compare 200 (number) with 'abc' (text)"),
        ("nothing > 1", "cannot compare null (null) with 1 (number)"),
        ("tags < 1", "cannot compare ['prod', 'eu', 5] (list) with 1 (number)"),
        ('status contains "2"', "'contains' needs text, a list or a mapping on its left"),
        ("stdout contains 5", "cannot look for 5 (number) in text"),
        ('tags matches "eu"', "'matches' needs text or a number on its left"),
        ('ok matches "true"', "'matches' needs text or a number on its left"),
    ],
)
def test_incomparable_types_are_an_evaluation_error(text: str, message: str) -> None:
    assert message in evaluation_error(text)


# --- paths -----------------------------------------------------------------------------------


def test_paths_index_lists_and_dicts() -> None:
    assert holds('json.agents[1].status == "busy"') is True
    assert holds('json.agents[-1].status == "busy"') is True
    assert holds('json["weird key"].x == 1') is True
    assert holds("json['weird key'][\"x\"] == 1") is True
    assert holds('json.counts[0] == "zero"') is True


def test_header_names_are_found_whatever_their_case() -> None:
    assert holds('headers.content-type contains "json"') is True
    assert holds('headers.CONTENT-TYPE contains "json"') is True
    assert holds('headers["x-request-id"] == "abc"') is True


def test_the_first_segment_must_match_exactly() -> None:
    assert evaluation_error("STATUS == 200") == "no measurement 'STATUS'"


def test_hyphens_belong_to_names_because_there_is_no_arithmetic() -> None:
    assert holds("a-b == 3", {"a-b": 3, "a": 5, "b": 2}) is True


@pytest.mark.parametrize(
    "text",
    [
        "missing == 1",
        "json.missing == 1",
        "json.agents[2].status == 1",
        "json.agents.status == 1",
        "status.code == 1",
        "json.status[0] == 1",
    ],
)
def test_a_missing_path_is_an_evaluation_error_naming_it(text: str) -> None:
    path = text.split(" ")[0]
    assert evaluation_error(text) == f"no measurement {path!r}"


def test_paths_are_listed_once_in_source_order_in_one_spelling() -> None:
    expression = parse(
        "json.agents[0].status == 'idle' and response_time < 1s "
        "or json.agents[0].status == 'busy' and json['weird key'].x == 1 "
        "and headers['Content-Type']"
    )
    assert expression.paths == (
        "json.agents[0].status",
        "response_time",
        'json["weird key"].x',
        "headers.Content-Type",
    )


def test_resolve_follows_a_path_into_the_measurements() -> None:
    assert resolve(MEASUREMENTS, "json.agents[0].status") == "idle"
    assert resolve(MEASUREMENTS, 'json["weird key"].x') == 1
    assert resolve(MEASUREMENTS, "headers.content-type").startswith("application/json")
    with pytest.raises(EvaluationError, match=r"no measurement 'json\.nope'"):
        resolve(MEASUREMENTS, "json.nope")
    with pytest.raises(EvaluationError, match="bad path"):
        resolve(MEASUREMENTS, "json..x")


def test_every_listed_path_resolves_back_to_the_value_it_names() -> None:
    expression = parse('json["weird key"].x == 1 and json["a \\"q\\" b"] == 2')
    data = {"json": {"weird key": {"x": 1}, 'a "q" b': 2}}
    assert [resolve(data, path) for path in expression.paths] == [1, 2]
    assert expression.evaluate(data) is True


# --- the Expression value --------------------------------------------------------------------


def test_an_expression_keeps_its_source_and_compares_by_it() -> None:
    first, second = parse("status == 200"), parse("status == 200")
    assert isinstance(first, Expression)
    assert first.source == "status == 200"
    assert first == second
    assert hash(first) == hash(second)
    assert first != parse("status == 201")


def test_evaluation_is_fast_enough_for_thousands_of_checks_a_second() -> None:
    expression = parse(
        'json.agents[0].status == "idle" and not (memory_bytes > 512MB) '
        'and body matches "ok|healthy"'
    )
    started = time.perf_counter()
    for _ in range(10_000):
        expression.evaluate(MEASUREMENTS)
    assert time.perf_counter() - started < 1.0


# --- errors for humans -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("", "empty condition", 0),
        ("   ", "empty condition", 0),
        ("status >", "expected a value after '>'", 8),
        ("status > and ok", "expected a value after '>', got 'and'", 9),
        ("ok and", "expected a condition after 'and'", 6),
        ("not", "expected a condition after 'not'", 3),
        ("== 5", "expected a condition, got '=='", 0),
        ('json.status == "healthy', "unterminated string", 15),
        ("status => 200", "unknown operator '=>'; did you mean '>='?", 7),
        ("status =< 200", "unknown operator '=<'; did you mean '<='?", 7),
        ("status === 200", "unknown operator '==='; did you mean '=='?", 7),
        ("status <> 200", "unknown operator '<>'; did you mean '!='?", 7),
        ("ok && down", "unknown operator '&&'; did you mean 'and'?", 3),
        ("status = 200", "'=' is not an operator; use '=='", 7),
        ("!ok", "'!' is not an operator; use 'not' or '!='", 0),
        ("status == 200 foo", "unexpected 'foo' after the end of the condition", 14),
        ("ok AND down", "expected an operator such as '==' or 'contains' after 'ok', got 'AND'", 3),
        (
            "status 200",
            "expected an operator such as '==' or 'contains' after 'status', got '200'",
            7,
        ),
        ("(ok", "expected ')' to close the '(' opened at column 1", 3),
        ("ok)", "unmatched ')'", 2),
        ("1 < status < 5", "comparisons cannot be chained; join them with 'and'", 11),
        ("status == #", "unexpected character '#'", 10),
        ("json.", "expected a name after '.'", 5),
        ("json[x]", "expected a number or a quoted key after '['", 5),
        ("json[0", "expected ']'", 6),
    ],
)
def test_errors_say_what_is_wrong_and_where(text: str, message: str, position: int) -> None:
    error = parse_error(text)
    assert error.message.startswith(message)
    assert error.position == position
    assert str(error) == f"{error.message} (at column {position + 1})"


def test_uppercase_keywords_get_a_hint() -> None:
    assert "(keywords are lowercase: 'and')" in parse_error("ok AND down").message
    assert "(keywords are lowercase: 'or')" in parse_error("status == 1 OR ok").message


def test_an_expression_error_is_a_value_error_for_config_validation() -> None:
    assert isinstance(parse_error("status ="), ValueError)


def test_deep_nesting_is_refused_before_it_can_exhaust_the_stack() -> None:
    assert holds("(" * MAX_DEPTH + "ok" + ")" * MAX_DEPTH) is True
    too_deep = "(" * (MAX_DEPTH + 1) + "ok" + ")" * (MAX_DEPTH + 1)
    error = parse_error(too_deep)
    assert "nested too deeply" in error.message
    assert error.position == MAX_DEPTH
    assert "nested too deeply" in parse_error("not " * (MAX_DEPTH + 1) + "ok").message


def test_long_text_is_refused() -> None:
    error = parse_error("ok or " * 400 + "ok")
    assert error.message == f"condition is too long (2402 characters; the limit is {MAX_LENGTH})"
    assert holds(" or ".join(["down"] * 200 + ["ok"])) is True


def test_checks_with_the_same_condition_share_one_compiled_expression() -> None:
    check = {"system": {}, "warn": ["disk_used_percent > 70"]}
    config = Config.model_validate({"checks": [{"name": "a", **check}, {"name": "b", **check}]})
    a, b = plan_checks(config)
    assert a.rules.warn[0] is b.rules.warn[0] is parse("disk_used_percent > 70")
