"""Load ``watchkeeper.yaml``: YAML with positions, ``${VAR}`` from the environment, pydantic validation.

Every problem is reported as ``FILE:LINE:COLUMN: message``, all of them at once.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from watchkeeper.config.schema import Config
from watchkeeper.config.secrets import Secrets

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")
_BAD_VAR = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::?-[^}]*)?\})")

Path_ = tuple[str | int, ...]
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


@dataclass
class _Positions:
    """Where each value (and each mapping key) stands in the file, by its path from the root."""

    values: dict[Path_, yaml.Mark] = field(default_factory=dict)
    keys: dict[Path_, yaml.Mark] = field(default_factory=dict)
    quoted: set[Path_] = field(default_factory=set)

    def at(self, loc: Path_, prefer_key: bool = False) -> yaml.Mark | None:
        """Return the mark of ``loc`` or of its nearest ancestor in the file."""
        for n in range(len(loc), -1, -1):
            head = loc[:n]
            if prefer_key and head in self.keys:
                return self.keys[head]
            if head in self.values:
                return self.values[head]
        return None


class _Reader:
    """Turns a composed YAML node tree into plain data, recording positions and env substitutions."""

    def __init__(self, filename: str, env: Mapping[str, str]) -> None:
        self.filename = filename
        self.env = env
        self.positions = _Positions()
        self.secrets: list[str] = []
        self.problems: list[Problem] = []
        self._constructor = yaml.SafeLoader("")

    def problem(self, mark: yaml.Mark | None, message: str, column_offset: int = 0) -> None:
        line, column = (mark.line + 1, mark.column + 1 + column_offset) if mark else (1, 1)
        self.problems.append(Problem(self.filename, line, column, message))

    def read(self, node: yaml.Node, path: Path_ = ()) -> Any:
        self.positions.values[path] = node.start_mark
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.style in ("'", '"'):
            self.positions.quoted.add(path)
        value = self._constructor.construct_object(node, deep=True)
        if isinstance(value, str) and "$" in value:
            return self._interpolate(value, node)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        self._constructor.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                self.problem(key_node.start_mark, f"keys must be text, not {key!r}")
                continue
            if key in result:
                self.problem(key_node.start_mark, f"duplicate key {key!r}")
                continue
            self.positions.keys[(*path, key)] = key_node.start_mark
            result[key] = self.read(value_node, (*path, key))
        return result

    def _interpolate(self, text: str, node: yaml.ScalarNode) -> str:
        quote = 1 if node.style in ("'", '"') else 0
        bad = _BAD_VAR.search(text)
        if bad:
            self.problem(
                node.start_mark,
                "bad variable reference: write ${NAME} or ${NAME:-default}",
                quote + bad.start(),
            )
            return text

        def substitute(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name, op, default = m.group("name"), m.group("op"), m.group("default")
            value = self.env.get(name)
            if value is None or (op == ":-" and value == ""):
                if op is None:
                    self.problem(
                        node.start_mark,
                        f"environment variable {name} is not set and has no default "
                        f"(write ${{{name}:-default}} to give one)",
                        quote + m.start(),
                    )
                    return ""
                return default or ""
            self.secrets.append(value)
            return value

        return _VAR.sub(substitute, text)


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
    return LoadedConfig(config=config, path=file, secrets=secrets)


def parse_config_text(text: str, filename: str, env: Mapping[str, str]) -> tuple[Config, Secrets]:
    """Given YAML text and the name to report it under, return the Config and the secrets it used."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        raise ConfigError([Problem(filename, line, column, f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(filename, 1, 1, f"invalid YAML: {exc}")]) from None
    if node is None:
        raise ConfigError(
            [Problem(filename, 1, 1, "the file is empty: it needs at least `checks:`")]
        )
    reader = _Reader(filename, env)
    data = reader.read(node)
    if not isinstance(data, dict):
        reader.problem(node.start_mark, "the file must be a mapping (keys such as `checks:`)")
        raise ConfigError(reader.problems)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        reader.problems.extend(_explain(exc, reader.positions, filename))
    reader.problems.extend(_duplicate_names(data, reader.positions, filename))
    if config is not None:
        reader.problems.extend(_references(config, reader.positions, filename))
    secrets = Secrets(reader.secrets)
    if reader.problems:
        # A message may quote a value that came from the environment ("got '…'").
        redacted = {replace(p, message=secrets.redact(p.message)) for p in reader.problems}
        raise ConfigError(sorted(redacted, key=lambda p: (p.line, p.column, p.message)))
    assert config is not None
    return config, secrets


def _explain(exc: ValidationError, positions: _Positions, filename: str) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        loc: Path_ = tuple(error["loc"])
        kind = error["type"]
        offset = 0
        if kind == "extra_forbidden":
            mark = positions.at(loc, prefer_key=True)
            message = _unknown_key(loc)
        else:
            mark = positions.at(loc)
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
        line, column = (mark.line + 1, mark.column + 1 + offset) if mark else (1, 1)
        problems.append(Problem(filename, line, column, message))
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


def _duplicate_names(data: dict[str, Any], positions: _Positions, filename: str) -> list[Problem]:
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
        mark = positions.at(("checks", i, "name"))
        first = positions.at(("checks", first_seen[name], "name"))
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        where = f" (first defined on line {first.line + 1})" if first else ""
        problems.append(Problem(filename, line, column, f"duplicate check name {name!r}{where}"))
    return problems


def _references(config: Config, positions: _Positions, filename: str) -> list[Problem]:
    """Report names that point nowhere: dependencies, channels of routes, channel URLs."""
    problems = []

    def at(loc: Path_, message: str) -> None:
        mark = positions.at(loc)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(filename, line, column, message))

    checks = {c.name for c in config.checks}
    channels = set(config.notifications.channels)
    for i, check in enumerate(config.checks):
        for j, dep in enumerate(check.depends_on):
            if dep == check.name:
                at(("checks", i, "depends_on", j), f"check {dep!r} cannot depend on itself")
            elif dep not in checks:
                at(("checks", i, "depends_on", j), f"unknown check {dep!r}{_close(dep, checks)}")
        for j, channel in enumerate(check.alert.route if check.alert else ()):
            if channel not in channels:
                at(("checks", i, "alert", "route", j), _unknown_channel(channel, channels))
    for i, route in enumerate(config.notifications.routes):
        for j, channel in enumerate(route.channels):
            if channel not in channels:
                at(
                    ("notifications", "routes", i, "channels", j),
                    _unknown_channel(channel, channels),
                )
    for name, urls in config.notifications.channels.items():
        for j, url in enumerate(urls):
            if not _apprise_accepts(url):
                at(
                    ("notifications", "channels", name, j),
                    f"channel {name!r}: not a URL Apprise can send to (e.g. json://host/path, "
                    "mailto://user@host, slack://…)",
                )
    cycle = _dependency_cycle({c.name: c.depends_on for c in config.checks})
    if cycle:
        index = next(i for i, c in enumerate(config.checks) if c.name == cycle[0])
        at(("checks", index, "depends_on"), f"dependency cycle: {' -> '.join(cycle)}")
    return problems


def _close(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _unknown_channel(name: str, channels: set[str]) -> str:
    known = ", ".join(sorted(channels)) or "none are defined under notifications.channels"
    return f"unknown channel {name!r}{_close(name, channels)}; channels: {known}"


def _apprise_accepts(url: str) -> bool:
    import apprise  # slow to import: only configs with channels pay for it

    return apprise.Apprise.instantiate(url, suppress_exceptions=True) is not None


def _dependency_cycle(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    """Return one cycle of ``depends_on`` as a path of names, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name) :], name]
        if name in done or name not in graph:
            return None
        for dep in graph[name]:
            found = visit(dep, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for start in graph:
        found = visit(start, [])
        if found:
            return found
    return None
