"""An incident end to end: the demo target fails, an alert fires, a P1 opens by itself, escalation
reaches a real receiver, a person acknowledges and resolves it, and the post-mortem is written."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.alerting.receivers import WebhookReceiver
from tests.alerting.test_serve_alerting import Serve, until
from tests.cli_run import run_cli
from watchkeeper.demo.target import create_target


@pytest.fixture
async def demo_target(tmp_path: Path) -> AsyncIterator[str]:
    """The bundled demo target on a loopback port; yields its base URL."""
    runner = web.AppRunner(create_target(tmp_path / "target"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as receiver:
        yield receiver


def config_text(target: str, hook: WebhookReceiver) -> str:
    return f"""
store: wk.db
defaults: {{interval: 300ms, timeout: 2s}}
alerting: {{defaults: {{after: 1 failure}}}}
notifications:
  channels:
    oncall: ["json://127.0.0.1:{hook.port}/oncall"]
    tech-lead: ["json://127.0.0.1:{hook.port}/tech-lead"]
  routes:
    - {{match: {{check: api-health}}, channels: [oncall]}}
incidents:
  escalation:
    - {{level: 1, notify: oncall}}
    - {{level: 2, after: 3s, notify: tech-lead}}
  open_when:
    - {{match: {{severity: critical, tag: user-facing}}, severity: P1}}
checks:
  - name: api-health
    service: backend
    tags: [user-facing]
    http: {{url: "{target}/api/health"}}
    expect: ['status == 200', 'json.status == "healthy"']
"""


def incident_titles(hook: WebhookReceiver) -> list[str]:
    return [t for t in hook.titles if "Incident #1" in t]


async def test_failing_demo_target_opens_escalates_and_closes_a_p1_incident(
    tmp_path: Path, demo_target: str, hook: WebhookReceiver
) -> None:
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(config_text(demo_target, hook))
    serve = Serve(config)
    await serve.start()
    try:
        async with aiohttp.ClientSession() as http:
            await http.post(f"{demo_target}/_demo/fail/health")
        await until(lambda: len(incident_titles(hook)) >= 1)
        assert "[P1]" in incident_titles(hook)[0]
        await until(lambda: len(incident_titles(hook)) >= 2)  # level 2, 3 s after opening

        shown = await run_cli("incident", "show", "1", "--json", "-c", config)
        assert shown.code == 0, shown.stderr
        incident = json.loads(shown.stdout)
        assert incident["severity"] == "P1"
        assert incident["state"] == "open"
        assert incident["level"] == 2
        assert any(a["check"] == "api-health" for a in incident["alerts"])
        notified = [e for e in incident["timeline"] if e["kind"] == "notified"]
        assert [e["data"]["channel"] for e in notified] == ["oncall", "tech-lead"]

        for command in (("ack", "1"), ("resolve", "1", "--note", "restarted the database")):
            ran = await run_cli("incident", *command, "--by", "ana", "-c", config)
            assert ran.code == 0, ran.stderr
        refused = await run_cli("incident", "close", "1", "--by", "ana", "-c", config)
        assert refused.code == 1
        assert "postmortem" in refused.stderr
        written = await run_cli("incident", "postmortem", "1", "--by", "ana", "-c", config)
        assert written.code == 0, written.stderr
        closed = await run_cli("incident", "close", "1", "--by", "ana", "-c", config)
        assert closed.code == 0, closed.stderr
    finally:
        await serve.stop()

    documents = list((tmp_path / "postmortems").glob("INC-0001-*.md"))
    assert len(documents) == 1
    text = documents[0].read_text()
    assert "## Timeline" in text
    assert "## Root cause" in text
    assert "acknowledged" in text.lower()
    assert "restarted the database" in text
    assert "api-health" in text
    # Acknowledged before any third level existed: nothing escalated after the acknowledgement.
    assert len(incident_titles(hook)) == 2
