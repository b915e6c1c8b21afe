"""The loader's two ways to read YAML agree: libyaml's events straight to data, and node by node.

A valid file takes the fast way; only a file with problems (or rare YAML) is read again with
positions, so whatever the fast way returns must be exactly what the positions way returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.config.test_loader import ALERTING, ISSUE_EXAMPLE, problems
from watchkeeper.config.loader import _parse_with_positions, load_config, parse_config_text
from watchkeeper.config.reading import PositionsReader, read_plain
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets
from watchkeeper.starter import STARTER_CONFIG

ENV = {"API_URL": "https://api.internal:8443", "TOKEN": "t0k3n-secret", "EMPTY": ""}

SHARED = """\
defaults: {interval: 30s}
checks:
  - name: api
    http:
      url: ${API_URL}/health
      headers: {Authorization: "Bearer ${TOKEN}", X-Literal: "$${TOKEN}"}
    expect: &healthy ['status == 200', 'json.status == "ok"']
    warn: &slow ['response_time > 500ms']
    tags: [prod, "2024-01-01", '1']
  - name: api-2
    http: {url: "${MISSING:-http://127.0.0.1:1}/health", keepalive: no}
    expect: *healthy
    warn: *slow
    timeout: 5
    enabled: true
  - name: disk
    system: {disk: /, cpu_sample: 0.5}
    schedule: daily at 09:00
"""

MERGED = """\
checks:
  - name: a
    system: &root {disk: /}
  - name: b
    system:
      <<: *root
      cpu_sample: 1s
"""


@pytest.mark.parametrize("text", [ISSUE_EXAMPLE, ALERTING, STARTER_CONFIG, SHARED])
def test_a_valid_config_reads_the_same_the_fast_way_as_with_positions(text: str) -> None:
    read = read_plain(text, ENV)
    assert read is not None, "the fast way left a valid config to the positions way"
    data, secrets = read
    config, slow_secrets = _parse_with_positions(text, "watchkeeper.yaml", ENV)
    assert Config.model_validate(data) == config
    assert Secrets(secrets).values == slow_secrets.values
    assert parse_config_text(text, "watchkeeper.yaml", ENV)[0] == config


def test_environment_values_become_secrets_and_dollar_dollar_stays_literal() -> None:
    config, secrets = parse_config_text(SHARED, "watchkeeper.yaml", ENV)
    api = config.checks[0].http
    assert api is not None
    assert api.url == "https://api.internal:8443/health"
    assert api.headers == {"Authorization": "Bearer t0k3n-secret", "X-Literal": "${TOKEN}"}
    assert secrets.values == {"https://api.internal:8443", "t0k3n-secret"}
    assert config.checks[1].expect == config.checks[0].expect


def test_merge_keys_are_left_to_the_positions_way_and_still_load() -> None:
    assert read_plain(MERGED, {}) is None
    a, b = parse_config_text(MERGED, "watchkeeper.yaml", {})[0].checks
    assert a.system is not None and b.system is not None
    assert (b.system.disk, b.system.cpu_sample) == (a.system.disk, 1.0)


def test_duplicate_keys_anywhere_are_still_reported(tmp_path: Path) -> None:
    text = "checks:\n  - {name: a, system: {}, name: b}\nchecks: []\n"
    assert problems(tmp_path, text) == ["2:27: duplicate key 'name'", "3:1: duplicate key 'checks'"]


def test_a_date_that_does_not_exist_and_an_unknown_tag_are_reported_in_place(
    tmp_path: Path,
) -> None:
    text = "checks:\n  - name: a\n    system: {}\n    description: 2024-13-45\n    service: !x db\n"
    assert problems(tmp_path, text) == [
        "4:18: invalid YAML: month must be in 1..12",
        "5:14: invalid YAML: could not determine a constructor for the tag '!x'",
    ]


def test_an_aliased_value_is_checked_at_its_anchor_and_the_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "watchkeeper.yaml"
    path.write_text(SHARED)
    loaded = load_config(path, ENV)
    assert [c.name for c in loaded.config.checks] == ["api", "api-2", "disk"]


# Scalars as a user might type them, including ones YAML reads as something other than text.
SCALARS = [
    "plain", "'quoted'", '"double\\tquoted"', "yes", "No", "on", "~", "null", "", "0x1F", "0o17",
    "1_000", "-1.5e3", ".inf", ".NaN", "2024-01-31", "2024-01-31T12:00:00Z", "12:30", "! 5",
    "'${API_URL}/x'", "${TOKEN}", "$${TOKEN}", "${MISSING:-fallback}", "${EMPTY:-d}", "${EMPTY-d}",
    "cost $5", "[a, 1]", "{k: v}", "&ANCHOR 5", "[&ANCHOR 1, *ANCHOR]", "|\n    two\n    lines",
]  # fmt: skip
# What the fast way leaves to the positions way: problems, tags, merge keys, keys not text.
LEFT = [
    "a: 2024-13-45", "a: ${MISSING}", "a: ${BAD", "a: =", "a: !!str 12", "a: !x y", "a: *none",
    "a: {k: v, k: w}", "a: [&x 1, &x 2]", "a: 1\na: 2", "1: a", "<<: {a: 1}", "a: 1\n---\nb: 2",
    "", "# only a comment", "[a, b]", "a: [",
]  # fmt: skip


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    """A block mapping of text keys to scalars, flow collections and block sequences of them."""
    lines = []
    keys = st.sampled_from(["name", "a", "'b c'", "'1'", "x_y"])
    for key in draw(st.lists(keys, min_size=1, unique=True)):
        anchor = f"a{len(lines)}"
        if draw(st.booleans()):
            lines.append(f"{key}: {draw(st.sampled_from(SCALARS))}".replace("ANCHOR", anchor))
        else:
            lines.append(f"{key}:")
            items = draw(st.lists(st.sampled_from(SCALARS), max_size=3))
            lines += [
                f"  - {item}".replace("ANCHOR", f"{anchor}_{i}") for i, item in enumerate(items)
            ]
    return "\n".join(lines) + "\n"


@settings(max_examples=500)
@given(yaml_texts())
def test_the_fast_way_reads_scalars_anchors_and_variables_as_the_positions_way_does(
    text: str,
) -> None:
    read = read_plain(text, ENV)
    assert read is not None
    data, secrets = read
    reader = PositionsReader(ENV)
    slow: Any = reader.read(yaml.compose(text, Loader=yaml.SafeLoader))
    assert reader.problems == []
    assert _same(data, slow)
    assert secrets == reader.substitution.secrets


@pytest.mark.parametrize("text", LEFT)
def test_the_fast_way_leaves_problems_and_rare_yaml_to_the_positions_way(text: str) -> None:
    assert read_plain(text, ENV) is None


def _same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (so 1 is not True, and NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b or (a != a and b != b))


def test_paths_of_file_reading_checks_count_from_the_config_files_directory(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "watchkeeper.yaml").write_text(
        """\
checks:
  - {name: env, secrets: {paths: [".env", "config/**/*.yaml"]}}
  - {name: errors, log: {paths: ["logs/*.log", "/var/log/app.log"]}}
  - {name: repo, git: {path: "."}}
  - {name: audit, deps: {tool: npm-audit, path: "../web"}}
"""
    )

    checks = {c.name: c for c in load_config(site / "watchkeeper.yaml").config.checks}

    root = site.resolve()
    assert checks["env"].secrets is not None
    assert checks["env"].secrets.paths == (f"{root}/.env", f"{root}/config/**/*.yaml")
    assert checks["errors"].log is not None
    assert checks["errors"].log.paths == (f"{root}/logs/*.log", "/var/log/app.log")
    assert checks["repo"].git is not None and checks["repo"].git.path == str(root)
    assert checks["audit"].deps is not None and checks["audit"].deps.path == f"{root}/../web"
