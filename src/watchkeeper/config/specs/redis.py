"""The config of ``redis`` checks."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from watchkeeper.config.specs.base import Spec

_SCHEMES = ("redis://", "rediss://", "unix://")


class RedisSpec(Spec):
    """A Redis server's INFO → ``hit_rate``, ``used_memory``, ``connected_clients``, ``ping_time`` …"""

    url: str = Field(
        description="redis://[:password@]host:port/db (rediss:// for TLS, unix:///path.sock);"
        " write the password as ${ENV}"
    )
    password: SecretStr | None = Field(
        default=None,
        description="the password, when it holds characters a URL would need escaped;"
        " overrides the URL's",
    )

    @field_validator("url")
    @classmethod
    def _redis_url(cls, v: str) -> str:
        if not v.startswith(_SCHEMES):
            # Only the scheme is echoed: the rest of the URL may hold the password.
            raise ValueError("url must start with redis://, rediss:// or unix://")
        return v

    @model_validator(mode="after")
    def _one_password(self) -> RedisSpec:
        try:
            in_url = urlsplit(self.url).password
        except ValueError:
            in_url = None  # redis-py says what is wrong with the URL when the check runs
        if self.password is not None and in_url:
            raise ValueError("give the password either in url or in password, not both")
        return self
