"""The guides' procedures files (``watchkeeper/demo/examples/*.yaml``): each validates once its
placeholders are filled, and each check in it gives a real result against the demo target.

The target runs on loopback; the examples' PostgreSQL and Redis are a real server each, given to
the config as ``DATABASE_URL`` and ``REDIS_URL``; the project the dependency, git and secrets
checks look at is the demo's own (made as ``watchkeeper demo`` makes it), and the push tokens are
random ones, as the demo gives them. Before the checks run, the test does what a day
of running would have done: backups taken and restore-tested, pings and values posted to the
push checks, and the llm checks run and stored so that a fallback chain has results to judge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import watchkeeper.demo
from tests.demo.conftest import Served
from tests.probes.redis_server import redis_server
from tests.web.test_serve import free_port
from watchkeeper.backups.runner import run_backup
from watchkeeper.backups.verify import VerifyOutcome, verify_latest
from watchkeeper.config.loader import LoadedConfig, load_config
from watchkeeper.config.specs import LlmChainSpec
from watchkeeper.config.specs.deps import DepsSpec, DepsTool
from watchkeeper.config.specs.git import GitSpec
from watchkeeper.config.specs.push import HeartbeatSpec, MetricSpec, PingKind
from watchkeeper.config.specs.secrets import SecretsSpec
from watchkeeper.demo.example import Example
from watchkeeper.demo.project import create_project
from watchkeeper.demo.run import demo_config, demo_tokens, project_dir
from watchkeeper.engine.once import run_once
from watchkeeper.readers import probe_context
from watchkeeper.results import Result, Status
from watchkeeper.store.push import Ping, PostedValue, write_pushes
from watchkeeper.store.store import Store

EXAMPLES = sorted((Path(watchkeeper.demo.__file__).parent / "examples").glob("*.yaml"))


def filled(example: Path, directory: Path, target: str, target_port: int) -> Path:
    """Write ``example`` with its placeholders filled as ``watchkeeper demo`` fills them (the
    target's files under ``directory/target``), and make the demo's project; return the written
    config's path."""
    text = demo_config(target, target_port, free_port(), directory, example.read_text())
    path = directory / "watchkeeper.yaml"
    path.write_text(text, encoding="utf-8")
    create_project(project_dir(directory))
    return path


def errors(results: list[Result]) -> str:
    """Return each errored result as ``check: message``, one a line."""
    return "\n".join(f"{r.check}: {r.message}" for r in results if r.status is Status.ERROR)


def test_every_example_file_is_one_that_the_demo_can_run() -> None:
    assert EXAMPLES
    assert {p.stem for p in EXAMPLES} == {e.value for e in Example}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_the_example_validates(example: Path, tmp_path: Path) -> None:
    # Nothing set in the environment but the demo's push tokens: every ${VAR:-default} falls back
    # to its default.
    path = filled(example, tmp_path, "http://127.0.0.1:8000", 8000)
    loaded = load_config(path, env=demo_tokens(example.read_text(), {}))
    assert loaded.config.checks
    assert loaded.config.procedures


async def take_backups(loaded: LoadedConfig, store: Store, now: datetime) -> None:
    """Take each configured backup, and restore-test those that have a restore test."""
    for backup in loaded.config.backups:
        await run_backup(store.engine, backup, loaded.path.parent, loaded.secrets, now)
        if backup.verify is not None:
            tested = await verify_latest(
                store.engine, backup, loaded.path.parent, loaded.secrets, now
            )
            assert tested is not None and tested.outcome is VerifyOutcome.PASSED, tested


def post_pushes(loaded: LoadedConfig, store: Store, now: datetime) -> None:
    """Post what the jobs and apps behind the push checks would: a started and finished run per
    heartbeat, and a few values per metric."""
    pings: list[Ping] = []
    values: list[PostedValue] = []
    for check in loaded.config.checks:
        spec = check.spec
        if isinstance(spec, HeartbeatSpec):
            pings += [
                Ping(spec.series, now - timedelta(minutes=2), PingKind.START),
                Ping(spec.series, now - timedelta(minutes=1), PingKind.SUCCESS),
            ]
        elif isinstance(spec, MetricSpec):
            values += [
                PostedValue(spec.series, now - timedelta(minutes=m), float(m)) for m in (3, 2, 1)
            ]
    write_pushes(store.engine, pings, values)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
async def test_every_check_of_the_example_measures_the_demo_target(
    example: Path, target: Served, postgres_url: str, tmp_path: Path
) -> None:
    port = int(target.url.rsplit(":", 1)[1])
    path = filled(example, target.directory.parent, target.url, port)
    with redis_server(tmp_path) as redis_url:
        env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url}
        loaded = load_config(path, env={**env, **demo_tokens(example.read_text(), env)})
        config = loaded.config
        store = Store.open(loaded.store_url)
        try:
            now = datetime.now(UTC)
            await take_backups(loaded, store, now)
            post_pushes(loaded, store, now)
            # A chain judges its providers' stored results: run them first, as serve would have.
            providers = {
                name
                for check in config.checks
                if isinstance(check.spec, LlmChainSpec)
                for name in check.spec.providers
            }
            if providers:
                earlier = await run_once(loaded, providers, probe_context(store, lambda: config))
                store.insert_results(earlier)
            results = await run_once(loaded, None, probe_context(store, lambda: config))
        finally:
            store.close()
    assert len(results) == len([c for c in config.checks if c.enabled])
    assert not errors(results), (
        f"checks of {example.name} that could not measure:\n{errors(results)}"
    )
    # The demo project: lodash 4.17.4 has a critical advisory, so every npm audit fails (the
    # honest result); its tree is clean and it holds no secret until one is planted.
    status = {r.check: r.status for r in results}
    for check in config.checks:
        if isinstance(check.spec, DepsSpec) and check.spec.tool is DepsTool.NPM_AUDIT:
            assert status[check.name] is Status.CRITICAL, check.name
        if isinstance(check.spec, GitSpec | SecretsSpec):
            assert status[check.name] is Status.OK, check.name


def test_no_example_gives_a_push_token_a_default() -> None:
    # A default would be a credential every copy of the file shares.
    for example in EXAMPLES:
        text = example.read_text()
        assert "_TOKEN:-" not in text, example.name
