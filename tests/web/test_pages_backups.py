"""The backup pages over real HTTP: ``/backups`` and ``/backups/NAME`` of a real ``watchkeeper
serve`` whose store holds the five backups test_api_backups prepares (healthy, stale, failed
attempt, failed restore test, never taken)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from tests.web.test_api_backups import CONFIG, Prepared, prepare
from tests.web.test_pages import PASSWORDS, Site, serving
from watchkeeper.backups.verify import CHECKSUM_MISMATCH


@pytest.fixture(scope="module")
def prepared_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, Prepared]]:
    """A server of the backups config, its store filled before it started."""
    directory = tmp_path_factory.mktemp("backup-pages")
    prepared = prepare(directory, str(directory / "watchkeeper.db"))
    with serving(directory, 0, text=CONFIG) as site:
        yield site, prepared


@pytest.fixture(scope="module")
def site(prepared_site: tuple[Site, Prepared]) -> Site:
    """The running server."""
    return prepared_site[0]


@pytest.fixture(scope="module")
def prepared(prepared_site: tuple[Site, Prepared]) -> Prepared:
    """What its store holds."""
    return prepared_site[1]


def row(page: str, attribute: str, value: str) -> str:
    """Return the table row whose ``data-ATTRIBUTE`` is ``value``, as HTML."""
    found = re.search(rf'<tr data-{attribute}="{re.escape(value)}".*?</tr>', page, re.S)
    assert found, f"no row with data-{attribute}={value}"
    return found.group(0)


def text(fragment: str) -> str:
    """Return the words a reader sees in an HTML fragment."""
    words = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())
    return words.replace(" ,", ",")


def kilobytes(size: int | None) -> str:
    """Return a size in bytes as the pages show one of some kilobytes."""
    assert size is not None and 1000 <= size < 1_000_000
    return f"{size / 1000:.1f} KB"


def badge(fragment: str) -> tuple[str, str]:
    """Return the colour and the word of the fragment's first badge."""
    found = re.search(r'<span[^>]* class="badge (?:big )?(\w+)"[^>]*>([^<]+)</span>', fragment)
    assert found, "no badge"
    return found.group(1), found.group(2)


def health(page: str) -> tuple[str, str]:
    """Return the colour and the word of a backup page's health badge, by its heading."""
    found = re.search(r'id="backup-health" class="badge big (\w+)"[^>]*>([^<]+)</span>', page)
    assert found, "no health badge"
    return found.group(1), found.group(2)


def test_the_backups_page_shows_each_backup_with_its_health_badge(site: Site) -> None:
    with site.sign_in("vic") as browser:
        page = browser.get("/backups")
    assert page.status_code == 200
    assert '<a href="/backups" aria-current="page">Backups</a>' in page.text
    found = dict(re.findall(r'<tr data-backup="([^"]+)" data-health="(\w+)"', page.text))
    assert found == {
        "fresh": "ok",
        "stale": "stale",
        "broken": "failed",
        "corrupt": "failed",
        "never": "none",
    }
    # The colours of the check states: ok green, stale amber, failed red, none grey.
    colours = {name: badge(row(page.text, "backup", name)) for name in found}
    assert colours == {
        "fresh": ("ok", "ok"),
        "stale": ("warning", "stale"),
        "broken": ("critical", "failed"),
        "corrupt": ("critical", "failed"),
        "never": ("pending", "none"),
    }


def test_a_row_reads_at_a_glance_age_size_kept_restore_test_and_next_run(
    site: Site, prepared: Prepared
) -> None:
    with site.sign_in("vic") as browser:
        page = browser.get("/backups").text
    fresh = text(row(page, "backup", "fresh"))
    newest = prepared.entries["fresh"][1]
    assert re.search(r"\b3 h( \d+ min)? ago\b", fresh), fresh
    assert kilobytes(newest.size) in fresh
    kept = re.search(
        r'<td class="num kept" title="([^"]+)">(\d+)</td>', row(page, "backup", "fresh")
    )
    assert kept and kept.groups() == (f"{kilobytes(newest.size)} in all", "1")
    assert re.search(r"passed 2 h( \d+ min)? ago, restored in \d", fresh), fresh
    assert "not scheduled" in fresh

    broken = text(row(page, "backup", "broken"))
    assert "SQLite database not found" in broken
    assert re.search(r"in \d+ (h|min|s)\b.*daily at 02:00", broken), broken
    assert "5 h" in broken  # its older copy is still the newest good one

    assert "failed" in text(row(page, "backup", "corrupt"))
    never = text(row(page, "backup", "never"))
    assert "none yet" in never and "never" in never and "not scheduled" in never


def test_a_backup_page_shows_its_catalogue_and_restore_tests(
    site: Site, prepared: Prepared
) -> None:
    older, newest = prepared.entries["fresh"]
    assert older.sha256 is not None and newest.sha256 is not None
    with site.sign_in("vic") as browser:
        page = browser.get("/backups/fresh")
    assert page.status_code == 200
    assert health(page.text) == ("ok", "ok")
    assert "Keeps 1 daily" in text(page.text)

    catalogue = page.text.split('id="catalogue"')[1].split("</table>")[0]
    assert re.findall(r'<tr data-entry="(\d+)"', catalogue) == [str(newest.id), str(older.id)]
    kept = row(catalogue, "entry", str(newest.id))
    assert f">{newest.sha256[:12]}</code>" in kept and f'title="{newest.sha256}"' in kept
    assert kilobytes(newest.size) in text(kept)
    assert badge(kept) == ("ok", "ok")
    pruned = row(catalogue, "entry", str(older.id))
    assert 'class="pruned"' in pruned
    assert re.search(r"2 h( \d+ min)? ago", text(pruned)), text(pruned)  # when it was pruned

    tests = page.text.split('id="verifications"')[1].split("</table>")[0]
    passed = row(tests, "outcome", "passed")
    assert badge(passed) == ("ok", "passed")
    assert f">{newest.id}</td>" in passed
    assert re.search(r"\d+(\.\d+)?(ms|s)", text(passed))


def test_a_failed_restore_test_and_a_failed_attempt_show_why(site: Site) -> None:
    with site.sign_in("vic") as browser:
        corrupt = browser.get("/backups/corrupt").text
        broken = browser.get("/backups/broken").text
    failed = row(corrupt.split('id="verifications"')[1], "outcome", "failed")
    assert badge(failed) == ("critical", "failed")
    assert CHECKSUM_MISMATCH in text(failed)
    assert health(corrupt) == ("critical", "failed")

    assert 'id="backup-error"' in broken
    attempt = re.search(r'<tr data-entry="\d+" data-state="failed".*?</tr>', broken, re.S)
    assert attempt and "SQLite database not found" in text(attempt.group(0))


def test_a_backup_never_taken_has_empty_tables(site: Site) -> None:
    with site.sign_in("vic") as browser:
        page = browser.get("/backups/never").text
    assert "No backup has been taken or attempted yet." in page
    assert "No restore test yet." in page
    assert health(page) == ("pending", "none")


def test_an_unknown_backup_has_a_not_found_page(site: Site) -> None:
    with site.sign_in("vic") as browser:
        answer = browser.get("/backups/no-such-backup")
    assert answer.status_code == 404
    assert "There is no backup called" in answer.text


def test_the_pages_need_a_sign_in_and_render_for_every_role(site: Site) -> None:
    with site.browser() as browser:
        for path in ("/backups", "/backups/fresh"):
            answer = browser.get(path)
            assert answer.status_code == 303
            assert answer.headers["location"].startswith("/login?next=")
    for name in PASSWORDS:
        with site.sign_in(name) as browser:
            for path in ("/backups", "/backups/fresh"):
                assert browser.get(path).status_code == 200, (name, path)


def test_a_live_update_gets_only_the_table(site: Site) -> None:
    with site.sign_in("vic") as browser:
        answer = browser.get("/backups", headers={"X-Live": "1"})
    assert answer.status_code == 200
    assert 'id="backups"' in answer.text
    assert "<html" not in answer.text
