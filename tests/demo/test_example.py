"""``watchkeeper demo --example NAME``: a guide's procedures file, filled in and run on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import sys
from pathlib import Path

import aiohttp
import pytest
from rich.console import Console

from tests.cli_run import cli_env, run_cli
from tests.demo.test_demo import latest_status
from tests.web.test_serve import free_port
from watchkeeper.demo.example import Example
from watchkeeper.demo.run import DemoError, config_template, demo_config, demo_dir, run_demo

# A tiny stand-in for a guide's file: the same placeholders, checks on the new endpoints.
EXAMPLE = """\
version: 1
store: watchkeeper.db
defaults: {interval: 1s, timeout: 5s}
server: {host: 127.0.0.1, port: {port}}
checks:
  - name: llm-openai
    http:
      url: "{target}/llm/openai/v1/models"
      headers: {Authorization: "Bearer ${DEMO_LLM_KEY:-demo-key}"}
    expect: ['status == 200', 'headers.x-ratelimit-limit-requests == "500"']
  - name: agents
    http: {url: "{target}/api/agents/status"}
    expect: ['json.status == "healthy"']
    critical: ['json.agents.content.memory_mb > 500']
  - name: app-log-errors
    command: {argv: ["{python}", "-c", "print(open('{app_log}').read().count(' ERROR '))"]}
    expect: ['exit_code == 0']
"""


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A directory of example files holding one, ``contribux``."""
    directory = tmp_path / "examples"
    directory.mkdir()
    (directory / "contribux.yaml").write_text(EXAMPLE)
    return directory


def test_an_example_is_filled_with_the_demos_placeholders(examples: Path, tmp_path: Path) -> None:
    template = config_template(Example.CONTRIBUX, examples)
    text = demo_config("http://127.0.0.1:9001", 9001, 9002, tmp_path, template)
    assert "{target}" not in text and "{python}" not in text and "{app_log}" not in text
    assert 'url: "http://127.0.0.1:9001/llm/openai/v1/models"' in text
    assert f"open('{tmp_path / 'target' / 'app.log'}')" in text
    assert "port: 9002" in text


def test_a_missing_example_says_which_file_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(DemoError, match=r"example frappe-monitoring .*frappe-monitoring\.yaml"):
        config_template(Example.FRAPPE_MONITORING, tmp_path)


def test_each_example_keeps_its_own_directory() -> None:
    dirs = {demo_dir(None), *(demo_dir(e) for e in Example)}
    assert len(dirs) == len(Example) + 1
    assert demo_dir(Example.SUPABASE_APP).name == "watchkeeper-demo-supabase-app"


async def test_an_invalid_example_stops_before_anything_starts(
    examples: Path, tmp_path: Path
) -> None:
    (examples / "contribux.yaml").write_text(EXAMPLE.replace("expect:", "expcet:", 1))
    with pytest.raises(DemoError, match=r"does not validate:\n.*watchkeeper\.yaml:\d+:\d+"):
        await run_demo(
            free_port(), free_port(), tmp_path / "demo", Console(), Example.CONTRIBUX, examples
        )


async def test_an_unknown_example_is_refused_with_the_names() -> None:
    ran = await run_cli("demo", "--example", "acme")
    assert ran.code == 2
    for name in Example:
        assert name.value in ran.stderr


async def test_the_demo_runs_an_example_against_the_target(examples: Path, tmp_path: Path) -> None:
    port, target_port = free_port(), free_port()
    directory = tmp_path / "demo"
    printed = io.StringIO()
    console = Console(file=printed)
    demo = asyncio.create_task(
        run_demo(port, target_port, directory, console, Example.CONTRIBUX, examples)
    )
    config = directory / "watchkeeper.yaml"
    try:
        async with aiohttp.ClientSession() as http:
            async with asyncio.timeout(20):
                while True:
                    with contextlib.suppress(aiohttp.ClientConnectionError):
                        async with http.get(f"http://127.0.0.1:{port}/api/health") as resp:
                            health = await resp.json()
                            break
                    await asyncio.sleep(0.2)
            assert health["checks"] == 3
            async with asyncio.timeout(30):
                for check in ("llm-openai", "agents", "app-log-errors"):
                    while await latest_status(config, check) != "ok":
                        await asyncio.sleep(0.3)
            await http.post(f"http://127.0.0.1:{target_port}/_demo/fail/agents")
            async with asyncio.timeout(30):
                while await latest_status(config, "agents") != "critical":
                    await asyncio.sleep(0.3)
    finally:
        demo.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await demo
    assert "example contribux" in printed.getvalue()
    assert "/_demo/quota/openai" in printed.getvalue()
    ran = await run_cli("status", "-c", config, "--json")
    assert {r["name"] for r in json.loads(ran.stdout)} >= {"llm-openai", "agents"}


async def test_an_example_with_generated_push_tokens_reloads_after_an_edit(tmp_path: Path) -> None:
    directory, log = tmp_path / "demo", tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "watchkeeper",
            "demo",
            "--example",
            "agents-backend",
            "--dir",
            str(directory),
            "--port",
            str(free_port()),
            "--target-port",
            str(free_port()),
            stdout=out,
            stderr=out,
            env=cli_env(),
        )
    try:
        async with asyncio.timeout(30):
            while "watching" not in log.read_text():
                await asyncio.sleep(0.2)
        with (directory / "watchkeeper.yaml").open("a") as config:
            config.write("# edited while running\n")
        async with asyncio.timeout(30):
            while "config reloaded" not in log.read_text():
                await asyncio.sleep(0.2)
    finally:
        proc.terminate()
        await proc.wait()
    assert "reload refused" not in log.read_text()
