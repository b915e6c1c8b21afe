"""The secrets probe finds planted secrets by file, line and kind, and never repeats one.

Every secret here is generated at run time from a seeded random source, in the shape gitleaks'
rules describe, so no credential-looking literal sits in this repository.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import asdict
from pathlib import Path

import pytest

from watchkeeper.config.schedules import IntervalSchedule
from watchkeeper.config.schema import Check
from watchkeeper.config.specs.secrets import SecretsSpec
from watchkeeper.engine.evaluator import Rules
from watchkeeper.engine.plan import CheckPlan
from watchkeeper.engine.runner import Runner
from watchkeeper.probes.base import ProbeContext, ProbeError
from watchkeeper.probes.secrets import probe_secrets
from watchkeeper.results import Status
from watchkeeper.secret_rules import mask_secrets, scan_line
from watchkeeper.store.store import Store

ALNUM = string.ascii_letters + string.digits
RANDOM = random.Random(7)


def text(alphabet: str, length: int) -> str:
    """Return ``length`` seeded-random characters of ``alphabet``."""
    return "".join(RANDOM.choice(alphabet) for _ in range(length))


SECRETS = {
    "openai_key": f"sk-proj-{text(ALNUM, 74)}T3BlbkFJ{text(ALNUM, 74)}",
    "anthropic_key": f"sk-ant-api03-{text(ALNUM, 93)}AA",
    "aws_access_key": f"AKIA{text(string.ascii_uppercase + '234567', 16)}",
    "github_token": f"ghp_{text(ALNUM, 36)}",
    "stripe_key": f"sk_live_{text(ALNUM, 24)}",
    "slack_token": f"xoxb-{text(string.digits, 12)}-{text(string.digits, 12)}-{text(ALNUM, 24)}",
    "url_credentials": text(ALNUM, 16),
    "generic_password_assignment": text(ALNUM, 12),
    "generic_secret_assignment": text(ALNUM, 32),
    "jwt": f"eyJ{text(ALNUM, 30)}.eyJ{text(ALNUM, 40)}.{text(ALNUM, 43)}",
}

ENV_FILE = f"""\
# production settings
OPENAI_API_KEY={SECRETS["openai_key"]}
ANTHROPIC_API_KEY="{SECRETS["anthropic_key"]}"
AWS_ACCESS_KEY_ID={SECRETS["aws_access_key"]}
export GITHUB_TOKEN={SECRETS["github_token"]}
STRIPE_SECRET_KEY={SECRETS["stripe_key"]}
SLACK_BOT_TOKEN={SECRETS["slack_token"]}
DATABASE_URL=postgres://app:{SECRETS["url_credentials"]}@db.internal:5432/app
DB_PASSWORD={SECRETS["generic_password_assignment"]}
SESSION_SECRET={SECRETS["generic_secret_assignment"]}
PUBLIC_URL=https://example.com
API_KEY=${{API_KEY}}
AUTH_TOKEN={SECRETS["jwt"]}
"""


def leaked(secret: str, haystack: str) -> list[str]:
    """Return every 8-character piece of ``secret`` found in ``haystack`` (a partial leak too)."""
    return [secret[i : i + 8] for i in range(len(secret) - 7) if secret[i : i + 8] in haystack]


def assert_no_secret_in(haystack: str) -> None:
    for kind, secret in SECRETS.items():
        assert not leaked(secret, haystack), f"part of the planted {kind} leaked"


async def test_planted_secrets_in_an_env_file_are_found_by_line_and_kind(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    env = tmp_path / ".env.production"
    env.write_text(ENV_FILE)

    measured = await probe_secrets(SecretsSpec(paths=(str(env),)), ctx, timeout=10)

    assert measured["findings"] == [
        f"{env}:2:openai_key",
        f"{env}:3:anthropic_key",
        f"{env}:4:aws_access_key",
        f"{env}:5:github_token",
        f"{env}:6:stripe_key",
        f"{env}:7:slack_token",
        f"{env}:8:url_credentials",
        f"{env}:9:generic_password_assignment",
        f"{env}:10:generic_secret_assignment",
        f"{env}:13:jwt",
    ]
    assert measured["count"] == 10
    assert measured["kinds"]["openai_key"] == 1
    assert measured["files_scanned"] == 1
    assert_no_secret_in(json.dumps(measured))


async def test_the_runner_stores_a_failing_result_without_the_secrets(
    tmp_path: Path, ctx: ProbeContext, any_store: Store
) -> None:
    env = tmp_path / ".env"
    env.write_text(ENV_FILE)
    spec = SecretsSpec(paths=(str(env),))
    # The kind is not registered in the config yet; the plan is built by hand around the probe.
    placeholder = Check(name="env-secrets", command={"argv": ["true"]})
    plan = CheckPlan(
        name="env-secrets",
        kind="secrets",
        service=None,
        tags=(),
        spec=spec,
        probe=probe_secrets,
        rules=Rules.parse((), default_expect=SecretsSpec.default_expect),
        schedule=IntervalSchedule(seconds=60, text="every 60s"),
        timeout=10,
        source=placeholder,
    )

    result = await Runner(ctx).run(plan)
    any_store.insert_results([result])
    stored = any_store.latest("env-secrets")["env-secrets"]

    assert result.status is Status.CRITICAL
    assert result.message == "expected count == 0 (count = 10)"
    assert stored.measurements["count"] == 10
    assert_no_secret_in(json.dumps(asdict(result), default=str))
    assert_no_secret_in(json.dumps(asdict(stored), default=str))


async def test_a_private_key_is_found_but_a_bare_header_is_not(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    body = "\n".join(text(ALNUM + "+/", 64) for _ in range(4))
    (tmp_path / "deploy_key").write_text(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    (tmp_path / "README.md").write_text(
        "Keys start with `-----BEGIN RSA PRIVATE KEY-----` and are never committed.\n"
    )

    measured = await probe_secrets(SecretsSpec(paths=(str(tmp_path),)), ctx, timeout=10)

    assert measured["findings"] == [f"{tmp_path}/deploy_key:1:private_key"]
    assert body[:20] not in json.dumps(measured)


async def test_a_directory_scan_skips_binaries_huge_files_caches_and_exclusions(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    token = SECRETS["github_token"]
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "app.yaml").write_text(f"github:\n  token: {token}\n")
    (tmp_path / ".env.example").write_text(f"GITHUB_TOKEN={token}\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0" + token.encode())
    (tmp_path / "huge.log").write_text(("x" * 99 + "\n") * 400 + token)
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / ".env").write_text(f"GITHUB_TOKEN={token}\n")
    spec = SecretsSpec(paths=(str(tmp_path),), exclude=("*.example",), max_file_size=10_000)

    measured = await probe_secrets(spec, ctx, timeout=10)

    assert measured["findings"] == [f"{tmp_path}/config/app.yaml:2:github_token"]
    assert measured["files_scanned"] == 1
    assert measured["files_skipped"] == 2


async def test_glob_patterns_find_env_files_at_any_depth(tmp_path: Path, ctx: ProbeContext) -> None:
    (tmp_path / "services" / "api").mkdir(parents=True)
    (tmp_path / "services" / "api" / ".env.local").write_text(
        f"STRIPE_KEY={SECRETS['stripe_key']}\n"
    )
    (tmp_path / ".env").write_text("DEBUG=true\n")

    measured = await probe_secrets(SecretsSpec(paths=(f"{tmp_path}/**/.env*",)), ctx, timeout=10)

    assert measured["findings"] == [f"{tmp_path}/services/api/.env.local:1:stripe_key"]
    assert measured["files_scanned"] == 2


async def test_a_named_file_must_exist_and_a_pattern_must_match_something(
    tmp_path: Path, ctx: ProbeContext
) -> None:
    with pytest.raises(ProbeError, match=r"not found: .*missing\.env"):
        await probe_secrets(SecretsSpec(paths=(str(tmp_path / "missing.env"),)), ctx, timeout=10)
    with pytest.raises(ProbeError, match="nothing to scan"):
        await probe_secrets(SecretsSpec(paths=(f"{tmp_path}/*.env",)), ctx, timeout=10)


@pytest.mark.parametrize(
    "line",
    [
        "password = getpass()",
        'token = os.environ["GITHUB_TOKEN"]',
        "api_key: str = Field(description='the key')",
        "DB_PASSWORD=changeme",
        "DB_PASSWORD=${DB_PASSWORD}",
        "password: settings.db_password",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
        "PUBLIC_KEY_PATH=/etc/keys/public.pem",
        "GITHUB_TOKEN=ghp_" + "a" * 36,
        "rapid_response = capital_letters_only",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
        "    # A remote URL may carry a token (https://user:token@host/...)",
        '    """One engine pass: advance states, queue due messages."""',
        'return f"mailto://127.0.0.1:{self.port}?from=watchkeeper@example.com"',
        'assert "Dedup key: wk:api-health:1" in body',
    ],
)
def test_code_references_and_placeholders_are_not_secrets(line: str) -> None:
    assert scan_line(line) == []


def test_the_spec_takes_a_path_or_a_list_as_shorthand() -> None:
    assert SecretsSpec.model_validate(".env").paths == (".env",)
    assert SecretsSpec.model_validate([".env", "config/"]).paths == (".env", "config/")
    assert SecretsSpec.model_validate({"paths": ".env"}).paths == (".env",)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("connect postgres://app:hunter2@db/shop", "connect postgres://app:***@db/shop"),
        ("login password=abc123 user=bob", "login password=*** user=bob"),
        ('DB_PASSWORD: "s3cr3t!" ok', 'DB_PASSWORD: "***" ok'),
        ("url postgres://app:${DB_PASSWORD}@db", "url postgres://app:${DB_PASSWORD}@db"),
        ("KeyError: 'member'", "KeyError: 'member'"),
    ],
)
def test_mask_secrets_masks_what_a_scan_finds_in_place(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
