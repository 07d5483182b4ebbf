"""A tool call checked against the tool's declared parameters before any engine answers it.

The traces record the JSON Schema each tool was offered with. A real tool (a function-calling
framework, an MCP server) refuses a call that does not fit it: a required argument missing, a string
where a number goes, a value outside an enum. A world model that answered such a call from analogy
would teach an agent that the call works, so the call fails with the schema's complaint. A schema
that is not valid JSON Schema is ignored (the traces' word, not the tool's). Pure; no IO.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import jsonschema
from jsonschema.exceptions import best_match
from pydantic import JsonValue, ValidationError

from wmh.core.errors import InvalidToolsError
from wmh.core.tools import schema_of, tool_defs
from wmh.core.types import Action, ActionKind, Observation, ToolDef

SCHEMA_SOURCE = "schema"  # the source of a refusal: the environment never saw the call
UNKNOWN_TOOL_SOURCE = "unknown-tool"


class ArgumentCheck:
    """Validators for the tools whose recorded parameters are a usable JSON Schema. ``closed``: the
    tools are all there are (a session declared them), so a call to any other tool fails too."""

    def __init__(self, tools: Sequence[ToolDef], *, closed: bool = False) -> None:
        self._names = tuple(t.name for t in tools) if closed else None
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        self._checks: dict[str, Check] = {}
        for tool in tools:
            if tool.parameters:
                cls = jsonschema.validators.validator_for(
                    tool.parameters, default=jsonschema.Draft202012Validator
                )
                try:
                    cls.check_schema(tool.parameters)
                except jsonschema.SchemaError:
                    continue
                self._validators[tool.name] = cls(tool.parameters)
                self._checks[tool.name] = compile_schema(tool.parameters, tool.parameters)

    def refusal(self, action: Action) -> Observation | None:
        """The failure a call that does not fit its tool's parameters gets; None when it fits."""
        if action.kind is not ActionKind.TOOL_CALL:
            return None
        if self._names is not None and action.name not in self._names:
            text = f"Error: unknown tool {action.name!r}; this session's tools: {', '.join(self._names[:20])}"
            return Observation(content=text, is_error=True, source=UNKNOWN_TOOL_SOURCE)
        validator = self._validators.get(action.name)
        if validator is None:
            return None
        arguments = dict(action.arguments)
        if self._checks[action.name](arguments):  # the common case, without jsonschema's cost
            return None
        error = best_match(validator.iter_errors(arguments))
        if error is None:
            return None
        where = ".".join(str(p) for p in error.absolute_path)
        text = f"Error: invalid arguments for {action.name}: {where + ': ' if where else ''}{error.message}"
        return Observation(content=text, is_error=True, source=SCHEMA_SOURCE)


def declared_tools(items: Iterable[object], recorded: Sequence[ToolDef]) -> tuple[ToolDef, ...]:
    """The tools a session declares, from definitions in any shape ``wmh.core.tools`` reads; one
    declared without parameters takes those the traces recorded for its name. Raises
    ``InvalidToolsError`` for a definition with no name or with parameters that are not a JSON Schema."""
    declared: list[ToolDef] = []
    for i, item in enumerate(items):
        if not isinstance(item, ToolDef):
            if not isinstance(item, Mapping):
                raise InvalidToolsError(f"tools[{i}] is not an object; {_SHAPE}")
            given = schema_of(item)
            try:
                found = tool_defs([item])
            except ValidationError as err:
                raise InvalidToolsError(
                    f"tools[{i}] holds a value that is not JSON ({err.errors()[0]['msg']}); {_SHAPE}"
                ) from None
            if not found:
                raise InvalidToolsError(f"tools[{i}] has no name; {_SHAPE}")
            item = found[0]
            if given is not None and item.parameters is None:
                raise InvalidToolsError(
                    f"tool {item.name!r}: parameters are not a JSON Schema object; {_SHAPE}"
                )
        if item.parameters is not None:
            _require_schema(item.name, item.parameters)
        declared.append(item)
    names = {t.name for t in declared}
    return tool_defs([*declared, *(t for t in recorded if t.name in names)])


_SHAPE = 'give each as {"name": ..., "description": ..., "parameters": {JSON Schema}} (OpenAI, Anthropic and MCP tool shapes work too)'


def _require_schema(name: str, schema: dict[str, JsonValue]) -> None:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as err:
        raise InvalidToolsError(
            f"tool {name!r}: parameters are not valid JSON Schema ({err.message}); fix them or leave them out"
        ) from None


Check = Callable[[JsonValue], bool]

_TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}
_BOUNDS: dict[str, Callable[[float, float], bool]] = {
    "minimum": lambda x, b: x >= b,
    "maximum": lambda x, b: x <= b,
    "exclusiveMinimum": lambda x, b: x > b,
    "exclusiveMaximum": lambda x, b: x < b,
}


def fits(schema: JsonValue, value: JsonValue) -> bool:
    """Whether ``value`` fits ``schema`` (see ``compile_schema``)."""
    return compile_schema(schema, schema)(value)


def compile_schema(schema: JsonValue, root: JsonValue, refs: dict[str, Check] | None = None) -> Check:
    """A check of a value against ``schema`` as far as the keywords tool schemas use tell (type, enum,
    const, properties, required, additionalProperties, items, bounds, anyOf/oneOf/allOf, local $ref);
    a keyword not checked here never refuses: jsonschema has the last word on a refusal. Compiled once
    per tool, a check costs a few microseconds where jsonschema takes ~150."""
    refs = {} if refs is None else refs
    if schema is False:
        return lambda v: False
    if not isinstance(schema, dict):
        return _anything
    checks = [c for part in _PARTS for c in part(schema, root, refs)]
    if not checks:
        return _anything
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    return lambda v: all(c(v) for c in checks)


def _anything(_: JsonValue) -> bool:
    return True


def _ref_part(schema: dict[str, JsonValue], root: JsonValue, refs: dict[str, Check]) -> Iterator[Check]:
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return
    if ref not in refs:
        refs[ref] = _anything  # a schema that refers to itself: checked to the depth of the value
        refs[ref] = compile_schema(_resolve(root, ref), root, refs)
    yield lambda v: refs[ref](v)


def _value_part(schema: dict[str, JsonValue], _: JsonValue, __: dict[str, Check]) -> Iterator[Check]:
    kind = schema.get("type")
    kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]
    if kinds and all(k in _TYPES for k in kinds):
        types = [_TYPES[k] for k in kinds]
        yield types[0] if len(types) == 1 else lambda v: any(t(v) for t in types)
    enum = schema.get("enum")
    if isinstance(enum, list):
        if all(isinstance(e, str) for e in enum):
            names = frozenset(enum)
            yield lambda v: isinstance(v, str) and v in names
        else:
            yield lambda v: any(_same(v, e) for e in enum)
    if "const" in schema:
        const = schema["const"]
        yield lambda v: _same(v, const)
    for key, ok in _BOUNDS.items():
        bound = schema.get(key)
        if isinstance(bound, int | float) and not isinstance(bound, bool):
            yield lambda v, ok=ok, b=bound: not isinstance(v, int | float) or isinstance(v, bool) or ok(v, b)
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) or isinstance(high, int):
        lo, hi = low if isinstance(low, int) else 0, high if isinstance(high, int) else None
        yield lambda v: not isinstance(v, str) or (lo <= len(v) and (hi is None or len(v) <= hi))


def _object_part(schema: dict[str, JsonValue], root: JsonValue, refs: dict[str, Check]) -> Iterator[Check]:
    listed = schema.get("required")
    required = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
    raw = schema.get("properties")
    props = {k: compile_schema(v, root, refs) for k, v in raw.items()} if isinstance(raw, dict) else {}
    extra = (
        None
        if "patternProperties" in schema
        else compile_schema(schema.get("additionalProperties", True), root, refs)
    )
    if not required and not props and extra in (None, _anything):
        return

    def check(v: JsonValue) -> bool:
        if not isinstance(v, dict):
            return True
        if any(r not in v for r in required):
            return False
        for key, x in v.items():
            c = props.get(key, extra)
            if c is not None and not c(x):
                return False
        return True

    yield check


def _array_part(schema: dict[str, JsonValue], root: JsonValue, refs: dict[str, Check]) -> Iterator[Check]:
    items = schema.get("items")
    each = compile_schema(items, root, refs) if isinstance(items, dict) else None
    low, high = schema.get("minItems"), schema.get("maxItems")
    lo, hi = low if isinstance(low, int) else 0, high if isinstance(high, int) else None
    if each is None and not lo and hi is None:
        return
    yield (
        lambda v: (
            not isinstance(v, list)
            or (lo <= len(v) and (hi is None or len(v) <= hi) and (each is None or all(each(x) for x in v)))
        )
    )


def _combined_part(schema: dict[str, JsonValue], root: JsonValue, refs: dict[str, Check]) -> Iterator[Check]:
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            subs = [compile_schema(o, root, refs) for o in options]
            if key == "allOf":
                yield lambda v, subs=subs: all(c(v) for c in subs)
            else:  # oneOf as anyOf: a value fitting two options is jsonschema's to refuse
                yield lambda v, subs=subs: any(c(v) for c in subs)


_PARTS = (_ref_part, _value_part, _object_part, _array_part, _combined_part)


def _same(a: JsonValue, b: JsonValue) -> bool:
    """JSON equality: true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _resolve(root: JsonValue, ref: str) -> JsonValue:
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return True  # an unresolvable reference refuses nothing
        node = node[part]
    return node
