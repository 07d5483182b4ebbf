"""OpenTelemetry SDK instrumentation with GenAI semantic conventions, reproducible byte for byte.

``Recorder`` owns a real ``TracerProvider`` with a seeded ``IdGenerator`` and a fake clock whose
times are passed explicitly to ``start_span``/``end``. ``AgentRun`` opens the ``invoke_agent`` root
span of one task run and records ``chat`` and ``execute_tool`` child spans. ``write_otlp_jsonl``
encodes finished spans with the OTLP exporter's encoder and writes them the way the collector's file
exporter does: one ``ExportTraceServiceRequest`` as OTLP JSON per line (hex ids, int64 as strings).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from google.protobuf.json_format import MessageToDict
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import SpanKind, Status, StatusCode

SCOPE_NAME = "wmh.examples.tau_bench"
SCOPE_VERSION = "0.1.0"
AGENT_NAME = "airline_agent"
# 2024-05-15 15:00:00 EST, the "current time" of tau-bench's airline domain.
EPOCH_NS = 1_715_803_200 * 1_000_000_000

Message = dict  # an OpenAI chat message, as in tau-bench trajectories


class SeededIdGenerator(IdGenerator):
    """Trace and span ids from a seeded RNG; ``reseed`` pins the ids of one trace to a key."""

    def __init__(self, seed: int | str) -> None:
        self.rng = random.Random(seed)

    def reseed(self, key: str) -> None:
        self.rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self.rng.getrandbits(128) or 1


@dataclass
class FakeClock:
    """Nanosecond time that only moves when told to."""

    now: int = EPOCH_NS

    def advance_ms(self, ms: float) -> int:
        self.now += int(ms * 1_000_000)
        return self.now


@dataclass
class Recorder:
    """A real TracerProvider that keeps finished spans in memory, grouped per trace."""

    seed: int | str
    service_name: str = "tau-airline-agent"
    traces: list[list[ReadableSpan]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ids = SeededIdGenerator(self.seed)
        self.clock = FakeClock()
        self.exporter = InMemorySpanExporter()
        resource = Resource({"service.name": self.service_name, "service.version": SCOPE_VERSION})
        # Explicit sampler and limits: OTEL_* environment variables must not change the output.
        unlimited = SpanLimits(
            max_span_attributes=SpanLimits.UNSET,
            max_span_attribute_length=SpanLimits.UNSET,
            max_attribute_length=SpanLimits.UNSET,
        )
        self.provider = TracerProvider(
            resource=resource, id_generator=self.ids, sampler=ALWAYS_ON, span_limits=unlimited
        )
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer(SCOPE_NAME, SCOPE_VERSION)

    @contextmanager
    def run(
        self, task_id: str, trial: int, attributes: dict | None = None
    ) -> Generator[AgentRun, None, None]:
        """One task run: its own trace (ids keyed on the task id and trial), root span ``invoke_agent``."""
        self.ids.reseed(f"{self.seed}/{task_id}/{trial}")
        run = AgentRun(self, task_id, trial, attributes or {})
        try:
            yield run
        finally:
            run.finish()
            self.traces.append(list(self.exporter.get_finished_spans()))
            self.exporter.clear()


class AgentRun:
    """The spans of one task run; every span carries ``tau.task_id`` and ``tau.trial``."""

    def __init__(self, recorder: Recorder, task_id: str, trial: int, attributes: dict) -> None:
        self.recorder = recorder
        self.clock = recorder.clock
        self.common = {"tau.task_id": task_id, "tau.trial": trial}
        self.root = recorder.tracer.start_span(
            f"invoke_agent {AGENT_NAME}",
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": AGENT_NAME,
                "gen_ai.conversation.id": f"{task_id}#{trial}",
            }
            | self.common
            | attributes,
            start_time=self.clock.advance_ms(0),
        )
        self.context = trace.set_span_in_context(self.root)
        self.context_sent = False

    def finish(self) -> None:
        self.root.end(end_time=self.clock.advance_ms(1))

    def chat(self, model: ChatModel, history: Sequence[Message], reply: Message, duration_ms: float) -> None:
        """A ``chat <model>`` span: the conversation so far in, the assistant's reply out."""
        system = [m for m in history if m["role"] == "system"]
        inputs = [genai_message(m) for m in history if m["role"] != "system"]
        output = genai_message(reply) | {"finish_reason": "tool_call" if reply.get("tool_calls") else "stop"}
        text_in = sum(len(str(m.get("content") or "")) for m in history)
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": model.provider,
            "gen_ai.request.model": model.name,
            "gen_ai.response.finish_reasons": [output["finish_reason"]],
            "gen_ai.usage.input_tokens": text_in // 4 + 1,
            "gen_ai.usage.output_tokens": len(compact(output)) // 4 + 1,
            "gen_ai.input.messages": compact(inputs),
            "gen_ai.output.messages": compact([output]),
        }
        if not self.context_sent:
            # Static for a run: recorded on its first chat span only, which keeps the file small.
            if system:
                parts = [{"type": "text", "content": m["content"]} for m in system]
                attributes["gen_ai.system_instructions"] = compact(parts)
            if model.tool_definitions:
                attributes["gen_ai.tool.definitions"] = compact(model.tool_definitions)
            self.context_sent = True
        span = self.recorder.tracer.start_span(
            f"chat {model.name}",
            context=self.context,
            kind=SpanKind.CLIENT,
            attributes=attributes | self.common,
            start_time=self.clock.advance_ms(1),
        )
        span.end(end_time=self.clock.advance_ms(duration_ms))

    def tool(
        self, name: str, call_id: str, arguments: str, result: str, error: bool, duration_ms: float
    ) -> None:
        """An ``execute_tool <name>`` span; on error, status ERROR, ``error.type`` and the error text as result."""
        span = self.recorder.tracer.start_span(
            f"execute_tool {name}",
            context=self.context,
            kind=SpanKind.INTERNAL,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.type": "function",
                "gen_ai.tool.call.arguments": arguments,
                "gen_ai.tool.call.result": result,
            }
            | self.common,
            start_time=self.clock.advance_ms(1),
        )
        if error:
            span.set_attribute("error.type", "ToolError")
            span.set_status(Status(StatusCode.ERROR, result))
        span.end(end_time=self.clock.advance_ms(duration_ms))


@dataclass(frozen=True)
class ChatModel:
    """What the chat spans say about the model behind the agent."""

    name: str
    provider: str
    tool_definitions: list[dict] = field(default_factory=list)


def compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def genai_message(message: Message) -> dict:
    """An OpenAI chat message in the GenAI parts schema (``gen_ai.input.messages``)."""
    role = message["role"]
    if role == "tool":
        content = message["content"]
        response = _parsed(content) if content[:1] in ("{", "[") else content
        part = {"type": "tool_call_response", "id": message.get("tool_call_id", ""), "response": response}
        return {"role": "tool", "parts": [part]}
    parts: list[dict] = []
    if message.get("content"):
        parts.append({"type": "text", "content": message["content"]})
    for call in message.get("tool_calls") or []:
        function = call["function"]
        parts.append(
            {
                "type": "tool_call",
                "id": call["id"],
                "name": function["name"],
                "arguments": _parsed(function["arguments"]),
            }
        )
    return {"role": role, "parts": parts}


def _parsed(arguments: str) -> object:
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


# ---- OTLP JSON lines ----------------------------------------------------------------------------
def batches(
    traces: Sequence[Sequence[ReadableSpan]], per_line: int = 4, split_every: int = 20
) -> Iterator[list]:
    """Spans per output line: ``per_line`` traces a line, and every ``split_every``-th trace (from the
    fifth) cut across two lines, as a collector flushing mid-trace would."""
    line: list[ReadableSpan] = []
    count = 0
    for index, spans in enumerate(traces):
        if split_every and index % split_every == 5 and len(spans) > 1:
            half = len(spans) // 2
            yield [*line, *spans[:half]]
            line, count = list(spans[half:]), 1
            continue
        line.extend(spans)
        count += 1
        if count >= per_line:
            yield line
            line, count = [], 0
    if line:
        yield line


def otlp_json(spans: Sequence[ReadableSpan]) -> dict:
    """One ExportTraceServiceRequest as OTLP JSON: lowerCamelCase, enums as ints, hex ids."""
    request = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource_spans in request.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return request


def _hex_ids(record: dict) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        if record.get(key):
            record[key] = base64.b64decode(record[key]).hex()


def write_otlp_jsonl(path: Path, traces: Sequence[Sequence[ReadableSpan]]) -> int:
    """Write the traces as OTLP JSON lines; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [orjson.dumps(otlp_json(spans)) for spans in batches(traces)]
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return len(lines)


def count_tool_calls(traces: Iterable[Sequence[ReadableSpan]]) -> int:
    return sum(
        1
        for spans in traces
        for s in spans
        if (s.attributes or {}).get("gen_ai.operation.name") == "execute_tool"
    )
