"""OTLP in and out: the receiver behind ``POST /v1/traces``, and a session exported as OTLP JSON.

Received requests (protobuf or JSON, as the OpenTelemetry SDK's OTLP/HTTP exporter sends them) are
appended, one ``ExportTraceServiceRequest`` JSON per line with hex ids, to
``<root>/collected/traces-YYYYMMDD.otel.jsonl``: the form ``wmh build`` ingests. Protobuf is walked
field by field instead of ``json_format``, which would write the ids in base64.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
import time
import zlib
from pathlib import Path

import orjson
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from pydantic import JsonValue

from wmh.core.errors import UserInputError
from wmh.core.types import ActionKind, SessionState
from wmh.ingest.otlp import describe, json_span
from wmh.ingest.spans import InexactIdError
from wmh.serve.errors import MediaTypeError, TooLargeError

COLLECTED = "collected"
HEX_FIELDS = frozenset({"trace_id", "span_id", "parent_span_id"})
_INT64 = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
        FieldDescriptor.TYPE_SINT64,
    }
)


def collected_dir(root: Path) -> Path:
    return Path(root) / COLLECTED


def collected_files(root: str | os.PathLike[str]) -> list[Path]:
    """Trace files the receiver has written under ``root``, oldest first (what ``--from-collected`` builds from)."""
    d = collected_dir(Path(root))
    return sorted(d.glob("traces-*.otel.jsonl")) if d.is_dir() else []


# ---- receiving ------------------------------------------------------------------------------------


PROTOBUF = "application/x-protobuf"
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def decode_body(body: bytes, content_type: str, encoding: str, limit: int) -> dict[str, JsonValue]:
    """One OTLP/HTTP trace export as an OTLP JSON dict, refusing more than ``limit`` bytes decompressed.

    A UserInputError for what cannot be read (MediaTypeError, TooLargeError for those two cases).
    """
    kind = content_type.split(";")[0].strip().lower()
    if kind not in (PROTOBUF, "application/json", ""):
        raise MediaTypeError(f"unsupported content type {kind!r}: send {PROTOBUF} or application/json")
    body = _decompress(body, encoding.strip().lower(), limit)
    if kind == PROTOBUF:
        return protobuf_to_json(body)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UserInputError(f"OTLP JSON body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UserInputError("OTLP JSON body must be an ExportTraceServiceRequest object")
    return data


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding not in _WBITS:
        raise UserInputError(f"unsupported content encoding {encoding!r}: use gzip, deflate or none")
    try:
        return _inflate(body, _WBITS[encoding], limit)
    except zlib.error as exc:
        raise UserInputError(f"body is not valid {encoding}: {exc}") from exc


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """Every gzip member (or the one zlib stream) of ``data``, never holding more than ``limit`` + 1 bytes."""
    out = bytearray()
    while data:
        stream = zlib.decompressobj(wbits)
        out += stream.decompress(data, limit + 1 - len(out))
        if len(out) > limit:
            raise TooLargeError(f"body over {limit} bytes once decompressed; export smaller batches")
        if not stream.eof:
            raise zlib.error("incomplete or truncated stream")
        data = stream.unused_data if wbits == _WBITS["gzip"] else b""
    return bytes(out)


def protobuf_to_json(body: bytes) -> dict[str, JsonValue]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise UserInputError(f"body is not an OTLP ExportTraceServiceRequest: {exc}") from exc
    return message_to_json(request)


def message_to_json(message: Message) -> dict[str, JsonValue]:
    """OTLP JSON of a protobuf message: lowerCamelCase keys, hex trace/span ids, 64-bit ints as strings."""
    out: dict[str, JsonValue] = {}
    for field, value in message.ListFields():
        if field.is_repeated:
            out[field.json_name] = [_scalar(field, v) for v in value]
        else:
            out[field.json_name] = _scalar(field, value)
    return out


def _scalar(field: FieldDescriptor, value: object) -> JsonValue:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        assert isinstance(value, Message)
        return message_to_json(value)
    if field.type == FieldDescriptor.TYPE_BYTES:
        assert isinstance(value, bytes)
        return value.hex() if field.name in HEX_FIELDS else base64.b64encode(value).decode()
    if field.type in _INT64:
        return str(value)
    assert isinstance(value, str | int | float | bool)
    return value


class TraceSink:
    """Appends received exports to the day's file under ``<root>/collected``; one writer at a time."""

    def __init__(self, root: Path) -> None:
        self.dir = collected_dir(root)
        self._lock = threading.Lock()

    def append(self, request: dict[str, JsonValue]) -> Path:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"traces-{time.strftime('%Y%m%d', time.gmtime())}.otel.jsonl"
        line = orjson.dumps(request) + b"\n"
        with self._lock, open(path, "ab") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        return path


def span_count(request: dict[str, JsonValue]) -> int:
    return sum(len(spans) for spans in _span_lists(request))


def _span_lists(request: dict[str, JsonValue]) -> list[list[JsonValue]]:
    """The ``spans`` lists of the request's scopes (the lists themselves, to filter in place)."""
    out: list[list[JsonValue]] = []
    for rs in _list(request.get("resourceSpans")):
        for ss in _list(rs.get("scopeSpans") if isinstance(rs, dict) else None):
            spans = ss.get("spans") if isinstance(ss, dict) else None
            if isinstance(spans, list):
                out.append(spans)
    return out


def _list(value: JsonValue) -> list[JsonValue]:
    return value if isinstance(value, list) else []


def span_problem(span: JsonValue) -> str | None:
    """Why an OTLP JSON span is not one ``wmh build`` can read (``wmh.ingest.otlp.json_span``: hex,
    base64 or integer ids, a trace and a span id), or None."""
    if not isinstance(span, dict):
        return f"a span must be an object, not {type(span).__name__}"
    try:
        read = json_span(span, {}, 0)
    except InexactIdError:
        return None  # a decimal id past 64 bits: build re-reads such a line exactly
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        return describe(err)
    for key, value, digits in (("traceId", read.trace_id, 32), ("spanId", read.span_id, 16)):
        if len(value) != digits or not _HEX.fullmatch(value):
            return f"{key} must be {digits // 2} bytes (hex, base64 or an integer), got {span.get(key)!r:.40}"
    if not isinstance(span.get("name", ""), str):
        return "name must be a string"
    return None


_HEX = re.compile(r"[0-9a-f]*")


def keep_valid_spans(request: dict[str, JsonValue]) -> tuple[int, str]:
    """Drop, in place, the spans that are not spans; the number dropped and why the first was."""
    rejected, why = 0, ""
    for spans in _span_lists(request):
        kept = []
        for span in spans:
            problem = span_problem(span)
            if problem is None:
                kept.append(span)
            else:
                rejected, why = rejected + 1, why or problem
        spans[:] = kept
    return rejected, why


def export_reply(content_type: str, rejected: int, why: str) -> tuple[bytes, str]:
    """The ExportTraceServiceResponse body and its media type: empty, or a partial success."""
    partial = {"rejectedSpans": rejected, "errorMessage": f"{rejected} spans rejected; first: {why}"}
    if content_type.split(";")[0].strip().lower() != PROTOBUF:
        return orjson.dumps({"partialSuccess": partial} if rejected else {}), "application/json"
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    reply = ExportTraceServiceResponse()
    if rejected:
        reply.partial_success.rejected_spans = rejected
        reply.partial_success.error_message = str(partial["errorMessage"])
    return reply.SerializeToString(), PROTOBUF


# ---- exporting a session --------------------------------------------------------------------------


def _hex(text: str, n: int) -> str:
    return hashlib.blake2b(text.encode(), digest_size=n).hexdigest()


def _attr(key: str, value: str | int | bool) -> dict[str, JsonValue]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(
    trace: str, sid: str, parent: str, name: str, t: int, attrs: list[JsonValue], error: bool = False
) -> dict[str, JsonValue]:
    return {
        "traceId": trace,
        "spanId": sid,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(t),
        "endTimeUnixNano": str(t + 1000),
        "attributes": attrs,
        "status": {"code": 2, "message": "tool error"} if error else {},
    }


def session_to_otlp(state: SessionState, start_ns: int = 0) -> dict[str, JsonValue]:
    """The session as one OTLP trace in GenAI conventions: an ``invoke_agent`` root, the task as a
    ``chat`` span's input message (the tools the session declared as its tool definitions), and an ``execute_tool`` span per tool call (messages as ``chat`` spans).
    Ids and times derive from the session, so the same session always exports the same trace."""
    trace = _hex(f"{state.model}/{state.id}", 16)
    root = _hex(f"{trace}/root", 8)
    t0 = start_ns or 1_700_000_000_000_000_000
    spans: list[JsonValue] = [
        _span(
            trace,
            root,
            "",
            f"invoke_agent {state.model}",
            t0,
            [
                _attr("gen_ai.operation.name", "invoke_agent"),
                _attr("gen_ai.agent.name", state.model),
                _attr("gen_ai.conversation.id", state.id),
                _attr("wmh.session.seed", state.seed),
            ],
        ),
    ]
    if state.task or state.tools:
        chat: list[JsonValue] = [_attr("gen_ai.operation.name", "chat")]
        if state.task:
            task = [{"role": "user", "parts": [{"type": "text", "content": state.task}]}]
            chat.append(_attr("gen_ai.input.messages", orjson.dumps(task).decode()))
        if state.tools:
            tools = [{"type": "function", **t.model_dump(exclude_none=True)} for t in state.tools]
            chat.append(_attr("gen_ai.tool.definitions", orjson.dumps(tools).decode()))
        spans.append(_span(trace, _hex(f"{trace}/task", 8), root, "chat", t0 + 1, chat))
    for i, turn in enumerate(state.history):
        spans.append(_turn_span(trace, root, t0 + 1_000_000 * (i + 1), i, turn))
    attributes: list[JsonValue] = [_attr("service.name", "wmh"), _attr("wmh.model", state.model)]
    scope_spans: dict[str, JsonValue] = {"scope": {"name": "wmh.serve"}, "spans": spans}
    resource_spans: dict[str, JsonValue] = {
        "resource": {"attributes": attributes},
        "scopeSpans": [scope_spans],
    }
    return {"resourceSpans": [resource_spans]}


def _turn_span(trace: str, root: str, t: int, i: int, turn) -> dict[str, JsonValue]:
    sid = _hex(f"{trace}/{i}", 8)
    a, obs = turn.action, turn.observation
    if a.kind is ActionKind.TOOL_CALL:
        return _span(
            trace,
            sid,
            root,
            f"execute_tool {a.name}",
            t,
            [
                _attr("gen_ai.operation.name", "execute_tool"),
                _attr("gen_ai.tool.name", a.name),
                _attr("gen_ai.tool.call.id", f"call_{i + 1}"),
                _attr("gen_ai.tool.call.arguments", orjson.dumps(a.arguments).decode()),
                _attr("gen_ai.tool.call.result", obs.content),
                _attr("wmh.observation.source", obs.source),
            ],
            error=obs.is_error,
        )
    messages_in = orjson.dumps([{"role": "user", "parts": [{"type": "text", "content": a.content}]}]).decode()
    messages_out = orjson.dumps(
        [{"role": "assistant", "parts": [{"type": "text", "content": obs.content}]}]
    ).decode()
    return _span(
        trace,
        sid,
        root,
        "chat",
        t,
        [
            _attr("gen_ai.operation.name", "chat"),
            _attr("gen_ai.input.messages", messages_in),
            _attr("gen_ai.output.messages", messages_out),
        ],
        error=obs.is_error,
    )
