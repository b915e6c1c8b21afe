"""The demo target's switchboard: which parts fail or are slow, quota use, its inbox and its log."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from watchkeeper.demo.target_log import AppLog

# Every part the controls at /_demo can make fail or slow, in the order they are listed there.
PARTS = (
    "home",
    "health",
    "admin",
    "manifest",
    "sw",
    "bundle",
    "openai",
    "backup",
    "ollama",
    "agents",
    "backend",
    "supabase",
    "frappe",
    "contribux",
)
# Share of each provider's per-minute rate limit other clients use, until /_demo/quota changes it.
QUOTA_USED = {"openai": 45, "backup": 20}


@dataclass
class TargetState:
    """Which parts fail, which are slow (milliseconds), the providers' quota use, the inbox."""

    failing: set[str] = field(default_factory=set)
    inbox: deque[dict[str, str]] = field(default_factory=lambda: deque(maxlen=50))
    slow_ms: dict[str, int] = field(default_factory=dict)
    quota_used: dict[str, int] = field(default_factory=lambda: dict(QUOTA_USED))

    def as_dict(self) -> dict[str, object]:
        """Return the state as JSON-ready data."""
        return {
            "failing": sorted(self.failing),
            "slow_ms": self.slow_ms,
            "quota_used_percent": self.quota_used,
        }


@dataclass
class Target:
    """The state and the log every handler of the target shares."""

    state: TargetState
    log: AppLog

    async def enter(self, part: str, request: web.Request) -> bool:
        """Delay a request to a slow part and log it; return whether the part is failing."""
        delay = self.state.slow_ms.get(part, 0)
        if delay:
            await asyncio.sleep(delay / 1000)
        failing = part in self.state.failing
        self.log.request(datetime.now(UTC), request.method, request.path, part, failing)
        return failing
