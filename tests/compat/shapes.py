"""A small language for JSON shapes, and the check of a live response against one.

A shape names JSON types, not values: `STR`, `INT` (an integer, never 33.3), `NUM` (any number), `BOOL`,
`TIMESTAMP` (an ISO 8601 string), `ANY`; `obj(field=shape, ...)` (an object with at least these keys —
extra keys are allowed, a missing key or a key of another type is a problem); `arr(item)` (an array whose
every item has the item's shape; an empty array is a problem unless `may_be_empty`, because it would
check nothing); `dict_of(shape)` (an object used as a map); `nullable(shape)`; `optional(shape)` (the
key may be absent); `one_of(*values)` (a constant); `either(*shapes)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Problems = list[str]


@dataclass(frozen=True)
class Shape:
    name: str
    check: Callable[[Any, str], Problems]
    nullable: bool = False
    optional: bool = False

    def __repr__(self) -> str:
        return self.name


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), type(value).__name__)


def _scalar(name: str, accepts: Callable[[Any], bool]) -> Shape:
    def check(value: Any, at: str) -> Problems:
        return [] if accepts(value) else [f"{at}: expected {name}, got {_type_name(value)} {value!r:.60}"]

    return Shape(name, check)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


STR = _scalar("string", lambda v: isinstance(v, str))
INT = _scalar("integer", _is_int)
NUM = _scalar("number", lambda v: _is_int(v) or isinstance(v, float))
BOOL = _scalar("boolean", lambda v: isinstance(v, bool))
TIMESTAMP = _scalar("ISO 8601 timestamp", _is_timestamp)
ANY = Shape("any", lambda value, at: [])


def nullable(shape: Shape) -> Shape:
    return Shape(f"{shape.name} | null", shape.check, nullable=True, optional=shape.optional)


def optional(shape: Shape) -> Shape:
    """The key may be absent (as the original API left some keys out rather than sending null)."""
    return Shape(f"{shape.name}?", shape.check, nullable=shape.nullable, optional=True)


def one_of(*values: Any) -> Shape:
    def check(value: Any, at: str) -> Problems:
        return [] if value in values else [f"{at}: expected one of {values!r}, got {value!r:.60}"]

    return Shape(" | ".join(repr(v) for v in values), check)


def either(*shapes: Shape) -> Shape:
    def check(value: Any, at: str) -> Problems:
        if any(not validate(shape, value, at) for shape in shapes):
            return []
        return [f"{at}: matches none of {shapes!r}: {value!r:.80}"]

    return Shape(" | ".join(shape.name for shape in shapes), check)


def obj(**fields: Shape) -> Shape:
    def check(value: Any, at: str) -> Problems:
        if not isinstance(value, dict):
            return [f"{at}: expected an object, got {_type_name(value)}"]
        problems: Problems = []
        for name, shape in fields.items():
            if name not in value:
                if not shape.optional:
                    problems.append(f"{at}.{name}: missing")
                continue
            problems += validate(shape, value[name], f"{at}.{name}")
        return problems

    return Shape("object", check)


def arr(item: Shape, *, may_be_empty: bool = False) -> Shape:
    def check(value: Any, at: str) -> Problems:
        if not isinstance(value, list):
            return [f"{at}: expected an array, got {_type_name(value)}"]
        if not value and not may_be_empty:
            return [f"{at}: empty, so its items' shape goes unchecked (the scene must fill it)"]
        return [
            problem
            for index, entry in enumerate(value)
            for problem in validate(item, entry, f"{at}[{index}]")
        ]

    return Shape(f"array of {item.name}", check)


def dict_of(item: Shape) -> Shape:
    def check(value: Any, at: str) -> Problems:
        if not isinstance(value, dict):
            return [f"{at}: expected an object, got {_type_name(value)}"]
        return [
            problem for key, entry in value.items() for problem in validate(item, entry, f"{at}[{key!r}]")
        ]

    return Shape(f"map of {item.name}", check)


def validate(shape: Shape, value: Any, at: str = "$") -> Problems:
    """Every way `value` differs from `shape`; empty when it fits."""
    if value is None:
        return [] if shape.nullable else [f"{at}: null where {shape.name} is required"]
    return shape.check(value, at)


@dataclass
class Report:
    """Problems found over many responses, each line naming the case."""

    lines: list[str] = field(default_factory=list)

    def add(self, case: str, problems: Problems) -> None:
        self.lines += [f"{case}: {problem}" for problem in problems]
