"""Secrets drawn from the environment are replaced by *** wherever text is shown or kept."""

from __future__ import annotations

import logging

import pytest

from watchkeeper.config.secrets import RedactingFilter, Secrets


def test_redacts_every_occurrence_and_longest_first() -> None:
    secrets = Secrets(["hunter2hunter2", "hunter2"])
    assert secrets.redact("a hunter2hunter2 b hunter2") == "a *** b ***"


def test_short_values_are_not_redacted() -> None:
    assert Secrets(["on", "1"]).redact("on 1") == "on 1"


def test_url_passwords_are_redacted_even_when_not_from_the_environment() -> None:
    text = "connect postgresql://app:s3cr3t@db:5432/app failed"
    assert Secrets().redact(text) == "connect postgresql://app:***@db:5432/app failed"


def test_redact_value_walks_nested_data() -> None:
    secrets = Secrets(["tok-123456"])
    value = {"headers": {"authorization": "Bearer tok-123456"}, "list": ["x tok-123456"], "n": 3}
    assert secrets.redact_value(value) == {
        "headers": {"authorization": "Bearer ***"},
        "list": ["x ***"],
        "n": 3,
    }


def test_logging_filter_redacts_messages_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("watchkeeper.test.secrets")
    logger.addFilter(RedactingFilter(Secrets(["tok-123456"])))
    try:
        with caplog.at_level(logging.INFO, logger=logger.name):
            logger.info("calling with %s", "tok-123456")
            try:
                raise RuntimeError("bad token tok-123456")
            except RuntimeError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    assert "tok-123456" not in caplog.text
    assert "calling with ***" in caplog.text and "bad token ***" in caplog.text
