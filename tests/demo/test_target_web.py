"""The demo target's PWA front over real HTTP: page, bundle, manifest, service worker, icons."""

from __future__ import annotations

import re
import struct
import time

import pytest

from tests.demo.conftest import Served
from watchkeeper.demo.target_web import BUNDLE_PATH, BUNDLE_SIZE


async def test_the_home_page_links_the_manifest_registers_the_worker_and_loads_the_bundle(
    target: Served,
) -> None:
    async with target.http.get(target.url + "/") as resp:
        page = await resp.text()
    assert resp.status == 200 and "Demo Shop" in page
    assert '<link rel="manifest" href="/manifest.json">' in page
    assert "navigator.serviceWorker.register('/sw.js')" in page
    bundle = re.search(r'<script type="module" src="(/assets/index-[0-9a-f]{8}\.js)">', page)
    assert bundle and bundle.group(1) == BUNDLE_PATH

    async with target.http.get(target.url + BUNDLE_PATH) as resp:
        body = await resp.read()
    assert resp.status == 200 and "javascript" in resp.content_type
    assert BUNDLE_SIZE <= len(body) < BUNDLE_SIZE + 1024  # 000's "bundleSize: 106KB"
    assert "immutable" in resp.headers["Cache-Control"]


async def test_the_manifest_names_icons_that_exist(target: Served) -> None:
    async with target.http.get(target.url + "/manifest.json") as resp:
        manifest = await resp.json(content_type=None)
    assert resp.status == 200 and "manifest+json" in resp.content_type
    assert manifest["name"] == "Demo Shop" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        async with target.http.get(target.url + icon["src"]) as resp:
            png = await resp.read()
        assert resp.status == 200 and resp.content_type == "image/png"
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        assert f"{width}x{height}" == icon["sizes"]


async def test_the_service_worker_caches_the_shell(target: Served) -> None:
    async with target.http.get(target.url + "/sw.js") as resp:
        script = await resp.text()
    assert resp.status == 200 and "javascript" in resp.content_type
    assert "addEventListener('fetch'" in script and BUNDLE_PATH in script


@pytest.mark.parametrize(
    ("part", "path"),
    [
        ("home", "/"),
        ("admin", "/admin"),
        ("manifest", "/manifest.json"),
        ("sw", "/sw.js"),
        ("bundle", BUNDLE_PATH),
    ],
)
async def test_each_web_part_fails_and_slows_on_demand(
    target: Served, part: str, path: str
) -> None:
    await target.switch("fail", part)
    async with target.http.get(target.url + path) as resp:
        assert resp.status == 500
    await target.switch("recover", "")
    await target.switch("slow", part, "?ms=250")
    started = time.perf_counter()
    async with target.http.get(target.url + path) as resp:
        assert resp.status == 200
    assert time.perf_counter() - started >= 0.25


async def test_the_controls_list_every_part_and_refuse_an_unknown_one(target: Served) -> None:
    async with target.http.get(target.url + "/_demo") as resp:
        page = await resp.text()
    for part in ("bundle", "openai", "agents", "supabase", "frappe", "contribux"):
        assert f'href="/_demo/fail/{part}"' in page
    assert 'href="/_demo/quota/openai?percent=90"' in page
    async with target.http.post(target.url + "/_demo/fail/nothing") as resp:
        assert resp.status == 404 and "contribux" in await resp.text()
