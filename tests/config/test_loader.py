"""The config loader: valid files load; every problem is reported as FILE:LINE:COLUMN: message."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.config.loader import ConfigError, load_config
from watchkeeper.starter import STARTER_CONFIG

ISSUE_EXAMPLE = """\
version: 1
defaults: {interval: 60s, timeout: 10s, timezone: UTC}
checks:
  - name: api-health
    service: backend
    http: {url: "${API_URL:-http://127.0.0.1:8000}/api/health"}
    interval: 30s
    expect: ['status == 200', 'json.status == "healthy"']
    warn: ['response_time > 500ms']
    critical: ['response_time > 2s']
  - name: disk-root
    system: {disk: /}
    schedule: daily at 09:00
    warn: ['disk_used_percent > 70']
    critical: ['disk_used_percent > 90']
"""


def write(tmp_path: Path, text: str, name: str = "watchkeeper.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env or {})
    return [str(p).removeprefix(f"{path}:") for p in caught.value.problems]


def test_issue_example_loads_with_durations_in_seconds(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, ISSUE_EXAMPLE), {})
    api, disk = loaded.config.checks
    assert api.kind == "http" and api.interval == 30.0
    assert api.http is not None and api.http.url == "http://127.0.0.1:8000/api/health"
    assert disk.kind == "system" and disk.schedule == "daily at 09:00"
    assert loaded.config.defaults.timeout == 10.0


def test_environment_variable_replaces_default_and_becomes_a_secret(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, ISSUE_EXAMPLE), {"API_URL": "https://api.internal:8443"})
    assert loaded.config.checks[0].http is not None
    assert loaded.config.checks[0].http.url == "https://api.internal:8443/api/health"
    assert loaded.secrets.redact("GET https://api.internal:8443/x") == "GET ***/x"


def test_default_value_is_not_a_secret(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, ISSUE_EXAMPLE), {})
    assert loaded.secrets.redact("http://127.0.0.1:8000") == "http://127.0.0.1:8000"


def test_starter_config_validates(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, STARTER_CONFIG), {})
    assert {c.name for c in loaded.config.checks} >= {"homepage", "disk-root", "git-clean"}


def test_unknown_key_has_position_and_did_you_mean(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    http: {url: 'http://x'}\n    intervl: 30s\n"
    assert problems(tmp_path, text) == ["4:5: unknown key 'intervl' (did you mean 'interval'?)"]


def test_misspelt_probe_kind_suggests_the_kind(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    htp: {url: 'http://x'}\n"
    assert problems(tmp_path, text) == ["3:5: unknown key 'htp' (did you mean 'http'?)"]


def test_check_without_probe_names_the_kinds(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "checks:\n  - name: a\n    interval: 5s\n")
    assert line.startswith("2:5: a check needs one probe: http, tcp")


def test_bad_duration_points_at_the_value(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "defaults: {interval: 60x}\n")
    assert line.startswith("1:22: bad duration '60x'")


def test_bad_cron_and_bad_phrase(tmp_path: Path) -> None:
    text = (
        "checks:\n"
        "  - {name: a, system: {}, schedule: '0 61 * * *'}\n"
        "  - {name: b, system: {}, schedule: dialy at 9}\n"
    )
    lines = problems(tmp_path, text)
    assert lines[0].startswith("2:37: bad cron '0 61 * * *'")
    assert lines[1].startswith("3:37: unknown schedule 'dialy at 9'")


def test_bad_expression_column_points_into_the_condition(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    system: {}\n    warn: ['disk_used_percent = 70']\n"
    (line,) = problems(tmp_path, text)
    # The quote opens at column 12; '=' is the 19th character of the condition.
    assert line == "4:31: bad expression: '=' is not an operator; use '=='"


def test_duplicate_check_name_names_the_first(tmp_path: Path) -> None:
    text = "checks:\n  - {name: a, system: {}}\n  - {name: a, tcp: {host: h, port: 1}}\n"
    assert problems(tmp_path, text) == ["3:12: duplicate check name 'a' (first defined on line 2)"]


def test_unset_variable_without_default_is_an_error_at_its_place(tmp_path: Path) -> None:
    text = 'checks:\n  - name: a\n    database: {url: "${DATABASE_URL}"}\n'
    assert problems(tmp_path, text) == [
        "3:22: environment variable DATABASE_URL is not set and has no default "
        "(write ${DATABASE_URL:-default} to give one)"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        "defaults: {timeout: soon}\n"
        "checks:\n"
        "  - {name: a, system: {}, warn: ['x >']}\n"
        "  - {name: 'bad name!', tcp: {host: h, port: 99999}}\n"
    )
    lines = problems(tmp_path, text)
    assert len(lines) == 4
    assert [line.split(":")[0] for line in lines] == ["1", "3", "4", "4"]


def test_invalid_yaml_reports_its_position(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "checks:\n  - name: a\n   bad: [\n")
    assert line.split(":")[0] in {"3", "4"} and "invalid YAML" in line


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    name: b\n    system: {}\n"
    assert problems(tmp_path, text) == ["3:5: duplicate key 'name'"]


def test_empty_and_missing_files(tmp_path: Path) -> None:
    assert problems(tmp_path, "") == ["1:1: the file is empty: it needs at least `checks:`"]
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml", {})
    assert "cannot read the file" in str(caught.value)


def test_command_string_is_split_like_a_shell_without_running_one(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    command: \"git log --oneline '-3'\"\n"
    (check,) = load_config(write(tmp_path, text), {}).config.checks
    assert check.command is not None
    assert check.command.argv == ("git", "log", "--oneline", "-3")


def test_store_defaults_to_sqlite_beside_the_config(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, "checks: []\n"), {})
    assert loaded.store_url == f"sqlite:///{tmp_path.resolve() / 'watchkeeper.db'}"
    relative = load_config(write(tmp_path, "store: data/wk.db\n", "b.yaml"), {})
    assert relative.store_url == f"sqlite:///{tmp_path.resolve() / 'data' / 'wk.db'}"


def test_dollar_dollar_is_a_literal_dollar(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    command: {argv: [echo, '$${HOME}']}\n"
    (check,) = load_config(write(tmp_path, text), {"HOME": "/root"}).config.checks
    assert check.command is not None and check.command.argv == ("echo", "${HOME}")


def test_http_body_and_json_are_exclusive(tmp_path: Path) -> None:
    text = "checks:\n  - name: a\n    http: {url: 'http://x', body: 'a', json: {b: 1}}\n"
    assert problems(tmp_path, text) == ["3:11: give either body or json, not both"]


def test_problems_never_quote_a_secret(tmp_path: Path) -> None:
    text = 'checks:\n  - name: a\n    http: {url: "${API_URL}"}\n'
    (line,) = problems(tmp_path, text, {"API_URL": "ftp://user:pw-91f3@host/x"})
    assert "pw-91f3" not in line and "***" in line


ALERTING = """\
alerting: {defaults: {after: 2 failures, reminder: 4h, notify_resolved: true}}
notifications:
  channels:
    oncall: ["json://127.0.0.1:9000/hook"]
    email: ["mailto://${SMTP_USER:-u}:${SMTP_PASS:-p}@mail.example.com?to=ops@example.com"]
  routes:
    - {match: {severity: critical}, channels: [oncall, email]}
    - {match: {service: backend}, channels: [oncall], group_by: [service], group_wait: 30s}
    - {match: {severity: info}, digest: daily at 09:00, channels: [email]}
maintenance: [{schedule: weekly on sunday at 02:00, duration: 2h, match: {service: database}}]
checks:
  - name: api-health
    service: backend
    http: {url: "http://127.0.0.1:8000/api/health"}
    alert: {after: 3 failures, for: 2m, route: oncall}
    depends_on: [database]
  - name: database
    service: database
    tcp: {host: 127.0.0.1, port: 5432}
"""


def test_issue_alerting_example_loads_and_check_rules_extend_the_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ALERTING), {}).config
    api, db = config.checks
    rule = config.alert_rule(api)
    assert (rule.after, rule.for_, rule.reminder, rule.route) == (3, 120.0, 4 * 3600.0, ("oncall",))
    assert config.alert_rule(db).after == 2 and config.alert_rule(db).for_ is None
    assert config.notifications.routes[1].group_wait == 30.0
    assert config.maintenance[0].match == {"service": ("database",)}


def test_unknown_dependency_and_channel_are_errors_with_suggestions(tmp_path: Path) -> None:
    text = ALERTING.replace("depends_on: [database]", "depends_on: [databse]").replace(
        "channels: [oncall], group_by", "channels: [on-call], group_by"
    )
    assert problems(tmp_path, text) == [
        "8:46: unknown channel 'on-call' (did you mean 'oncall'?); channels: email, oncall",
        "16:18: unknown check 'databse' (did you mean 'database'?)",
    ]


def test_dependency_cycle_is_an_error(tmp_path: Path) -> None:
    text = ALERTING + "    depends_on: [api-health]\n"
    (line,) = problems(tmp_path, text)
    assert "dependency cycle: api-health -> database -> api-health" in line


def test_channel_url_apprise_cannot_send_to_is_an_error(tmp_path: Path) -> None:
    text = "notifications:\n  channels:\n    pager: ['nope://x']\ncheckz: []\n"
    lines = problems(tmp_path, text.replace("checkz: []\n", ""))
    assert lines == [
        "3:13: channel 'pager': not a URL Apprise can send to (e.g. json://host/path, "
        "mailto://user@host, slack://…)"
    ]


def test_bad_failure_count_and_match_key(tmp_path: Path) -> None:
    text = (
        "alerting: {defaults: {after: three}}\n"
        "notifications: {channels: {a: ['json://h/x']}, routes: [{match: {team: x}, channels: [a]}]}\n"
    )
    lines = problems(tmp_path, text)
    assert lines[0].startswith("1:30: bad count 'three'")
    assert lines[1].startswith("2:65: unknown match key 'team'")


def test_reminder_of_zero_is_refused_and_null_turns_reminders_off(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, "alerting: {defaults: {reminder: 0s}}\n")
    assert line.startswith("1:33: must be greater than zero (write null for none)")
    ok = load_config(write(tmp_path, "alerting: {defaults: {reminder: null}}\n"), {})
    assert ok.config.alerting.defaults.reminder is None


def test_durations_that_are_not_finite_or_absurd_are_refused(tmp_path: Path) -> None:
    for text in ("defaults: {interval: .inf}\n", "defaults: {timeout: 100000000000000d}\n"):
        (line,) = problems(tmp_path, text)
        assert "must be a finite time of at most 100 years" in line
    (line,) = problems(tmp_path, "defaults: {interval: 0.0000001}\n")
    assert "must be at least 1ms" in line
