"""The launcher: reproducible capture, valid OTLP JSON lines, conversion of tau-bench's own files."""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from pathlib import Path

import orjson
import pytest

HERE = Path(__file__).resolve().parent


def launcher():
    spec = importlib.util.spec_from_file_location("tau_bench_run", HERE / "run.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spans_by_line(path: Path) -> list[list[dict]]:
    lines = []
    for raw in path.read_bytes().splitlines():
        request = orjson.loads(raw)
        lines.append([s for rs in request["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]])
    return lines


def attributes(span: dict) -> dict:
    return {kv["key"]: next(iter(kv["value"].values())) for kv in span["attributes"]}


def test_capture_is_byte_for_byte_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = launcher()
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        assert (
            run.main(
                ["capture", "--tasks", "6", "--seed", str(seed), "--out", str(tmp_path / f"{name}.jsonl")]
            )
            == 0
        )
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert (tmp_path / "a.jsonl").read_bytes() != (tmp_path / "c.jsonl").read_bytes()
    assert capsys.readouterr().out.splitlines()[0].startswith("captured 12 traces, ")


def test_capture_writes_valid_otlp_json_lines(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    assert launcher().main(["capture", "--tasks", "6", "--out", str(out)]) == 0
    lines = spans_by_line(out)
    lines_of_trace: dict[str, set[int]] = defaultdict(set)
    for number, spans in enumerate(lines):
        for span in spans:
            assert len(span["traceId"]) == 32 and len(span["spanId"]) == 16
            int(span["traceId"], 16), int(span["spanId"], 16)
            assert isinstance(span["kind"], int) and isinstance(span["startTimeUnixNano"], str)
            a = attributes(span)
            assert "tau.task_id" in a and isinstance(a["tau.trial"], str)  # intValue as a decimal string
            if a["gen_ai.operation.name"] == "execute_tool":
                assert span["name"] == f"execute_tool {a['gen_ai.tool.name']}" and span["kind"] == 1
                assert "gen_ai.tool.call.arguments" in a and "gen_ai.tool.call.result" in a
                if span.get("status", {}).get("code") == 2:
                    assert a["error.type"] == "ToolError" and a["gen_ai.tool.call.result"].startswith("Error")
            lines_of_trace[span["traceId"]].add(number)
    assert len(lines_of_trace) == 12
    assert any(len(n) > 1 for n in lines_of_trace.values()), "one trace should be split across lines"
    assert any(len({t for t, n in lines_of_trace.items() if number in n}) > 1 for number in range(len(lines)))


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = launcher()
    assert run.main(["convert", str(tmp_path / "missing.json"), str(tmp_path / "o.jsonl")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert run.main(["convert", str(bad), str(tmp_path / "o.jsonl")]) == 2
    bad.write_text(json.dumps({"task_id": 1}))
    assert run.main(["convert", str(bad), str(tmp_path / "o.jsonl")]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 3 and all(e.startswith("error: ") for e in errors)
    assert "no such file" in errors[0] and "not valid JSON" in errors[1] and "not a tau-bench" in errors[2]
    with pytest.raises(SystemExit) as exc:
        run.main(["capture", "--tasks", "0"])
    assert exc.value.code == 2


def test_convert_small_file_keeps_messages(tmp_path: Path) -> None:
    traj = [
        {"role": "system", "content": "policy"},
        {"role": "user", "content": "hi, I'm mia_li_3668"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_user_details", "arguments": '{"user_id":"mia_li_3668"}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "c1",
            "name": "get_user_details",
            "content": "Error: user not found",
        },
        {"role": "assistant", "content": "Sorry, no such user."},
    ]
    source = tmp_path / "gpt-4o-airline.json"
    source.write_text(json.dumps([{"task_id": 3, "trial": 1, "reward": 0.0, "info": {}, "traj": traj}]))
    out = tmp_path / "o.jsonl"
    assert launcher().main(["convert", str(source), str(out)]) == 0
    spans = [s for line in spans_by_line(out) for s in line]
    names = sorted(s["name"] for s in spans)
    assert names == [
        "chat gpt-4o",
        "chat gpt-4o",
        "execute_tool get_user_details",
        "invoke_agent airline_agent",
    ]
    tool = next(s for s in spans if s["name"].startswith("execute_tool"))
    assert (
        tool["status"]["code"] == 2
        and attributes(tool)["gen_ai.tool.call.arguments"] == '{"user_id":"mia_li_3668"}'
    )
    assert attributes(tool)["tau.task_id"] == "task-003" and attributes(tool)["tau.trial"] == "1"
    last_chat = max(
        (s for s in spans if s["name"].startswith("chat")), key=lambda s: int(s["startTimeUnixNano"])
    )
    history = json.loads(attributes(last_chat)["gen_ai.input.messages"])
    assert [m["role"] for m in history] == ["user", "assistant", "tool"]
    assert history[2]["parts"][0] == {
        "type": "tool_call_response",
        "id": "c1",
        "response": "Error: user not found",
    }


def test_convert_pairs_reused_call_ids_in_order(tmp_path: Path) -> None:
    def call(name: str, args: str) -> dict:
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "dup", "type": "function", "function": {"name": name, "arguments": args}}],
        }

    traj = [
        {"role": "user", "content": "hi"},
        call("get_user_details", '{"user_id": "u1"}'),
        {"role": "tool", "tool_call_id": "dup", "name": "get_user_details", "content": '{"name": "U"}'},
        call("calculate", '{"expression": "1 + 2"}'),
        {"role": "tool", "tool_call_id": "dup", "name": "calculate", "content": "3.0"},
    ]
    source = tmp_path / "t.json"
    source.write_text(json.dumps([{"task_id": 1, "trial": 0, "reward": 1.0, "info": {}, "traj": traj}]))
    out = tmp_path / "o.jsonl"
    assert launcher().main(["convert", str(source), str(out)]) == 0
    tools = sorted(
        (s for line in spans_by_line(out) for s in line if s["name"].startswith("execute_tool")),
        key=lambda s: int(s["startTimeUnixNano"]),
    )
    assert [attributes(t)["gen_ai.tool.call.result"] for t in tools] == ['{"name": "U"}', "3.0"]


def test_convert_tau_bench_airline(tau_airline_trajectories: Path) -> None:
    from tau_convert import convert

    result = convert(tau_airline_trajectories)
    assert (result.traces, result.tool_calls, result.missing_observations) == (200, 1164, 0)
    roots = [next(s for s in spans if s.parent is None) for spans in result.recorder.traces]
    keys = {((r.attributes or {})["tau.task_id"], (r.attributes or {})["tau.trial"]) for r in roots}
    assert len(keys) == 200 and len({k for k, _ in keys}) == 50
    again = convert(tau_airline_trajectories).recorder.traces[:3]
    assert [[s.context.span_id for s in t] for t in again] == [
        [s.context.span_id for s in t] for t in result.recorder.traces[:3]
    ]
