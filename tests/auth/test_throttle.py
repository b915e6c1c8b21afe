"""Failed sign-ins are limited per user name and per client address within a window."""

from __future__ import annotations

import pytest

from watchkeeper.auth.throttle import LoginThrottle

WINDOW = 900.0


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock standing still until the test moves it."""
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    """Five failures per 15 minutes, on the test's clock."""
    return LoginThrottle(limit=5, window=WINDOW, clock=clock)


def test_five_failures_are_allowed_and_the_sixth_try_is_refused(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(4):
        throttle.failed("ana", "10.0.0.1")
        clock.now += 1
    assert throttle.retry_after("ana", "10.0.0.1") == 0
    throttle.failed("ana", "10.0.0.1")
    assert throttle.retry_after("ana", "10.0.0.1") == pytest.approx(WINDOW - 4)


def test_tries_are_allowed_again_once_the_window_has_passed(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(5):
        throttle.failed("ana", "10.0.0.1")
    clock.now += WINDOW - 1
    assert throttle.retry_after("ana", "10.0.0.1") == pytest.approx(1)
    clock.now += 1
    assert throttle.retry_after("ana", "10.0.0.1") == 0


def test_one_address_guessing_many_names_is_refused(throttle: LoginThrottle) -> None:
    for name in ("ana", "bob", "cat", "dan", "eve"):
        throttle.failed(name, "10.0.0.1")
    assert throttle.retry_after("fay", "10.0.0.1") > 0
    assert throttle.retry_after("fay", "10.0.0.2") == 0


def test_many_addresses_guessing_one_name_are_refused(throttle: LoginThrottle) -> None:
    for last in range(5):
        throttle.failed("ana", f"10.0.0.{last}")
    assert throttle.retry_after("ana", "10.0.0.99") > 0
    assert throttle.retry_after("bob", "10.0.0.99") == 0


def test_signing_in_forgets_the_names_failures_not_the_addresses(
    throttle: LoginThrottle,
) -> None:
    for _ in range(5):
        throttle.failed("ana", "10.0.0.1")
    throttle.succeeded("ana")
    assert throttle.retry_after("ana", "10.0.0.2") == 0
    assert throttle.retry_after("ana", "10.0.0.1") > 0


def test_attempts_counted_before_the_password_check_cap_parallel_guesses(
    throttle: LoginThrottle,
) -> None:
    # The sign-in page counts each attempt before the slow hash; a success takes its count back.
    for _ in range(5):
        assert throttle.retry_after("ana", "10.0.0.1") == 0
        throttle.failed("ana", "10.0.0.1")
    assert throttle.retry_after("ana", "10.0.0.1") > 0
    throttle.failed("bo", "10.0.0.3")
    throttle.succeeded("bo", "10.0.0.3")
    for _ in range(4):
        throttle.failed("cy", "10.0.0.3")
    assert throttle.retry_after("cy", "10.0.0.3") == 0


def test_a_spray_of_names_is_forgotten_once_the_window_has_passed(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for n in range(6000):
        throttle.failed(f"user{n}", f"10.{n // 256}.{n % 256}.1")
    clock.now += WINDOW
    throttle.failed("ana", "10.0.0.1")
    # Nothing public tells how much the throttle holds; its table of failures does.
    assert len(throttle._failures) == 2
