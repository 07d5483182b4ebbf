"""Spans → episodes: tool spans in every convention, message pairing, task, tools, attributes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from wmh.ingest.conventions import build_episode, group_traces
from wmh.ingest.messages import input_messages, output_messages
from wmh.ingest.spans import Span, SpanEvent

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
OI_FIXTURES = DATA / "openinference" / "js" / "packages" / "openinference-genai" / "test" / "__fixtures__"
SEMCONV_EXAMPLES = (
    DATA / "semantic-conventions" / "docs" / "gen-ai" / "non-normative" / "examples-llm-calls.md"
)

_counter = iter(range(1, 10_000))


def span(name: str = "s", attrs: dict | None = None, **kw: Any) -> Span:
    n = next(_counter)
    fields: dict[str, Any] = {"trace_id": "t1", "span_id": f"s{n}", "parent_id": "root", "start_ns": n}
    fields.update(kw)
    return Span(name=name, kind=1, end_ns=fields["start_ns"] + 1, attributes=attrs or {}, **fields)


def episode(*spans: Span):
    return build_episode("t1", list(spans), "f.jsonl")


def steps(*spans: Span) -> list[tuple]:
    return [
        (s.action.name, s.action.arguments, s.observation.content, s.observation.is_error, s.call_id)
        for s in episode(*spans).steps
    ]


def test_genai_execute_tool_span():
    s = span(
        "execute_tool get_weather",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_weather",
            "gen_ai.tool.call.id": "c1",
            "gen_ai.tool.call.arguments": '{"city": "Paris"}',
            "gen_ai.tool.call.result": '{"temp": 12}',
        },
    )
    assert steps(s) == [("get_weather", {"city": "Paris"}, '{"temp": 12}', False, "c1")]


def test_structured_arguments_and_result_are_kept_as_object_and_compact_json():
    s = span(
        "execute_tool f",
        {"gen_ai.tool.call.arguments": {"b": 1, "a": [1, 2]}, "gen_ai.tool.call.result": {"z": 1, "y": None}},
    )
    assert steps(s) == [("f", {"b": 1, "a": [1, 2]}, '{"z":1,"y":null}', False, "")]


def test_non_object_arguments_are_wrapped():
    s = span("execute_tool f", {"gen_ai.tool.call.arguments": "plain words", "gen_ai.tool.call.result": "ok"})
    t = span("execute_tool g", {"gen_ai.tool.call.arguments": "[1, 2]", "gen_ai.tool.call.result": "ok"})
    assert [x[1] for x in steps(s, t)] == [{"input": "plain words"}, {"input": [1, 2]}]


def test_error_span_without_result_uses_status_message():
    s = span("execute_tool f", {"gen_ai.tool.name": "f"}, status_code=2, status_message="boom: not found")
    t = span("execute_tool g", {"error.type": "TimeoutError"})
    assert steps(s, t) == [
        ("f", {}, "boom: not found", True, ""),
        ("g", {}, "TimeoutError", True, ""),
    ]


def test_error_span_with_result_keeps_result():
    s = span(
        "execute_tool f", {"gen_ai.tool.call.result": "Error: no such user", "gen_ai.tool.status": "error"}
    )
    assert steps(s) == [("f", {}, "Error: no such user", True, "")]


def test_tool_span_without_result_is_not_a_step():
    s = span("execute_tool f", {"gen_ai.tool.call.arguments": "{}"})
    assert steps(s) == []


def test_other_tool_span_conventions():
    spans = [
        span("lookup", {"openinference.span.kind": "TOOL", "tool.name": "lookup", "tool.id": "c1",
                        "input.value": '{"q": 1}', "output.value": "one"}),
        span("fetch.tool", {"traceloop.span.kind": "tool", "traceloop.entity.name": "fetch",
                            "traceloop.entity.input": '{"args": [], "kwargs": {"url": "u"}}',
                            "traceloop.entity.output": '"page"'}),
        span("tools/call sum", {"mcp.method.name": "tools/call", "gen_ai.tool.name": "sum",
                                "gen_ai.tool.call.arguments": '{"a": 1}', "gen_ai.tool.call.result": "3"}),
        span("running tool", {"gen_ai.tool.name": "calc", "gen_ai.tool.call.id": "c4",
                              "tool_arguments": '{"x": 2}', "tool_response": "4"}),
        span("ai.toolCall", {"ai.toolCall.name": "web", "ai.toolCall.id": "c5",
                             "ai.toolCall.args": '{"q": "x"}', "ai.toolCall.result": '{"hits": 0}'}),
        span("execute_tool adk", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "adk",
                                  "gcp.vertex.agent.tool_call_args": '{"k": "v"}',
                                  "gcp.vertex.agent.tool_response": '{"r": 1}'}),
        span("execute_tool aa", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "aa",
                                 "gen_ai.tool.args": '{"t": "NY"}', "gen_ai.output": "{}"}),
    ]  # fmt: skip
    assert steps(*spans) == [
        ("lookup", {"q": 1}, "one", False, "c1"),
        ("fetch", {"url": "u"}, '"page"', False, ""),
        ("sum", {"a": 1}, "3", False, ""),
        ("calc", {"x": 2}, "4", False, "c4"),
        ("web", {"q": "x"}, '{"hits": 0}', False, "c5"),
        ("adk", {"k": "v"}, '{"r": 1}', False, ""),
        ("aa", {"t": "NY"}, "{}", False, ""),
    ]


def test_traceloop_positional_args():
    s = span("t.tool", {"traceloop.span.kind": "tool", "traceloop.entity.name": "t",
                        "traceloop.entity.input": '{"args": [{"id": 3}], "kwargs": {}}',
                        "traceloop.entity.output": "done"})  # fmt: skip
    assert steps(s) == [("t", {"id": 3}, "done", False, "")]


def test_strands_legacy_events():
    s = span(
        "execute_tool get_time",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "get_time",
            "gen_ai.tool.status": "success",
        },
        events=[
            SpanEvent("gen_ai.tool.message", 5, {"role": "tool", "content": '{"tz": "UTC"}', "id": "tc-1"}),
            SpanEvent("gen_ai.choice", 6, {"message": '[{"text": "12:00"}]', "id": "tc-1"}),
        ],
    )
    assert steps(s) == [("get_time", {"tz": "UTC"}, '[{"text": "12:00"}]', False, "tc-1")]


def test_strands_operation_details_event():
    inp = [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "x1", "name": "add", "arguments": {"a": 1}}],
        }
    ]
    out: list[Any] = [
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "x1", "response": {"sum": 3}}]}
    ]
    s = span(
        "execute_tool add",
        {"gen_ai.tool.name": "add", "gen_ai.tool.call.id": "x1"},
        events=[
            SpanEvent(
                "gen_ai.client.inference.operation.details",
                5,
                {"gen_ai.input.messages": orjson.dumps(inp).decode(), "gen_ai.output.messages": out},
            )
        ],
    )
    assert steps(s) == [("add", {"a": 1}, '{"sum":3}', False, "x1")]


def test_nested_tool_span_inside_tool_span_is_not_doubled():
    outer = span("execute_tool f", {"gen_ai.tool.call.result": "r"}, span_id="outer")
    inner = span(
        "tools/call f", {"mcp.method.name": "tools/call", "gen_ai.tool.call.result": "r"}, parent_id="outer"
    )
    assert len(steps(outer, inner)) == 1


def test_steps_are_time_ordered():
    late = span("execute_tool b", {"gen_ai.tool.call.result": "2"}, start_ns=20)
    early = span("execute_tool a", {"gen_ai.tool.call.result": "1"}, start_ns=10)
    assert [x[0] for x in steps(late, early)] == ["a", "b"]


# --- message pairing -----------------------------------------------------------------------------


def test_legacy_openllmetry_prompt_completion_pairing():
    first = span(
        "openai.chat",
        {
            "gen_ai.prompt.0.role": "user",
            "gen_ai.prompt.0.content": "weather in Oslo?",
            "gen_ai.completion.0.role": "assistant",
            "gen_ai.completion.0.tool_calls.0.id": "call_1",
            "gen_ai.completion.0.tool_calls.0.name": "weather",
            "gen_ai.completion.0.tool_calls.0.arguments": '{"city": "Oslo"}',
            "llm.request.functions.0.name": "weather",
            "llm.request.functions.0.description": "Get weather",
            "llm.request.functions.0.parameters": '{"type": "object"}',
        },
    )
    second = span("openai.chat", {
        "gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "weather in Oslo?",
        "gen_ai.prompt.1.role": "assistant",
        "gen_ai.prompt.1.tool_calls.0.id": "call_1",
        "gen_ai.prompt.1.tool_calls.0.name": "weather",
        "gen_ai.prompt.1.tool_calls.0.arguments": '{"city": "Oslo"}',
        "gen_ai.prompt.2.role": "tool", "gen_ai.prompt.2.tool_call_id": "call_1",
        "gen_ai.prompt.2.content": "snow, -3C",
    })  # fmt: skip
    ep = episode(first, second)
    assert [(s.action.name, s.action.arguments, s.observation.content, s.call_id) for s in ep.steps] == [
        ("weather", {"city": "Oslo"}, "snow, -3C", "call_1")
    ]
    assert ep.task == "weather in Oslo?"
    assert [(t.name, t.description, t.parameters) for t in ep.tools] == [
        ("weather", "Get weather", {"type": "object"})
    ]


def test_semconv_128_events_pairing():
    first = span(
        "chat m",
        {"gen_ai.operation.name": "chat"},
        events=[
            SpanEvent("gen_ai.system.message", 1, {"content": "be brief"}),
            SpanEvent("gen_ai.user.message", 1, {"content": "add 2 and 3"}),
            SpanEvent(
                "gen_ai.choice",
                2,
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": orjson.dumps(
                        {
                            "role": "assistant",
                            "tool_calls": [
                                {
                                    "id": "c9",
                                    "type": "function",
                                    "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'},
                                }
                            ],
                        }
                    ).decode(),
                },
            ),
        ],
    )
    second = span("chat m", {"gen_ai.operation.name": "chat"}, events=[
        SpanEvent("gen_ai.user.message", 3, {"content": "add 2 and 3"}),
        SpanEvent("gen_ai.assistant.message", 3, {"tool_calls": [
            {"id": "c9", "type": "function", "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'}}]}),
        SpanEvent("gen_ai.tool.message", 3, {"content": "5", "id": "c9"}),
    ])  # fmt: skip
    ep = episode(first, second)
    assert [(s.action.name, s.action.arguments, s.observation.content) for s in ep.steps] == [
        ("add", {"a": 2, "b": 3}, "5")
    ]
    assert ep.task == "add 2 and 3"


def test_openinference_message_pairing_with_tool_definitions():
    first = span(
        "llm",
        {
            "openinference.span.kind": "LLM",
            "llm.input_messages.0.message.role": "system",
            "llm.input_messages.0.message.content": "sys",
            "llm.input_messages.1.message.role": "user",
            "llm.input_messages.1.message.content": "find cats",
            "llm.output_messages.0.message.role": "assistant",
            "llm.output_messages.0.message.tool_calls.0.tool_call.id": "t1",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "search",
            "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": '{"q": "cats"}',
            "llm.output_messages.0.message.tool_calls.1.tool_call.id": "t2",
            "llm.output_messages.0.message.tool_calls.1.tool_call.function.name": "search",
            "llm.output_messages.0.message.tool_calls.1.tool_call.function.arguments": '{"q": "dogs"}',
            "llm.tools.0.tool.json_schema": orjson.dumps(
                {
                    "type": "function",
                    "function": {"name": "search", "description": "Search", "parameters": {}},
                }
            ).decode(),
        },
    )
    second = span("llm", {
        "openinference.span.kind": "LLM",
        "llm.input_messages.2.message.role": "tool", "llm.input_messages.2.message.tool_call_id": "t1",
        "llm.input_messages.2.message.content": "3 cats",
    })  # fmt: skip
    ep = episode(first, second)
    # t2 never got a result: not a step
    assert [(s.action.name, s.action.arguments, s.observation.content) for s in ep.steps] == [
        ("search", {"q": "cats"}, "3 cats")
    ]
    assert ep.task == "find cats"
    assert [(t.name, t.description) for t in ep.tools] == [("search", "Search")]


def test_tool_span_wins_over_message_pairing():
    llm = span(
        "chat",
        {
            "gen_ai.input.messages": orjson.dumps(
                [
                    {
                        "role": "assistant",
                        "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {}}],
                    },
                    {
                        "role": "tool",
                        "parts": [{"type": "tool_call_response", "id": "c1", "response": "from messages"}],
                    },
                ]
            ).decode()
        },
    )
    tool = span("execute_tool f", {"gen_ai.tool.call.id": "c1", "gen_ai.tool.call.result": "from span"})  # fmt: skip
    assert steps(llm, tool) == [("f", {}, "from span", False, "c1")]


# --- task, tools, attributes ---------------------------------------------------------------------


def test_task_falls_back_to_system_then_root_input():
    sys_only = span("chat", {"gen_ai.system_instructions": '[{"type": "text", "content": "You are a bot"}]'})
    tool = span("execute_tool f", {"gen_ai.tool.call.result": "r"})
    assert episode(sys_only, tool).task == "You are a bot"
    root = span("agent", {"input.value": "do the thing"}, parent_id="")
    assert episode(root, span("execute_tool f", {"gen_ai.tool.call.result": "r"})).task == "do the thing"


def test_task_is_capped():
    llm = span(
        "chat", {"gen_ai.input.messages": orjson.dumps([{"role": "user", "content": "x" * 9000}]).decode()}
    )
    assert len(episode(llm).task) == 4000


def test_trace_attributes_for_group_by():
    root = span(
        "invoke_agent",
        {"task.id": "task-7", "gen_ai.conversation.id": "conv1", "input.value": "secret"},
        parent_id="",
        resource={"service.name": "svc"},
    )
    tool = span("execute_tool f", {"gen_ai.tool.call.result": "r", "run.n": 3, "long": "y" * 500})  # fmt: skip
    attrs = episode(root, tool).attributes
    assert attrs["task.id"] == "task-7"
    assert attrs["gen_ai.conversation.id"] == "conv1"
    assert attrs["service.name"] == "svc"
    assert attrs["run.n"] == "3"
    assert len(attrs["long"]) == 200
    assert "input.value" not in attrs
    assert "gen_ai.tool.call.result" not in attrs


def test_tool_definitions_from_genai_and_tool_spans():
    defs = [{"type": "function", "name": "a", "description": "A", "parameters": {"type": "object"}}]
    llm = span("chat", {"gen_ai.tool.definitions": orjson.dumps(defs).decode()})
    tool = span("execute_tool b", {"gen_ai.tool.description": "B", "gen_ai.tool.call.result": "r"})
    ep = episode(llm, tool)
    assert [(t.name, t.description, t.parameters) for t in ep.tools] == [
        ("a", "A", {"type": "object"}),
        ("b", "B", None),
    ]


def test_group_traces_keeps_file_order():
    a1, b1, a2 = span(trace_id="a"), span(trace_id="b"), span(trace_id="a")
    assert {k: len(v) for k, v in group_traces([a1, b1, a2]).items()} == {"a": 2, "b": 1}


# --- shared fixtures -------------------------------------------------------------------------------


def _fixture_span(name: str) -> Span:
    path = OI_FIXTURES / name
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    return span("fixture", orjson.loads(path.read_bytes()))


def test_openinference_fixture_genai_tool_execution_span():
    s = _fixture_span("otel_genai_tool_execution_span.json")
    (step,) = episode(s).steps
    assert step.action.name == "get_weather"
    assert step.call_id == "1234"
    assert step.action.arguments == {"city": "New York"}
    assert '"status": "success"' in step.observation.content
    assert "sunny" in step.observation.content
    assert not step.observation.is_error
    assert [(t.name, t.description) for t in episode(s).tools] == [
        ("get_weather", "Retrieves the current weather report for a specified city.")
    ]


@pytest.mark.parametrize(
    "name",
    [
        "openinference_client_span_tool_calls.json",
        "otel_genai_client_span_tool_calls.json",
        "otel_genai_deprecated_client_span_tool_calls.json",
    ],
)
def test_openinference_fixture_client_span_tool_calls(name: str):
    ep = episode(_fixture_span(name))
    assert [(s.action.name, s.action.arguments, s.observation.content, s.call_id) for s in ep.steps] == [
        ("get_weather", {"location": "Paris"}, "rainy, 57°F", "1234")
    ]
    assert ep.task == "Weather in Paris?"


def test_openinference_fixture_input_output_only_has_messages_but_no_pairs_needed():
    s = _fixture_span("openinference_client_span_input_output_only.json")
    # input.value holds messages but is not a message source: no LLM messages, so no steps
    assert episode(s).steps == ()
    assert input_messages(s) == [] and output_messages(s) == []


def _semconv_blocks() -> dict[str, object]:
    if not SEMCONV_EXAMPLES.is_file():
        pytest.skip(f"{SEMCONV_EXAMPLES} is not present")
    text = SEMCONV_EXAMPLES.read_text()
    found = re.findall(r'<span id="([^"]+)">.*?```json\n(.*?)\n```', text, flags=re.S)
    return {anchor: orjson.loads(body) for anchor, body in found}


def test_semconv_tool_call_example_pairs_across_two_chat_spans():
    blocks = _semconv_blocks()
    chat1 = span(
        "chat gpt-4",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.input.messages": orjson.dumps(blocks["gen-ai-input-messages-tool-call-span-1"]).decode(),
            "gen_ai.output.messages": orjson.dumps(
                blocks["gen-ai-output-messages-tool-call-span-1"]
            ).decode(),
            "gen_ai.tool.definitions": orjson.dumps(
                blocks["gen-ai-tool-definitions-tool-call-span-1"]
            ).decode(),
        },
    )
    chat2 = span("chat gpt-4", {
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": orjson.dumps(blocks["gen-ai-input-messages-tool-call-span-2"]).decode(),
        "gen_ai.output.messages": orjson.dumps(blocks["gen-ai-output-messages-tool-call-span-2"]).decode(),
    })  # fmt: skip
    ep = episode(chat1, chat2)
    assert [(s.action.name, s.action.arguments, s.observation.content, s.call_id) for s in ep.steps] == [
        ("get_weather", {"location": "Paris"}, "rainy, 57°F", "call_VSPygqKTWdrhaFErNvMV18Yl")
    ]
    assert ep.task == "Weather in Paris?"
    assert [t.name for t in ep.tools] == ["get_current_weather"]
    assert ep.tools[0].parameters is not None and "location" in str(ep.tools[0].parameters)


def test_semconv_system_instructions_example():
    blocks = _semconv_blocks()
    chat = span("chat", {
        "gen_ai.system_instructions": orjson.dumps(blocks["gen-ai-system-instructions"]).decode(),
        "gen_ai.input.messages": orjson.dumps(blocks["gen-ai-input-messages-instructions"]).decode(),
    })  # fmt: skip
    msgs = input_messages(chat)
    assert [(m.role, m.text) for m in msgs] == [
        ("system", "You are a helpful bot"),
        ("user", "Tell me a joke about OpenTelemetry"),
    ]
    assert episode(chat).task == "Tell me a joke about OpenTelemetry"


def test_reused_call_ids_are_distinct_steps() -> None:
    from wmh.ingest.conventions import tool_span_steps
    from wmh.ingest.spans import Span

    def span(sid: str, tool: str, args: str, result: str, t: int) -> Span:
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": "dup",
            "gen_ai.tool.call.arguments": args,
            "gen_ai.tool.call.result": result,
        }
        return Span(
            trace_id="t" * 32,
            span_id=sid,
            parent_id="",
            name=f"execute_tool {tool}",
            kind=1,
            start_ns=t,
            end_ns=t + 1,
            attributes=attrs,
        )

    steps = tool_span_steps(
        [
            span("a" * 16, "get", '{"id": 1}', "x", 1),
            span("b" * 16, "calc", '{"e": "1+2"}', "3", 2),
            span("c" * 16, "calc", '{"e": "1+2"}', "3", 2),
        ]
    )
    assert [s.action.name for s in steps] == ["get", "calc"]


def test_repeated_call_is_dropped_by_canonical_arguments_and_answer() -> None:
    def call(args: str, result: str) -> Span:
        attrs = {
            "gen_ai.tool.name": "get",
            "gen_ai.tool.call.id": "c1",
            "gen_ai.tool.call.arguments": args,
            "gen_ai.tool.call.result": result,
        }
        return span("execute_tool get", attrs)

    got = steps(call('{"a": 1, "b": 2}', "x"), call('{"b": 2, "a": 1}', "x"), call('{"a": 1, "b": 2}', "y"))
    assert got == [("get", {"a": 1, "b": 2}, "x", False, "c1"), ("get", {"a": 1, "b": 2}, "y", False, "c1")]


def _defs(*tools: tuple[str, str, dict | None]) -> str:
    return orjson.dumps([{"name": n, "description": d, "parameters": p} for n, d, p in tools]).decode()


def test_tool_definitions_repeated_on_every_llm_span_are_built_once_and_shared():
    text = _defs(("a", "A", {"type": "object"}), ("b", "", None))
    first = episode(
        span("chat", {"gen_ai.tool.definitions": text}), span("chat", {"gen_ai.tool.definitions": text})
    )
    second = episode(span("chat", {"gen_ai.tool.definitions": text}))
    assert [(t.name, t.description, t.parameters) for t in first.tools] == [
        ("a", "A", {"type": "object"}),
        ("b", "", None),
    ]
    assert second.tools == first.tools
    assert all(x is y for x, y in zip(second.tools, first.tools, strict=True))


def test_tool_definitions_merge_across_different_texts_the_same_with_or_without_the_cache():
    one = _defs(("a", "", None), ("b", "B", None))
    two = _defs(("a", "A", {"type": "object"}), ("c", "C", None))
    texts = [one, two, one]  # the repeat of ``one`` adds nothing; the first description and schema win
    cached = episode(*(span("chat", {"gen_ai.tool.definitions": t}) for t in texts)).tools
    # a tool span with a description takes the uncached path; its tool is merged in after the LLM spans'
    described = span("execute_tool z", {"gen_ai.tool.description": "Z", "gen_ai.tool.call.result": "r"})
    uncached = episode(*(span("chat", {"gen_ai.tool.definitions": t}) for t in texts), described).tools
    expected = [("a", "A", {"type": "object"}), ("b", "B", None), ("c", "C", None)]
    assert [(t.name, t.description, t.parameters) for t in cached] == expected
    assert [(t.name, t.description, t.parameters) for t in uncached] == [*expected, ("z", "Z", None)]


def _call(cid: str, args: dict) -> dict:
    return {"role": "assistant", "parts": [{"type": "tool_call", "id": cid, "name": "f", "arguments": args}]}


def _result(cid: str, text: str) -> dict:
    return {"role": "tool", "parts": [{"type": "tool_call_response", "id": cid, "response": text}]}


def _chat(inputs: str, outputs: list[dict]) -> Span:
    attrs = {"gen_ai.input.messages": inputs, "gen_ai.output.messages": orjson.dumps(outputs).decode()}
    return span("chat", attrs)


def _pairs_reading_every_input(talking: list[Span]) -> list[tuple]:
    """The pairing as specified: every span's whole input read (the oracle for the incremental read)."""
    calls, results = {}, {}
    for s in talking:
        for msg in [*input_messages(s), *output_messages(s)]:
            for call in msg.calls:
                calls.setdefault(call.id, (call, s))
            for cid, result in msg.results:
                if result is not None:
                    results.setdefault(cid, result)
    return [(c.name, c.arguments, results[i], i, s.span_id) for i, (c, s) in calls.items() if i in results]


def test_message_pairing_reads_only_what_each_llm_call_adds_to_the_conversation():
    user = {"role": "user", "parts": [{"type": "text", "content": "go"}]}
    history = [
        user,
        _call("c1", {"x": 1}),
        _result("c1", "one"),
        _call("c2", {"x": 2.0}),
        _result("c2", "two"),
    ]
    texts = [orjson.dumps(history[:n]).decode() for n in (1, 3, 3, 5)]
    variants = {
        "growing": texts,
        "pretty or rewritten": [
            texts[0],
            orjson.dumps(history[:3], option=orjson.OPT_INDENT_2).decode(),
            texts[3],
        ],
        "trailing comma": [texts[1], texts[1][:-1] + ",]", texts[3]],
        "extended with no message": [texts[1], texts[1][:-1] + ",1,null]", texts[3]],
        "prefix then other text": [texts[1], texts[1][:-1] + ',{"role": "tool", "parts": [}]', texts[3]],
    }
    for name, inputs in variants.items():
        talking = [_chat(text, [_call("c9", {"n": i})]) for i, text in enumerate(inputs)]
        ep = build_episode("t1", talking, "f.jsonl")
        got = [
            (s.action.name, s.action.arguments, s.observation.content, s.call_id, s.span_id) for s in ep.steps
        ]
        expected = [(n, a, c, i, sid) for n, a, c, i, sid in _pairs_reading_every_input(talking)]
        assert got == expected, name
        assert [s.call_id for s in ep.steps] == ["c1", "c2"], name


def test_trace_attributes_take_a_later_value_where_an_earlier_span_with_the_same_keys_had_none():
    tool = {"gen_ai.tool.name": "f", "gen_ai.tool.call.result": "ok"}
    ep = episode(
        span("root", {"user.id": None, "session.id": "s1"}, parent_id=""),
        span("execute_tool f", {"user.id": None, "session.id": "s2", **tool}),
        span("execute_tool f", {"user.id": "u1", "session.id": "s3", **tool}),
        span("execute_tool f", {"user.id": "u2", "session.id": "s4", **tool}),
    )
    assert ep.attributes == {"user.id": "u1", "session.id": "s1"}
