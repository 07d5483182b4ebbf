"""Tool definitions in the shapes traces and provider APIs write them, as ``ToolDef``s.

    tool_defs([{"type": "function", "function": {"name": "search", "parameters": {...}}},  # OpenAI
               {"name": "book", "input_schema": {...}},                                   # Anthropic
               {"name": "cancel", "inputSchema": {...}},                                  # MCP
               {"name": "lookup", "parameters": "{...}"}])                                # GenAI, JSON text

One ``ToolDef`` per name, in first-seen order: the first description and the first parameters
given for a name win, and a later definition only fills what is still empty. Pure; no IO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson
from pydantic import JsonValue

from wmh.core.types import ToolDef


def tool_defs(items: Iterable[Mapping[str, object] | ToolDef]) -> tuple[ToolDef, ...]:
    """The tools ``items`` define (module doc); an item with no name is skipped."""
    found: dict[str, tuple[str, dict[str, JsonValue] | None]] = {}
    for item in items:
        d = definition(item.model_dump() if isinstance(item, ToolDef) else item)
        name = d.get("name")
        if not isinstance(name, str) or not name:
            continue
        description, params = found.get(name, ("", None))
        given = d.get("description")
        found[name] = (
            description or (given if isinstance(given, str) else ""),
            params if params is not None else _schema(schema_of(d)),
        )
    return tuple(ToolDef(name=n, description=d, parameters=p) for n, (d, p) in found.items())


def definition(item: Mapping[str, object]) -> Mapping[str, object]:
    """The part of a definition that holds name, description and parameters (OpenAI nests it)."""
    fn = item.get("function")
    return fn if isinstance(fn, Mapping) else item


def schema_of(item: Mapping[str, object]) -> object:
    """The parameters a definition gives, as given (None when it gives none)."""
    d = definition(item)
    return d.get("parameters") or d.get("input_schema") or d.get("inputSchema")


def _schema(value: object) -> dict[str, JsonValue] | None:
    """A schema given as an object or as the JSON text of one; None for anything else."""
    if isinstance(value, str) and value[:1] == "{":
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return None
    return value if isinstance(value, dict) else None
