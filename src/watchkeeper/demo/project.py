"""The demo's project checkout (``{project}``): what the guides run ``npm audit``, ``npm
outdated``, ``pip-audit``, ``git status`` and ``git secrets --scan`` in.

A git repository with one commit and a clean tree, holding a ``package.json`` and its lock pinning
lodash 4.17.4 (GHSA-jf85-cpcp-j695, critical), a ``requirements.txt`` pinning requests 2.19.0
(GHSA-x84v-xcm2-53pg), and beside them, ignored by git as in a real checkout, a ``.env.production``
of harmless settings: the audits find real advisories (served by the demo target) and the secrets
scan finds nothing until one is planted.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

PACKAGE_JSON = {
    "name": "demo-app",
    "version": "1.0.0",
    "private": True,
    "dependencies": {"lodash": "4.17.4"},
}
PACKAGE_LOCK = {
    "name": "demo-app",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {"name": "demo-app", "version": "1.0.0", "dependencies": {"lodash": "4.17.4"}},
        "node_modules/lodash": {
            "version": "4.17.4",
            "integrity": "sha512-6X37Sq9KCpLSXEh8uM12AKYlviHPNNk4RxiGBn4cmKGJinbXBneWIV7iE/nXkM928O7"
            "ytHcHb6+X6Svl0f4hXg==",
            "license": "MIT",
        },
    },
}
REQUIREMENTS = "requests==2.19.0\nidna==2.7\n"
ENV_PRODUCTION = """\
# Production settings of the demo app. Keys come from the host's secret store, never this file.
NODE_ENV=production
PORT=8080
LOG_LEVEL=info
DATABASE_POOL_SIZE=10
FEATURE_PWA=true
"""
# Installed packages and the production settings are kept out of commits, as in a real checkout.
GITIGNORE = "node_modules/\n.env.production\n"

_GIT_CONFIG = (
    "user.name=Watchkeeper demo",
    "user.email=demo@watchkeeper.invalid",
    "init.defaultBranch=main",
    # A user's own signing or hooks must not stop the demo's commit.
    "commit.gpgsign=false",
    "core.hooksPath=/dev/null",
)


class ProjectError(Exception):
    """The demo project could not be made; the message says why."""


def create_project(path: Path) -> None:
    """Make the demo project at ``path`` unless it is already a git repository (a demo directory
    used again keeps its project as the user left it)."""
    if (path / ".git").exists():
        return
    path.mkdir(parents=True, exist_ok=True)
    (path / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2) + "\n", encoding="utf-8")
    (path / "package-lock.json").write_text(
        json.dumps(PACKAGE_LOCK, indent=2) + "\n", encoding="utf-8"
    )
    (path / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    (path / ".env.production").write_text(ENV_PRODUCTION, encoding="utf-8")
    (path / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    # What `npm install` would leave: npm outdated reads the installed version from here.
    installed = path / "node_modules" / "lodash"
    installed.mkdir(parents=True, exist_ok=True)
    (installed / "package.json").write_text(
        json.dumps({"name": "lodash", "version": "4.17.4"}) + "\n", encoding="utf-8"
    )
    _git(path, "init", "--quiet")
    _git(path, "add", "--all")
    _git(path, "commit", "--quiet", "-m", "Demo app: first release")


def _git(path: Path, command: str, *args: str) -> None:
    config = [arg for setting in _GIT_CONFIG for arg in ("-c", setting)]
    try:
        subprocess.run(
            ("git", *config, "-C", str(path), command, *args),
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except FileNotFoundError:
        raise ProjectError("git is not installed; the demo's project is a git repository") from None
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise ProjectError(f"git {command} failed: {reason[-1] if reason else exc}") from None
