"""The scripted agent: seeded task plans, repeated trials, traced conversations."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from agent import PLAYS, capture
from airline_env import AirlineEnv
from genai_tracing import Recorder
from tasks import plan_tasks


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return capture(seed=3, n_tasks=14)


def attrs(span) -> dict:
    return dict(span.attributes or {})


def test_plan_is_seeded_and_varied() -> None:
    env = AirlineEnv.from_seed(3)
    tasks = plan_tasks(env, 3, 30)
    assert tasks == plan_tasks(env, 3, 30)
    assert tasks != plan_tasks(env, 4, 30)
    assert {t.kind for t in tasks} == set(PLAYS)
    assert [t.task_id for t in tasks[:2]] == ["task-000", "task-001"]
    assert sum(t.trials for t in tasks) > len(tasks)


def test_one_trace_per_trial_with_task_ids(recorder: Recorder) -> None:
    roots = [next(s for s in spans if s.parent is None) for spans in recorder.traces]
    keys = Counter(attrs(r)["tau.task_id"] for r in roots)
    assert len(keys) == 14 and max(keys.values()) == 4
    assert {(attrs(r)["tau.task_id"], attrs(r)["tau.trial"]) for r in roots}.__len__() == len(roots)
    for spans in recorder.traces:
        assert len({s.context.trace_id for s in spans}) == 1
        assert all("tau.task_id" in attrs(s) and "tau.trial" in attrs(s) for s in spans)


def test_conversation_shapes(recorder: Recorder) -> None:
    errors = 0
    for spans in recorder.traces:
        root = next(s for s in spans if s.parent is None)
        assert root.name == "invoke_agent airline_agent"
        chats = [s for s in spans if attrs(s).get("gen_ai.operation.name") == "chat"]
        tools = [s for s in spans if attrs(s).get("gen_ai.operation.name") == "execute_tool"]
        first = json.loads(attrs(chats[0])["gen_ai.input.messages"])[0]
        assert first == {
            "role": "user",
            "parts": [{"type": "text", "content": attrs(root)["tau.instruction"]}],
        }
        assert "gen_ai.tool.definitions" in attrs(chats[0]) and "gen_ai.system_instructions" in attrs(
            chats[0]
        )
        asked = {
            p["id"]
            for c in chats
            for m in json.loads(attrs(c)["gen_ai.output.messages"])
            for p in m["parts"]
            if p["type"] == "tool_call"
        }
        for tool in tools:
            a = attrs(tool)
            assert a["gen_ai.tool.call.id"] in asked and a["gen_ai.tool.type"] == "function"
            json.loads(a["gen_ai.tool.call.arguments"])
            is_error = tool.status.status_code.name == "ERROR"
            assert is_error == a["gen_ai.tool.call.result"].startswith("Error")
            assert is_error == ("error.type" in a)
            errors += is_error
    assert errors > 0


def test_trials_repeat_the_same_instruction(recorder: Recorder) -> None:
    by_task: dict[str, set[str]] = {}
    for spans in recorder.traces:
        root = attrs(next(s for s in spans if s.parent is None))
        by_task.setdefault(root["tau.task_id"], set()).add(root["tau.instruction"])
    assert all(len(texts) == 1 for texts in by_task.values())
