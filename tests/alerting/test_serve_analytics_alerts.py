"""The analyses alert like any check: a real ``watchkeeper serve`` whose SLO burns fast and whose
trend is flagged sends both through the outbox to a real webhook, with the figures that fired."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from tests.alerting.receivers import WebhookReceiver
from tests.alerting.test_serve_alerting import Serve, Target, hook, serve, target, until
from watchkeeper.results import Result, Status
from watchkeeper.store.store import Store

__all__ = ["hook", "serve", "target"]  # the fixtures, used by name


async def test_a_fast_burn_and_a_flagged_trend_reach_the_webhook(
    target: Target, hook: WebhookReceiver, serve: Callable[[str], Serve]
) -> None:
    server = serve(f"""
alerting: {{defaults: {{after: 1 failure}}}}
notifications:
  channels:
    hook: ["{hook.url()}"]
checks:
  - name: api
    http: {{url: "{target.url}"}}
    interval: 300ms
  - name: api-slo
    slo: {{check: api, objective: 99.9%}}
    interval: 1s
  - name: api-trend
    trend: {{check: api, period: week}}
    interval: 1s
""")
    # Last week's results, 100 ms each: this week's (1 s, planted just now) are ten times slower.
    store = Store.open(str(server.config.parent / "watchkeeper.db"))
    now = datetime.now(UTC)
    store.insert_results(
        [Result("api", now - timedelta(days=8, hours=h), Status.OK, 100.0) for h in range(24)]
        + [Result("api", now - timedelta(hours=h + 1), Status.OK, 1000.0) for h in range(24)]
    )
    store.close()
    await server.start()
    target.healthy = False

    # A slow burn may be seen first (a warning, escalated when the fast one follows): either way
    # a critical message about the SLO arrives.
    def burning() -> list[dict[str, str]]:
        return [m for m in hook.received if str(m["title"]).startswith("[CRITICAL] api-slo")]

    await until(lambda: bool(burning()))
    await until(lambda: "[WARNING] api-trend is failing" in hook.titles)
    assert "fast_burn" in burning()[0]["message"]
    trend = next(m for m in hook.received if m["title"] == "[WARNING] api-trend is failing")
    assert "flagged == true" in trend["message"]
    assert "Traceback" not in await server.stop()
