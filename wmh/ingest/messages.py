"""LLM messages recorded on a span, in whatever convention, as one small normalized form.

Sources (input side / output side):

- GenAI ≥ 1.37: ``gen_ai.input.messages`` / ``gen_ai.output.messages`` (JSON text or structured,
  parts schema), also inside the ``gen_ai.client.inference.operation.details`` event;
- OpenInference: ``llm.input_messages.{i}.message.*`` / ``llm.output_messages.{i}.message.*``;
- OpenLLMetry legacy: ``gen_ai.prompt.{i}.*`` / ``gen_ai.completion.{i}.*``, or ``gen_ai.prompt`` /
  ``gen_ai.completion`` holding a JSON message list;
- GenAI 1.28–1.36 per-message events: ``gen_ai.{system,user,assistant,tool}.message`` /
  ``gen_ai.choice``.

Message shapes understood: the GenAI parts schema, OpenAI chat (``content``, ``tool_calls``,
``tool_call_id``), Anthropic content blocks (``tool_use``/``tool_result``), OpenInference's
``message.contents``/``tool_call.function``, and the legacy flattened tool calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from pydantic import JsonValue

from wmh.ingest.spans import Attributes, Span

_EVENT_ROLES = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
_DETAILS_EVENT = "gen_ai.client.inference.operation.details"


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: JsonValue


@dataclass(slots=True)
class Message:
    role: str
    text: str = ""
    calls: list[ToolCall] = field(default_factory=list)
    results: list[tuple[str, JsonValue]] = field(default_factory=list)


def loads_maybe(value: JsonValue) -> JsonValue:
    """``value`` parsed if it is JSON text, else unchanged."""
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def input_messages(span: Span) -> list[Message]:
    a = span.attributes
    return (
        message_list(a.get("gen_ai.input.messages"))
        or _indexed_messages(a, "llm.input_messages.")
        or _indexed_messages(a, "gen_ai.prompt.")
        or message_list(a.get("gen_ai.prompt"))
        or _event_messages(span, "gen_ai.input.messages", input_side=True)
    )


def output_messages(span: Span) -> list[Message]:
    a = span.attributes
    return (
        message_list(a.get("gen_ai.output.messages"))
        or _indexed_messages(a, "llm.output_messages.")
        or _indexed_messages(a, "gen_ai.completion.")
        or message_list(a.get("gen_ai.completion"))
        or _event_messages(span, "gen_ai.output.messages", input_side=False)
    )


def system_text(span: Span) -> str:
    """``gen_ai.system_instructions`` as text (parts joined), or ""."""
    value = loads_maybe(span.attributes.get("gen_ai.system_instructions"))
    if isinstance(value, list):
        return "\n".join(t for t in (_part_text(p) for p in value) if t)
    return value if isinstance(value, str) else ""


def message_list(value: JsonValue) -> list[Message]:
    """The messages in a JSON list (or ``{"messages": [...]}``), parsed first if it is JSON text."""
    value = loads_maybe(value)
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if not isinstance(value, list):
        return []
    out: list[Message] = []
    for d in value:
        if isinstance(d, dict):
            msg = message(d)
            if msg is not None:
                out.append(msg)
    return out


def _indexed_messages(attrs: Attributes, prefix: str) -> list[Message]:
    items = indexed(attrs, prefix)
    return [m for m in (message(d) for d in items if isinstance(d, dict)) if m is not None]


def indexed(attrs: Attributes, prefix: str) -> list[JsonValue]:
    """Rebuild a list from flattened keys: ``p.0.a.b = 1`` → ``[{"a": {"b": 1}}]``."""
    root: dict[str, JsonValue] = {}
    for key, value in attrs.items():
        if key.startswith(prefix):
            _put(root, key[len(prefix) :].split("."), value)
    if not root or not all(k.isdigit() for k in root):
        return []
    return [_listify(root[k]) for k in sorted(root, key=int)]


def _put(node: dict[str, JsonValue], path: list[str], value: JsonValue) -> None:
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[path[-1]] = value


def _listify(value: JsonValue) -> JsonValue:
    if not isinstance(value, dict):
        return value
    if value and all(k.isdigit() for k in value):
        return [_listify(value[k]) for k in sorted(value, key=int)]
    return {k: _listify(v) for k, v in value.items()}


def message(d: dict) -> Message | None:
    """One message dict in any of the understood shapes."""
    if len(d) == 2 and "parts" in d and "role" in d:  # the GenAI parts schema, the common case
        return _parts_message(d["role"], d["parts"])
    inner = d.get("message")
    if isinstance(inner, dict):  # OpenInference {"message": {...}}, gen_ai.choice bodies
        d = inner
    role = d.get("role")
    msg = Message(role=role if isinstance(role, str) else "")
    texts: list[str] = []
    _content(d.get("content"), msg, texts)
    _content(d.get("contents"), msg, texts)
    _content(d.get("parts"), msg, texts)
    for tc in _as_list(d.get("tool_calls")):
        if isinstance(tc, dict):
            msg.calls.append(_tool_call(tc))
    msg.text = "\n".join(texts)
    call_id = d.get("tool_call_id") or (d.get("id") if msg.role == "tool" else None)
    if call_id and not msg.results:
        content = d.get("content")
        msg.results.append((str(call_id), content if isinstance(content, str) or not texts else msg.text))
    return msg if msg.role or msg.text or msg.calls or msg.results else None


def _parts_message(role: JsonValue, parts: JsonValue) -> Message | None:
    """``message({"role": role, "parts": parts})``, less the lookups of keys that are not there."""
    msg = Message(role=role if isinstance(role, str) else "")
    texts: list[str] = []
    _content(parts, msg, texts)
    msg.text = "\n".join(texts)
    return msg if msg.role or msg.text or msg.calls or msg.results else None


def _as_list(value: JsonValue) -> list[JsonValue]:
    value = loads_maybe(value)
    return value if isinstance(value, list) else []


def _content(value: JsonValue, msg: Message, texts: list[str]) -> None:
    if isinstance(value, str):
        texts.append(value)
        return
    if not isinstance(value, list):
        return
    for part in value:
        if isinstance(part, dict):
            _part(part, msg, texts)
        elif isinstance(part, str):
            texts.append(part)


def _part(part: dict, msg: Message, texts: list[str]) -> None:
    kind = part.get("type")
    if kind in ("tool_call", "tool_use", "function_call"):
        msg.calls.append(_tool_call(part))
    elif kind in ("tool_call_response", "tool_result", "function_call_output"):
        call_id = part.get("id") or part.get("tool_use_id") or part.get("call_id") or ""
        result = part.get("response", part.get("content", part.get("output")))
        msg.results.append((str(call_id), result))
    else:
        text = _part_text(part)
        if text:
            texts.append(text)


def _part_text(part: JsonValue) -> str:
    if isinstance(part, str):
        return part
    if not isinstance(part, dict):
        return ""
    inner = part.get("message_content")  # OpenInference contents.{k}.message_content
    if isinstance(inner, dict):
        part = inner
    if part.get("type") not in (None, "text", "input_text", "output_text"):
        return ""
    text = part.get("content", part.get("text"))
    return text if isinstance(text, str) else ""


def _tool_call(tc: dict) -> ToolCall:
    inner = tc.get("tool_call")  # OpenInference tool_calls.{j}.tool_call.*
    if isinstance(inner, dict):
        tc = inner
    fn = tc.get("function")
    if not isinstance(fn, dict):
        fn = tc
    args = fn.get("arguments", fn.get("input", tc.get("arguments")))
    call_id = tc.get("id") or tc.get("call_id") or ""
    return ToolCall(id=str(call_id), name=str(fn.get("name") or ""), arguments=args)


def _event_messages(span: Span, details_key: str, input_side: bool) -> list[Message]:
    out: list[Message] = []
    for event in span.events:
        if event.name == _DETAILS_EVENT:
            out.extend(message_list(event.attributes.get(details_key)))
        elif input_side and event.name in _EVENT_ROLES:
            out.extend(_event_message(event.attributes, _EVENT_ROLES[event.name]))
        elif input_side and event.name == "gen_ai.content.prompt":
            out.extend(message_list(event.attributes.get("gen_ai.prompt")))
        elif not input_side and event.name == "gen_ai.choice":
            out.extend(_event_message(event.attributes, "assistant"))
        elif not input_side and event.name == "gen_ai.content.completion":
            out.extend(message_list(event.attributes.get("gen_ai.completion")))
    return out


def _event_message(attrs: Attributes, role: str) -> list[Message]:
    body = loads_maybe(attrs.get("body"))
    d: dict[str, JsonValue] = dict(body) if isinstance(body, dict) else dict(attrs)
    inner = loads_maybe(d.get("message"))
    if isinstance(inner, dict):
        d = {**d, **inner}
        d.pop("message", None)
    d.setdefault("role", role)
    if not d.get("role"):
        d["role"] = role
    msg = message(d)
    return [msg] if msg is not None else []
