"""Users and API tokens in a real store: passwords, roles, revocation, expiry and rotation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from tests.auth.conftest import PASSWORD, T0, stored_bytes
from watchkeeper.auth import accounts
from watchkeeper.auth.accounts import AccountError
from watchkeeper.auth.model import Principal, Role, User, Via
from watchkeeper.auth.sessions import session_principal, start_session
from watchkeeper.store.tables import api_tokens, users

DAY = timedelta(days=1)


def test_roles_are_ordered_viewer_operator_admin() -> None:
    assert Role.ADMIN.allows(Role.OPERATOR) and Role.ADMIN.allows(Role.VIEWER)
    assert Role.OPERATOR.allows(Role.VIEWER) and Role.OPERATOR.allows(Role.OPERATOR)
    assert not Role.OPERATOR.allows(Role.ADMIN)
    assert not Role.VIEWER.allows(Role.OPERATOR)


def test_a_password_is_stored_only_as_an_argon2_hash(
    engine: Engine, db_path: Path, ana: User
) -> None:
    with engine.connect() as connection:
        (stored,) = connection.execute(select(users.c.password_hash)).scalars()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PASSWORD.encode() not in stored_bytes(db_path)


def test_the_right_password_signs_the_user_in(engine: Engine, ana: User) -> None:
    assert accounts.check_password(engine, "ana", PASSWORD) == ana


def test_a_wrong_password_or_an_unknown_user_signs_no_one_in(engine: Engine, ana: User) -> None:
    assert accounts.check_password(engine, "ana", "correct horse battery!") is None
    assert accounts.check_password(engine, "bob", PASSWORD) is None


def test_a_taken_name_is_refused(engine: Engine, ana: User) -> None:
    with pytest.raises(AccountError, match="already a user called 'ana'"):
        accounts.add_user(engine, "ana", Role.ADMIN, "another good password", T0)
    assert accounts.list_users(engine) == [ana]


@pytest.mark.parametrize("name", ["", "   ", "ana maria", "x" * 65])
def test_a_name_must_be_one_word_of_at_most_64_characters(engine: Engine, name: str) -> None:
    with pytest.raises(AccountError, match="1 to 64 characters"):
        accounts.add_user(engine, name, Role.VIEWER, PASSWORD, T0)
    assert accounts.count_users(engine) == 0


def test_a_weak_password_adds_no_user(engine: Engine) -> None:
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add_user(engine, "ana", Role.VIEWER, "short", T0)
    assert accounts.count_users(engine) == 0


def test_users_are_listed_by_name_and_counted(engine: Engine) -> None:
    for name in ("zoe", "ana", "max"):
        accounts.add_user(engine, name, Role.VIEWER, PASSWORD, T0)
    assert [u.name for u in accounts.list_users(engine)] == ["ana", "max", "zoe"]
    assert accounts.count_users(engine) == 3


def test_a_token_acts_as_its_user_with_the_users_role(engine: Engine, ana: User) -> None:
    text, token = accounts.create_token(engine, "ana", "ci", T0, expires_in=90 * DAY)
    assert text.startswith("wk_") and token.prefix == text[:10]
    assert (token.role, token.expires_at) == (Role.OPERATOR, T0 + 90 * DAY)
    assert accounts.token_principal(engine, text, T0) == Principal("ana", Role.OPERATOR, Via.TOKEN)


def test_a_token_can_be_narrower_than_its_user(engine: Engine, ana: User) -> None:
    text, _ = accounts.create_token(engine, "ana", "ro", T0, expires_in=None, role=Role.VIEWER)
    principal = accounts.token_principal(engine, text, T0)
    assert principal is not None and principal.role is Role.VIEWER


def test_a_token_cannot_be_wider_than_its_user(engine: Engine, ana: User) -> None:
    with pytest.raises(AccountError, match="cannot be admin"):
        accounts.create_token(engine, "ana", "root", T0, expires_in=None, role=Role.ADMIN)
    assert accounts.list_tokens(engine) == []


def test_a_token_for_an_unknown_user_is_refused(engine: Engine) -> None:
    with pytest.raises(AccountError, match="no user called 'bob'"):
        accounts.create_token(engine, "bob", "ci", T0, expires_in=None)


def test_the_token_itself_is_never_stored(engine: Engine, db_path: Path, ana: User) -> None:
    text, _ = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    accounts.token_principal(engine, text, T0)
    with engine.connect() as connection:
        (stored,) = connection.execute(select(api_tokens.c.token_hash)).scalars()
    assert stored != text and len(stored) == 64
    assert text.encode() not in stored_bytes(db_path)
    assert text[10:].encode() not in stored_bytes(db_path)


def test_unknown_and_malformed_tokens_act_as_no_one(engine: Engine, ana: User) -> None:
    text, _ = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    assert accounts.token_principal(engine, text[:-1], T0) is None
    assert accounts.token_principal(engine, text.removeprefix("wk_"), T0) is None
    assert accounts.token_principal(engine, "wk_", T0) is None
    assert accounts.token_principal(engine, "", T0) is None


def test_a_revoked_token_acts_as_no_one(engine: Engine, ana: User) -> None:
    text, token = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    assert accounts.revoke_token(engine, token.id, T0 + DAY)
    assert accounts.token_principal(engine, text, T0 + DAY) is None
    (listed,) = accounts.list_tokens(engine)
    assert listed.revoked_at == T0 + DAY and not listed.active(T0 + DAY)


def test_revoking_twice_or_an_unknown_token_says_so(engine: Engine, ana: User) -> None:
    _, token = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    assert accounts.revoke_token(engine, token.id, T0)
    assert not accounts.revoke_token(engine, token.id, T0 + DAY)
    assert not accounts.revoke_token(engine, token.id + 1, T0)
    (listed,) = accounts.list_tokens(engine)
    assert listed.revoked_at == T0


def test_an_expired_token_acts_as_no_one(engine: Engine, ana: User) -> None:
    text, _ = accounts.create_token(engine, "ana", "ci", T0, expires_in=DAY)
    assert accounts.token_principal(engine, text, T0 + DAY - timedelta(seconds=1)) is not None
    assert accounts.token_principal(engine, text, T0 + DAY) is None


def test_last_used_is_written_at_most_once_a_minute(engine: Engine, ana: User) -> None:
    text, _ = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    assert accounts.list_tokens(engine)[0].last_used_at is None
    accounts.token_principal(engine, text, T0)
    assert accounts.list_tokens(engine)[0].last_used_at == T0
    accounts.token_principal(engine, text, T0 + timedelta(seconds=30))
    assert accounts.list_tokens(engine)[0].last_used_at == T0
    accounts.token_principal(engine, text, T0 + timedelta(seconds=61))
    assert accounts.list_tokens(engine)[0].last_used_at == T0 + timedelta(seconds=61)


def test_tokens_are_listed_newest_first_revoked_ones_too(engine: Engine, ana: User) -> None:
    _, old = accounts.create_token(engine, "ana", "old", T0, expires_in=None)
    accounts.create_token(engine, "ana", "new", T0 + DAY, expires_in=None)
    accounts.revoke_token(engine, old.id, T0 + DAY)
    assert [(t.name, t.user) for t in accounts.list_tokens(engine)] == [
        ("new", "ana"),
        ("old", "ana"),
    ]


def test_removing_a_user_ends_their_sessions_and_tokens(engine: Engine, ana: User) -> None:
    bob = accounts.add_user(engine, "bob", Role.VIEWER, PASSWORD, T0)
    text, _ = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    cookie = start_session(engine, ana, T0, DAY)
    bobs_cookie = start_session(engine, bob, T0, DAY)

    assert accounts.remove_user(engine, "ana")

    assert accounts.token_principal(engine, text, T0) is None
    assert session_principal(engine, cookie, T0) is None
    assert accounts.check_password(engine, "ana", PASSWORD) is None
    assert accounts.list_tokens(engine) == []
    assert session_principal(engine, bobs_cookie, T0) is not None
    assert not accounts.remove_user(engine, "ana")


def test_a_token_is_due_for_rotation_after_90_days(engine: Engine, ana: User) -> None:
    _, token = accounts.create_token(engine, "ana", "ci", T0, expires_in=None)
    assert not token.rotation_due(T0 + 89 * DAY)
    assert token.rotation_due(T0 + 90 * DAY)


def test_a_token_is_due_for_rotation_within_14_days_of_expiry(engine: Engine, ana: User) -> None:
    _, token = accounts.create_token(engine, "ana", "ci", T0, expires_in=30 * DAY)
    assert not token.rotation_due(T0 + 15 * DAY)
    assert token.rotation_due(T0 + 16 * DAY)


def test_revoked_and_expired_tokens_are_not_due_for_rotation(engine: Engine, ana: User) -> None:
    accounts.create_token(engine, "ana", "expiring", T0, expires_in=30 * DAY)
    _, revoked = accounts.create_token(engine, "ana", "revoked", T0, expires_in=None)
    accounts.revoke_token(engine, revoked.id, T0 + DAY)
    listed = {t.name: t for t in accounts.list_tokens(engine)}
    assert not listed["expiring"].rotation_due(T0 + 31 * DAY)
    assert not listed["revoked"].rotation_due(T0 + 100 * DAY)


def test_accounts_work_the_same_on_postgresql(pg_engine: Engine) -> None:
    ana = accounts.add_user(pg_engine, "ana", Role.OPERATOR, PASSWORD, T0)
    with pytest.raises(AccountError, match="already a user"):
        accounts.add_user(pg_engine, "ana", Role.VIEWER, PASSWORD, T0)
    assert accounts.check_password(pg_engine, "ana", PASSWORD) == ana
    assert accounts.check_password(pg_engine, "ana", "not her password") is None

    text, token = accounts.create_token(pg_engine, "ana", "ci", T0, expires_in=DAY)
    assert accounts.token_principal(pg_engine, text, T0) == Principal(
        "ana", Role.OPERATOR, Via.TOKEN
    )
    assert accounts.list_tokens(pg_engine)[0].last_used_at == T0
    assert accounts.token_principal(pg_engine, text, T0 + DAY) is None
    assert accounts.revoke_token(pg_engine, token.id, T0)
    assert accounts.token_principal(pg_engine, text, T0) is None

    start_session(pg_engine, ana, T0, DAY)
    assert accounts.remove_user(pg_engine, "ana")
    with pg_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(api_tokens)) == 0
    assert accounts.count_users(pg_engine) == 0
