"""Fingerprints group one error's occurrences and tell different errors apart; tokens never stay."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.analytics.fingerprints import fingerprint, normalise, redact_tokens


@pytest.mark.parametrize(
    ("message", "normalised"),
    [
        (
            "2026-01-02 03:04:05,123 ERROR [worker-3] GET /api/users/42/orders failed after 1.5s",
            "<ts> ERROR [worker-<n>] GET /api/users/<n>/orders failed after <n>s",
        ),
        (
            "ERROR job 123e4567-e89b-12d3-a456-426614174000 lost at 10:11:12",
            "ERROR job <uuid> lost at <ts>",
        ),
        ("ERROR can't open 'invoice-77.pdf' for \"Jane\"", "ERROR can't open <str> for <str>"),
        (
            "FATAL segfault at 0x7ffe12ab in commit 9f8e7d6c5b4a",
            "FATAL segfault at <hex> in commit <hex>",
        ),
        ("ERROR upstream 10.0.0.5:5432 refused", "ERROR upstream <ip>:<n> refused"),
        ("CRITICAL key sk-proj-AbCdEfGh12IjKlMnOp rejected", "CRITICAL key <redacted> rejected"),
        # Names keep their digits: sha256 is a thing, not an instance of one.
        ("ERROR sha256 mismatch in utf8 text", "ERROR sha256 mismatch in utf8 text"),
        (
            "ConnectionRefusedError: [Errno 111]  refused\n",
            "ConnectionRefusedError: [Errno <n>] refused",
        ),
    ],
)
def test_normalise_replaces_what_varies_between_occurrences(message: str, normalised: str) -> None:
    assert normalise(message) == normalised


def test_the_same_error_with_other_values_has_one_fingerprint() -> None:
    first = fingerprint("ERROR order 17 failed for 'alice' (request 0a1b2c3d4e5f)")
    second = fingerprint("ERROR order 90211 failed for 'bob' (request 9f9e9d9c9b9a)")

    assert first == second
    assert re.fullmatch(r"[0-9a-f]{12}", first.key)
    assert first.text == "ERROR order <n> failed for <str> (request <hex>)"


def test_different_errors_have_different_fingerprints() -> None:
    assert fingerprint("ERROR disk full").key != fingerprint("ERROR disk missing").key


def test_fingerprints_are_stable_across_runs() -> None:
    # The key is stored and compared across processes and versions: a hash, not Python's hash().
    assert fingerprint("ERROR disk full on /dev/sda1").key == "525e0bf86ce8"


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("token=ghp_0123456789abcdefghijABCDEF", "token=<redacted>"),
        ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0", "Bearer <redacted>.<redacted>"),
        ("pass correcthorsebatterystaple", "pass <redacted>"),
        ("short abc123 stays", "short abc123 stays"),
        (
            "ModuleNotFoundError and JSONDecodeError stay",
            "ModuleNotFoundError and JSONDecodeError stay",
        ),
    ],
)
def test_redaction_hides_long_tokens(text: str, redacted: str) -> None:
    assert redact_tokens(text) == redacted


messages = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@given(messages)
def test_normalising_is_idempotent(message: str) -> None:
    once = normalise(message)

    assert normalise(once) == once
    assert fingerprint(once) == fingerprint(message)


@given(messages)
def test_no_long_token_survives_but_camel_case_words(message: str) -> None:
    for run in re.findall(r"[A-Za-z0-9_-]{20,}", redact_tokens(message)):
        assert re.fullmatch(r"(?:[A-Z]+[a-z]{2,})+", run)


template_words = st.sampled_from(
    ["failed", "user", "/api/items/", "order", "retry", "worker-", "at"]
)


@given(
    st.lists(template_words, min_size=1, max_size=6),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=6, max_size=6),
    st.lists(st.integers(min_value=0, max_value=10**9), min_size=6, max_size=6),
)
def test_numbers_never_split_a_fingerprint(
    words: list[str], first: list[int], second: list[int]
) -> None:
    def message(numbers: list[int]) -> str:
        return "ERROR " + " ".join(
            f"{word}{n}" if word.endswith(("/", "-")) else f"{word} {n}"
            for word, n in zip(words, numbers, strict=False)
        )

    assert fingerprint(message(first)) == fingerprint(message(second))


@given(st.text(string.ascii_letters + string.digits + "_-", min_size=20, max_size=80))
def test_a_long_token_is_never_kept_in_a_fingerprint(token: str) -> None:
    text = fingerprint(f"ERROR auth failed with {token}").text

    assert token not in text or re.fullmatch(r"(?:[A-Z]+[a-z]{2,})+", token)


def test_short_passwords_are_masked_and_do_not_split_a_kind() -> None:
    first = fingerprint("ERROR auth failed for redis://:hunter2@cache:6379 password=abc123")
    second = fingerprint("ERROR auth failed for redis://:s3cret@cache:6379 password=letmein9")

    assert first == second
    assert first.text == ("ERROR auth failed for redis://:<redacted>@cache:<n> password=<redacted>")
    assert redact_tokens("DSN postgres://app:hunter2@db/x") == "DSN postgres://app:<redacted>@db/x"
