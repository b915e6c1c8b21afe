"""The config of ``secrets`` checks: files scanned for credentials that should not be there."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from watchkeeper.config.specs.base import Spec, paths_shorthand


class SecretsSpec(Spec):
    """Files scanned for secret patterns → ``count``, ``findings`` (``file:line:kind``),
    ``kinds``, ``files_scanned``; never the secrets themselves."""

    default_expect: ClassVar[tuple[str, ...]] = ("count == 0",)

    path_fields: ClassVar[tuple[str, ...]] = ("paths",)

    paths: tuple[str, ...] = Field(
        description="files, directories (scanned recursively) or glob patterns (`**` allowed)"
    )
    exclude: tuple[str, ...] = Field(
        default=(),
        description="glob patterns of files to leave out, matched against the path and the name",
    )
    max_file_size: int = Field(
        default=2_000_000, gt=0, description="bytes; larger files are skipped"
    )

    @model_validator(mode="before")
    @classmethod
    def _from_paths(cls, data: object) -> object:
        # `secrets: .env` and `secrets: [.env, config/]` are shorthands for `paths`.
        return paths_shorthand(data)

    @field_validator("paths")
    @classmethod
    def _not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("paths must name at least one file, directory or pattern")
        return v
