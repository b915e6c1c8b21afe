"""Secrets in text, by gitleaks' default rules (github.com/gitleaks/gitleaks, config/gitleaks.toml):
the same token shapes, entropy floors and allowlists for the providers the guides use, plus its
generic "name = value" rule split into passwords and other secrets. ``scan_line`` names the kinds a
line holds; ``mask_secrets`` hides them in text that is echoed (log examples, ping bodies, errors).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from watchkeeper.config.secrets import REDACTED

_END = r"""(?=[`'"\s;,)}\]]|\\[nr]|$)"""
"""gitleaks' end of a token: a quote, a space, a separator or the end of the line."""


@dataclass(frozen=True)
class Rule:
    """One kind of secret: its pattern (group 1 is the secret), entropy floor and allowlist."""

    kind: str
    pattern: re.Pattern[str]
    entropy: float = 0.0
    allow: re.Pattern[str] | None = None


def _rule(kind: str, regex: str, entropy: float = 0.0, allow: str | None = None) -> Rule:
    return Rule(kind, re.compile(regex), entropy, re.compile(allow) if allow else None)


RULES: tuple[Rule, ...] = (
    _rule(
        "aws_access_key", r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b", 3, r"EXAMPLE$"
    ),
    _rule("github_token", r"\b(gh[pousr]_[0-9a-zA-Z]{36}|github_pat_\w{82})", 3),
    _rule("gitlab_token", r"\b(glpat-[\w-]{20})", 3),
    _rule(
        "openai_key",
        r"\b(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ"
        r"(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})"
        + _END,
        3,
    ),
    _rule("anthropic_key", r"\b(sk-ant-(?:api03|admin01)-[a-zA-Z0-9_\-]{93}AA)" + _END),
    _rule("stripe_key", r"\b((?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99})" + _END, 2),
    _rule(
        "slack_token",
        r"(xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*|xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}"
        r"|(?i:xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+)|xox[os]-\d+-\d+-\d+-[a-fA-F\d]+)",
        2,
    ),
    _rule(
        "slack_webhook",
        r"((?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,56})",
    ),
    _rule("gcp_api_key", r"\b(AIza[\w-]{35})" + _END, 4),
    _rule("npm_token", r"(?i)\b(npm_[a-z0-9]{36})" + _END, 2),
    _rule("pypi_token", r"(pypi-AgEIcHlwaS5vcmc[\w-]{50,1000})", 3),
    _rule("sendgrid_key", r"\b(SG\.[a-zA-Z0-9=_\-.]{66})" + _END, 2),
    _rule("huggingface_token", r"\b(hf_[a-zA-Z]{34})" + _END, 2),
    _rule("twilio_key", r"\b(SK[0-9a-fA-F]{32})\b", 3),
    _rule(
        "jwt",
        r"\b(ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9/\\_-]{17,}\.(?:[a-zA-Z0-9/\\_-]{10,}={0,2})?)" + _END,
        3,
    ),
    _rule("private_key", r"(-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----)"),
    # user:password@ in a URL: DATABASE_URL and REDIS_URL are the usual .env leak (Redis's
    # often without a user, redis://:password@host).
    _rule(
        "url_credentials",
        r"\b[a-z][a-z0-9+.-]*://[^/\s:@?#{}]*:([^/\s@?#{}]{3,})@[\w.-]+",
        # References and the words docs put there (`user:password@host`) are not passwords.
        allow=r"(?i)^(?:\$\w+|\*+|x+|<[^>]*>|pass(?:word)?|pwd|pw|token|secret|changeme)$",
    ),
)

_ASSIGNMENT = re.compile(
    r"""(?<![\w.-])(?P<name>[\w.-]{0,50}?"""
    r"""(?:(?i:access|auth|credential|creds|key|passw(?:or)?d|pwd|secret|token)|[Aa]pi|API)"""
    r"""[\w.-]{0,20})[ \t]*["']?[ \t]*(?:=|:=|:|=>|\?=)[ \t]*["'`]?"""
    r"""(?P<value>[^\s"'`;,()\[\]{}<>]{6,200})(?=$|[\s"'`;,])"""
)
"""gitleaks' generic-api-key: a name that says secret, an assignment, and a value."""

_PASSWORD_NAME = re.compile(r"(?i)passw(?:or)?d|pwd")
_GENERIC_VALUE = re.compile(r"[\w.=-]{10,150}|[a-z0-9][a-z0-9+/]{11,}={0,3}")
"""gitleaks' generic value; passwords may hold any character, other secrets only these."""
_NOT_SECRET_NAME = re.compile(
    r"(?i)(?:public|pub)[_.-]?key|key[_.-]?(?:id|name|file|path|size|length|type|alias|vault)"
    r"|access[_.-]?id|csrf|author|(?:_|\.|-)(?:url|uri|endpoint|host|port|file|path|dir|id|name|"
    r"type|mode|ttl|timeout|length|size|enabled|header|env|var|field|user(?:name)?)$"
)
_REFERENCE = re.compile(r"^(?:\$\{?[\w.:-]+\}?|%[\w]+%|@[\w]+@|\*+|x+|\.+)$", re.IGNORECASE)
_PLACEHOLDERS = frozenset(
    {"changeme", "change_me", "password", "secret", "example", "placeholder", "dummy", "redacted",
     "none", "null", "true", "false", "undefined", "required", "optional", "string", "your_password",
     "yourpassword", "your-password"}
)  # fmt: skip


def entropy(text: str) -> float:
    """Given a string, return its Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def scan_line(line: str) -> list[str]:
    """Given one line, return the kinds of secret it holds (each kind once)."""
    kinds = [rule.kind for rule in RULES if _matches(rule, line)]
    if not kinds:
        for found in _ASSIGNMENT.finditer(line):
            kind = _generic_kind(found.group("name"), found.group("value"))
            if kind and kind not in kinds:
                kinds.append(kind)
    return kinds


def mask_secrets(text: str, mark: str = REDACTED) -> str:
    """Given text, return it with every secret a scan would find in it (a token, a URL's password,
    a value assigned to a password, key or token) replaced by ``mark``."""
    spans = [
        found.span(1)
        for rule in RULES
        for found in rule.pattern.finditer(text)
        if _is_secret(rule, found.group(1))
    ]
    spans += [
        found.span("value")
        for found in _ASSIGNMENT.finditer(text)
        if _generic_kind(found.group("name"), found.group("value"))
    ]
    masked, end = [], 0
    for start, stop in sorted(spans):
        if stop <= end:
            continue  # inside a span already masked
        masked += [text[end : max(start, end)], mark]
        end = stop
    return "".join(masked) + text[end:]


def _matches(rule: Rule, line: str) -> bool:
    return any(_is_secret(rule, found.group(1)) for found in rule.pattern.finditer(line))


def _is_secret(rule: Rule, secret: str) -> bool:
    if rule.allow is not None and rule.allow.search(secret):
        return False
    return not (rule.entropy and entropy(secret) < rule.entropy)


def _generic_kind(name: str, value: str) -> str | None:
    if _NOT_SECRET_NAME.search(name) or _REFERENCE.match(value):
        return None
    if value.lower() in _PLACEHOLDERS or value.lower().startswith(("your", "<", "example")):
        return None
    if _PASSWORD_NAME.search(name):
        # Passwords are often low-entropy words; identifiers such as `settings.db_password`
        # are code, not values.
        return (
            None if re.fullmatch(r"[A-Za-z]+[._][\w.]+", value) else "generic_password_assignment"
        )
    if not _GENERIC_VALUE.fullmatch(value) or re.fullmatch(r"[a-zA-Z_.-]+", value):
        return None
    return "generic_secret_assignment" if entropy(value) >= 3.5 else None
