"""File shapes → spans: OTLP JSON lines, flat spans, documents, protobuf, gzip, malformed input."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from pathlib import Path

import orjson
import pytest

from wmh.core.errors import TraceFileError
from wmh.ingest.readers import read_file

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TRACE_ID = "5b8efff798038103d269b633813fc60c"


def kv(key: str, value: object) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_span(span_id: str, name: str = "s", parent: str = "", trace: str = TRACE_ID, **extra) -> dict:
    span = {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000001000000000",
        "attributes": [kv("k", "v")],
    }
    span.update(extra)
    return span


def request(*spans: dict) -> dict:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [kv("service.name", "svc")]},
                "scopeSpans": [{"scope": {"name": "x"}, "spans": list(spans)}],
            }
        ]
    }


def write(tmp_path: Path, name: str, data: bytes, gz: bool = False) -> Path:
    path = tmp_path / (name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def jsonl(*objs: object) -> bytes:
    return b"".join(orjson.dumps(o) + b"\n" for o in objs)


@pytest.mark.parametrize("gz", [False, True])
def test_otlp_jsonl_trace_split_across_lines(tmp_path: Path, gz: bool):
    data = jsonl(
        request(otlp_span("eee19b7ec3c1b174")),
        request(otlp_span("eee19b7ec3c1b175", parent="eee19b7ec3c1b174")),
    )
    read = read_file(write(tmp_path, "a.jsonl", data, gz))
    assert [(s.trace_id, s.span_id, s.parent_id, s.line) for s in read.spans] == [
        (TRACE_ID, "eee19b7ec3c1b174", "", 1),
        (TRACE_ID, "eee19b7ec3c1b175", "eee19b7ec3c1b174", 2),
    ]
    assert read.spans[0].resource == {"service.name": "svc"}
    assert read.spans[0].attributes == {"k": "v"}
    assert read.spans[0].start_ns == 1700000000000000000
    assert read.problems == []


@pytest.mark.parametrize("gz", [False, True])
def test_flat_span_jsonl(tmp_path: Path, gz: bool):
    data = jsonl(
        {"trace_id": "t1", "span_id": "a", "parent_id": None, "name": "root", "start_time": 1700000000,
         "end_time": 1700000001, "attributes": {"x": 1, "nested": {"deep": {"k": "v"}}}, "status": "ERROR"},
        {"trace_id": "t1", "span_id": "b", "parent_span_id": "a", "name": "child",
         "start_time_unix_nano": 1700000000500000000, "attributes": {}, "status": {"code": "STATUS_CODE_OK"}},
    )  # fmt: skip
    read = read_file(write(tmp_path, "flat.jsonl", data, gz))
    root, child = read.spans
    assert (root.trace_id, root.span_id, root.parent_id, root.name) == ("t1", "a", "", "root")
    assert root.start_ns == 1700000000 * 10**9
    assert root.status_code == 2 and child.status_code == 1
    assert root.attributes["nested.deep.k"] == "v"
    assert root.attributes["nested"] == {"deep": {"k": "v"}}
    assert child.parent_id == "a" and child.start_ns == 1700000000500000000


@pytest.mark.parametrize("gz", [False, True])
def test_json_array_of_requests_and_of_flat_spans(tmp_path: Path, gz: bool):
    arr = orjson.dumps([request(otlp_span("eee19b7ec3c1b174")), request(otlp_span("eee19b7ec3c1b175"))])
    assert len(read_file(write(tmp_path, "a.json", arr, gz)).spans) == 2
    flat = orjson.dumps([{"trace_id": "t", "span_id": "1", "name": "x"}, {"trace_id": "t", "span_id": "2"}])
    assert [s.span_id for s in read_file(write(tmp_path, "b.json", flat, gz)).spans] == ["1", "2"]


def test_pretty_printed_documents(tmp_path: Path):
    otlp = orjson.dumps(request(otlp_span("eee19b7ec3c1b174")), option=orjson.OPT_INDENT_2)
    assert len(read_file(write(tmp_path, "o.json", otlp)).spans) == 1
    any_agent = {"spans": [{"name": "x", "context": {"trace_id": 2**100 + 7, "span_id": 5}, "parent": None,
                            "start_time": 1758026593210770000, "attributes": {}}], "final_output": "done"}  # fmt: skip
    (s,) = read_file(write(tmp_path, "aa.json", json.dumps(any_agent, indent=2).encode())).spans
    assert s.trace_id == format(2**100 + 7, "032x") and s.span_id == "0000000000000005"
    scenarios = {"a": [{"name": "n", "context": {"trace_id": "t", "span_id": "1"}, "span_kind": "TOOL",
                        "parent_id": None, "start_time": "2026-07-24T12:00:00+00:00", "status_code": "ERROR",
                        "attributes": {"tool.name": "n"}}]}  # fmt: skip
    (p,) = read_file(write(tmp_path, "px.json", orjson.dumps(scenarios, option=orjson.OPT_INDENT_2))).spans
    assert p.attributes["openinference.span.kind"] == "TOOL"
    assert p.status_code == 2 and p.start_ns == 1784894400 * 10**9


def test_big_decimal_ids_are_exact_in_jsonl(tmp_path: Path):
    line = {"name": "x", "context": {"trace_id": 100927429609276267646756448943279827607, "span_id": 1}}
    data = (json.dumps(line) + "\n").encode() * 2
    (s,) = read_file(write(tmp_path, "big.jsonl", data)).spans[:1]
    assert s.trace_id == format(100927429609276267646756448943279827607, "032x")


def test_enum_names_base64_ids_and_typed_values(tmp_path: Path):
    tid = bytes.fromhex(TRACE_ID)
    sid = bytes.fromhex("eee19b7ec3c1b174")
    span = otlp_span(
        base64.b64encode(sid).decode(),
        trace=base64.b64encode(tid).decode(),
        kind="SPAN_KIND_CLIENT",
        status={"code": "STATUS_CODE_ERROR", "message": "bad"},
        attributes=[
            {"key": "i", "value": {"intValue": "42"}},
            {"key": "j", "value": {"intValue": 43}},
            {"key": "d", "value": {"doubleValue": 1.5}},
            {"key": "b", "value": {"boolValue": True}},
            {"key": "arr", "value": {"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}]}}},
            {
                "key": "kvl",
                "value": {"kvlistValue": {"values": [{"key": "x", "value": {"stringValue": "y"}}]}},
            },
            {"key": "raw", "value": {"bytesValue": "AAE="}},
            {"key": "empty", "value": {}},
        ],
        events=[{"timeUnixNano": "5", "name": "ev", "attributes": [kv("a", 1)]}],
    )
    (s,) = read_file(write(tmp_path, "e.jsonl", jsonl(request(span)))).spans
    assert (s.trace_id, s.span_id) == (TRACE_ID, "eee19b7ec3c1b174")
    assert (s.kind, s.status_code, s.status_message) == (3, 2, "bad")
    assert s.attributes == {
        "i": 42, "j": 43, "d": 1.5, "b": True, "arr": ["a", 1], "kvl": {"x": "y"}, "kvl.x": "y",
        "raw": "AAE=", "empty": None,
    }  # fmt: skip
    assert (s.events[0].name, s.events[0].time_ns, s.events[0].attributes) == ("ev", 5, {"a": 1})


def test_malformed_lines_are_problems_and_the_rest_is_kept(tmp_path: Path):
    good = orjson.dumps(request(otlp_span("eee19b7ec3c1b174")))
    bad_span = orjson.dumps(request({"spanId": "x", "attributes": [{"value": {"stringValue": "no key"}}]}))
    data = b"\n".join([good, b"{not json", b"", bad_span, b'{"unrelated": 1}', good]) + b"\n"
    read = read_file(write(tmp_path, "m.jsonl", data))
    assert [s.line for s in read.spans] == [1, 6]
    assert [(p.line, p.message.split(":")[0]) for p in read.problems] == [
        (2, "not JSON"),
        (4, "bad span"),
        (5, "no spans found in this JSON"),
    ]
    assert all(p.file == str(tmp_path / "m.jsonl") for p in read.problems)


def _pb_request(n: int):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Status
    from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan

    attrs = [
        KeyValue(key="gen_ai.tool.name", value=AnyValue(string_value="f")),
        KeyValue(key="n", value=AnyValue(int_value=n)),
        KeyValue(key="arr", value=AnyValue(array_value=ArrayValue(values=[AnyValue(bool_value=True)]))),
    ]
    span = PbSpan(
        trace_id=bytes.fromhex(TRACE_ID),
        span_id=(n + 1).to_bytes(8, "big"),
        name=f"execute_tool f{n}",
        kind=PbSpan.SPAN_KIND_INTERNAL,
        start_time_unix_nano=10 + n,
        attributes=attrs,
        status=Status(code=Status.STATUS_CODE_ERROR, message="m"),
        events=[PbSpan.Event(name="e", time_unix_nano=3)],
    )
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])


@pytest.mark.parametrize("gz", [False, True])
def test_protobuf_single_message(tmp_path: Path, gz: bool):
    (s,) = read_file(write(tmp_path, "t.pb", _pb_request(0).SerializeToString(), gz)).spans
    assert (s.trace_id, s.span_id, s.name, s.kind, s.start_ns) == (
        TRACE_ID,
        "0000000000000001",
        "execute_tool f0",
        1,
        10,
    )
    assert s.attributes == {"gen_ai.tool.name": "f", "n": 0, "arr": [True]}
    assert (s.status_code, s.status_message, s.events[0].name) == (2, "m", "e")


@pytest.mark.parametrize("gz", [False, True])
def test_protobuf_length_prefixed(tmp_path: Path, gz: bool):
    data = b""
    for n in range(3):
        msg = _pb_request(n).SerializeToString()
        data += len(msg).to_bytes(4, "big") + msg
    read = read_file(write(tmp_path, "t.proto", data, gz))
    assert [(s.span_id[-1], s.line) for s in read.spans] == [("1", 1), ("2", 2), ("3", 3)]
    assert read.problems == []


def test_missing_file_raises(tmp_path: Path):
    with pytest.raises(TraceFileError, match="no such file"):
        read_file(tmp_path / "nope.jsonl")


def test_directory_says_so(tmp_path: Path):
    with pytest.raises(
        TraceFileError, match=r"is a directory; pass the trace files in it instead \(e\.g\. .*\*\.jsonl\)"
    ):
        read_file(tmp_path)


def test_progress_reaches_file_size(tmp_path: Path):
    path = write(tmp_path, "a.jsonl", jsonl(*[request(otlp_span("eee19b7ec3c1b174"))] * 50))
    seen: list[int] = []
    read_file(path, seen.append)
    assert seen[-1] == path.stat().st_size and seen == sorted(seen)


def test_garbage_is_a_problem_not_a_crash(tmp_path: Path):
    assert read_file(write(tmp_path, "g.txt", b"hello world\n")).problems[0].line == 1
    assert read_file(write(tmp_path, "g.bin", b"\x00\x01\x02\xff\xfe" * 10)).problems
    assert read_file(write(tmp_path, "g.gz", b"\x1f\x8b\x08garbage")).problems


# --- shared data -----------------------------------------------------------------------------------


def _shared(rel: str) -> Path:
    path = DATA / rel
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return path


def test_opentelemetry_proto_example():
    (s,) = read_file(_shared("opentelemetry-proto/examples/trace.json")).spans
    assert (s.trace_id, s.span_id, s.parent_id) == (TRACE_ID, "eee19b7ec3c1b174", "eee19b7ec3c1b173")
    assert (s.name, s.kind, s.start_ns) == ("I'm a server span", 2, 1544712660000000000)
    assert s.attributes == {"my.span.attr": "some value"}
    assert s.resource == {"service.name": "my.service"}


def test_open_agent_traces_otlp_jsonl():
    read = read_file(_shared("open-agent-traces/test-traces.json"))
    assert len(read.spans) == 2 and read.problems == []
    assert read.spans[0].resource["service.name"] == "Agento-Module-1"
    assert read.spans[0].resource["process.pid"] == 18205
    assert read.spans[0].trace_id == "892428a06b997fdf4f77ef083a113a78"


def test_any_agent_document_ids():
    read = read_file(_shared("any-agent/tests/assets/OPENAI_trace.json"))
    assert len(read.spans) == 6
    assert {s.trace_id for s in read.spans} == {format(100927429609276267646756448943279827607, "032x")}
    assert read.spans[0].status_code == 1 and read.spans[-1].status_code == 0


def test_first_line_malformed_still_reads_the_rest(tmp_path: Path):
    good = orjson.dumps(request(otlp_span("eee19b7ec3c1b174")))
    read = read_file(write(tmp_path, "f.jsonl", b"{broken\n" + good + b"\n" + good + b"\n"))
    assert [s.line for s in read.spans] == [2, 3]
    assert [p.line for p in read.problems] == [1]


def test_broken_document_is_one_problem(tmp_path: Path):
    doc = orjson.dumps(
        {"spans": [{"trace_id": "t", "span_id": str(i)} for i in range(40)]}, option=orjson.OPT_INDENT_2
    )
    read = read_file(write(tmp_path, "d.json", doc[:-30]))
    assert read.spans == [] and len(read.problems) == 1
    assert "is this a trace file?" in read.problems[0].message


def test_console_exporter_concatenated_objects(tmp_path: Path):
    one = {
        "name": "execute_tool f",
        "context": {"trace_id": "0x" + TRACE_ID, "span_id": "0xeee19b7ec3c1b174", "trace_state": "[]"},
        "kind": "SpanKind.INTERNAL",
        "parent_id": None,
        "start_time": "2024-05-01T10:00:00.000001Z",
        "end_time": "2024-05-01T10:00:01.000000Z",
        "status": {"status_code": "ERROR", "description": "boom"},
        "attributes": {"gen_ai.tool.name": "f"},
        "events": [{"name": "exception", "timestamp": "2024-05-01T10:00:00.5Z", "attributes": {"x": 1}}],
        "resource": {"attributes": {"service.name": "svc"}, "schema_url": ""},
    }
    two = {
        **one,
        "context": {"trace_id": "0x" + TRACE_ID, "span_id": "0xeee19b7ec3c1b175"},
        "parent_id": "0xeee19b7ec3c1b174",
    }
    text = json.dumps(one, indent=4) + "\n" + json.dumps(two, indent=4) + "\n"
    read = read_file(write(tmp_path, "console.txt", text.encode()))
    first, second = read.spans
    assert (first.trace_id, first.span_id, first.kind) == (TRACE_ID, "eee19b7ec3c1b174", 1)
    assert (first.status_code, first.status_message) == (2, "boom")
    assert first.start_ns == 1714557600000001000
    assert first.resource == {"service.name": "svc"}
    assert first.events[0].time_ns == 1714557600500000000
    assert (second.parent_id, second.line) == (
        "eee19b7ec3c1b174",
        text.count("\n", 0, text.index("}\n{") + 2) + 1,
    )
    assert read.problems == []


@pytest.mark.parametrize("size", [100, 3 << 20])  # under and over the size hashed on another thread
def test_sha256_is_of_the_bytes_as_stored(tmp_path: Path, size: int):
    line = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [otlp_span("a" * 16)]}]}]})
    data = line + b"\n" + b" " * size + b"\n" + line + b"\n"
    for gz in (False, True):
        path = write(tmp_path, f"big{gz}.jsonl", data, gz=gz)
        read = read_file(path)
        assert read.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert len(read.spans) == 2 and read.size == path.stat().st_size
