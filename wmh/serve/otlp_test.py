from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from wmh.serve.conftest import LiveServer
from wmh.serve.otlp import collected_files, message_to_json


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

    sid = client.post("/world_models/m/sessions", json={"task": "find Bob"}).json()["id"]
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
    assert r.status_code == 400
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
