"""Building Episode/Step/Action/Observation without pydantic validation, for ingest's hot path.

Validating a ``Step`` costs several microseconds (``JsonValue`` arguments above all), more than
parsing the span it came from. The values ingest builds are JSON by construction (they come out
of orjson or protobuf), so they are set directly, as ``model_construct`` would, but
cheaper: the slots (``__dict__`` too) are written through their descriptors, and all instances
of a class share one fields-set (the models are frozen, and ``model_copy`` copies the set before
it adds to it). The objects are ordinary, equal to validated ones, and dump the same.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, JsonValue

from wmh.core.types import Action, ActionKind, Episode, Observation, Step, ToolDef

_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__  # half the cost of object.__setattr__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__
M = TypeVar("M", bound=BaseModel)
_TOOL_CALL = ActionKind.TOOL_CALL
_FIELDS: dict[type[BaseModel], set[str]] = {
    cls: set(cls.model_fields) for cls in (Action, Observation, Step, Episode)
}
_ACTION_FIELDS, _OBSERVATION_FIELDS, _STEP_FIELDS = _FIELDS[Action], _FIELDS[Observation], _FIELDS[Step]


def _make(cls: type[M], values: dict, fields: set[str]) -> M:
    """An instance of ``cls`` holding ``values`` (all its fields, named in ``fields``), unvalidated."""
    obj = _new(cls)
    _set_dict(obj, values)
    _set_fields(obj, fields)
    _set_extra(obj, None)
    _set_private(obj, None)
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
    _set_dict(action, {"kind": _TOOL_CALL, "name": name, "arguments": arguments, "content": ""})
    _set_fields(action, _ACTION_FIELDS)
    _set_extra(action, None)
    _set_private(action, None)
    observation = _new(Observation)
    _set_dict(observation, {"content": content, "is_error": is_error, "source": "recorded"})
    _set_fields(observation, _OBSERVATION_FIELDS)
    _set_extra(observation, None)
    _set_private(observation, None)
    step = _new(Step)
    values = {
        "action": action,
        "observation": observation,
        "call_id": call_id,
        "span_id": span_id,
        "start_ns": start_ns,
    }
    _set_dict(step, values)
    _set_fields(step, _STEP_FIELDS)
    _set_extra(step, None)
    _set_private(step, None)
    return step


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
    return _make(Episode, values, _FIELDS[Episode])
