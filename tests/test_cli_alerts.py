"""``watchkeeper alerts``, ``outbox`` and ``silence add|list|remove``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli_run import run_cli
from watchkeeper.alerting.engine import AlertEngine
from watchkeeper.config.loader import load_config
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

CONFIG = """
alerting: {defaults: {after: 1}}
notifications:
  channels: {pager: ["json://127.0.0.1:9/hook"]}
checks:
  - {name: api, service: backend, http: {url: "http://127.0.0.1:9/"}}
  - {name: database, service: database, tcp: {host: 127.0.0.1, port: 9}}
"""


def firing_api(config: Path) -> None:
    """Store a failing result for api and run the alert engine over it, as serve would."""
    loaded = load_config(config)
    store = Store.open(loaded.store_url)
    try:
        engine = AlertEngine(store.engine, loaded.config)
        now = datetime.now(UTC)
        engine.process(now)
        store.insert_results(
            [Result("api", now, Status.CRITICAL, 3.0, "expected status == 200 (status = 503)")]
        )
        engine.process(now + timedelta(seconds=1))
        engine.dispatch(now + timedelta(seconds=1))
    finally:
        store.close()


async def test_alerts_and_outbox_show_what_fired_and_what_waits(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    assert "no alerts" in (await run_cli("alerts", "-c", config)).stdout
    firing_api(config)

    (alert,) = json.loads((await run_cli("alerts", "-c", config, "--json")).stdout)
    assert (alert["check"], alert["state"], alert["severity"]) == ("api", "firing", "critical")
    assert alert["dedup_key"].startswith("api@")
    table = (await run_cli("alerts", "-c", config)).stdout
    assert "api" in table and "firing" in table and "status = 503" in table

    (queued,) = json.loads((await run_cli("outbox", "-c", config, "--json")).stdout)
    assert queued["channel"] == "pager" and queued["title"] == "[CRITICAL] api is failing"
    assert queued["delivered_at"] is None


async def test_silence_add_list_remove(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    added = await run_cli(
        "silence",
        "add",
        "-c",
        config,
        "--match",
        "service=backend",
        "-m",
        "check=api*",
        "--for",
        "2h",
        "--comment",
        "deploying",
        "--by",
        "ana",
    )
    assert added.code == 0 and added.stdout.startswith("silence 1 until ")
    (listed,) = json.loads((await run_cli("silence", "list", "-c", config, "--json")).stdout)
    assert listed["matchers"] == {"service": ["backend"], "check": ["api*"]}
    assert (listed["created_by"], listed["comment"]) == ("ana", "deploying")
    ends = datetime.fromisoformat(listed["ends_at"]) - datetime.fromisoformat(listed["starts_at"])
    assert ends == timedelta(hours=2)

    assert (await run_cli("silence", "remove", "1", "-c", config)).code == 0
    assert json.loads((await run_cli("silence", "list", "-c", config, "--json")).stdout) == []
    gone = await run_cli("silence", "remove", "1", "-c", config)
    assert gone.code == 1 and "no active silence 1" in gone.stderr


async def test_silence_with_a_bad_matcher_is_refused_clearly(tmp_path: Path) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(CONFIG)
    ran = await run_cli("silence", "add", "-c", config, "--match", "team=ops")
    assert ran.code == 3
    assert "team" in ran.stderr and "Traceback" not in ran.stderr
