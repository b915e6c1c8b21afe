"""Password hashing and the rules a new password must meet."""

from __future__ import annotations

from watchkeeper.auth.passwords import MIN_LENGTH, hash_password, verify_password, weakness

PASSWORD = "correct horse battery"


def test_a_hash_is_salted_argon2id_without_the_password() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and second.startswith("$argon2id$")
    assert first != second
    assert PASSWORD not in first


def test_the_right_password_verifies_and_a_wrong_one_does_not() -> None:
    stored = hash_password(PASSWORD)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(stored, "")


def test_no_password_verifies_for_an_unknown_user() -> None:
    assert not verify_password(None, PASSWORD)
    # Not even the one the stand-in hash for unknown users was made from.
    assert not verify_password(None, "not a password of anyone's")


def test_a_damaged_hash_verifies_nothing() -> None:
    assert not verify_password("not a hash", PASSWORD)
    assert not verify_password(hash_password(PASSWORD)[:-8], PASSWORD)


def test_short_passwords_are_refused() -> None:
    assert weakness("x" * (MIN_LENGTH - 1)) == f"a password needs at least {MIN_LENGTH} characters"
    assert weakness("x" * MIN_LENGTH) is None


def test_passwords_with_white_space_at_either_end_are_refused() -> None:
    assert weakness(" " + PASSWORD) is not None
    assert weakness(PASSWORD + "\t") is not None
    assert weakness("correct horse battery staple") is None
