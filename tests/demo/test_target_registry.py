"""The demo target's advisory services, as pip-audit and npm ask them (the tools themselves run
against them in test_examples_run.py)."""

from __future__ import annotations

from tests.demo.conftest import Served


async def test_osv_answers_the_advisories_of_a_vulnerable_version(target: Served) -> None:
    query = {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.19.0"}
    async with target.http.post(f"{target.url}/osv/v1/query", json=query) as resp:
        vulnerable = await resp.json()
    query["version"] = "2.20.0"
    async with target.http.post(f"{target.url}/osv/v1/query", json=query) as resp:
        fixed = await resp.json()

    assert [v["id"] for v in vulnerable["vulns"]] == ["GHSA-x84v-xcm2-53pg"]
    assert fixed == {}


async def test_npm_endpoints_answer_under_their_prefix(target: Served) -> None:
    bulk = f"{target.url}/npm/-/npm/v1/security/advisories/bulk"
    async with target.http.post(bulk, json={"lodash": ["4.17.4"], "left-pad": ["1.0.0"]}) as resp:
        advisories = await resp.json()
    async with target.http.get(f"{target.url}/npm/lodash") as resp:
        document = await resp.json()
    async with target.http.get(f"{target.url}/npm/no-such-package") as resp:
        missing = resp.status

    assert list(advisories) == ["lodash"]
    assert advisories["lodash"][0]["severity"] == "critical"
    assert advisories["lodash"][0]["vulnerable_versions"] == "<4.17.12"
    assert document["dist-tags"] == {"latest": "4.18.1"}
    assert missing == 404
