import json
from pathlib import Path

import orjson
import pytest

from bench.tau2 import convert_file, time_ns
from wmh.core.errors import UserInputError
from wmh.core.types import Episode
from wmh.ingest import ingest_files

TELECOM = (
    Path(__file__).resolve().parents[2]
    / "shared/data/tau2-bench/data/simulations"
    / "2025-08-10T02:44:06.496849_telecom_llm_agent_gpt-4o_user_simulator_gpt-4o.json"
)


def _msg(role: str, turn: int, content: str | None = None, calls: list | None = None) -> dict:
    return {
        "role": role,
        "content": content,
        "tool_calls": calls,
        "turn_idx": turn,
        "timestamp": f"2025-08-10T02:44:{turn:02d}.000100",
    }


def _tool(turn: int, call_id: str, requestor: str, content: str, error: bool = False) -> dict:
    return {
        "id": call_id,
        "role": "tool",
        "content": content,
        "requestor": requestor,
        "error": error,
        "turn_idx": turn,
        "timestamp": f"2025-08-10T02:44:{turn:02d}.000500",
    }


def _call(call_id: str, name: str, arguments: dict, requestor: str) -> dict:
    return {"id": call_id, "name": name, "arguments": arguments, "requestor": requestor}


SIMULATION = {
    "id": "sim-1",
    "task_id": "[service_issue]airplane_mode_on",
    "trial": 0,
    "termination_reason": "user_stop",
    "reward_info": {"reward": 1.0},
    "messages": [
        _msg("assistant", 0, "Hi! How can I help you today?"),
        _msg("user", 1, "My phone has no service."),
        _msg(
            "assistant", 2, None, [_call("a1", "get_customer_by_phone", {"phone_number": "555"}, "assistant")]
        ),
        _tool(3, "a1", "assistant", '{"customer_id": "C1"}'),
        _msg(
            "user", 4, None, [_call("u1", "check_status_bar", {}, "user"), _call("u2", "reboot", {}, "user")]
        ),
        _tool(5, "u1", "user", "Airplane Mode: ON"),
        _tool(6, "u2", "user", "Error: cannot reboot in airplane mode", error=True),
        _msg("assistant", 7, None, [_call("a2", "resume_line", {"line_id": "L1"}, "assistant")]),
    ],
}


def _converted(tmp_path: Path, data: dict) -> tuple[list[Episode], list[dict]]:
    source = tmp_path / "results.json"
    source.write_text(json.dumps(data))
    out = tmp_path / "out.otel.jsonl"
    convert_file(source, out)
    return list(ingest_files([out]).episodes), _spans(out)


def _spans(out: Path) -> list[dict]:
    """Every span in an OTLP JSON lines file, in file order."""
    return [
        s
        for line in out.read_bytes().splitlines()
        for s in orjson.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    ]


def _attr(span: dict, key: str) -> object:
    return next((next(iter(a["value"].values())) for a in span["attributes"] if a["key"] == key), None)


def test_synthetic_simulation_becomes_one_trace_with_every_answered_call(tmp_path: Path) -> None:
    data = {"info": {"environment_info": {"domain_name": "telecom"}}, "simulations": [SIMULATION]}
    [episode], spans = _converted(tmp_path, data)
    assert episode.attributes["tau.task_id"] == "[service_issue]airplane_mode_on"
    assert episode.attributes["tau.domain"] == "telecom"
    assert episode.task == "My phone has no service."
    names = [s.action.name for s in episode.steps]
    assert names == ["get_customer_by_phone", "check_status_bar", "reboot"]  # a2 is unanswered
    first, _, failed = episode.steps
    assert (
        first.action.arguments == {"phone_number": "555"}
        and first.observation.content == '{"customer_id": "C1"}'
    )
    assert failed.observation.is_error and failed.observation.content.startswith("Error: cannot reboot")
    assert not first.observation.is_error
    assert [_attr(s, "tau2.requestor") for s in spans[1:]] == ["assistant", "user", "user"]
    assert spans[2]["startTimeUnixNano"] < spans[3]["startTimeUnixNano"]  # two calls of one message


def test_conversion_is_deterministic(tmp_path: Path) -> None:
    data = {"simulations": [SIMULATION]}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _converted(tmp_path / "a", data)
    _converted(tmp_path / "b", data)
    assert (tmp_path / "a/out.otel.jsonl").read_bytes() == (tmp_path / "b/out.otel.jsonl").read_bytes()


def test_not_a_results_file_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(UserInputError, match="not a tau2 results file"):
        convert_file(bad, tmp_path / "out.jsonl")
    with pytest.raises(UserInputError, match="no such file"):
        convert_file(tmp_path / "missing.json", tmp_path / "out.jsonl")


def test_time_ns_reads_naive_iso_as_utc() -> None:
    assert time_ns("1970-01-01T00:00:01.000002") == 1_000_002_000
    assert time_ns("1970-01-01T00:00:01+00:00") == 1_000_000_000
    assert time_ns(None) == time_ns("not a time") == 0


def test_telecom_simulations_ingest_as_twenty_episodes(tmp_path: Path) -> None:
    if not TELECOM.is_file():
        pytest.skip(f"{TELECOM} is absent")
    raw = json.loads(TELECOM.read_bytes())
    out = tmp_path / "telecom.otel.jsonl"
    done = convert_file(TELECOM, out)
    assert (done.traces, done.tool_calls, done.unanswered) == (20, 215, 0)
    result = ingest_files([out])
    assert not result.problems
    episodes = {ep.attributes["tau.task_id"]: ep for ep in result.episodes}
    assert len(result.episodes) == len(episodes) == 20
    assert set(episodes) == {s["task_id"] for s in raw["simulations"]}
    assert sum(len(ep.steps) for ep in result.episodes) == 215
    assert sum(s.observation.is_error for ep in result.episodes for s in ep.steps) == 1

    first = episodes["[mobile_data_issue]user_abroad_roaming_enabled_off[PERSONA:None]"].steps[0]
    recorded = next(m for m in raw["simulations"][0]["messages"] if m["role"] == "tool")
    assert first.action.name == "get_customer_by_phone"
    assert first.action.arguments == {"phone_number": "555-123-2002"}
    assert first.observation.content == recorded["content"]
    assert json.loads(first.observation.content)["customer_id"] == "C1001"
    assert not first.observation.is_error

    failed = [
        s
        for s in episodes["[service_issue]overdue_bill_suspension[PERSONA:Easy]"].steps
        if s.observation.is_error
    ]
    assert [(s.action.name, s.action.arguments) for s in failed] == [
        ("resume_line", {"customer_id": "C1001", "line_id": "L1001"})
    ]
    assert failed[0].observation.content == "Error: Line must be suspended to resume"


def test_telecom_user_side_calls_are_steps(tmp_path: Path) -> None:
    if not TELECOM.is_file():
        pytest.skip(f"{TELECOM} is absent")
    out = tmp_path / "telecom.otel.jsonl"
    convert_file(TELECOM, out)
    requestors = [_attr(s, "tau2.requestor") for s in _spans(out) if s["name"].startswith("execute_tool ")]
    assert (requestors.count("user"), requestors.count("assistant")) == (125, 90)
