"""Building Episode/Step/Action/Observation without pydantic validation, for ingest's hot path.

Validating a ``Step`` costs several microseconds (``JsonValue`` arguments above all), more than
parsing the span it came from. The values ingest builds are JSON by construction (they come out
of orjson or protobuf), so they are set directly, as ``model_construct`` would, but cheaper. The
objects are ordinary, equal to validated ones, and dump the same.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, JsonValue

from wmh.core.types import Action, ActionKind, Episode, Observation, Step, ToolDef

_new = object.__new__
_set = object.__setattr__
M = TypeVar("M", bound=BaseModel)
_TOOL_CALL = ActionKind.TOOL_CALL


def _make(cls: type[M], values: dict) -> M:
    """An instance of ``cls`` holding ``values`` (all its fields), unvalidated."""
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", set(values))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def tool_step(
    name: str,
    arguments: dict[str, JsonValue],
    content: str,
    is_error: bool,
    call_id: str,
    span_id: str,
    start_ns: int,
) -> Step:
    """A recorded tool call as a Step; every argument must already have its field's type."""
    action = _new(Action)
    _set(action, "__dict__", {"kind": _TOOL_CALL, "name": name, "arguments": arguments, "content": ""})
    _set(action, "__pydantic_fields_set__", {"kind", "name", "arguments", "content"})
    _set(action, "__pydantic_extra__", None)
    _set(action, "__pydantic_private__", None)
    observation = _new(Observation)
    _set(observation, "__dict__", {"content": content, "is_error": is_error, "source": "recorded"})
    _set(observation, "__pydantic_fields_set__", {"content", "is_error", "source"})
    _set(observation, "__pydantic_extra__", None)
    _set(observation, "__pydantic_private__", None)
    values = {
        "action": action,
        "observation": observation,
        "call_id": call_id,
        "span_id": span_id,
        "start_ns": start_ns,
    }
    return _make(Step, values)


def episode(
    trace_id: str,
    source_file: str,
    task: str,
    tools: tuple[ToolDef, ...],
    steps: tuple[Step, ...],
    attributes: dict[str, str],
) -> Episode:
    """An Episode from values of its fields' types."""
    values = {
        "trace_id": trace_id,
        "source_file": source_file,
        "task": task,
        "tools": tools,
        "steps": steps,
        "attributes": attributes,
    }
    return _make(Episode, values)
