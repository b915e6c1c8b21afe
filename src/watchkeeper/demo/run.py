"""``watchkeeper demo``: start the demo target, write its config, and serve Watchkeeper against it."""

from __future__ import annotations

import secrets
import sys
import tempfile
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from aiohttp import web
from rich.console import Console

from watchkeeper.auth.accounts import add_user, remove_user
from watchkeeper.auth.model import Role
from watchkeeper.config.loader import load_config
from watchkeeper.demo.target import create_target
from watchkeeper.service import Watchkeeper
from watchkeeper.store.store import Store
from watchkeeper.web.server import serve


def demo_config(target: str, target_port: int, port: int, directory: Path) -> str:
    """Given the target's URL, ports and the demo directory, return the demo config's text."""
    template = files("watchkeeper.demo").joinpath("watchkeeper.yaml").read_text(encoding="utf-8")
    values = {
        "target": target,
        "target_port": str(target_port),
        "port": str(port),
        "app_db": str(directory / "target" / "app.db"),
        "app_log": str(directory / "target" / "app.log"),
        "python": sys.executable,
    }
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def demo_admin(store: Store) -> str:
    """Give the demo's ``admin`` user a new random password and return it (a demo, so printed)."""
    password = secrets.token_urlsafe(12)
    now = datetime.now(UTC)
    remove_user(store.engine, "admin")
    add_user(store.engine, "admin", Role.ADMIN, password, now)
    return password


async def run_demo(port: int, target_port: int, directory: Path | None, console: Console) -> None:
    """Run the demo target and Watchkeeper on loopback until interrupted."""
    directory = (directory or Path(tempfile.gettempdir()) / "watchkeeper-demo").resolve()
    directory.mkdir(parents=True, exist_ok=True)
    runner = web.AppRunner(create_target(directory / "target"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", target_port)
    await site.start()
    target = f"http://127.0.0.1:{target_port}"
    config_path = directory / "watchkeeper.yaml"
    config_path.write_text(demo_config(target, target_port, port, directory), encoding="utf-8")
    loaded = load_config(config_path)
    store = Store.open(loaded.store_url)
    password = demo_admin(store)
    console.print(
        f"""
[bold]Watchkeeper demo[/]
  demo target      {target}/   (controls: {target}/_demo)
  dashboard        http://127.0.0.1:{port}/   sign in as [bold]admin[/] / [bold]{password}[/]
  status page      http://127.0.0.1:{port}/status   (public)
  API              http://127.0.0.1:{port}/api/docs   (health: /api/health, metrics: /metrics)
  config           {config_path}
  store            {store.display_url}

Try, in another terminal:
  watchkeeper status -c {config_path}
  curl {target}/_demo/fail/health      # the api-health check turns critical
  curl {target}/_demo/slow/home?ms=800  # the homepage check turns warning
  curl {target}/_demo/recover
Stop with Ctrl-C.
""",
        highlight=False,
    )
    try:
        await serve(Watchkeeper(loaded, store), "127.0.0.1", port)
    finally:
        store.close()
        await runner.cleanup()
