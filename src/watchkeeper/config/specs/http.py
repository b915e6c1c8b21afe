"""The config of ``http`` checks."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.specs.base import Spec


class HttpSpec(Spec):
    """An HTTP(S) request → ``status``, ``response_time``, ``headers``, ``body``, ``json``, ``cert_expires_in``."""

    default_expect: ClassVar[tuple[str, ...]] = ("status < 400",)

    url: str
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    json_body: object | None = Field(default=None, alias="json")
    follow_redirects: bool = True
    verify_tls: bool = True
    keepalive: bool = True
    max_body: int = 1_000_000

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {v!r}")
        return v

    @model_validator(mode="after")
    def _one_body(self) -> HttpSpec:
        if self.body is not None and self.json_body is not None:
            raise ValueError("give either body or json, not both")
        return self

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, v: object) -> object:
        return v.upper() if isinstance(v, str) else v
