"""Infer a JSON Schema for a tool's arguments from the argument objects recorded in traces."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import JsonValue

_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
)


def infer_schema(examples: Sequence[dict[str, JsonValue]]) -> dict[str, JsonValue]:
    """An object schema: every key seen, its types, and ``required`` for keys present in every example."""
    if not examples:
        return {"type": "object"}
    return _object(examples)


def _object(examples: Sequence[dict[str, JsonValue]]) -> dict[str, JsonValue]:
    keys: dict[str, list[JsonValue]] = {}
    for ex in examples:
        for k, v in ex.items():
            keys.setdefault(k, []).append(v)
    required: list[JsonValue] = [k for k in sorted(keys) if len(keys[k]) == len(examples)]
    schema: dict[str, JsonValue] = {"type": "object", "properties": {k: _value(vs) for k, vs in keys.items()}}
    if required:
        schema["required"] = required
    return schema


def _value(values: Sequence[JsonValue]) -> dict[str, JsonValue]:
    kinds = sorted({_kind(v) for v in values})
    if kinds == ["object"]:
        return _object([v for v in values if isinstance(v, dict)])
    if kinds == ["array"]:
        items = [x for v in values if isinstance(v, list) for x in v]
        return {"type": "array", "items": _value(items)} if items else {"type": "array"}
    if kinds == ["integer", "number"]:
        return {"type": "number"}
    if len(kinds) == 1:
        return {"type": kinds[0]}
    return {"type": list[JsonValue](kinds)}


def _kind(value: JsonValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    for t, name in _TYPES:
        if isinstance(value, t):
            return name
    return "string"
