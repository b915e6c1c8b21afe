"""``watchkeeper demo``: the target and Watchkeeper come up on loopback, and a broken part turns red."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp

from tests.cli_run import cli_env, run_cli
from tests.web.test_serve import free_port


async def get_json(session: aiohttp.ClientSession, url: str) -> tuple[int, object]:
    async with session.get(url) as resp:
        return resp.status, await resp.json(content_type=None)


async def latest_status(config: Path, check: str) -> str | None:
    ran = await run_cli("status", "-c", config, "--json")
    rows = {r["name"]: r for r in json.loads(ran.stdout)} if ran.code == 0 else {}
    status = rows.get(check, {}).get("status")
    return str(status) if status else None


async def test_demo_runs_and_shows_a_failing_target(tmp_path: Path) -> None:
    port, target_port = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "watchkeeper",
        "demo",
        "--port",
        str(port),
        "--target-port",
        str(target_port),
        "--dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=cli_env(),
    )
    config = tmp_path / "watchkeeper.yaml"
    target = f"http://127.0.0.1:{target_port}"
    try:
        async with aiohttp.ClientSession() as session:
            async with asyncio.timeout(20):
                while True:
                    try:
                        code, health = await get_json(
                            session, f"http://127.0.0.1:{port}/api/health"
                        )
                        break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.2)
            assert code == 200 and isinstance(health, dict) and health["checks"] == 16
            for path in ("/", "/admin", "/manifest.json", "/sw.js"):
                async with session.get(target + path) as resp:
                    assert resp.status == 200, path
            code, target_health = await get_json(session, f"{target}/api/health")
            assert code == 200 and isinstance(target_health, dict)
            assert target_health["status"] == "healthy"

            async with asyncio.timeout(30):
                while await latest_status(config, "api-health") != "ok":
                    await asyncio.sleep(0.5)
            await get_json(session, f"{target}/_demo/fail/health")
            async with asyncio.timeout(30):
                while await latest_status(config, "api-health") != "critical":
                    await asyncio.sleep(0.5)
            assert "ERROR" in (tmp_path / "target" / "app.log").read_text()

            async def inbox() -> str:
                async with session.get(f"{target}/_demo") as resp:
                    return await resp.text()

            async with asyncio.timeout(30):
                while "[CRITICAL] api-health is failing" not in await inbox():
                    await asyncio.sleep(0.5)
            assert f"http://127.0.0.1:{port}/checks/api-health" in await inbox()
            # The first start took the demo database's backup, and its own check passes.
            async with asyncio.timeout(30):
                while await latest_status(config, "backup.app-db") != "ok":
                    await asyncio.sleep(0.5)
            assert list((tmp_path / "backups" / "app-db").glob("app-db-*.sqlite"))
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, err.decode()
    assert "Watchkeeper demo" in err.decode()
