"""A secret found by a secrets check reaches no output, no notification and no byte of the store:
``watchkeeper check`` prints its findings, a real ``watchkeeper serve`` alerts a real webhook, and
the store file is searched."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.alerting.receivers import WebhookReceiver
from tests.alerting.test_serve_alerting import Serve, outbox_rows, serve, until
from tests.cli_run import run_cli
from tests.probes.test_secrets import SECRETS

__all__ = ["serve"]  # the fixture, used by name


@pytest.fixture
async def hook() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as receiver:
        yield receiver


async def test_a_secret_found_reaches_no_notification_and_no_byte_of_the_store(
    tmp_path: Path, hook: WebhookReceiver, serve: Callable[[str], Serve]
) -> None:
    planted = {kind: SECRETS[kind] for kind in ("openai_key", "github_token", "aws_access_key")}
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text(
        "DEBUG=false\n"
        f"OPENAI_API_KEY={planted['openai_key']}\n"
        f"GITHUB_TOKEN={planted['github_token']}\n"
        f"AWS_ACCESS_KEY_ID={planted['aws_access_key']}\n"
    )
    server = serve(f"""
alerting: {{defaults: {{after: 1 failures}}}}
notifications:
  channels:
    hook: ["{hook.url()}"]
checks:
  - name: env-secrets
    secrets: {{paths: ["app/.env"]}}
    interval: 300ms
""")
    await server.start()
    await until(lambda: "[CRITICAL] env-secrets is failing" in hook.titles)
    db = tmp_path / "watchkeeper.db"
    await until(lambda: any(delivered for *_, delivered in outbox_rows(db)))
    await server.stop()

    [message] = [m for m in hook.received if m["title"] == "[CRITICAL] env-secrets is failing"]
    assert "count = 3" in message["message"]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("watchkeeper.db*"))
    assert b"app/.env:2:openai_key" in stored  # the finding is kept …
    for kind, secret in planted.items():
        # … the value is not, nor any 8 characters of it.
        pieces = {secret[i : i + 8] for i in range(0, len(secret) - 8, 4)}
        for piece in pieces:
            assert piece not in str(hook.received), kind
            assert piece.encode() not in stored, kind


@pytest.mark.parametrize("as_json", [False, True])
async def test_a_secret_found_is_not_in_the_output_of_watchkeeper_check(
    tmp_path: Path, as_json: bool
) -> None:
    secret = SECRETS["stripe_key"]
    (tmp_path / ".env").write_text(f"STRIPE_SECRET_KEY={secret}\n")
    config = tmp_path / "watchkeeper.yaml"
    config.write_text("checks:\n  - {name: env-secrets, secrets: {paths: ['.env']}}\n")

    ran = await run_cli("check", "-c", config, *(["--json"] if as_json else []), cwd=tmp_path)

    assert ran.code == 2, ran.stderr  # critical: a secret was found
    assert (".env:1:stripe_key" if as_json else "(count = 1)") in ran.stdout
    for i in range(0, len(secret) - 8, 4):
        assert secret[i : i + 8] not in ran.stdout + ran.stderr
