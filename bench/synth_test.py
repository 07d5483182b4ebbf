"""The synthetic trace generator: both shapes ingest to the same tool steps; conversations grow."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import orjson

from bench import synth
from wmh.ingest import ingest_files


def _spans(n_spans: int, conversation: bool) -> list[dict]:
    lines = synth.lines(n_spans, conversation=conversation)
    return [s for line in lines for s in orjson.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]]


def _attrs(span: dict) -> dict[str, str]:
    return {kv["key"]: kv["value"].get("stringValue") for kv in span["attributes"]}


def test_conversation_chat_spans_carry_the_growing_history() -> None:
    spans = _spans(synth.SPANS_PER_TRACE, conversation=True)
    assert len(spans) == synth.SPANS_PER_TRACE
    chats = [_attrs(s) for s in spans if s["name"].startswith("chat ")]
    histories = [orjson.loads(a["gen_ai.input.messages"]) for a in chats]
    assert [len(h) for h in histories] == [1, 3, 5, 7, 9]
    for before, after in pairwise(histories):
        assert after[: len(before)] == before  # each call's input: the whole conversation so far
    kinds = [part["type"] for message in histories[-1] for part in message["parts"]]
    assert kinds == ["text", *["tool_call", "tool_call_response"] * 4]
    outputs = [orjson.loads(a["gen_ai.output.messages"]) for a in chats]
    assert [o[0] for o in outputs[:-1]] == histories[-1][1::2]  # the calls made are the calls recorded
    assert all(a["gen_ai.tool.definitions"] == synth.TOOL_DEFINITIONS for a in chats)


def test_every_shape_ingests_to_one_episode_per_trace(tmp_path: Path) -> None:
    for conversation, tool_spans in ((False, True), (True, True), (True, False)):
        path = synth.write(tmp_path / f"{conversation}{tool_spans}.jsonl", 40, conversation, tool_spans)
        result = ingest_files([path])
        assert (result.span_count, len(result.episodes), result.problems) == (40 if tool_spans else 24, 4, ())
        first = result.episodes[0]
        assert first.steps[0].action.name == synth.TOOLS[0]
        assert first.task.startswith("task 0")
        if conversation:
            assert [s.call_id for s in first.steps] == [f"call_0_{j}" for j in range(synth.TURNS)]
            assert [t.name for t in first.tools] == list(synth.TOOLS)


def test_without_tool_spans_the_messages_give_the_same_steps(tmp_path: Path) -> None:
    def steps(tool_spans: bool) -> list[tuple]:
        path = synth.write(tmp_path / f"{tool_spans}.jsonl", 30, conversation=True, tool_spans=tool_spans)
        eps = ingest_files([path]).episodes
        return [
            (s.call_id, s.action.name, s.action.arguments, s.observation.content)
            for e in eps
            for s in e.steps
        ]

    assert steps(tool_spans=False) == steps(tool_spans=True)
