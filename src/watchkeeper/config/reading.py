"""Read YAML into plain data with ``${VAR}`` from the environment, fast or with positions.

The fast way builds the data straight from libyaml's parse events. It leaves anything to report,
and rare YAML, to the positions way, which reads a composed node tree and records where every
value stands, so that each problem can name its line and column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml

try:
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

_VAR = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}")
_BAD_VAR = re.compile(r"\$\{(?![A-Za-z_][A-Za-z0-9_]*(?::?-[^}]*)?\})")
_STR_TAG = "tag:yaml.org,2002:str"
_T = TypeVar("_T")

Path_ = tuple[str | int, ...]
Position = tuple[int, int]
"""A 1-based (line, column): two ints, where a ``yaml.Mark`` would hold on to the whole text."""


@dataclass
class Positions:
    """Where each value (and each mapping key) stands in the file, by its path from the root."""

    values: dict[Path_, Position] = field(default_factory=dict)
    keys: dict[Path_, Position] = field(default_factory=dict)
    quoted: set[Path_] = field(default_factory=set)

    def at(self, loc: Path_, prefer_key: bool = False) -> Position:
        """Return the position of ``loc`` or of its nearest ancestor in the file (else 1:1)."""
        for n in range(len(loc), -1, -1):
            head = loc[:n]
            if prefer_key and head in self.keys:
                return self.keys[head]
            if head in self.values:
                return self.values[head]
        return (1, 1)


class Substitution:
    """``${VAR}`` substitution from one environment; the values it uses are secrets."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.secrets: list[str] = []

    def __call__(self, text: str) -> tuple[str, list[tuple[int, str]]]:
        """Given a scalar's text, return it substituted, and each problem as (offset, message)."""
        bad = _BAD_VAR.search(text)
        if bad:
            return text, [
                (bad.start(), "bad variable reference: write ${NAME} or ${NAME:-default}")
            ]
        problems: list[tuple[int, str]] = []

        def substitute(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name, op, default = m.group("name"), m.group("op"), m.group("default")
            value = self.env.get(name)
            if value is None or (op == ":-" and value == ""):
                if op is None:
                    message = (
                        f"environment variable {name} is not set and has no default "
                        f"(write ${{{name}:-default}} to give one)"
                    )
                    problems.append((m.start(), message))
                    return ""
                return default or ""
            self.secrets.append(value)
            return value

        return _VAR.sub(substitute, text), problems


class _NeedsPositions(Exception):
    """The fast way met a problem to report, or YAML it leaves to the positions way."""


class _PlainReader:
    """Builds plain data straight from libyaml's events: no node tree, a tenth of the memory.

    It reads mappings, sequences, scalars, anchors and aliases as the positions way does, and
    leaves the rest to it: problems, tagged scalars (``!!str 1``) and merge keys (``<<``).
    """

    def __init__(self, text: str, substitution: Substitution) -> None:
        self.loader = _FastLoader(text)
        self.substitution = substitution
        self.anchors: dict[str, Any] = {}

    def document(self) -> Any:
        """Return the data of the text's only document."""
        loader = self.loader
        try:
            loader.get_event()  # the stream's start
            if not loader.check_event(yaml.DocumentStartEvent):
                raise _NeedsPositions  # an empty file
            loader.get_event()
            data = self.node(loader.get_event())
            loader.get_event()  # the document's end
            if not loader.check_event(yaml.StreamEndEvent):
                raise _NeedsPositions  # a second document
            return data
        finally:
            loader.dispose()

    def node(self, event: Any) -> Any:
        """Given the event that starts a node, return the node's data."""
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in self.anchors:
                raise _NeedsPositions
            return self.anchors[event.anchor]
        if isinstance(event, yaml.ScalarEvent):
            return self.anchored(event, self.scalar(event))
        if isinstance(event, yaml.SequenceStartEvent):
            items = self.anchored(event, [])
            while not self.loader.check_event(yaml.SequenceEndEvent):
                items.append(self.value(self.loader.get_event()))
            self.loader.get_event()
            return items
        mapping = self.anchored(event, {})
        while not self.loader.check_event(yaml.MappingEndEvent):
            key = self.node(self.loader.get_event())
            if not isinstance(key, str) or key in mapping:
                raise _NeedsPositions
            mapping[key] = self.value(self.loader.get_event())
        self.loader.get_event()
        return mapping

    def anchored(self, event: Any, data: _T) -> _T:
        """Return ``data``, remembered under the event's anchor if it has one."""
        if event.anchor is not None:
            if event.anchor in self.anchors:
                raise _NeedsPositions  # an anchor defined twice
            self.anchors[event.anchor] = data
        return data

    def value(self, event: Any) -> Any:
        """Given the event that starts a value (not a key), return it with ``${VAR}`` substituted."""
        data = self.node(event)
        if isinstance(data, str) and "$" in data:
            data, problems = self.substitution(data)
            if problems:
                raise _NeedsPositions
        return data

    def scalar(self, event: yaml.ScalarEvent) -> Any:
        """Given a scalar's event, return its value: text, a number, a boolean, None or a date."""
        if event.tag not in (None, "!"):
            raise _NeedsPositions
        loader = self.loader
        tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        if tag == _STR_TAG:
            return event.value
        # The merge key `<<` resolves to a tag with no constructor.
        construct = loader.yaml_constructors.get(tag)
        if construct is None:
            raise _NeedsPositions
        return construct(loader, yaml.ScalarNode(tag, event.value, style=event.style))


def read_plain(text: str, env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]] | None:
    """Given YAML text, return its mapping and the secrets used, or None to read with positions."""
    substitution = Substitution(env)
    try:
        data = _PlainReader(text, substitution).document()
    except (yaml.YAMLError, ValueError, _NeedsPositions):
        return None
    return (data, substitution.secrets) if isinstance(data, dict) else None


class PositionsReader:
    """Turns a composed YAML node tree into plain data, recording positions and env substitutions."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.substitution = Substitution(env)
        self.positions = Positions()
        self.problems: list[tuple[Position, str]] = []
        self._constructor = yaml.SafeLoader("")

    def problem(self, at: Position, message: str, column_offset: int = 0) -> None:
        """Record a problem at a position, or that many columns to its right."""
        self.problems.append(((at[0], at[1] + column_offset), message))

    def read(self, node: yaml.Node, path: Path_ = ()) -> Any:
        """Given a node and its path from the root, return its data."""
        at = position(node.start_mark)
        self.positions.values[path] = at
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.read(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        quote = 1 if node.style in ("'", '"') else 0
        if quote:
            self.positions.quoted.add(path)
        try:
            value = self._constructor.construct_object(node, deep=True)
        except (yaml.MarkedYAMLError, ValueError) as exc:
            # An unknown tag (`!foo`), or a date such as 2024-13-45 that resolves but does not exist.
            reason = exc.problem if isinstance(exc, yaml.MarkedYAMLError) else exc
            self.problem(at, f"invalid YAML: {reason}")
            return node.value  # as text, so that validation does not report the value again
        if isinstance(value, str) and "$" in value:
            value, problems = self.substitution(value)
            for offset, message in problems:
                self.problem(at, message, quote + offset)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        self._constructor.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                self.problem(position(key_node.start_mark), f"keys must be text, not {key!r}")
                continue
            if key in result:
                self.problem(position(key_node.start_mark), f"duplicate key {key!r}")
                continue
            self.positions.keys[(*path, key)] = position(key_node.start_mark)
            result[key] = self.read(value_node, (*path, key))
        return result


def position(mark: yaml.Mark | None) -> Position:
    """Given a mark (or None), return its 1-based line and column (else 1:1)."""
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)
