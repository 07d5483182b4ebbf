"""Spans → episodes: which spans are tool calls and where their name, arguments and result live.

Pure: spans in, episodes out. Lookup orders follow ``shared/data/FORMATS.md`` §5; the bare
``input``/``output`` attributes (seen on OpenInference's GenAI test spans) are a last resort.
A trace with no tool span gets its steps by pairing the tool calls in its LLM messages with the
tool results in later messages, by call id; a call with no result is not a step.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

import orjson
from pydantic import JsonValue

from wmh.core.jsonutil import canonical
from wmh.core.tools import tool_defs
from wmh.core.types import Episode, Step, ToolDef
from wmh.ingest.fast import episode, tool_step
from wmh.ingest.keys import Keys, keys_of
from wmh.ingest.messages import (
    Message,
    ToolCall,
    indexed,
    input_messages,
    loads_maybe,
    message,
    message_list,
    output_messages,
    system_text,
)
from wmh.ingest.spans import Attributes, Span

MAX_TASK = 4000
MAX_ATTRIBUTE = 200

_NAME_KEYS = ("gen_ai.tool.name", "tool.name", "traceloop.entity.name", "ai.toolCall.name")
_ID_KEYS = ("gen_ai.tool.call.id", "tool.id", "ai.toolCall.id")
_ARG_KEYS = (
    "gen_ai.tool.call.arguments",
    "input.value",
    "gcp.vertex.agent.tool_call_args",
    "tool_arguments",
    "gen_ai.tool.args",
    "ai.toolCall.args",
)
_RESULT_KEYS = (
    "gen_ai.tool.call.result",
    "output.value",
    "gcp.vertex.agent.tool_response",
    "tool_response",
    "gen_ai.output",
    "ai.toolCall.result",
)
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_NAME_PREFIXES = ("execute_tool ", "tools/call ")


def group_traces(spans: Iterable[Span]) -> dict[str, list[Span]]:
    """Spans by trace id, traces in order of first appearance, spans in file order."""
    traces: dict[str, list[Span]] = {}
    for span in spans:
        group = traces.get(span.trace_id)
        if group is None:
            traces[span.trace_id] = [span]
        else:
            group.append(span)
    return traces


def build_episode(trace_id: str, spans: list[Span], source_file: str) -> Episode:
    """One trace's spans (file order) as an Episode; ``steps`` may be empty.

    A span written twice (an exporter's retry) counts once.
    """
    ids = {s.span_id for s in spans}
    ordered = sorted(spans if len(ids) == len(spans) or "" in ids else _unique(spans), key=_start)
    root = find_root(ordered, ids)
    keys, tool_spans, talking, offering = _roles(ordered)
    return episode(
        trace_id=trace_id,
        source_file=source_file,
        task=find_task(talking, root),
        tools=find_tools(offering, tool_spans),
        steps=tuple(trace_steps(talking, tool_spans)),
        attributes=trace_attributes(ordered, root, keys),
    )


_start = attrgetter("start_ns")


def _roles(ordered: list[Span]) -> tuple[list[Keys], list[Span], list[Span], list[Span]]:
    """In one pass: each span's ``Keys``, the tool spans, those that may record messages, those
    that may record tool definitions (each in the order of ``ordered``)."""
    keys: list[Keys] = []
    tool_spans: list[Span] = []
    talking: list[Span] = []
    offering: list[Span] = []
    for span in ordered:
        k = keys_of(span.attributes)
        keys.append(k)
        if is_tool_span(span):
            tool_spans.append(span)
        if k.messages or span.events:
            talking.append(span)
        if k.tool_definitions:
            offering.append(span)
    return keys, tool_spans, talking, offering


def trace_steps(talking: list[Span], tool_spans: list[Span]) -> list[Step]:
    """The tool spans' steps; only in a trace with no tool span, calls paired through LLM messages.

    ``talking``: the spans (in time order) that may record messages. Not mixed: an LLM input also
    replays earlier turns (other traces) whose calls would count twice.
    """
    return tool_span_steps(tool_spans) if tool_spans else paired_steps(talking)


def _unique(spans: list[Span]) -> list[Span]:
    """The first span of each id (all have one)."""
    first: dict[str, Span] = {}
    for span in spans:
        first.setdefault(span.span_id, span)
    return list(first.values())


def find_root(ordered: list[Span], ids: set[str]) -> Span:
    """The earliest span whose parent is not in the trace (``ids``: the span ids in the trace)."""
    for span in ordered:
        if not span.parent_id or span.parent_id not in ids:
            return span
    return ordered[0]


# --- tool spans -------------------------------------------------------------------------------


def is_tool_span(span: Span) -> bool:
    a = span.attributes
    name = span.name
    return (
        a.get("gen_ai.operation.name") == "execute_tool"
        or name.startswith("execute_tool ")
        or a.get("openinference.span.kind") in ("TOOL", "tool")
        or a.get("traceloop.span.kind") == "tool"
        or a.get("mcp.method.name") == "tools/call"
        or name == "running tool"
        or name.startswith("ai.toolCall")
    )


def tool_span_steps(tool_spans: list[Span]) -> list[Step]:
    """A step per tool span that has a result (or failed); a tool span inside another is skipped.

    Two spans recording the same call (same call id, tool, arguments and answer) count once; a call
    id alone is no key, since agents reuse ids within a trace.
    """
    tool_ids = {s.span_id for s in tool_spans}
    steps: list[Step] = []
    by_call_id: dict[str, list[Step]] = {}  # the steps kept so far, by call id
    for span in tool_spans:
        if span.parent_id in tool_ids:
            continue
        step = tool_step_of(span)
        if step is None:
            continue
        call_id = step.call_id
        if call_id:
            kept = by_call_id.get(call_id)
            if kept is None:
                by_call_id[call_id] = [step]
            elif any(_same_call(step, other) for other in kept):
                continue
            else:
                kept.append(step)
        steps.append(step)
    return steps


def _same_call(a: Step, b: Step) -> bool:
    """Same tool, arguments (canonical JSON) and answer; the call ids are known to be equal."""
    return (
        a.action.name == b.action.name
        and a.observation.content == b.observation.content
        and canonical(a.action.arguments) == canonical(b.action.arguments)
    )


def tool_step_of(span: Span) -> Step | None:
    """The step a tool span records, or None when it has neither a result nor an error."""
    a = span.attributes
    result = a.get("gen_ai.tool.call.result")
    if result is None:
        result = _lookup(a, _RESULT_KEYS)
    if result is None:
        result = _fallback_result(span)
    error = is_error_span(span)
    if result is None:
        if not error:
            return None
        result = error_text(span)
    name = a.get("gen_ai.tool.name")  # the common case first, then the general lookups
    arguments = a.get("gen_ai.tool.call.arguments")
    call_id = a.get("gen_ai.tool.call.id")
    return tool_step(
        name if type(name) is str and name else tool_name(span),
        arguments_of(span) if arguments is None else as_arguments(arguments),
        result if type(result) is str else as_content(result),
        error,
        call_id if type(call_id) is str else call_id_of(span),
        span.span_id,
        span.start_ns,
    )


def _lookup(a: Attributes, keys: tuple[str, ...]) -> JsonValue:
    for key in keys:
        value = a.get(key)
        if value is not None:
            return value
    return None


def tool_name(span: Span) -> str:
    name = span.attributes.get("gen_ai.tool.name")
    if name is None:
        name = _lookup(span.attributes, _NAME_KEYS)
    if isinstance(name, str) and name:
        return name
    for prefix in _NAME_PREFIXES:
        if span.name.startswith(prefix):
            return span.name[len(prefix) :].strip()
    return span.name


def call_id_of(span: Span) -> str:
    value = span.attributes.get("gen_ai.tool.call.id")
    if value is None:
        value = _lookup(span.attributes, _ID_KEYS)
    if value is None:
        value = _event_attr(span, ("gen_ai.tool.message", "gen_ai.choice"), "id")
    if value is None:
        value = span.attributes.get("tool_call.id")
    return "" if value is None else str(value)


def arguments_of(span: Span) -> dict[str, JsonValue]:
    a = span.attributes
    value = a.get("gen_ai.tool.call.arguments")
    if value is None:
        value = _lookup(a, _ARG_KEYS)
    if value is None and "traceloop.entity.input" in a:
        return _traceloop_input(a["traceloop.entity.input"])
    if value is None:
        value = _event_attr(span, ("gen_ai.tool.message",), "content")
    if value is None:
        value = _details_part(span, "gen_ai.input.messages", "tool_call")
    if value is None:
        value = a.get("input")
    return as_arguments(value)


def _fallback_result(span: Span) -> JsonValue:
    a = span.attributes
    value = a.get("traceloop.entity.output")
    if value is None:
        value = _event_attr(span, ("gen_ai.choice",), "message")
    if value is None:
        value = _details_part(span, "gen_ai.output.messages", "tool_call_response")
    if value is None:
        value = a.get("output")
    return value


def _event_attr(span: Span, names: tuple[str, ...], key: str) -> JsonValue:
    for event in span.events:
        if event.name in names and key in event.attributes:
            return event.attributes[key]
    return None


def _details_part(span: Span, key: str, part_type: str) -> JsonValue:
    """From the operation-details event: a tool call's arguments or a tool result's response."""
    for event in span.events:
        if event.name != _DETAILS_EVENT:
            continue
        for msg in _messages_of(event.attributes.get(key)):
            if part_type == "tool_call" and msg.calls:
                return msg.calls[0].arguments
            if part_type == "tool_call_response" and msg.results:
                return msg.results[0][1]
    return None


def _messages_of(value: JsonValue) -> list[Message]:
    value = loads_maybe(value)
    if not isinstance(value, list):
        return []
    return [m for m in (message(d) for d in value if isinstance(d, dict)) if m is not None]


def _traceloop_input(value: JsonValue) -> dict[str, JsonValue]:
    """``traceloop.entity.input`` is ``{"args": [...], "kwargs": {...}}``: the kwargs, else the args."""
    value = loads_maybe(value)
    if not isinstance(value, dict) or not ("args" in value or "kwargs" in value):
        return as_arguments(value)
    kwargs, args = value.get("kwargs"), value.get("args")
    if isinstance(kwargs, dict) and kwargs:
        return kwargs
    if isinstance(args, list) and len(args) == 1 and isinstance(args[0], dict):
        return args[0]
    return {"args": args} if isinstance(args, list) and args else {}


def is_error_span(span: Span) -> bool:
    a = span.attributes
    if span.status_code == 2 or "error.type" in a:
        return True
    status = a.get("gen_ai.tool.status")
    if isinstance(status, str) and status.lower() in ("error", "failed", "failure"):
        return True
    flag = a.get("error")
    return flag is True or (isinstance(flag, str) and flag.lower() not in ("", "false", "0", "none"))


def error_text(span: Span) -> str:
    """What a failed tool span says about its failure, when it recorded no result."""
    a = span.attributes
    for value in (span.status_message, a.get("error.message"), a.get("error.type"), a.get("error")):
        if isinstance(value, str) and value and value.lower() != "true":
            return value
    exc = _event_attr(span, ("exception",), "exception.message")
    return exc if isinstance(exc, str) and exc else "error"


def as_arguments(value: JsonValue) -> dict[str, JsonValue]:
    """Tool arguments as a JSON object: JSON text parsed; a non-object wrapped as ``{"input": value}``."""
    if isinstance(value, dict):
        return value
    if value is None:
        return {}
    if isinstance(value, str):
        if value[:1] == "{":  # the common case: a JSON object
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                return {"input": value}
            if isinstance(parsed, dict):
                return parsed
        if not value.strip():
            return {}
        parsed = loads_maybe(value.strip())
        if isinstance(parsed, dict):
            return parsed
        if parsed is None:
            return {}
        value = parsed
    return {"input": value}


def as_content(value: JsonValue) -> str:
    """An observation's text: strings verbatim, structured values as compact JSON (key order kept)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


# --- pairing tool calls with results through messages -------------------------------------------


def paired_steps(talking: list[Span]) -> list[Step]:
    """Steps from tool calls in LLM messages matched by id with tool results in later messages."""
    calls: dict[str, tuple[ToolCall, Span]] = {}
    results: dict[str, JsonValue] = {}
    read = ""  # an input messages text whose messages are all counted already
    for span in talking:
        inputs, read = _unread_input_messages(span, read)
        for msg in [*inputs, *output_messages(span)]:
            for call in msg.calls:
                if call.id and call.id not in calls:
                    calls[call.id] = (call, span)
            for call_id, result in msg.results:
                if call_id and result is not None:
                    results.setdefault(call_id, result)
    return [_paired_step(call, span, results[cid]) for cid, (call, span) in calls.items() if cid in results]


def _unread_input_messages(span: Span, read: str) -> tuple[list[Message], str]:
    """The span's input messages less those of ``read``, and the text whose messages are now all counted.

    An LLM call's input repeats the conversation so far: when its ``gen_ai.input.messages`` text is
    ``read`` less its closing ``]``, a comma and more messages, only those are read (the elements
    before are the same text, so the same values). Counting a message again would add nothing: the
    first call and the first result of an id win. ``read`` is "" or a JSON list text with messages.
    """
    text = span.attributes.get("gen_ai.input.messages")
    if not isinstance(text, str):
        return input_messages(span), read
    if read and text == read:
        return [], read
    head = read[:-1]
    if read and text.startswith(head) and text[len(head) : len(head) + 1] == ",":
        added = message_list("[" + text[len(head) + 1 :])  # valid with an element iff the whole is
        if added:
            return added, text if text.endswith("]") else read
    messages = message_list(text)
    if not messages:
        return input_messages(span), read
    return messages, text if text.startswith("[") and text.endswith("]") else read


def _paired_step(call: ToolCall, span: Span, result: JsonValue) -> Step:
    return tool_step(
        name=call.name,
        arguments=as_arguments(call.arguments),
        content=as_content(result),
        is_error=False,
        call_id=call.id,
        span_id=span.span_id,
        start_ns=span.start_ns,
    )


# --- task, tools, attributes ---------------------------------------------------------------------


def find_task(talking: list[Span], root: Span) -> str:
    """The first user message in the trace's LLM inputs, else the system instructions, else the root's input.

    ``talking``: the spans (in time order) that may record messages or system instructions.
    """
    system = ""
    for span in talking:
        for msg in input_messages(span):
            if msg.role == "user" and msg.text.strip():
                return msg.text[:MAX_TASK]
            if msg.role == "system" and not system:
                system = msg.text
        system = system or system_text(span)
    if system:
        return system[:MAX_TASK]
    value = root.attributes.get("input.value")
    return value[:MAX_TASK] if isinstance(value, str) else ""


def find_tools(offering: list[Span], tool_spans: list[Span]) -> tuple[ToolDef, ...]:
    """Tools offered, from definitions on LLM spans and descriptions on tool spans; one per name.

    ``offering``: the spans (in time order) that may record tool definitions. In the usual case
    (every LLM call repeats the same ``gen_ai.tool.definitions`` text, no tool span describes its
    tool) the tools are built once per distinct texts and shared.
    """
    describing = [s for s in tool_spans if _describes_tool(s)]
    texts = None if describing else _definition_texts(offering)
    if texts is None:
        dicts = [d for s in offering for d in _tool_dicts(s)]
        return tool_defs([*dicts, *(_tool_span_def(s) for s in describing)])
    tools = _TOOLS_BY_TEXTS.get(texts)
    if tools is None:
        tools = tool_defs([d for text in texts for d in _definition_dicts(text)])
        if len(_TOOLS_BY_TEXTS) < _MAX_CACHED_TOOLS:
            _TOOLS_BY_TEXTS[texts] = tools
    return tools


_TOOLS_BY_TEXTS: dict[tuple[str, ...], tuple[ToolDef, ...]] = {}
_MAX_CACHED_TOOLS = 256  # distinct tool sets are few; a key holds their texts


def _describes_tool(span: Span) -> bool:
    a = span.attributes
    return "gen_ai.tool.description" in a or "tool.description" in a or "tool.parameters" in a


def _definition_texts(offering: list[Span]) -> tuple[str, ...] | None:
    """The distinct ``gen_ai.tool.definitions`` texts, first seen first; None if a span has other sources.

    A text seen before adds nothing (``tool_defs`` only fills what is still empty), so repeats drop.
    """
    texts: dict[str, None] = {}
    for span in offering:
        a = span.attributes
        text = a.get("gen_ai.tool.definitions")
        if (
            not isinstance(text, str)
            or "llm.tools.0.tool.json_schema" in a
            or "llm.request.functions.0.name" in a
        ):
            return None
        texts[text] = None
    return tuple(texts)


def _tool_dicts(span: Span) -> list[dict[str, JsonValue]]:
    a = span.attributes
    out = _definition_dicts(a.get("gen_ai.tool.definitions"))
    if "llm.tools.0.tool.json_schema" in a:
        for item in indexed(a, "llm.tools."):
            tool = item.get("tool") if isinstance(item, dict) else None
            schema = loads_maybe(tool.get("json_schema")) if isinstance(tool, dict) else None
            if isinstance(schema, dict):
                out.append(schema)
    if "llm.request.functions.0.name" in a:
        out.extend(d for d in indexed(a, "llm.request.functions.") if isinstance(d, dict))
    return out


def _definition_dicts(value: JsonValue) -> list[dict[str, JsonValue]]:
    defs = loads_maybe(value)
    return [d for d in defs if isinstance(d, dict)] if isinstance(defs, list) else []


def _tool_span_def(span: Span) -> dict[str, JsonValue]:
    a = span.attributes
    description = a.get("gen_ai.tool.description") or a.get("tool.description") or ""
    params = a.get("tool.parameters")
    if params is None and "tool.parameters.type" in a:  # flattened schema (Phoenix exports)
        params = _nested(a, "tool.parameters.")
    return {"name": tool_name(span), "description": description, "parameters": params}


def _nested(a: Attributes, prefix: str) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for key, value in a.items():
        if key.startswith(prefix):
            node = out
            *path, last = key[len(prefix) :].split(".")
            for part in path:
                child = node.setdefault(part, {})
                node = child if isinstance(child, dict) else {}
            node[last] = value
    return out


def trace_attributes(ordered: list[Span], root: Span, keys: list[Keys]) -> dict[str, str]:
    """Resource attributes, then the root span's, then any other span's context attributes (first wins).

    Message, argument and result content is left out; values are text cut to 200 characters.
    ``keys``: the ``Keys`` of each span's attributes. Spans mostly repeat a few key lists: once
    all keys of a list are in, later spans with that list (the same cached tuple) are skipped.
    """
    out: dict[str, str] = {}
    merged: set[int] = set()  # ids of the resources merged and of the context tuples all in ``out``
    for span, k in zip([root, *ordered], [keys_of(root.attributes), *keys], strict=True):
        resource = span.resource
        if id(resource) not in merged:
            merged.add(id(resource))
            _merge(out, resource, keys_of(resource).context)
        context = k.context
        if context and id(context) not in merged and _merge(out, span.attributes, context):
            merged.add(id(context))
    return out


def _merge(out: dict[str, str], attrs: Attributes, context: tuple[str, ...]) -> bool:
    """Add the ``context`` keys of ``attrs`` not in ``out`` yet; True if all of them are in it now."""
    complete = True
    for key in context:
        if key in out:
            continue
        value = attrs[key]
        if value is None:
            complete = False
            continue
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        out[key] = text[:MAX_ATTRIBUTE]
    return complete
