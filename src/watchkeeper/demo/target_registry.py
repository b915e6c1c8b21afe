"""The demo target's advisory services, for the demo project's ``deps`` checks, offline.

pip-audit and npm are real and run unchanged; what they ask is answered here from real records
(``registry/``): GitHub advisories in OSV format (GHSA-jf85-cpcp-j695, lodash < 4.17.12,
critical; GHSA-x84v-xcm2-53pg, requests < 2.20.0) and lodash's package document from
registry.npmjs.org, trimmed to five versions. pip-audit posts to ``/osv/v1/query``
(``--osv-url``); npm, given ``--registry {target}/npm/``, posts to
``/npm/-/npm/v1/security/advisories/bulk`` and reads ``/npm/NAME``.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

from aiohttp import web

OSV_PATH = "/osv/v1/query"
NPM_PREFIX = "/npm/"

_RECORDS = files("watchkeeper.demo").joinpath("registry")


def _advisories() -> list[dict[str, Any]]:
    osv = _RECORDS.joinpath("osv")
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(osv.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".json")
    ]


def _version(text: str) -> tuple[int, ...]:
    # The records' versions are plain dotted numbers (4.17.12, 2.20.0).
    return tuple(int(part) for part in re.findall(r"\d+", text))


def affected(record: dict[str, Any], ecosystem: str, name: str) -> list[dict[str, Any]]:
    """Given an OSV record, return its ``affected`` entries naming this package."""
    return [
        a
        for a in record["affected"]
        if a["package"]["ecosystem"] == ecosystem and a["package"]["name"] == name
    ]


def in_range(entry: dict[str, Any], version: str) -> bool:
    """Given an OSV ``affected`` entry with ECOSYSTEM ranges, return whether ``version`` is in it."""
    for rng in entry["ranges"]:
        introduced: tuple[int, ...] = (0,)
        fixed: tuple[int, ...] | None = None
        for event in rng["events"]:
            if "introduced" in event:
                introduced = _version(event["introduced"])
            if "fixed" in event:
                fixed = _version(event["fixed"])
        if introduced <= _version(version) and (fixed is None or _version(version) < fixed):
            return True
    return False


def add_registry_routes(app: web.Application) -> None:
    """Add the OSV query API and npm's advisory and package endpoints to ``app``."""
    advisories = _advisories()

    async def osv_query(request: web.Request) -> web.Response:
        query = await request.json()
        package, version = query["package"], query["version"]
        vulns = [
            record
            for record in advisories
            if any(
                in_range(entry, version)
                for entry in affected(record, package["ecosystem"], package["name"])
            )
        ]
        return web.json_response({"vulns": vulns} if vulns else {})

    async def npm_bulk(request: web.Request) -> web.Response:
        # Every advisory on each named package, shaped as npm's registry does; npm itself
        # decides which installed versions fall in `vulnerable_versions`.
        names = json.loads(await request.read())
        found: dict[str, list[dict[str, Any]]] = {}
        for number, record in enumerate(advisories, start=1):
            for name in names:
                for entry in affected(record, "npm", name):
                    fixed = entry["ranges"][0]["events"][-1]["fixed"]
                    found.setdefault(name, []).append(
                        {
                            "id": number,
                            "url": f"https://github.com/advisories/{record['id']}",
                            "title": record["summary"],
                            "severity": record["database_specific"]["severity"].lower(),
                            "vulnerable_versions": f"<{fixed}",
                            "cwe": record["database_specific"]["cwe_ids"],
                        }
                    )
        return web.json_response(found)

    async def package(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        # Only plain package names: the name becomes a file name.
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            raise web.HTTPNotFound()
        document = _RECORDS.joinpath("npm", f"{name}.json")
        if not document.is_file():
            raise web.HTTPNotFound()
        return web.json_response(json.loads(document.read_text(encoding="utf-8")))

    app.router.add_post(OSV_PATH, osv_query)
    app.router.add_post(f"{NPM_PREFIX}-/npm/v1/security/advisories/bulk", npm_bulk)
    app.router.add_get(NPM_PREFIX + "{name}", package)
