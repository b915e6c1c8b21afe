"""Load ``watchkeeper.yaml``: YAML, ``${VAR}`` from the environment, pydantic validation.

Every problem is reported as ``FILE:LINE:COLUMN: message``, all of them at once. A valid file is
read the fast way; only a file with problems is read again with positions (see ``reading``).
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from watchkeeper.config.reading import Path_, Positions, PositionsReader, position, read_plain
from watchkeeper.config.references import dangling
from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets

_PYDANTIC_WORDED = {
    "greater_than_equal",
    "less_than_equal",
    "greater_than",
    "less_than",
    "literal_error",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ConfigError(Exception):
    """A config file that cannot be used; ``problems`` says every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


@dataclass
class LoadedConfig:
    """A validated config, where it came from, and the secrets it drew from the environment."""

    config: Config
    path: Path
    secrets: Secrets = field(default_factory=Secrets)

    @property
    def store_url(self) -> str:
        """Return the store's URL: as configured, else a SQLite file beside the config."""
        configured = self.config.store
        if not configured:
            return f"sqlite:///{(self.path.parent / 'watchkeeper.db').resolve()}"
        if "://" in configured:
            return configured
        store_path = Path(configured)
        if not store_path.is_absolute():
            store_path = self.path.parent / store_path
        return f"sqlite:///{store_path.resolve()}"

    @property
    def postmortem_dir(self) -> Path:
        """Return where post-mortems are written: ``incidents.postmortem_dir``, relative to the config."""
        return (self.path.parent / self.config.incidents.postmortem_dir).resolve()


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Given a config file's path, return it validated, or raise ConfigError listing every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [Problem(str(path), 1, 1, f"cannot read the file: {exc.strerror}")]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(str(path), 1, 1, f"not UTF-8 text: {exc.reason}")]) from None
    config, secrets = parse_config_text(text, str(path), os.environ if env is None else env)
    config = config.rooted(file.parent.resolve())
    return LoadedConfig(config=config, path=file, secrets=secrets)


def parse_config_text(text: str, filename: str, env: Mapping[str, str]) -> tuple[Config, Secrets]:
    """Given YAML text and the name to report it under, return the Config and the secrets it used."""
    with _collector_paused():
        read = read_plain(text, env)
        if read is not None:
            data, used = read
            config, problems = _validate(data, Positions(), filename)
            if config is not None and not problems:
                return config, Secrets(used)
        return _parse_with_positions(text, filename, env)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of a with block."""
    # Loading builds hundreds of thousands of objects and no cycles: the collections that so many
    # allocations trigger find nothing to free, and cost a quarter of the time to load.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse_with_positions(
    text: str, filename: str, env: Mapping[str, str]
) -> tuple[Config, Secrets]:
    """Read the text node by node, so that every problem can be raised with its position."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line, column = position(exc.problem_mark or exc.context_mark)
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([Problem(filename, line, column, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(filename, 1, 1, f"invalid YAML: {exc}")]) from None
    if node is None:
        raise ConfigError(
            [Problem(filename, 1, 1, "the file is empty: it needs at least `checks:`")]
        )
    reader = PositionsReader(env)
    data = reader.read(node)
    problems = [Problem(filename, *at, message) for at, message in reader.problems]
    if not isinstance(data, dict):
        line, column = reader.positions.at(())
        message = "the file must be a mapping (keys such as `checks:`)"
        raise ConfigError([*problems, Problem(filename, line, column, message)])
    config, invalid = _validate(data, reader.positions, filename)
    problems += invalid
    secrets = Secrets(reader.substitution.secrets)
    if problems:
        # A message may quote a value that came from the environment ("got '…'").
        redacted = {replace(p, message=secrets.redact(p.message)) for p in problems}
        raise ConfigError(sorted(redacted, key=lambda p: (p.line, p.column, p.message)))
    assert config is not None
    return config, secrets


def _validate(
    data: dict[str, Any], positions: Positions, filename: str
) -> tuple[Config | None, list[Problem]]:
    """Given plain data, return the Config (None if invalid) and every problem found."""
    problems: list[Problem] = []
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems.extend(_explain(exc, positions, filename))
    problems.extend(_duplicate_names(data, positions, filename))
    if config is not None:
        problems.extend(_references(config, positions, filename))
        config = config.with_backup_checks().with_service_slos()
    return config, problems


def _explain(exc: ValidationError, positions: Positions, filename: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc: Path_ = tuple(error["loc"])
        kind = error["type"]
        offset = 0
        if kind == "extra_forbidden":
            line, column = positions.at(loc, prefer_key=True)
            message = _unknown_key(loc)
        else:
            line, column = positions.at(loc)
            message = error["msg"].removeprefix("Value error, ")
            ctx = error.get("ctx") or {}
            if "position" in ctx and loc in positions.values:
                offset = int(ctx["position"]) + (1 if loc in positions.quoted else 0)
            if kind == "missing":
                message = f"missing required key {loc[-1]!r}"
            elif kind in _PYDANTIC_WORDED or (kind != "value_error" and "ctx" not in error):
                # Pydantic's own wording ("Input should be …") does not say which key it means.
                field_name = next((p for p in reversed(loc) if isinstance(p, str)), "value")
                message = f"{field_name}: {message[:1].lower()}{message[1:]}"
        problems.append(Problem(filename, line, column + offset, message))
    return problems


def _unknown_key(loc: Path_) -> str:
    key = str(loc[-1])
    model = _model_at(Config, loc[:-1])
    if model is None:
        return f"unknown key {key!r}"
    known = set(model.model_fields)
    known |= {f.alias for f in model.model_fields.values() if f.alias}
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {key!r}{hint}"


def _model_at(model: type[BaseModel], loc: Path_) -> type[BaseModel] | None:
    """Return the model class that validates the mapping at ``loc`` below ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            current = _element_type(current)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field_info = current.model_fields.get(part) or next(
            (f for f in current.model_fields.values() if f.alias == part), None
        )
        if field_info is None:
            return None
        current = _unwrap(field_info.annotation)
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` to ``X``."""
    args = [a for a in get_args(annotation) if a is not type(None)]
    if (
        get_origin(annotation) is not None
        and len(args) == 1
        and get_origin(annotation) not in (tuple, list)
    ):
        return args[0]
    return annotation


def _element_type(annotation: Any) -> Any:
    args = get_args(_unwrap(annotation))
    return _unwrap(args[0]) if args else None


def _duplicate_names(data: dict[str, Any], positions: Positions, filename: str) -> list[Problem]:
    """Report check names used twice; works on the raw data so it runs even when other keys are invalid."""
    checks = data.get("checks")
    if not isinstance(checks, list):
        return []
    problems = []
    first_seen: dict[str, int] = {}
    for i, check in enumerate(checks):
        name = check.get("name") if isinstance(check, dict) else None
        if not isinstance(name, str):
            continue
        if name not in first_seen:
            first_seen[name] = i
            continue
        line, column = positions.at(("checks", i, "name"))
        first = positions.at(("checks", first_seen[name], "name"))
        where = f" (first defined on line {first[0]})"
        problems.append(Problem(filename, line, column, f"duplicate check name {name!r}{where}"))
    return problems


def _references(config: Config, positions: Positions, filename: str) -> list[Problem]:
    """Report names that point nowhere, each at its place in the file."""
    return [Problem(filename, *positions.at(loc), message) for loc, message in dangling(config)]
