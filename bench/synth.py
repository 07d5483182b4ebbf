"""Synthetic OTLP JSON-lines traces of any size, for speed and scaling benchmarks.

Each trace is one ``invoke_agent`` root, a ``chat`` span, and tool spans in OTel GenAI form whose
answers echo their arguments, so the engine has real structure to learn.

With ``conversation=True`` a trace is recorded as OTel GenAI instrumentation records a tool-using
agent instead: a ``chat`` span per LLM call whose ``gen_ai.input.messages`` is the whole
conversation so far (the task, then each earlier tool call and its result as messages), with its
output messages and the tool definitions, and between the calls the tool spans (or, with
``tool_spans=False``, none: the tool calls are then in the messages only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import orjson

TOOLS = ("lookup_account", "search_items", "update_item", "get_order", "compute_total")
SPANS_PER_TRACE = 10


def _hex(seed: str, n: int) -> str:
    return hashlib.blake2b(seed.encode(), digest_size=n).hexdigest()


def _attr(key: str, value: str | int) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def _span(trace: str, sid: str, parent: str, name: str, start: int, attrs: list[dict]) -> dict:
    return {
        "traceId": trace,
        "spanId": sid,
        "parentSpanId": parent,
        "name": name,
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 1_000_000),
        "attributes": attrs,
        "status": {},
    }


def trace_spans(i: int) -> list[dict]:
    trace = _hex(f"trace{i}", 16)
    root = _hex(f"root{i}", 8)
    t0 = 1_700_000_000_000_000_000 + i * 10_000_000_000
    msgs = orjson.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": f"task {i % 500}"}]}]
    ).decode()
    spans = [
        _span(
            trace,
            root,
            "",
            "invoke_agent bench",
            t0,
            [_attr("gen_ai.operation.name", "invoke_agent"), _attr("task.id", f"task-{i % 500}")],
        ),
        _span(
            trace,
            _hex(f"chat{i}", 8),
            root,
            "chat m",
            t0 + 1,
            [_attr("gen_ai.operation.name", "chat"), _attr("gen_ai.input.messages", msgs)],
        ),
    ]
    for j in range(SPANS_PER_TRACE - 2):
        tool = TOOLS[(i + j) % len(TOOLS)]
        key = f"id_{(i * 7 + j * 13) % 5000}"
        args = orjson.dumps({"id": key, "n": j}).decode()
        result = orjson.dumps(
            {"id": key, "tool": tool, "n": j, "status": "ok", "total": (i + j) % 97}
        ).decode()
        spans.append(
            _span(
                trace,
                _hex(f"s{i}.{j}", 8),
                root,
                f"execute_tool {tool}",
                t0 + 10 + j * 2_000_000,
                [
                    _attr("gen_ai.operation.name", "execute_tool"),
                    _attr("gen_ai.tool.name", tool),
                    _attr("gen_ai.tool.call.id", f"call_{i}_{j}"),
                    _attr("gen_ai.tool.call.arguments", args),
                    _attr("gen_ai.tool.call.result", result),
                ],
            )
        )
    return spans


def _str_attrs(pairs: dict[str, str]) -> list[dict]:
    return [_attr(k, v) for k, v in pairs.items()]


def _root(i: int) -> tuple[str, str, int, dict]:
    trace, root = _hex(f"trace{i}", 16), _hex(f"root{i}", 8)
    t0 = 1_700_000_000_000_000_000 + i * 10_000_000_000
    attrs = [_attr("gen_ai.operation.name", "invoke_agent"), _attr("task.id", f"task-{i % 500}")]
    return trace, root, t0, _span(trace, root, "", "invoke_agent bench", t0, attrs)


TOOL_DEFINITIONS = orjson.dumps(
    [
        {
            "type": "function",
            "name": tool,
            "description": f"{tool.replace('_', ' ').capitalize()} by id; answers a JSON record.",
            "parameters": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "description": "The record id, such as 'id_42'."},
                    "n": {"type": "integer", "description": "Which page of the record to return."},
                },
                "required": ["id", "n"],
            },
        }
        for tool in TOOLS
    ]
).decode()


def _text(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


def _tool_result(i: int, j: int, tool: str, key: str) -> str:
    items = [
        {"sku": f"sku_{(i + j + k) % 997}", "qty": k + 1, "price": round(9.5 + k * 3.25, 2)} for k in range(3)
    ]
    record = {"id": key, "tool": tool, "n": j, "status": "ok", "total": (i + j) % 97, "items": items}
    record["note"] = f"Record {key} as of 2024-05-{1 + i % 28:02d}; {tool} returned {len(items)} items."
    return orjson.dumps(record).decode()


def _chat(trace: str, root: str, i: int, turn: int, start: int, history: list[dict], out: list[dict]) -> dict:
    attrs = _str_attrs(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "bench",
            "gen_ai.request.model": "bench-model",
            "gen_ai.input.messages": orjson.dumps(history).decode(),
            "gen_ai.output.messages": orjson.dumps(out).decode(),
            "gen_ai.tool.definitions": TOOL_DEFINITIONS,
        }
    )
    calls = any(part["type"] == "tool_call" for message in out for part in message["parts"])
    reasons = {"values": [{"stringValue": "tool_call" if calls else "stop"}]}
    attrs.append({"key": "gen_ai.response.finish_reasons", "value": {"arrayValue": reasons}})
    attrs += [_attr("gen_ai.usage.input_tokens", 200 + 60 * turn), _attr("gen_ai.usage.output_tokens", 40)]
    return _span(trace, _hex(f"chat{i}.{turn}", 8), root, "chat bench-model", start, attrs)


TURNS = (SPANS_PER_TRACE - 2) // 2  # tool calls per conversation: a chat and a tool span each


def conversation_spans(i: int, tool_spans: bool = True) -> list[dict]:
    """Trace ``i`` as an agent's LLM calls (each with the whole conversation so far) and tool calls.

    Without ``tool_spans`` only the LLM calls are recorded (as instrumentation of an LLM client
    alone writes them): the tool steps are then in the messages only.
    """
    trace, root, t0, root_span = _root(i)
    history = [_text("user", f"task {i % 500}: look up the records and total them for account {i % 97}.")]
    spans = [root_span]
    for j in range(TURNS):
        start = t0 + 1 + j * 4_000_000
        tool, key, call_id = TOOLS[(i + j) % len(TOOLS)], f"id_{(i * 7 + j * 13) % 5000}", f"call_{i}_{j}"
        args = {"id": key, "n": j}
        call = {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": call_id, "name": tool, "arguments": args}],
        }
        spans.append(_chat(trace, root, i, j, start, history, [call]))
        result = _tool_result(i, j, tool, key)
        if tool_spans:
            spans.append(_tool_span(trace, root, f"s{i}.{j}", start + 2_000_000, tool, call_id, args, result))
        response = {"type": "tool_call_response", "id": call_id, "response": result}
        history += [call, {"role": "tool", "parts": [response]}]
    done = [_text("assistant", f"Done: total {i % 97}.")]
    spans.append(_chat(trace, root, i, TURNS, t0 + 1 + TURNS * 4_000_000, history, done))
    return spans


def _tool_span(
    trace: str, root: str, seed: str, start: int, tool: str, call_id: str, args: dict, result: str
) -> dict:
    attrs = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.call.arguments": orjson.dumps(args).decode(),
        "gen_ai.tool.call.result": result,
    }
    return _span(trace, _hex(seed, 8), root, f"execute_tool {tool}", start, _str_attrs(attrs))


def lines(
    n_spans: int, traces_per_line: int = 4, conversation: bool = False, tool_spans: bool = True
) -> Iterator[bytes]:
    """OTLP request lines of ``n_spans // SPANS_PER_TRACE`` traces (fewer spans without ``tool_spans``).

    ``tool_spans`` only matters for conversations: the tiny traces are all tool spans.
    """
    n_traces = max(1, n_spans // SPANS_PER_TRACE)
    for start in range(0, n_traces, traces_per_line):
        traces = range(start, min(n_traces, start + traces_per_line))
        if conversation:
            spans = [s for i in traces for s in conversation_spans(i, tool_spans)]
        else:
            spans = [s for i in traces for s in trace_spans(i)]
        req = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [_attr("service.name", "bench")]},
                    "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
                }
            ]
        }
        yield orjson.dumps(req)


def write(path: Path, n_spans: int, conversation: bool = False, tool_spans: bool = True) -> Path:
    """Write ``lines(n_spans, ...)`` to ``path``, one request per line."""
    with open(path, "wb") as f:
        for line in lines(n_spans, conversation=conversation, tool_spans=tool_spans):
            f.write(line + b"\n")
    return path
