"""The deps probe runs the real pip-audit and npm on fixture projects.

Where the advisories come from, said once for every test here: api.osv.dev and PyPI's per-version
JSON (pip-audit's two services) and npm's bulk advisory endpoint cannot be reached from this
machine (no DNS for api.osv.dev; PyPI answers 404 and the npm registry 405 through its proxy). So
the advisories are real GitHub advisory records (OSV format, in src/watchkeeper/demo/registry/)
served on loopback by the demo target's OSV query API and npm registry routes, and pip-audit and
npm are pointed at them with their own options (``--osv-url``, ``--registry``). Tried on 2026-11-22:
pip-audit "could audit none of 2 dependencies" (PyPI) and npm "405 Method Not Allowed - POST
https://registry.npmjs.org/-/npm/v1/security/advisories/bulk".
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.probes.silent_server import assert_no_process_left, live_children, silent_port
from watchkeeper.config.specs.deps import DepsSpec, DepsTool
from watchkeeper.demo.target_registry import NPM_PREFIX, OSV_PATH, add_registry_routes
from watchkeeper.engine.evaluator import Rules, judge
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.deps import probe_deps
from watchkeeper.results import Status

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def tools() -> None:
    """Fail (never skip) when npm or pip-audit is missing: .ci/run and the dev extra install them."""
    if shutil.which("npm") is None:
        pytest.fail("npm is missing: apt-get install npm", pytrace=False)
    if shutil.which("pip-audit", path=str(Path(sys.executable).parent)) is None:
        pytest.fail("pip-audit is missing: pip install -e '.[dev]'", pytrace=False)


@pytest.fixture
async def advisory_server() -> AsyncIterator[str]:
    """The demo target's advisory services alone, on loopback (the OSV query API under /osv and
    npm's registry under /npm, answering from real GitHub advisory records); yields its URL."""
    app = web.Application()
    add_registry_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.fixture
def npm_project(tmp_path: Path) -> Path:
    """The fixture npm project (lodash 4.17.4, locked), with lodash's package.json installed."""
    project = tmp_path / "app"
    shutil.copytree(FIXTURES / "npm-project", project)
    installed = project / "node_modules" / "lodash"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text('{"name": "lodash", "version": "4.17.4"}')
    return project


async def test_pip_audit_finds_the_vulnerable_pin(advisory_server: str, ctx: ProbeContext) -> None:
    # Advisories: the local fixture records over the OSV API on loopback (see the module's note).
    spec = DepsSpec(
        tool=DepsTool.PIP_AUDIT,
        path=str(FIXTURES / "python-project"),
        requirements="requirements.txt",
        resolve=False,
        osv_url=f"{advisory_server}{OSV_PATH}",
    )

    measured = await probe_deps(spec, ctx, timeout=60)

    assert measured["vulnerabilities"] == 1
    assert measured["vulnerable_packages"] == ["requests 2.19.0 (CVE-2018-18074) → fixed in 2.20.0"]
    assert measured["audited"] == 2
    assert measured["skipped"] == 0
    # pip-audit reports no severities: they are unknown, not zero.
    assert measured["unknown"] == 1
    assert "critical" not in measured
    status, message = judge(Rules.parse(["vulnerabilities == 0"]), measured)
    assert status is Status.CRITICAL
    assert "vulnerabilities = 1" in message


async def test_pip_audit_that_audited_nothing_is_an_error(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    # pip-audit prints "No known vulnerabilities found" and exits 0 when every dependency was
    # skipped; here PyPI does not know the package (and may not be reachable at all).
    (tmp_path / "requirements.txt").write_text("watchkeeper-fixture-no-such-package==1.0\n")
    spec = DepsSpec(
        tool=DepsTool.PIP_AUDIT, path=str(tmp_path), requirements="requirements.txt", resolve=False
    )

    with pytest.raises(ProbeError, match="pip-audit"):
        await probe_deps(spec, ctx, timeout=60)


async def test_pip_audit_names_an_unreachable_advisory_service(
    closed_port: int, ctx: ProbeContext
) -> None:
    spec = DepsSpec(
        tool=DepsTool.PIP_AUDIT,
        path=str(FIXTURES / "python-project"),
        requirements="requirements.txt",
        resolve=False,
        osv_url=f"http://127.0.0.1:{closed_port}/v1/query",
    )

    with pytest.raises(ProbeError, match=r"pip-audit failed: .*ConnectionError"):
        await probe_deps(spec, ctx, timeout=60)


async def test_npm_audit_counts_vulnerabilities_by_severity(
    advisory_server: str, ctx: ProbeContext
) -> None:
    # Advisories: the local lodash record through a loopback registry (see the module's note).
    spec = DepsSpec(
        tool=DepsTool.NPM_AUDIT,
        path=str(FIXTURES / "npm-project"),
        registry=f"{advisory_server}{NPM_PREFIX}",
    )

    measured = await probe_deps(spec, ctx, timeout=60)

    assert measured["vulnerabilities"] == 1
    assert (measured["critical"], measured["high"], measured["moderate"], measured["low"]) == (
        1,
        0,
        0,
        0,
    )
    assert measured["vulnerable_packages"] == [
        "lodash <4.17.12 (critical) → fixed in lodash 4.18.1"
    ]
    # The guide's `npm audit --audit-level=moderate`, as conditions.
    rules = Rules.parse(["critical == 0 and high == 0 and moderate == 0"])
    status, message = judge(rules, measured)
    assert status is Status.CRITICAL
    assert "critical = 1" in message


async def test_npm_outdated_lists_what_has_a_newer_release(
    advisory_server: str, npm_project: Path, ctx: ProbeContext
) -> None:
    spec = DepsSpec(
        tool=DepsTool.NPM_OUTDATED, path=str(npm_project), registry=f"{advisory_server}{NPM_PREFIX}"
    )

    measured = await probe_deps(spec, ctx, timeout=60)

    assert measured == {
        "outdated": 1,
        "outdated_packages": ["lodash 4.17.4 → 4.18.1 (wanted 4.17.4)"],
    }


async def test_npm_reports_its_own_error_in_a_sentence(closed_port: int, ctx: ProbeContext) -> None:
    spec = DepsSpec(
        tool=DepsTool.NPM_AUDIT,
        path=str(FIXTURES / "npm-project"),
        registry=f"http://127.0.0.1:{closed_port}/",
    )

    with pytest.raises(ProbeError, match=r"npm-audit failed: .*ECONNREFUSED"):
        await probe_deps(spec, ctx, timeout=60)


async def test_a_missing_project_is_an_error(tmp_path: Path, ctx: ProbeContext) -> None:
    gone = DepsSpec(tool=DepsTool.NPM_OUTDATED, path=str(tmp_path / "gone"))
    # npm outdated prints {} in a directory without a package.json: that is no clean result.
    empty = DepsSpec(tool=DepsTool.NPM_OUTDATED, path=str(tmp_path))

    with pytest.raises(ProbeError, match="project directory not found"):
        await probe_deps(gone, ctx, timeout=10)
    with pytest.raises(ProbeError, match=r"no package\.json in"):
        await probe_deps(empty, ctx, timeout=10)


@pytest.mark.parametrize("tool", [DepsTool.PIP_AUDIT, DepsTool.NPM_AUDIT])
async def test_a_hung_advisory_service_ends_at_the_timeout_leaving_no_process(
    tool: DepsTool, ctx: ProbeContext
) -> None:
    with silent_port() as port:
        url = f"http://127.0.0.1:{port}"
        spec = (
            DepsSpec(
                tool=tool,
                path=str(FIXTURES / "python-project"),
                requirements="requirements.txt",
                resolve=False,
                osv_url=f"{url}/v1/query",
            )
            if tool is DepsTool.PIP_AUDIT
            else DepsSpec(tool=tool, path=str(FIXTURES / "npm-project"), registry=url)
        )
        before, started = live_children(), time.monotonic()
        with pytest.raises(
            ProbeError, match=rf"^{tool}: timed out after 3s; killed process group"
        ) as failed:
            await probe_deps(spec, ctx, timeout=3)
        # The timeout, plus at most the grace a SIGTERM gets before SIGKILL.
        assert time.monotonic() - started < 3 + 2

    assert_no_process_left(str(failed.value), before)


def test_a_registry_or_advisory_url_with_credentials_is_refused() -> None:
    # The URL goes on the command line (ps shows it): the error says why without repeating it.
    with pytest.raises(ValueError, match=r"registry\n.*must not hold credentials") as refused:
        DepsSpec(tool=DepsTool.NPM_AUDIT, path=".", registry="https://ci:hunter2@npm.example.com/")
    assert "hunter2" not in str(refused.value).split("[type=")[0]
    with pytest.raises(ValueError, match="must not hold credentials"):
        DepsSpec(tool=DepsTool.PIP_AUDIT, path=".", osv_url="https://tok@osv.example.com/v1/query")
    assert DepsSpec(tool=DepsTool.NPM_AUDIT, path=".", registry="https://npm.example.com/")


def test_options_of_one_tool_are_refused_for_another() -> None:
    with pytest.raises(ValueError, match="registry cannot be used with tool pip-audit"):
        DepsSpec(tool=DepsTool.PIP_AUDIT, path=".", registry="http://x/")
    with pytest.raises(ValueError, match="requirements cannot be used with tool npm-audit"):
        DepsSpec(tool=DepsTool.NPM_AUDIT, path=".", requirements="r.txt")
    with pytest.raises(ValueError, match="needs a pinned requirements file"):
        DepsSpec(tool=DepsTool.PIP_AUDIT, path=".", resolve=False)
