"""``watchkeeper demo``: start the demo target, write its config, and serve Watchkeeper against it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from aiohttp import web
from rich.console import Console

from watchkeeper.auth.accounts import add_user, remove_user
from watchkeeper.auth.model import Role
from watchkeeper.config.loader import ConfigError, LoadedConfig, load_config
from watchkeeper.demo.example import Example
from watchkeeper.demo.feeder import feed
from watchkeeper.demo.project import ProjectError, create_project
from watchkeeper.demo.target import create_target
from watchkeeper.service import Watchkeeper
from watchkeeper.store.store import Store
from watchkeeper.web.server import serve


class DemoError(Exception):
    """The demo cannot start; the message says why."""


def examples_dir() -> Traversable:
    """Return where the installed package keeps the examples (``watchkeeper/demo/examples``)."""
    return files("watchkeeper.demo").joinpath("examples")


def config_template(example: Example | None, examples: Traversable | None = None) -> str:
    """Return the demo config's template, or an example's from ``examples`` (the package's)."""
    if example is None:
        return files("watchkeeper.demo").joinpath("watchkeeper.yaml").read_text(encoding="utf-8")
    source = (examples or examples_dir()).joinpath(f"{example.value}.yaml")
    if not source.is_file():
        raise DemoError(f"the example {example.value} is not in this installation ({source})")
    return source.read_text(encoding="utf-8")


def demo_config(
    target: str, target_port: int, port: int, directory: Path, template: str | None = None
) -> str:
    """Given the target's URL, ports, the demo directory and a template (the demo config's by
    default), return the config's text with its placeholders filled."""
    template = config_template(None) if template is None else template
    values = {
        "target": target,
        "target_port": str(target_port),
        "port": str(port),
        "app_db": str(directory / "target" / "app.db"),
        "app_log": str(directory / "target" / "app.log"),
        "project": str(project_dir(directory)),
        "python": sys.executable,
    }
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def project_dir(directory: Path) -> Path:
    """Return where the demo directory keeps the project the examples audit (``{project}``)."""
    return directory / "project"


_TOKEN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*_TOKEN)\}")


def demo_tokens(template: str, env: Mapping[str, str]) -> dict[str, str]:
    """Given a config template and an environment, return a random value for each push token
    the template reads without a default (``${NAME_TOKEN}``) and ``env`` does not set.

    The examples give no default so that a copied file holds no known credential; the demo's
    stand-in jobs and agents read the same values from the config loaded with these."""
    return {
        name: secrets.token_urlsafe(24) for name in sorted(set(_TOKEN.findall(template)) - set(env))
    }


_DEMO_HINTS = """\
  curl {target}/_demo/fail/health      # the api-health check turns critical
  curl {target}/_demo/slow/home?ms=800  # the homepage check turns warning
  curl {target}/_demo/recover"""
_EXAMPLE_HINTS = """\
  curl {target}/_demo/fail/PART         # PART: a part listed at {target}/_demo, or all
  curl {target}/_demo/quota/openai?percent=90   # an LLM provider near its rate limit
  curl {target}/_demo/recover"""


def demo_admin(store: Store) -> str:
    """Give the demo's ``admin`` user a new random password and return it (a demo, so printed)."""
    password = secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    remove_user(store.engine, "admin")
    add_user(store.engine, "admin", Role.ADMIN, password, now)
    return password


def demo_dir(example: Example | None) -> Path:
    """Return the default directory of the demo, or of one example (each keeps its own store)."""
    name = "watchkeeper-demo" + (f"-{example.value}" if example else "")
    return Path(tempfile.gettempdir()) / name


async def run_demo(
    port: int,
    target_port: int,
    directory: Path | None,
    console: Console,
    example: Example | None = None,
    examples: Traversable | None = None,
) -> None:
    """Run the demo target and Watchkeeper (with the demo config or an example) until interrupted.

    Raises DemoError before anything starts when the example is missing or invalid.
    """
    template = config_template(example, examples)
    directory = (directory or demo_dir(example)).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "watchkeeper.yaml"
    target = f"http://127.0.0.1:{target_port}"
    config_path.write_text(
        demo_config(target, target_port, port, directory, template), encoding="utf-8"
    )
    try:
        await asyncio.to_thread(create_project, project_dir(directory))
    except ProjectError as exc:
        raise DemoError(str(exc)) from None
    try:
        tokens = demo_tokens(template, os.environ)
        # In this process's environment too: a reload after an edit re-reads the file from it.
        os.environ.update(tokens)
        loaded = load_config(config_path)
    except ConfigError as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        raise DemoError(f"the demo config does not validate:\n{problems}") from None
    runner = web.AppRunner(create_target(directory / "target"), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", target_port).start()
        await _watch(loaded, port, target, config_path, example, console, tokens)
    finally:
        await runner.cleanup()


async def _watch(
    loaded: LoadedConfig,
    port: int,
    target: str,
    config_path: Path,
    example: Example | None,
    console: Console,
    tokens: Mapping[str, str],
) -> None:
    store = Store.open(loaded.store_url)
    # The CLI reads the config with the same tokens (a demo's, so printed like the password).
    env = "".join(f"{name}={value} " for name, value in tokens.items())
    password = demo_admin(store)
    console.print(
        f"""
[bold]Watchkeeper demo[/]{f" — example [bold]{example.value}[/]" if example else ""}
  demo target      {target}/   (controls: {target}/_demo)
  dashboard        http://127.0.0.1:{port}/   sign in as [bold]admin[/] / [bold]{password}[/]
  status page      http://127.0.0.1:{port}/status   (public)
  API              http://127.0.0.1:{port}/api/docs   (health: /api/health, metrics: /metrics)
  config           {config_path}
  store            {store.display_url}

Try, in another terminal:
  {env}watchkeeper status -c {config_path}
{_EXAMPLE_HINTS.format(target=target) if example else _DEMO_HINTS.format(target=target)}
Stop with Ctrl-C.
""",
        highlight=False,
    )
    # Stands in for the jobs and agents that would ping and post from elsewhere.
    feeder = asyncio.create_task(feed(loaded.config, f"http://127.0.0.1:{port}", target))
    try:
        await serve(Watchkeeper(loaded, store), "127.0.0.1", port)
    finally:
        feeder.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeder
        store.close()
