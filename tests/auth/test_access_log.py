"""The access log: record, read newest first, prune."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from tests.auth.conftest import T0
from watchkeeper.auth.access_log import Access, prune, recent, record

MINUTE = timedelta(minutes=1)


def entry(minutes: int, action: str = "silence.add", **changes: object) -> Access:
    """Return a logged request ``minutes`` after T0."""
    fields: dict[str, object] = {
        "at": T0 + minutes * MINUTE,
        "actor": "ana",
        "via": "session",
        "action": action,
        "method": "POST",
        "path": "/api/silences",
        "status": 201,
        "client": "127.0.0.1",
    }
    fields.update(changes)
    return Access(**fields)  # type: ignore[arg-type]


def test_entries_are_read_back_newest_first(engine: Engine) -> None:
    first, second = entry(0), entry(1, "token.revoke", actor=None, via="anonymous", status=401)
    record(engine, [first])
    record(engine, [second])
    assert recent(engine) == [second, first]


def test_recent_reads_since_a_moment_and_up_to_a_limit(engine: Engine) -> None:
    record(engine, [entry(n, f"action{n}") for n in range(5)])
    assert [e.action for e in recent(engine, since=T0 + 3 * MINUTE)] == ["action4", "action3"]
    assert [e.action for e in recent(engine, limit=2)] == ["action4", "action3"]


def test_recording_nothing_writes_nothing(engine: Engine) -> None:
    record(engine, [])
    assert recent(engine) == []


def test_prune_deletes_entries_older_than_a_moment(engine: Engine) -> None:
    record(engine, [entry(n, f"action{n}") for n in range(5)])
    assert prune(engine, T0 + 2 * MINUTE) == 2
    assert [e.action for e in recent(engine)] == ["action4", "action3", "action2"]


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest) -> Engine:
    """The engine of a fresh store on each backend."""
    name = "engine" if request.param == "sqlite" else "pg_engine"
    found: Engine = request.getfixturevalue(name)
    return found


def test_a_request_of_any_length_is_logged(any_engine: Engine) -> None:
    record(any_engine, [entry(0, method="M" * 40, path="/" + "p" * 1000), entry(1)])
    newest, odd = recent(any_engine)
    assert (odd.method, odd.path) == ("M" * 8, "/" + "p" * 499)
    assert newest == entry(1)
