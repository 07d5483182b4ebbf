"""ingest_files end to end: shared fixtures, errors, redaction, ordering, progress."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from wmh.core.errors import TraceFileError
from wmh.ingest import IngestResult, ingest_files
from wmh.ingest.readers import read_file

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ANY_AGENT = DATA / "any-agent" / "tests" / "assets"
PHOENIX = DATA / "phoenix" / "tests" / "unit" / "pxi" / "evals" / "online_evals" / "fixtures"


def _shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is not present")
    return path


def _steps(result: IngestResult) -> list[tuple]:
    return [
        (s.action.name, s.action.arguments, s.observation.content, s.observation.is_error)
        for ep in result.episodes
        for s in ep.steps
    ]


def _kv(key: str, value: str) -> dict:
    return {"key": key, "value": {"stringValue": value}}


def _tool_span(trace: str, n: int, start: int, result: str = '{"ok": true}', **attrs: str) -> dict:
    kvs = [
        _kv("gen_ai.operation.name", "execute_tool"),
        _kv("gen_ai.tool.name", f"tool{n}"),
        _kv("gen_ai.tool.call.arguments", orjson.dumps({"n": n}).decode()),
        _kv("gen_ai.tool.call.result", result),
    ] + [_kv(k, v) for k, v in attrs.items()]
    return {"traceId": trace, "spanId": f"{n:016x}", "name": f"execute_tool tool{n}", "kind": 1,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 1), "attributes": kvs}  # fmt: skip


def _line(*spans: dict) -> bytes:
    return orjson.dumps({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": list(spans)}]}]}) + b"\n"


# --- shared fixtures ---------------------------------------------------------------------------------


def test_any_agent_all_seven_traces():
    files = sorted(_shared(ANY_AGENT).glob("*_trace.json"))
    assert len(files) == 7
    result = ingest_files(files)
    assert len(result.episodes) == 7
    assert sum(len(ep.steps) for ep in result.episodes) == 18
    assert result.span_count == 50 and result.problems == ()
    by_file = {Path(ep.source_file).name: ep for ep in result.episodes}
    names = {name: [s.action.name for s in ep.steps] for name, ep in by_file.items()}
    assert names == {
        "AGNO_trace.json": ["get_current_time", "write_file"],
        "GOOGLE_trace.json": ["get_current_time", "write_file", "final_output"],
        "LANGCHAIN_trace.json": ["get_current_time", "write_file"],
        "LLAMA_INDEX_trace.json": ["get_current_time", "write_file", "final_output"],
        "OPENAI_trace.json": ["get_current_time", "write_file"],
        "SMOLAGENTS_trace.json": ["get_current_time", "write_file", "final_answer"],
        "TINYAGENT_trace.json": ["get_current_time", "write_file", "final_answer"],
    }
    for ep in result.episodes:
        first, second = ep.steps[:2]
        assert first.action.arguments == {"timezone": "America/New_York"}
        assert '"timezone": "America/New_York"' in first.observation.content
        assert second.action.arguments == {"text": "2025"}
        assert not any(s.observation.is_error for s in ep.steps)
        assert "Find what year it is in the America/New_York timezone" in ep.task
        assert ep.attributes["gen_ai.agent.name"] == "any_agent"
    assert [s.observation.content for s in by_file["LANGCHAIN_trace.json"].steps][1] == "null"
    assert by_file["TINYAGENT_trace.json"].steps[1].observation.content == "None"
    assert by_file["AGNO_trace.json"].steps[0].call_id == "LlAGPjfO0"
    agno_tools = {t.name: t.description for t in by_file["AGNO_trace.json"].tools}
    assert agno_tools["get_current_time"] == "Get current time in a specific timezones"


def test_phoenix_suggestion_traces():
    result = ingest_files([_shared(PHOENIX / "pxi_suggestion_traces.json")])
    assert result.span_count == 31
    assert [[s.action.name for s in ep.steps] for ep in result.episodes] == [
        ["read_prompt_instance", "edit_prompt_instance", "save_prompt", "open_llm_evaluator_form"],
        ["load_skill", "read_prompt_instance", "edit_prompt_instance", "open_llm_evaluator_form"],
        ["update_annotation_config", "ask_user", "update_annotation_config", "batch_span_annotate"],
    ]
    first = result.episodes[0]
    assert first.steps[0].action.arguments == {"input": "redacted input"}
    assert first.steps[0].call_id == "call_0002"
    assert first.steps[1].observation.content.startswith('{"status": "accepted", "acceptedBy": "user"')
    assert first.attributes["session.id"] == "session-0000"
    assert result.episodes[2].steps[0].observation.content.startswith('{"status": "rejected"')


def test_phoenix_turn_trace():
    result = ingest_files([_shared(PHOENIX / "pxi_turn_trace.json")])
    (ep,) = result.episodes
    assert ep.trace_id == "fixture-trace-1" and ep.task == "what happened in this trace?"
    assert [s.action.name for s in ep.steps] == [
        "list_datasets", "list_datasets", "ask_user", "create_dataset",
        "add_spans_to_dataset", "bash", "add_spans_to_dataset", "get_route_info",
    ]  # fmt: skip
    assert ep.steps[1].action.arguments == {"after": "fixture-cursor"}
    assert ep.steps[3].action.arguments == {
        "name": "golden_examples",
        "description": "[synthetic dataset description]",
    }
    failed = ep.steps[4]
    assert failed.observation.is_error and failed.observation.content.startswith(
        "Error fetching GraphQL query"
    )
    assert [s.observation.is_error for s in ep.steps].count(True) == 1
    assert ep.steps[6].observation.content.endswith('"Added 1 span(s) to dataset \\"golden_examples\\"."}')
    assert ep.attributes["user.id"] == "user@example.com"


def test_phoenix_turn_subagent_trace():
    result = ingest_files([_shared(PHOENIX / "pxi_turn_subagent_trace.json")])
    (ep,) = result.episodes
    assert ep.task == "what happened in the previous trace?"
    names = [s.action.name for s in ep.steps]
    assert names[:5] == [
        "call_subagent",
        "load_skill",
        "read_skill_resource",
        "read_skill_resource",
        "read_skill_resource",
    ]
    assert names.count("bash") == 13 and len(names) == 18
    assert [s.call_id for s in ep.steps][:2] == ["call-02", "call-03"]
    tools = {t.name: t for t in ep.tools}
    assert {"call_subagent", "load_skill", "read_skill_resource", "bash"} <= set(tools)
    assert tools["load_skill"].description == "[synthetic tool description]"


def test_opentelemetry_proto_example_has_no_steps():
    path = _shared(DATA / "opentelemetry-proto" / "examples" / "trace.json")
    assert len(read_file(path).spans) == 1
    with pytest.raises(TraceFileError, match=r"trace\.json: 1 spans but no tool call") as err:
        ingest_files([path])
    assert "\n" not in str(err.value)


def test_open_agent_traces_have_no_tool_spans():
    path = _shared(DATA / "open-agent-traces" / "test-traces.json")
    assert len(read_file(path).spans) == 2
    with pytest.raises(TraceFileError, match="2 spans but no tool call"):
        ingest_files([path])


# --- synthetic ----------------------------------------------------------------------------------------


def test_episodes_sorted_and_files_reported(tmp_path: Path):
    a = "a" * 32
    b = "b" * 32
    data = _line(_tool_span(b, 1, 100)) + b"garbage\n" + _line(_tool_span(a, 2, 50), _tool_span(b, 3, 10))
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    result = ingest_files([str(path)])
    assert [ep.trace_id for ep in result.episodes] == [b, a]  # first start: b at 10, a at 50
    assert [s.action.name for s in result.episodes[0].steps] == ["tool3", "tool1"]
    assert [str(p) for p in result.problems] == [f"{path}:2: " + result.problems[0].message]
    (f,) = result.files
    assert (f.path, f.spans, f.steps, f.problems) == (str(path), 3, 3, 1)
    assert len(f.sha256) == 64


def test_gzip_and_many_files_with_progress(tmp_path: Path):
    one, two = tmp_path / "1.jsonl.gz", tmp_path / "2.jsonl"
    one.write_bytes(gzip.compress(_line(_tool_span("c" * 32, 1, 5))))
    two.write_bytes(_line(_tool_span("d" * 32, 2, 5)) * 3)
    seen: list[int] = []
    result = ingest_files([one, two], on_progress=seen.append)
    assert [ep.source_file for ep in result.episodes] == [str(one), str(two)]
    assert seen[-1] == one.stat().st_size + two.stat().st_size
    assert seen == sorted(seen)
    assert len(result.episodes[1].steps) == 1  # the same span three times is one call


def test_a_trace_read_from_an_earlier_file_is_dropped_and_counted(tmp_path: Path):
    plain, packed = tmp_path / "t.jsonl", tmp_path / "t.jsonl.gz"
    plain.write_bytes(_line(_tool_span("a" * 32, 1, 5), _tool_span("b" * 32, 2, 5)))
    packed.write_bytes(gzip.compress(plain.read_bytes() + _line(_tool_span("c" * 32, 3, 5))))
    result = ingest_files([plain, plain, packed])
    assert sorted(ep.trace_id for ep in result.episodes) == ["a" * 32, "b" * 32, "c" * 32]
    assert result.duplicate_traces == 4
    assert ingest_files([plain]).duplicate_traces == 0


def test_secrets_are_redacted(tmp_path: Path):
    span = _tool_span(
        "e" * 32, 1, 5, result='{"token": "sk-abcdefghijklmnopqrstuvwx"}', hdr="Bearer zzzzzzzzzzzz"
    )
    span["attributes"][2] = _kv("gen_ai.tool.call.arguments", '{"auth": "Bearer abcdefghijklmnop"}')
    path = tmp_path / "s.jsonl"
    path.write_bytes(_line(span))
    (ep,) = ingest_files([path]).episodes
    (step,) = ep.steps
    assert ep.attributes["hdr"] == "Bearer [REDACTED]"
    assert step.observation.content == '{"token": "[REDACTED]"}'
    assert step.action.arguments == {"auth": "Bearer [REDACTED]"}


def test_missing_file_and_empty_file(tmp_path: Path):
    with pytest.raises(TraceFileError, match="no such file"):
        ingest_files([tmp_path / "missing.jsonl"])
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(TraceFileError, match="no spans in it"):
        ingest_files([empty])
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"{oops\n[1,\n")
    with pytest.raises(TraceFileError, match="no spans could be read"):
        ingest_files([bad])


def test_result_round_trips(tmp_path: Path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(_line(_tool_span("f" * 32, 1, 5, **{"task.id": "T1"})))
    result = ingest_files([path])
    again = IngestResult.model_validate_json(result.model_dump_json())
    assert again == result
    assert result.episodes[0].group_key("task.id") == "T1"


def test_span_without_trace_id_is_a_problem(tmp_path: Path):
    path = tmp_path / "n.jsonl"
    lost = {"span_id": "x", "name": "lost", "attributes": {"gen_ai.tool.call.result": "r"}}
    kept = {
        "trace_id": "t",
        "span_id": "y",
        "name": "execute_tool f",
        "attributes": {"gen_ai.tool.call.result": "r"},
    }
    path.write_bytes(orjson.dumps(lost) + b"\n" + orjson.dumps(kept) + b"\n")
    result = ingest_files([path])
    assert [str(p) for p in result.problems] == [f"{path}:1: span 'lost' has no trace id; skipped"]
    assert [ep.trace_id for ep in result.episodes] == ["t"]


def test_openai_agents_sdk_export(tmp_path: Path):
    span = {
        "object": "trace.span", "id": "span_1", "trace_id": "trace_1", "parent_id": "span_0",
        "started_at": "2025-06-29T07:23:37.654430+00:00", "ended_at": "2025-06-29T07:23:38+00:00",
        "span_data": {"type": "function", "name": "lookup", "input": '{"q": "x"}', "output": "found"},
        "error": None,
    }  # fmt: skip
    failed = {**span, "id": "span_2", "span_data": {"type": "function", "name": "lookup", "input": "{}"},
              "error": {"message": "Tool failed", "data": None}}  # fmt: skip
    path = tmp_path / "agents.json"
    path.write_bytes(
        orjson.dumps({"traces": [{"object": "trace", "id": "trace_1", "spans": [span, failed]}]})
    )
    (ep,) = ingest_files([path]).episodes
    assert _steps(ingest_files([path])) == [
        ("lookup", {"q": "x"}, "found", False),
        ("lookup", {}, "Tool failed", True),
    ]
    assert ep.trace_id == "trace_1"
