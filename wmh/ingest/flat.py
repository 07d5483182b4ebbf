"""Flat span dicts → ``Span``: the many "one JSON object per span" shapes.

Accepted: snake_case or camelCase ids and times (``trace_id``/``traceId``, ``start_time``/
``start_time_unix_nano``/``startTimeUnixNano``/``started_at``), ids nested in ``context`` and
``parent`` (any-agent, the OTel SDK's ``to_json``), Phoenix's ``span_kind``/``status_code``, the
OpenAI Agents SDK's ``span_data``, attributes as a flat dict or an OTLP KeyValue list.
"""

from __future__ import annotations

from pydantic import JsonValue

from wmh.ingest.otlp import kvs
from wmh.ingest.spans import (
    Attributes,
    Span,
    SpanEvent,
    flatten_nested,
    hex_id,
    kind_code,
    status_code,
    time_ns,
)

_OPENINFERENCE_KINDS = frozenset(
    {
        "LLM",
        "EMBEDDING",
        "CHAIN",
        "RETRIEVER",
        "RERANKER",
        "TOOL",
        "AGENT",
        "GUARDRAIL",
        "EVALUATOR",
        "PROMPT",
    }
)


def looks_like_span(obj: dict) -> bool:
    return (
        ("trace_id" in obj or "traceId" in obj or "context" in obj or "span_id" in obj or "spanId" in obj)
        and "resourceSpans" not in obj
    ) or obj.get("object") == "trace.span"


def flat_span(obj: dict, line: int) -> Span:
    g = obj.get
    attrs = _attributes(g("attributes"))
    kind = g("kind") or 0
    oi_kind = g("span_kind")
    if isinstance(oi_kind, str) and oi_kind.upper() in _OPENINFERENCE_KINDS:
        attrs.setdefault("openinference.span.kind", oi_kind.upper())
    elif oi_kind is not None:
        kind = oi_kind
    data = g("span_data")
    if isinstance(data, dict):
        _openai_agents(data, attrs)
    trace_id, span_id = _ids(obj)
    code, message = _status(obj)
    start = _first(obj, "start_time_unix_nano", "startTimeUnixNano", "start_time", "startTime", "started_at")
    end = _first(obj, "end_time_unix_nano", "endTimeUnixNano", "end_time", "endTime", "ended_at")
    name = g("name") or (data.get("name") if isinstance(data, dict) else "")
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=_parent(obj),
        name=str(name or ""),
        kind=kind_code(kind),
        start_ns=time_ns(start),
        end_ns=time_ns(end),
        attributes=attrs,
        events=[_event(e) for e in g("events") or () if isinstance(e, dict)],
        status_code=code,
        status_message=message,
        resource=_resource(g("resource")),
        line=line,
    )


def _ids(obj: dict) -> tuple[str, str]:
    ctx = obj.get("context")
    if not isinstance(ctx, dict):
        ctx = {}
    trace_id = obj.get("trace_id") or obj.get("traceId") or ctx.get("trace_id") or ctx.get("traceId")
    span_id = (
        obj.get("span_id") or obj.get("spanId") or ctx.get("span_id") or ctx.get("spanId") or obj.get("id")
    )
    return hex_id(trace_id), hex_id(span_id)


def _first(obj: dict, *keys: str) -> JsonValue:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _attributes(raw: object) -> Attributes:
    if isinstance(raw, list):
        return kvs(raw)
    if not isinstance(raw, dict):
        return {}
    attrs: Attributes = dict(raw)
    flatten_nested(attrs)
    return attrs


def _parent(obj: dict) -> str:
    for key in ("parent_span_id", "parentSpanId", "parent_id", "parentId", "parent"):
        value = obj.get(key)
        if isinstance(value, dict):
            value = value.get("span_id") or value.get("spanId")
        if value:
            return hex_id(value)
    return ""


def _status(obj: dict) -> tuple[int, str]:
    status = obj.get("status")
    if isinstance(status, dict):
        code = status.get("code", status.get("status_code"))
        message = status.get("message") or status.get("description") or ""
    else:
        code, message = status if status is not None else obj.get("status_code"), ""
    message = message or obj.get("status_message") or ""
    error = obj.get("error")
    if error:  # OpenAI Agents SDK: {"message": ..., "data": ...}
        message = message or (error.get("message") if isinstance(error, dict) else str(error)) or ""
        return 2, str(message)
    return status_code(code), str(message)


def _event(e: dict) -> SpanEvent:
    t = _first(e, "time_unix_nano", "timeUnixNano", "timestamp", "time")
    return SpanEvent(
        name=str(e.get("name") or ""), time_ns=time_ns(t), attributes=_attributes(e.get("attributes"))
    )


def _resource(raw: object) -> Attributes:
    if isinstance(raw, dict) and "attributes" in raw:
        raw = raw["attributes"]
    return _attributes(raw)


def _openai_agents(data: dict, attrs: Attributes) -> None:
    """OpenAI Agents SDK ``span_data``: a ``function`` span is a tool call, the rest context."""
    kind = data.get("type")
    if kind == "function":
        attrs.setdefault("gen_ai.operation.name", "execute_tool")
        attrs.setdefault("gen_ai.tool.name", data.get("name"))
        attrs.setdefault("gen_ai.tool.call.arguments", data.get("input"))
        if data.get("output") is not None:
            attrs.setdefault("gen_ai.tool.call.result", data.get("output"))
    for key, value in data.items():
        if isinstance(value, (str, int, float, bool)):
            attrs.setdefault(f"openai_agents.{kind}.{key}", value)
