"""Backups over real HTTP: each configured backup's health, newest copy, copies kept and restore
tests, and one backup's catalogue, from a real ``watchkeeper serve`` on a SQLite store.

Before the server starts, five backups are prepared in its store with the real runner and
verifier, from a SQLite database beside the config: one healthy and restore-tested, one older
than its max_age, one whose last attempt failed, one whose restore test failed, one never taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.web.api_server import Api, running
from watchkeeper.auth.model import Role
from watchkeeper.backups.catalogue import Entry
from watchkeeper.backups.runner import prune, run_backup
from watchkeeper.backups.sources import BackupError
from watchkeeper.backups.verify import CHECKSUM_MISMATCH, VerificationResult, verify_backup
from watchkeeper.config.backups import Backup
from watchkeeper.config.secrets import Secrets
from watchkeeper.store.store import Store

SMOKE = ["SELECT count(*) FROM users"]
BACKUPS: list[dict[str, Any]] = [
    {
        "name": "fresh",
        "source": {"sqlite": "app.db"},
        "to": "copies",
        "max_age": "1d",
        "keep": {"daily": 1, "weekly": 0, "monthly": 0},
        "verify": {"smoke": SMOKE},
    },
    {"name": "stale", "source": {"sqlite": "app.db"}, "to": "copies", "max_age": "1h"},
    # Scheduled, so the server's worker takes it at start: it fails again, as its file is gone.
    {
        "name": "broken",
        "source": {"sqlite": "gone.db"},
        "to": "copies",
        "schedule": "daily at 02:00",
    },
    {"name": "corrupt", "source": {"sqlite": "app.db"}, "to": "copies", "verify": {"smoke": SMOKE}},
    {"name": "never", "source": {"files": ["docs"]}, "to": "copies"},
]
CONFIG = "backups: " + json.dumps(BACKUPS) + "\n"
"""The ``backups:`` section (JSON is YAML)."""
ROWS = 3000


@dataclass(frozen=True)
class Prepared:
    """What was put in the store before the server started, and when ("now" for the tests)."""

    now: datetime
    entries: dict[str, list[Entry]]
    """Each backup's catalogue entries, oldest first."""
    verified: dict[str, VerificationResult]


def configured(name: str) -> Backup:
    """Return the configured backup called ``name``."""
    return Backup.model_validate(next(b for b in BACKUPS if b["name"] == name))


def make_database(path: Path) -> None:
    """Write a SQLite database with a table of ROWS users at ``path``."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL)")
        db.executemany(
            "INSERT INTO users (email) VALUES (?)", [(f"user{i}@example.org",) for i in range(ROWS)]
        )


def prepare(directory: Path, store_url: str) -> Prepared:
    """Take, prune and verify the backups of BACKUPS in the store at ``store_url``, whose config
    lives in ``directory``; times are relative to the real now, which the server reads too."""
    now = datetime.now(UTC).replace(microsecond=0)
    make_database(directory / "app.db")
    make_database(directory / "gone.db")
    store = Store.open(store_url)
    try:
        return asyncio.run(_prepare(store, directory, now))
    finally:
        store.close()


async def _prepare(store: Store, directory: Path, now: datetime) -> Prepared:
    engine, secrets = store.engine, Secrets()

    async def take(name: str, hours_ago: float) -> Entry:
        moment = now - timedelta(hours=hours_ago)
        return await run_backup(engine, configured(name), directory, secrets, moment)

    fresh = [await take("fresh", 50), await take("fresh", 3)]
    # Keeping one day's copy, pruning deletes the older one, two days before.
    assert [e.id for e in prune(engine, configured("fresh"), UTC, now - timedelta(hours=2))] == [
        fresh[0].id
    ]
    passed = await verify_backup(
        engine, configured("fresh"), fresh[1], directory, secrets, now - timedelta(hours=2)
    )
    stale = [await take("stale", 3)]
    broken = [await take("broken", 5)]
    (directory / "gone.db").unlink()
    with pytest.raises(BackupError):
        await take("broken", 1)
    corrupt = [await take("corrupt", 4)]
    assert corrupt[0].path is not None
    data = bytearray(corrupt[0].path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    corrupt[0].path.write_bytes(bytes(data))
    failed = await verify_backup(
        engine, configured("corrupt"), corrupt[0], directory, secrets, now - timedelta(hours=3)
    )
    return Prepared(
        now,
        {"fresh": fresh, "stale": stale, "broken": broken, "corrupt": corrupt, "never": []},
        {"fresh": passed, "corrupt": failed},
    )


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server's config, store, source database and backup copies live."""
    return tmp_path_factory.mktemp("backups")


@pytest.fixture(scope="module")
def prepared(directory: Path) -> Prepared:
    """The backups in the store, prepared before the server starts."""
    return prepare(directory, f"sqlite:///{directory}/wk.db")


@pytest.fixture(scope="module")
def api(directory: Path, prepared: Prepared) -> Iterator[Api]:
    """A server whose config has the five backups, their history already in its store."""
    with running(directory, failing=False, extra=CONFIG) as server:
        yield server


def listed(api: Api) -> dict[str, dict[str, Any]]:
    """Return ``GET /api/backups`` as the viewer, by name (asserting a 200)."""
    resp = api.get("/api/backups", Role.VIEWER)
    assert resp.status_code == 200, resp.text
    return {b["name"]: b for b in resp.json()}


def detail(api: Api, name: str, **params: Any) -> dict[str, Any]:
    """Return ``GET /api/backups/{name}`` as the viewer (asserting a 200)."""
    resp = api.get(f"/api/backups/{name}", Role.VIEWER, params=params)
    assert resp.status_code == 200, resp.text
    found: dict[str, Any] = resp.json()
    return found


def moment(text: str) -> datetime:
    """Parse a datetime as the API writes it."""
    return datetime.fromisoformat(text)


def about(seconds: float, expected: float) -> bool:
    """Return True if an age read by the server is ``expected`` give or take the test's run time
    (the copy finished a moment after it started)."""
    return expected - 5 <= seconds <= expected + 600


def test_every_configured_backup_is_listed_in_config_order_with_its_health(api: Api) -> None:
    resp = api.get("/api/backups", Role.VIEWER)
    assert resp.status_code == 200, resp.text
    assert [(b["name"], b["health"]) for b in resp.json()] == [
        ("fresh", "ok"),
        ("stale", "stale"),
        ("broken", "failed"),
        ("corrupt", "failed"),
        ("never", "none"),
    ]


def test_a_healthy_backup_shows_its_newest_copy_kept_copies_and_passed_restore_test(
    api: Api, prepared: Prepared
) -> None:
    fresh = listed(api)["fresh"]
    newest = prepared.entries["fresh"][1]
    assert newest.path is not None
    assert fresh["source"] == "sqlite"
    assert (fresh["schedule"], fresh["next_run"], fresh["verify_schedule"]) == (None, None, None)
    assert fresh["max_age"] == 86400
    assert fresh["keep"] == {"hourly": 0, "daily": 1, "weekly": 0, "monthly": 0, "yearly": 0}
    assert fresh["newest"] == {
        "id": newest.id,
        "finished_at": fresh["newest"]["finished_at"],
        "size": newest.path.stat().st_size,
        "sha256": hashlib.sha256(newest.path.read_bytes()).hexdigest(),
        "path": str(newest.path),
    }
    assert moment(fresh["newest"]["finished_at"]) == newest.finished_at
    assert about(fresh["age_seconds"], 3 * 3600)
    # The copy taken two days before was pruned: only the newest is kept.
    assert (fresh["kept"], fresh["kept_bytes"]) == (1, newest.path.stat().st_size)
    assert fresh["last_attempt"]["state"] == "ok" and fresh["last_attempt"]["error"] is None
    verified = fresh["last_verification"]
    assert verified["outcome"] == "passed" and verified["detail"] is None
    assert moment(verified["at"]) == prepared.now - timedelta(hours=2)
    assert verified["catalogue_id"] == newest.id
    assert 0 < verified["restore_seconds"] < 60


def test_a_backup_older_than_its_max_age_is_stale(api: Api, prepared: Prepared) -> None:
    stale = listed(api)["stale"]
    assert stale["health"] == "stale"
    assert stale["max_age"] == 3600
    assert about(stale["age_seconds"], 3 * 3600)
    assert stale["newest"]["id"] == prepared.entries["stale"][0].id
    assert stale["last_verification"] is None


def test_a_backup_whose_last_attempt_failed_is_failed_and_keeps_its_older_copy(
    api: Api, prepared: Prepared
) -> None:
    broken = listed(api)["broken"]
    assert broken["health"] == "failed"
    assert broken["last_attempt"]["state"] == "failed"
    assert "SQLite database not found" in broken["last_attempt"]["error"]
    assert "gone.db" in broken["last_attempt"]["error"]
    assert broken["newest"]["id"] == prepared.entries["broken"][0].id
    assert about(broken["age_seconds"], 5 * 3600)
    assert broken["kept"] == 1


def test_a_scheduled_backup_names_its_next_run_in_the_configured_zone(api: Api) -> None:
    before = datetime.now(UTC)
    broken = listed(api)["broken"]
    assert broken["schedule"] == "daily at 02:00"
    next_run = moment(broken["next_run"])
    assert next_run.astimezone(UTC).time() == time(2, 0)
    assert before < next_run <= datetime.now(UTC) + timedelta(days=1)


def test_a_backup_whose_restore_test_failed_is_failed_with_the_reason(
    api: Api, prepared: Prepared
) -> None:
    corrupt = listed(api)["corrupt"]
    assert corrupt["health"] == "failed"
    assert corrupt["last_attempt"]["state"] == "ok"
    assert corrupt["last_verification"]["outcome"] == "failed"
    assert corrupt["last_verification"]["detail"] == CHECKSUM_MISMATCH
    assert corrupt["last_verification"]["restore_seconds"] is None
    assert corrupt["last_verification"]["id"] == prepared.verified["corrupt"].id


def test_a_backup_never_taken_has_health_none_and_no_figures(api: Api) -> None:
    never = listed(api)["never"]
    assert never["source"] == "files"
    assert never["health"] == "none"
    assert never["keep"] == {"hourly": 0, "daily": 7, "weekly": 4, "monthly": 12, "yearly": 0}
    assert never["max_age"] == 48 * 3600
    for empty in ("newest", "age_seconds", "last_attempt", "last_verification", "next_run"):
        assert never[empty] is None, empty
    assert (never["kept"], never["kept_bytes"]) == (0, 0)


def test_one_backup_has_its_catalogue_newest_first_with_pruned_copies_and_restore_tests(
    api: Api, prepared: Prepared
) -> None:
    fresh = detail(api, "fresh")
    older, newest = prepared.entries["fresh"]
    assert fresh["health"] == "ok" and fresh["kept"] == 1
    assert [e["id"] for e in fresh["entries"]] == [newest.id, older.id]
    latest, pruned = fresh["entries"]
    assert latest["state"] == "ok" and latest["pruned_at"] is None
    assert latest["kind"] == "sqlite" and latest["size"] == newest.size
    assert moment(pruned["pruned_at"]) == prepared.now - timedelta(hours=2)
    assert pruned["sha256"] == older.sha256 and pruned["path"] == str(older.path)
    assert [v["id"] for v in fresh["recent_verifications"]] == [prepared.verified["fresh"].id]

    broken = detail(api, "broken")
    assert broken["entries"][0]["state"] == "failed"
    assert broken["entries"][0]["size"] is None and broken["entries"][0]["sha256"] is None
    assert broken["entries"][-1]["id"] == prepared.entries["broken"][0].id
    assert detail(api, "never")["entries"] == []


def test_the_catalogue_is_cut_at_the_limit(api: Api, prepared: Prepared) -> None:
    entries = detail(api, "fresh", limit=1)["entries"]
    assert [e["id"] for e in entries] == [prepared.entries["fresh"][1].id]
    assert api.get("/api/backups/fresh", params={"limit": 0}).status_code == 422
    assert api.get("/api/backups/fresh", params={"limit": 100_000}).status_code == 422


def test_an_unknown_backup_is_not_found(api: Api) -> None:
    resp = api.get("/api/backups/no-such-backup", Role.VIEWER)
    assert resp.status_code == 404
    assert resp.json() == {"detail": "no backup 'no-such-backup' in the config"}


@pytest.mark.parametrize("path", ["/api/backups", "/api/backups/fresh"])
def test_backups_need_credentials(api: Api, path: str) -> None:
    resp = api.get(path, None)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"


def test_the_endpoints_are_documented_with_their_models(api: Api) -> None:
    schema = api.get("/api/openapi.json", None).json()
    listing = schema["paths"]["/api/backups"]["get"]
    assert listing["tags"] == ["backups"]
    assert "404" in schema["paths"]["/api/backups/{name}"]["get"]["responses"]
    health = schema["components"]["schemas"]["BackupHealth"]
    assert health["enum"] == ["ok", "stale", "failed", "none"]
    assert "recent_verifications" in schema["components"]["schemas"]["BackupDetail"]["properties"]
