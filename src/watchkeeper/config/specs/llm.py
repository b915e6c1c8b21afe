"""The config of ``llm`` checks (one provider's API) and ``llm_chain`` checks (a fallback chain)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator

from watchkeeper.config.specs.base import Spec
from watchkeeper.config.types import Duration


class LlmProvider(StrEnum):
    """The API an ``llm`` check speaks: OpenAI's (and every API compatible with it), or Ollama's."""

    OPENAI = "openai"
    OLLAMA = "ollama"


class LlmSpec(Spec):
    """An LLM provider's API → ``available``, ``status``, ``response_time``, ``models``,
    ``model_available``, ``completion_time``, ``ratelimit_*``, ``quota_used_percent``,
    ``key_expires_in``.

    ``openai`` covers every OpenAI-compatible API (OpenAI, OpenRouter, Groq, Mistral, DeepSeek,
    Together …). Its ``url`` is the API base as the OpenAI SDK's ``base_url`` takes it
    (``https://api.groq.com/openai/v1``); a bare host (``https://api.openai.com``) gets ``/v1``.
    ``ollama`` takes the server's address (``http://localhost:11434``).
    """

    default_expect: ClassVar[tuple[str, ...]] = ("available == true",)

    provider: LlmProvider = LlmProvider.OPENAI
    url: str = Field(description="the API base URL")
    key: SecretStr | None = Field(
        default=None, description="the API key, sent as a Bearer token; write it as ${ENV_VAR}"
    )
    model: str | None = Field(default=None, description="a model that must be listed")
    complete: bool = Field(default=False, description="also ask `model` for a one-token completion")
    key_expires: date | None = Field(
        default=None, description="the day the key stops working (UTC), e.g. 2027-03-01"
    )
    verify_tls: bool = True

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {v!r}")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _model_to_complete(self) -> LlmSpec:
        if self.complete and not self.model:
            raise ValueError("complete: true needs a model to ask")
        return self


class LlmChainSpec(Spec):
    """A fallback chain of ``llm`` checks, judged from their recent results → ``active_provider``,
    ``healthy_count``, ``all_failing``, ``latency_p50`` and ``error_rate`` by provider,
    ``suggested_order``, ``order_changed``."""

    default_expect: ClassVar[tuple[str, ...]] = ("all_failing == false",)
    reads_store: ClassVar[bool] = True

    providers: tuple[str, ...] = Field(
        description="names of llm checks, in the order the application falls back through them"
    )
    window: Duration = Field(
        default=30 * 86400.0, description="how far back latency and error rate are measured"
    )

    @field_validator("providers")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("providers must name at least one llm check")
        repeated = sorted({p for p in v if v.count(p) > 1})
        if repeated:
            raise ValueError(f"providers must be distinct; repeated: {', '.join(repeated)}")
        return v

    @field_validator("window")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("window must be longer than zero")
        return v
