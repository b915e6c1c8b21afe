"""Maintenance steps: VACUUM/ANALYZE on a real PostgreSQL through ``watchkeeper maintain``, as a
runbook's step and on its own; the database URL never on a command line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from tests.cli_run import run_cli
from watchkeeper.config.procedures import MaintenanceOperation, Step
from watchkeeper.procedures.maintenance import statements


def _fill(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, total int)")
        conn.execute("INSERT INTO orders (total) SELECT i FROM generate_series(1, 2000) i")
        conn.execute("DELETE FROM orders WHERE id % 2 = 0")


async def _maintained(url: str) -> tuple[object, object]:
    """Wait until the statistics show the table vacuumed and analyzed; return both times."""
    for _ in range(100):
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'orders'"
            ).fetchone()
        if row is not None and row[0] is not None and row[1] is not None:
            return row[0], row[1]
        await asyncio.sleep(0.1)
    raise AssertionError("orders was not vacuumed and analyzed")


def test_a_maintenance_step_is_a_run_step_without_the_url_on_its_command_line() -> None:
    step = Step.model_validate(
        {"maintenance": {"url_env": "APP_DB", "tables": ["orders", "public.users"]}}
    )

    assert step.run is not None and step.run[1:] == (
        "-m",
        "watchkeeper",
        "maintain",
        "--url-env",
        "APP_DB",
        "--operation",
        "vacuum_analyze",
        "--table",
        "orders",
        "--table",
        "public.users",
    )
    assert step.label == "VACUUM (ANALYZE) orders, public.users ($APP_DB)"


def test_table_names_are_quoted_as_identifiers() -> None:
    [plain, qualified] = statements(MaintenanceOperation.ANALYZE, ("Orders", 'x"; DROP'))
    assert [s.as_string(None) for s in (plain, qualified)] == [
        'ANALYZE "Orders"',
        'ANALYZE "x""; DROP"',
    ]


async def test_a_runbooks_maintenance_step_vacuums_and_analyzes_a_real_database(
    postgres_url: str, tmp_path: Path
) -> None:
    _fill(postgres_url)
    config = tmp_path / "watchkeeper.yaml"
    config.write_text(
        "runbooks:\n  - name: tidy-db\n    steps:\n      - maintenance: {tables: [orders]}\n"
    )

    ran = await run_cli(
        "runbook", "run", "tidy-db", "--yes", "-c", config, env={"DATABASE_URL": postgres_url}
    )

    assert ran.code == 0, ran.stdout + ran.stderr
    assert 'VACUUM (ANALYZE) "orders": done in' in ran.stdout
    assert postgres_url not in ran.stdout + ran.stderr
    await _maintained(postgres_url)


async def test_maintain_without_its_url_variable_says_so(tmp_path: Path) -> None:
    ran = await run_cli("maintain", "--url-env", "NO_SUCH_DB_URL", env={}, cwd=tmp_path)
    assert ran.code == 3
    assert "$NO_SUCH_DB_URL is not set" in ran.stderr


@pytest.mark.parametrize("operation", ["analyze", "vacuum"])
async def test_maintain_runs_one_operation_on_the_whole_database(
    postgres_url: str, operation: str
) -> None:
    _fill(postgres_url)
    ran = await run_cli("maintain", "--operation", operation, env={"DATABASE_URL": postgres_url})
    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith(f"{operation.upper()}: done in"), ran.stdout
