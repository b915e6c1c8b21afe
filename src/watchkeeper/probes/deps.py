"""The deps probe: run pip-audit, npm audit or npm outdated in a project and count what they find.

pip-audit's JSON gives no severities, so its findings are counted as ``unknown`` and the
``critical`` … ``low`` measurements are absent (a condition on them fails as missing rather than
passing on a zero that was never measured).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

from watchkeeper.config.specs import CommandSpec
from watchkeeper.config.specs.deps import DepsSpec, DepsTool
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.command import probe_command
from watchkeeper.results import Measurements

_MAX_OUTPUT = 64 * 1024 * 1024
"""Bytes of JSON read from the tool; a large monorepo's audit runs to a few MB."""

_MAX_LISTED = 100
"""Entries kept in the ``…_packages`` lists; the counts are always complete."""

SEVERITIES = ("critical", "high", "moderate", "low", "info")


async def probe_deps(spec: DepsSpec, ctx: ProbeContext, timeout: float) -> Measurements:
    """Given a deps spec, run its tool in the project and return its findings as measurements."""
    if not Path(spec.path).is_dir():
        raise ProbeError(f"project directory not found: {spec.path}")
    if spec.tool.is_npm and not (Path(spec.path) / "package.json").is_file():
        # npm would print an empty report there, which reads as a clean project.
        raise ProbeError(f"no package.json in {spec.path}")
    try:
        run = await probe_command(
            CommandSpec(
                argv=_argv(spec),
                cwd=spec.path,
                # npm's update and funding notices go to stderr; they only slow a check down.
                env={"npm_config_update_notifier": "false", "npm_config_fund": "false"},
                max_output=_MAX_OUTPUT,
            ),
            ctx,
            timeout,
        )
    except ProbeError as exc:
        # "timed out after 30s" alone does not say that the audit (and its registry) hung.
        raise ProbeError(f"{spec.tool}: {exc}") from None
    if run["stdout_truncated"]:
        raise ProbeError(f"{spec.tool} printed more than {_MAX_OUTPUT} bytes of JSON")
    report = _json(run["stdout"])
    if spec.tool is DepsTool.PIP_AUDIT:
        return _pip_audit(report, run["stderr"])
    if isinstance(report, dict) and "error" in report:
        raise ProbeError(f"{spec.tool} failed: {_npm_error(report)}")
    if report is None:
        raise ProbeError(f"{spec.tool} failed: {_last_line(run['stderr'])}")
    if spec.tool is DepsTool.NPM_AUDIT:
        return _npm_audit(report)
    return _npm_outdated(report)


def _argv(spec: DepsSpec) -> tuple[str, ...]:
    if spec.tool is DepsTool.PIP_AUDIT:
        argv = [_program(spec, "pip-audit"), "-f", "json", "--progress-spinner", "off"]
        if spec.osv_url:
            argv += ["-s", "osv", "--osv-url", spec.osv_url]
        if spec.requirements is None:
            return (*argv, ".")
        argv += ["-r", spec.requirements]
        if not spec.resolve:
            argv += ["--no-deps", "--disable-pip"]
        return tuple(argv)
    subcommand = "audit" if spec.tool is DepsTool.NPM_AUDIT else "outdated"
    argv = [_program(spec, "npm"), subcommand, "--json"]
    if spec.registry:
        argv += ["--registry", spec.registry]
    if spec.omit_dev:
        argv += ["--omit=dev"]
    return tuple(argv)


def _program(spec: DepsSpec, name: str) -> str:
    if spec.program:
        return spec.program
    # pip-audit is usually installed with Watchkeeper, whose bin/ need not be on PATH.
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def _json(stdout: str) -> Any:
    try:
        return json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        return None


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _pip_audit(report: Any, stderr: str) -> Measurements:
    """Given pip-audit's JSON, return counts; every skipped dependency is named, none is hidden."""
    if not isinstance(report, dict) or not isinstance(report.get("dependencies"), list):
        raise ProbeError(f"pip-audit failed: {_last_line(stderr)}")
    deps = [d for d in report["dependencies"] if isinstance(d, dict)]
    found: list[str] = []
    audited = 0
    skipped: list[str] = []
    for dep in deps:
        if "skip_reason" in dep:
            skipped.append(str(dep["skip_reason"]))
            continue
        audited += 1
        for vuln in dep.get("vulns", ()):
            fixes = ", ".join(vuln.get("fix_versions") or ()) or "no fixed version yet"
            found.append(
                f"{dep['name']} {dep.get('version', '?')} ({vuln['id']}) → fixed in {fixes}"
            )
    if deps and not audited:
        # pip-audit exits 0 here ("No known vulnerabilities found"); that is not a clean audit.
        raise ProbeError(f"pip-audit could audit none of {len(deps)} dependencies: {skipped[0]}")
    return {
        "vulnerabilities": len(found),
        "unknown": len(found),
        "vulnerable_packages": found[:_MAX_LISTED],
        "audited": audited,
        "skipped": len(skipped),
        "skipped_packages": skipped[:_MAX_LISTED],
    }


def _npm_error(report: dict[str, Any]) -> str:
    error = report["error"]
    if isinstance(error, dict):
        text = error.get("summary") or report.get("message") or error.get("code")
    else:
        text = report.get("message") or error
    return str(text or "unknown error").splitlines()[0][:300]


def _npm_audit(report: Any) -> Measurements:
    """Given ``npm audit --json`` (report version 2), return its counts by severity."""
    if not isinstance(report, dict) or "metadata" not in report:
        raise ProbeError("npm audit printed JSON without its metadata (an npm older than 7?)")
    counts = report["metadata"].get("vulnerabilities", {})
    found = []
    for name, entry in sorted(report.get("vulnerabilities", {}).items()):
        fix = entry.get("fixAvailable")
        if isinstance(fix, dict):
            fixed = f"fixed in {fix.get('name')} {fix.get('version')}"
            if fix.get("isSemVerMajor"):
                fixed += " (major)"
        else:
            fixed = "fix available" if fix else "no fix available"
        found.append(f"{name} {entry.get('range', '?')} ({entry.get('severity', '?')}) → {fixed}")
    return {
        "vulnerabilities": int(counts.get("total", len(found))),
        **{severity: int(counts.get(severity, 0)) for severity in SEVERITIES},
        "vulnerable_packages": found[:_MAX_LISTED],
        "dependencies": int(report["metadata"].get("dependencies", {}).get("total", 0)),
    }


def _npm_outdated(report: Any) -> Measurements:
    """Given ``npm outdated --json``, return the count and one line per outdated package."""
    if not isinstance(report, dict):
        raise ProbeError("npm outdated printed unexpected JSON")
    found = []
    for name, entries in sorted(report.items()):
        # With workspaces a package outdated in several places is listed once per place.
        for entry in entries if isinstance(entries, list) else [entries]:
            current = entry.get("current") or "not installed"
            found.append(
                f"{name} {current} → {entry.get('latest', '?')} (wanted {entry.get('wanted', '?')})"
            )
    return {"outdated": len(found), "outdated_packages": found[:_MAX_LISTED]}
