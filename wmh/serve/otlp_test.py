import base64
import gzip
import tracemalloc
import zlib
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from wmh.serve.conftest import LiveServer, make_app
from wmh.serve.errors import TooLargeError
from wmh.serve.otlp import collected_files, decode_body, message_to_json, span_problem
from wmh.serve.registry import StaticSource

GOOD = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "execute_tool ping"}


def _spans(files: list[Path]) -> list[dict]:
    out = []
    for f in files:
        for line in f.read_bytes().splitlines():
            for rs in orjson.loads(line)["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    out.extend(ss["spans"])
    return out


def test_sdk_exporter_protobuf_to_hex_json(live: LiveServer, tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "agent"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{live.url}/v1/traces")))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("invoke_agent a") as root,
        tracer.start_as_current_span("execute_tool get_user") as span,
    ):
        span.set_attribute("gen_ai.operation.name", "execute_tool")
        span.set_attribute("gen_ai.tool.name", "get_user")
        span.set_attribute("gen_ai.tool.call.arguments", '{"id": "u1"}')
        span.set_attribute("gen_ai.tool.call.result", "ok")
        span.set_attribute("retries", 3)
    provider.shutdown()
    files = collected_files(tmp_path)
    assert len(files) == 1 and files[0].name.endswith(".otel.jsonl")
    spans = {s["name"]: s for s in _spans(files)}
    tool = spans["execute_tool get_user"]
    assert tool["traceId"] == format(root.get_span_context().trace_id, "032x")
    assert tool["spanId"] == format(span.get_span_context().span_id, "016x")
    assert tool["parentSpanId"] == spans["invoke_agent a"]["spanId"]
    attrs = {a["key"]: a["value"] for a in tool["attributes"]}
    assert attrs["gen_ai.tool.name"] == {"stringValue": "get_user"}
    assert attrs["retries"] == {"intValue": "3"}
    assert tool["startTimeUnixNano"].isdigit()
    from wmh.ingest import ingest_files

    (episode,) = ingest_files(files).episodes
    (step,) = episode.steps
    assert (step.action.name, step.action.arguments, step.observation.content) == (
        "get_user",
        {"id": "u1"},
        "ok",
    )


def test_exported_session_ingests_back(client: TestClient, tmp_path: Path) -> None:
    from wmh.ingest import ingest_files

    tools = [{"name": "get_user", "description": "Find a user", "parameters": {"type": "object"}}]
    sid = client.post("/world_models/m/sessions", json={"task": "find Bob", "tools": tools}).json()["id"]
    for args in ({"id": "u2"}, {"id": "zz"}):
        client.post(
            f"/world_models/m/sessions/{sid}/step",
            json={"kind": "tool_call", "name": "get_user", "arguments": args},
        )
    path = tmp_path / "session.otel.jsonl"
    path.write_bytes(client.get(f"/world_models/m/sessions/{sid}/trace").content + b"\n")
    (episode,) = ingest_files([path]).episodes
    assert [(s.action.arguments, s.observation.is_error) for s in episode.steps] == [
        ({"id": "u2"}, False),
        ({"id": "zz"}, True),
    ]
    assert episode.task == "find Bob"
    assert [t.model_dump() for t in episode.tools] == tools  # the tools the session declared


def test_json_post_and_round_trip_of_a_session(client: TestClient, tmp_path: Path) -> None:
    sid = client.post("/world_models/m/sessions", json={"task": "t"}).json()["id"]
    client.post(f"/world_models/m/sessions/{sid}/step", json={"kind": "tool_call", "name": "ping"})
    trace = client.get(f"/world_models/m/sessions/{sid}/trace").json()
    r = client.post("/v1/traces", content=orjson.dumps(trace), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == {}
    assert [s["name"] for s in _spans(collected_files(tmp_path))][-1] == "execute_tool ping"


def test_bad_otlp_bodies(client: TestClient) -> None:
    r = client.post(
        "/v1/traces", content=b"\xff\x00garbage", headers={"content-type": "application/x-protobuf"}
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    r = client.post("/v1/traces", content=b"[1]", headers={"content-type": "application/json"})
    assert r.status_code == 400
    r = client.post("/v1/traces", content=b"x", headers={"content-type": "text/plain"})
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type")
    r = client.post(
        "/v1/traces", content=b"{}", headers={"content-type": "application/json", "content-encoding": "gzip"}
    )
    assert r.status_code == 400


def test_walker_matches_otlp_json_rules() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    req = ExportTraceServiceRequest()
    span = req.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes(range(16))
    span.span_id = bytes(range(8))
    span.start_time_unix_nano = 2**63
    span.kind = 3
    attr = span.attributes.add()
    attr.key = "b"
    attr.value.bytes_value = b"\x01\x02"
    out = orjson.loads(orjson.dumps(message_to_json(req)))["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert out["traceId"] == "000102030405060708090a0b0c0d0e0f" and out["spanId"] == "0001020304050607"
    assert out["startTimeUnixNano"] == str(2**63) and out["kind"] == 3
    assert out["attributes"] == [{"key": "b", "value": {"bytesValue": "AQI="}}]


def _request(*spans: object) -> bytes:
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def test_bad_spans_are_a_partial_success(client: TestClient, tmp_path: Path) -> None:
    bad = {"traceId": "zz", "spanId": 5, "name": 7}
    r = client.post(
        "/v1/traces", content=_request(GOOD, bad, 1, "x", None), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200
    partial = r.json()["partialSuccess"]
    assert partial["rejectedSpans"] == 4 and "traceId" in partial["errorMessage"]
    assert _spans(collected_files(tmp_path)) == [GOOD]
    r = client.post("/v1/traces", content=_request(bad), headers={"content-type": "application/json"})
    assert r.json()["partialSuccess"]["rejectedSpans"] == 1
    assert _spans(collected_files(tmp_path)) == [GOOD]  # nothing more written


def test_bad_protobuf_spans_are_a_partial_success(client: TestClient, tmp_path: Path) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
    )

    req = ExportTraceServiceRequest()
    spans = req.resource_spans.add().scope_spans.add().spans
    good, bad = spans.add(), spans.add()
    good.trace_id, good.span_id, good.name = bytes(range(16)), bytes(range(8)), "ok"
    bad.trace_id, bad.span_id, bad.name = b"\x01\x02", bytes(range(8)), "short id"
    r = client.post(
        "/v1/traces", content=req.SerializeToString(), headers={"content-type": "application/x-protobuf"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/x-protobuf"
    reply = ExportTraceServiceResponse.FromString(r.content)
    assert reply.partial_success.rejected_spans == 1
    assert [s["name"] for s in _spans(collected_files(tmp_path))] == ["ok"]


def _bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped without ever holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    parts = [packer.compress(chunk) for _ in range(size >> 20)]
    return b"".join(parts) + packer.flush()


def test_a_gzip_bomb_is_refused_while_decompressing() -> None:
    bomb = _bomb(100 << 20)
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(TooLargeError, match="decompressed"):
            decode_body(bomb, "application/json", "gzip", 8 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 << 20


def test_decompressed_limit_over_http(tmp_path: Path, source: StaticSource) -> None:
    with TestClient(make_app(tmp_path, source, max_body=50_000), base_url="http://127.0.0.1:8000") as c:
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        r = c.post("/v1/traces", content=_bomb(4 << 20), headers=headers)
        assert (r.status_code, r.json()["error"]) == (413, "body_too_large")
        two_members = gzip.compress(_request(GOOD)[:10]) + gzip.compress(_request(GOOD)[10:])
        assert c.post("/v1/traces", content=two_members, headers=headers).json() == {}
        headers["content-encoding"] = "deflate"
        assert c.post("/v1/traces", content=zlib.compress(_request(GOOD)), headers=headers).json() == {}
        assert len(_spans(collected_files(tmp_path))) == 2


def test_spans_with_ids_build_can_read_are_kept() -> None:
    """What ``wmh build`` reads (base64 or integer ids, upper-case hex) the receiver keeps."""
    b64 = base64.b64encode(bytes(range(16))).decode()
    assert span_problem({"traceId": b64, "spanId": 12345, "name": "x"}) is None
    assert span_problem({"traceId": "A" * 32, "spanId": "b" * 16, "name": "x"}) is None
    assert span_problem({"traceId": "zz", "spanId": "b" * 16}) == (
        "traceId must be 16 bytes (hex, base64 or an integer), got 'zz'"
    )
