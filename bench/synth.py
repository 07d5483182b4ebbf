"""Synthetic OTLP JSON-lines traces of any size, for speed and scaling benchmarks.

Each trace is one ``invoke_agent`` root, a ``chat`` span, and tool spans in OTel GenAI form whose
answers echo their arguments, so the engine has real structure to learn.
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


def lines(n_spans: int, traces_per_line: int = 4) -> Iterator[bytes]:
    n_traces = max(1, n_spans // SPANS_PER_TRACE)
    for start in range(0, n_traces, traces_per_line):
        spans = [s for i in range(start, min(n_traces, start + traces_per_line)) for s in trace_spans(i)]
        req = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [_attr("service.name", "bench")]},
                    "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
                }
            ]
        }
        yield orjson.dumps(req)


def write(path: Path, n_spans: int) -> Path:
    with open(path, "wb") as f:
        for line in lines(n_spans):
            f.write(line + b"\n")
    return path
