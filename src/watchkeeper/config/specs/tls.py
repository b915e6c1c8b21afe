"""The config of ``tls`` checks."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from watchkeeper.config.specs.base import Spec


class TlsSpec(Spec):
    """A TLS handshake → ``cert_expires_in``, ``issuer``, ``subject``, ``hostname_matches``."""

    # The handshake itself does not verify, so an expiring or untrusted certificate can still be
    # measured; by default the check then fails unless the chain verifies and the name matches.
    default_expect: ClassVar[tuple[str, ...]] = ("verified == true", "hostname_matches == true")

    host: str
    port: int = Field(default=443, ge=1, le=65535)
    sni: str | None = None
    verify_tls: bool = False
