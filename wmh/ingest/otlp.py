"""OTLP traces → ``Span``: JSON (walking orjson dicts) and protobuf messages.

JSON is read by hand, not through ``google.protobuf.json_format``: that parser reads ids as base64
and silently yields wrong ids, and it is ~10x slower. Producers' deviations from the spec are
accepted: enum names as strings, int64 as numbers, base64 ids.
"""

from __future__ import annotations

import base64
import sys

from pydantic import JsonValue

from wmh.ingest.spans import (
    Attributes,
    InexactIdError,
    Span,
    SpanEvent,
    flatten_nested,
    hex_id,
    kind_code,
    status_code,
)

_intern = sys.intern


def is_otlp(obj: dict) -> bool:
    return "resourceSpans" in obj or "resource_spans" in obj


def request_spans(obj: dict, line: int, out: list[Span], errors: list[str]) -> None:
    """Append the spans of one ExportTraceServiceRequest / TracesData JSON object to ``out``.

    A span that cannot be read is skipped and described in ``errors``.
    """
    for rs in obj.get("resourceSpans") or obj.get("resource_spans") or ():
        resource = rs.get("resource") or {}
        res_attrs = kvs(resource.get("attributes"))
        scopes = rs.get("scopeSpans") or rs.get("scope_spans") or rs.get("instrumentationLibrarySpans") or ()
        for ss in scopes:
            for s in ss.get("spans") or ():
                try:
                    out.append(json_span(s, res_attrs, line))
                except InexactIdError:
                    raise
                except (KeyError, TypeError, ValueError, AttributeError) as err:
                    errors.append(
                        f"span {s.get('spanId', '?') if isinstance(s, dict) else '?'}: {describe(err)}"
                    )


def describe(err: Exception) -> str:
    """A short text for a data error."""
    if isinstance(err, KeyError):
        return f"missing field {err}"
    return f"{type(err).__name__}: {err}"


def json_span(s: dict, resource: Attributes, line: int) -> Span:
    """One OTLP JSON span (lowerCamelCase keys, snake_case accepted). Hot path: keep it lean."""
    g = s.get
    tid, sid, pid = g("traceId"), g("spanId"), g("parentSpanId")
    start, end = g("startTimeUnixNano"), g("endTimeUnixNano")
    if tid is None or sid is None or start is None:
        tid, sid, pid = tid or g("trace_id"), sid or g("span_id"), pid or g("parent_span_id")
        start, end = start or g("start_time_unix_nano"), end or g("end_time_unix_nano")
    status = g("status")
    events = g("events")
    kind = g("kind") or 0
    name = g("name") or ""
    return Span(  # trace and parent ids and names repeat from span to span: one copy of each is kept
        _intern(tid.lower()) if type(tid) is str and len(tid) == 32 else hex_id(tid),
        sid.lower() if type(sid) is str and len(sid) == 16 else hex_id(sid),
        _intern(pid.lower()) if type(pid) is str and len(pid) == 16 else hex_id(pid),
        _intern(name) if type(name) is str else name,
        kind if type(kind) is int else kind_code(kind),
        int(start or 0),
        int(end or 0),
        kvs(g("attributes")),
        [_json_event(e) for e in events] if events else [],
        status_code(status.get("code") or 0) if status else 0,
        (status.get("message") or "") if status else "",
        resource,
        line,
    )


def _json_event(e: dict) -> SpanEvent:
    t = e.get("timeUnixNano") or e.get("time_unix_nano") or 0
    return SpanEvent(name=e.get("name") or "", time_ns=int(t), attributes=kvs(e.get("attributes")))


def kvs(items: list[dict] | None) -> Attributes:
    """A KeyValue list as a flat dict; kvlist values also get dotted keys.

    Keys are interned: every span repeats the same few, and one shared copy of each costs less
    memory (less to allocate and free) and makes later lookups by those keys compare by identity.
    """
    if not items:
        return {}
    out: Attributes = {}
    nested = False
    for kv in items:
        v = kv.get("value")
        if v is None:
            continue
        s = v.get("stringValue")
        if s is None:
            s = v.get("intValue")  # the next most common (token counts, ids): not worth any_value's scan
            if s is not None:
                s = int(s)
            else:
                s = any_value(v)
                nested = nested or isinstance(s, dict)
        key = kv["key"]
        out[_intern(key) if type(key) is str else key] = s
    if nested:
        flatten_nested(out)
    return out


def any_value(v: dict) -> JsonValue:
    """An OTLP AnyValue as a plain JSON value."""
    for key, x in v.items():
        if key in ("stringValue", "string_value", "boolValue", "bool_value", "doubleValue", "double_value"):
            return x
        if key in ("intValue", "int_value"):
            return int(x)
        if key in ("arrayValue", "array_value"):
            return [any_value(i) for i in (x or {}).get("values") or ()]
        if key in ("kvlistValue", "kvlist_value"):
            return {kv["key"]: any_value(kv.get("value") or {}) for kv in (x or {}).get("values") or ()}
        if key in ("bytesValue", "bytes_value"):
            return x
    return None


# --- protobuf -------------------------------------------------------------------------------


def pb_request_spans(data: bytes, line: int, out: list[Span]) -> None:
    """Append the spans of one binary ExportTraceServiceRequest (or TracesData) to ``out``."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    req.ParseFromString(data)
    for rs in req.resource_spans:
        res_attrs = pb_kvs(rs.resource.attributes)
        for ss in rs.scope_spans:
            out.extend(_pb_span(s, res_attrs, line) for s in ss.spans)


def _pb_span(s, resource: Attributes, line: int) -> Span:
    return Span(
        trace_id=s.trace_id.hex(),
        span_id=s.span_id.hex(),
        parent_id=s.parent_span_id.hex(),
        name=s.name,
        kind=int(s.kind),
        start_ns=int(s.start_time_unix_nano),
        end_ns=int(s.end_time_unix_nano),
        attributes=pb_kvs(s.attributes),
        events=[SpanEvent(e.name, int(e.time_unix_nano), pb_kvs(e.attributes)) for e in s.events],
        status_code=int(s.status.code),
        status_message=s.status.message,
        resource=resource,
        line=line,
    )


def pb_kvs(items) -> Attributes:
    out: Attributes = {kv.key: pb_any(kv.value) for kv in items}
    if any(isinstance(v, dict) for v in out.values()):
        flatten_nested(out)
    return out


def pb_any(v) -> JsonValue:
    which = v.WhichOneof("value")
    if which is None:
        return None
    x = getattr(v, which)
    if which == "array_value":
        return [pb_any(i) for i in x.values]
    if which == "kvlist_value":
        return {kv.key: pb_any(kv.value) for kv in x.values}
    if which == "bytes_value":
        return base64.b64encode(x).decode()
    return x
