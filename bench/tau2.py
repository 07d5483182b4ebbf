"""tau2-bench simulations → OTLP JSON lines in OTel GenAI form, the way ``wmh ingest`` reads them.

    uv run python -m bench.tau2 IN.json OUT.otel.jsonl

A tau2 Results JSON is ``{timestamp, info, tasks[], simulations[]}``; each simulation's ``messages``
are ``assistant``/``user``/``tool`` turns. Both the agent and the simulated user call tools (dual
control) against the same environment, so every call is a step, whoever made it.

Each simulation becomes one trace (one OTLP request, one line): an ``invoke_agent`` root span with
``tau.task_id``, ``tau.trial``, ``tau.domain`` (and the reward and termination reason when present)
and the first user message as ``gen_ai.input.messages`` (the episode's task); then an
``execute_tool`` span per answered call, in the order of the tool messages, with the call's
arguments and the tool message's text, ``tau2.requestor`` (``assistant`` or ``user``), and an error
status when the tool message says ``error: true``. A span starts at its calling message's time and
ends at its tool message's. Ids are derived from the simulation id: converting twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from wmh.core.errors import UserInputError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTERNAL = 1  # SpanKind.INTERNAL
_ERROR = 2  # StatusCode.ERROR


@dataclass(frozen=True)
class Converted:
    traces: int
    tool_calls: int
    unanswered: int  # calls with no tool message: not steps


def load_results(path: Path) -> dict:
    """A tau2 Results JSON, checked for what the conversion needs."""
    if not path.is_file():
        raise UserInputError(f"no such file: {path}")
    try:
        data = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise UserInputError(f"{path} is not valid JSON ({exc})") from None
    sims = data.get("simulations") if isinstance(data, dict) else None
    if not isinstance(sims, list) or not all(isinstance(s, dict) and "messages" in s for s in sims):
        raise UserInputError(f"{path} is not a tau2 results file: expected {{simulations: [{{messages}}]}}")
    return data


def convert_file(source: Path, out: Path) -> Converted:
    """Convert ``source`` and write one OTLP JSON line per simulation to ``out``."""
    data = load_results(source)
    domain = _domain(data)
    requests = [trace_request(sim, domain) for sim in data["simulations"]]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in requests))
    calls = sum(len(m.get("tool_calls") or []) for s in data["simulations"] for m in s["messages"])
    steps = sum(len(_spans(r)) - 1 for r in requests)
    return Converted(len(requests), steps, calls - steps)


def _domain(data: dict) -> str:
    env = (data.get("info") or {}).get("environment_info") or {}
    return str(env.get("domain_name") or "unknown")


def _spans(request: dict) -> list[dict]:
    return request["resourceSpans"][0]["scopeSpans"][0]["spans"]


def trace_request(sim: dict, domain: str) -> dict:
    """One simulation as one ExportTraceServiceRequest (OTLP JSON): the root span, then the tool spans."""
    key = str(sim.get("id") or sim.get("task_id"))
    trace_id = _hex(f"trace/{key}", 16)
    root = root_span(sim, domain, trace_id, _hex(f"root/{key}", 8))
    tools = [
        tool_span(call, at, answer, trace_id, root["spanId"], _hex(f"tool/{key}/{i}", 8))
        for i, (call, at, answer) in enumerate(answered_calls(sim["messages"]))
    ]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attrs({"service.name": f"tau2-{domain}"})},
                "scopeSpans": [{"scope": {"name": "bench.tau2"}, "spans": [root, *tools]}],
            }
        ]
    }


def answered_calls(messages: list[dict]) -> list[tuple[dict, int, dict]]:
    """(call, start ns, tool message) for each call a tool message answers, in tool-message order.

    Calls are matched by id to the first later tool message that carries it; the start is the
    calling message's time plus the call's position in it (ns), so calls of one message stay ordered.
    """
    pending: dict[str, tuple[dict, int]] = {}
    out: list[tuple[dict, int, dict]] = []
    for m in messages:
        if m.get("role") == "tool":
            found = pending.pop(str(m.get("id")), None)
            if found is not None:
                out.append((found[0], found[1], m))
            continue
        at = time_ns(m.get("timestamp"))
        for k, call in enumerate(m.get("tool_calls") or []):
            pending.setdefault(str(call.get("id")), (call, at + k))
    return out


def root_span(sim: dict, domain: str, trace_id: str, span_id: str) -> dict:
    messages = sim["messages"]
    reward = (sim.get("reward_info") or {}).get("reward")
    attributes = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": f"tau2_{domain}_agent",
        "gen_ai.conversation.id": str(sim.get("id") or ""),
        "tau.task_id": str(sim.get("task_id")),
        "tau.trial": int(sim.get("trial") or 0),
        "tau.domain": domain,
        "tau.termination_reason": sim.get("termination_reason"),
        "tau.reward": float(reward) if isinstance(reward, int | float) else None,
        "gen_ai.input.messages": _first_user_message(messages),
    }
    start = time_ns(messages[0].get("timestamp") if messages else sim.get("start_time"))
    end = time_ns(messages[-1].get("timestamp") if messages else sim.get("end_time"))
    return _span(trace_id, span_id, "", f"invoke_agent tau2_{domain}_agent", start, max(start, end) + 1) | {
        "attributes": _attrs(attributes)
    }


def _first_user_message(messages: list[dict]) -> str | None:
    for m in messages:
        if m.get("role") == "user" and isinstance(m.get("content"), str) and m["content"].strip():
            return json.dumps([{"role": "user", "parts": [{"type": "text", "content": m["content"]}]}])
    return None


def tool_span(call: dict, start: int, answer: dict, trace_id: str, parent: str, span_id: str) -> dict:
    """An ``execute_tool`` span: arguments as JSON text, the tool message's text as the result."""
    name = str(call.get("name"))
    result = answer.get("content")
    text = result if isinstance(result, str) else json.dumps(result)
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": str(call.get("id")),
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.arguments": json.dumps(call.get("arguments") or {}, ensure_ascii=False),
        "gen_ai.tool.call.result": text,
        "tau2.requestor": call.get("requestor") or answer.get("requestor"),
        "error.type": "ToolError" if answer.get("error") else None,
    }
    end = max(start + 1, time_ns(answer.get("timestamp")))
    span = _span(trace_id, span_id, parent, f"execute_tool {name}", start, end)
    span["attributes"] = _attrs(attributes)
    if answer.get("error"):
        span["status"] = {"code": _ERROR, "message": text}
    return span


def _span(trace_id: str, span_id: str, parent: str, name: str, start: int, end: int) -> dict:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": _INTERNAL,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(end),
    }


def _attrs(values: dict[str, object]) -> list[dict]:
    """OTLP key-values; ``None`` values are left out."""
    return [{"key": k, "value": _any_value(v)} for k, v in values.items() if v is not None]


def _any_value(v: object) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": str(v)}


def time_ns(stamp: object) -> int:
    """An ISO timestamp (naive ones read as UTC) in ns since the epoch; 0 when absent or unreadable."""
    if not isinstance(stamp, str):
        return 0
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        return 0
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _hex(key: str, size: int) -> str:
    return hashlib.sha256(key.encode()).digest()[:size].hex()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.tau2 IN.json OUT.otel.jsonl", file=sys.stderr)
        return 2
    try:
        done = convert_file(Path(args[0]), Path(args[1]))
    except UserInputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"converted {done.traces} traces, {done.tool_calls} tool calls -> {args[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
