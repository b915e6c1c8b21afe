"""The config of ``browser`` checks."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from watchkeeper.config.specs.base import Spec


class BrowserSpec(Spec):
    """A page loaded in headless Chromium → ``load_time``, ``lcp``, ``cls``, ``console_errors``,
    ``transfer_size``, ``js_size``, ``status``; with ``pwa``, ``manifest_ok`` and ``service_worker``."""

    default_expect: ClassVar[tuple[str, ...]] = ("status < 400",)

    url: str
    pwa: bool = Field(
        default=False, description="also check the web app manifest and the service worker"
    )
    chromium: str = Field(default="/usr/bin/chromium", description="the Chromium executable")
    headers: dict[str, str] = Field(default_factory=dict)
    viewport: tuple[int, int] = Field(default=(1280, 800), description="width and height in CSS px")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {v!r}")
        return v
