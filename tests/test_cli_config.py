"""``watchkeeper validate`` and ``init``, and how every command finds its config."""

from __future__ import annotations

from pathlib import Path

from tests.cli_run import run_cli

GOOD = "checks:\n  - name: disk\n    system: {disk: /}\n"
BAD = "checks:\n  - name: disk\n    system: {disk: /}\n    intervl: 5s\n"


async def test_validate_accepts_a_good_file(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    ran = await run_cli("validate", tmp_path / "good.yaml")
    assert ran.code == 0
    assert "ok (1 checks)" in ran.stdout


async def test_validate_prints_file_line_column_for_each_problem_and_no_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD + "  - {name: disk, tcp: {host: h, port: 0}}\n")
    ran = await run_cli("validate", tmp_path / "good.yaml", tmp_path / "bad.yaml")
    assert ran.code == 1
    bad = str(tmp_path / "bad.yaml")
    assert f"{bad}:4:5: unknown key 'intervl' (did you mean 'interval'?)" in ran.stdout
    assert f"{bad}:5:12: duplicate check name 'disk' (first defined on line 2)" in ran.stdout
    assert f"{bad}:5:39: port: input should be greater than or equal to 1" in ran.stdout
    assert "Traceback" not in ran.stdout + ran.stderr


async def test_validate_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("checks: [\n")
    ran = await run_cli("validate", tmp_path / "x.yaml")
    assert ran.code == 1
    assert ran.stdout.startswith(f"{tmp_path / 'x.yaml'}:2:1: invalid YAML")


async def test_init_writes_a_starter_that_validates_and_will_not_overwrite(tmp_path: Path) -> None:
    ran = await run_cli("init", cwd=tmp_path)
    assert ran.code == 0
    assert (await run_cli("validate", tmp_path / "watchkeeper.yaml")).code == 0
    again = await run_cli("init", cwd=tmp_path)
    assert again.code == 1 and "exists" in again.stderr


async def test_commands_find_config_by_option_then_env_then_cwd(tmp_path: Path) -> None:
    (tmp_path / "watchkeeper.yaml").write_text(GOOD)
    (tmp_path / "other.yaml").write_text(GOOD.replace("name: disk", "name: from-env"))
    in_cwd = await run_cli("check", "--json", "--no-store", cwd=tmp_path)
    assert '"name": "disk"' in in_cwd.stdout
    from_env = await run_cli(
        "check",
        "--json",
        "--no-store",
        cwd=tmp_path,
        env={"WATCHKEEPER_CONFIG": str(tmp_path / "other.yaml")},
    )
    assert '"name": "from-env"' in from_env.stdout
    nowhere = await run_cli("status", cwd=tmp_path / "..")
    assert nowhere.code == 3
    assert "watchkeeper init" in nowhere.stderr


async def test_an_invalid_config_stops_a_command_with_its_problems(tmp_path: Path) -> None:
    (tmp_path / "watchkeeper.yaml").write_text(BAD)
    ran = await run_cli("check", cwd=tmp_path)
    assert ran.code == 3
    assert "watchkeeper.yaml:4:5: unknown key 'intervl'" in ran.stderr


async def test_a_bad_channel_url_is_reported_without_its_secret(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        "notifications: {channels: {pager: ['nosuchscheme://${TOKEN}@host/path']}}\n"
    )
    ran = await run_cli("validate", tmp_path / "w.yaml", env={"TOKEN": "SUPERSECRET123"})
    assert ran.code == 1 and "not a URL Apprise can send to" in ran.stdout
    assert "SUPERSECRET123" not in ran.stdout + ran.stderr
