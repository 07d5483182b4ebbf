"""What crosses HTTP: request and response bodies of the wmh API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import Field, JsonValue, field_validator

from wmh.core.types import Action, ActionKind, FaultPlan, Frozen, Observation, SessionState, ToolDef, Turn
from wmh.engine.faults import FAULT_SOURCE

MAX_LATENCY_MS = 60_000
MAX_SESSION_TOOLS = 512


class ErrorBody(Frozen):
    error: str = Field(description="A short machine-readable code, e.g. not_found")
    detail: str = Field(description="One line that says what is wrong and what to do")


class Health(Frozen):
    status: str = "ok"
    version: str
    sessions: str = Field(description="Where sessions are kept")


class ModelSummary(Frozen):
    name: str
    engine: str = ""
    tools: int = 0


class ModelList(Frozen):
    models: tuple[ModelSummary, ...]


class ModelInfo(Frozen):
    name: str
    engine: str
    provider: str = "offline"
    built_at: str | None = None
    traces: int = 0
    steps: int = 0
    tools: tuple[str, ...] = ()
    metrics: dict[str, JsonValue] | None = Field(default=None, description="Held-out fidelity from the build")


class ToolInfo(Frozen):
    name: str
    description: str = ""
    input_schema: dict[str, JsonValue] = Field(description="JSON Schema of the arguments")
    schema_source: str = Field(
        description="recorded (from the traces' tool definitions), inferred, or declared (by the session)"
    )


class ToolList(Frozen):
    tools: tuple[ToolInfo, ...]


class CreateSession(Frozen):
    task: str = Field(default="", max_length=100_000, description="The task the agent works on")
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    faults: FaultPlan = Field(
        default_factory=FaultPlan,
        description="Faults to inject, applied identically on replay; the rules' latency_ms add up to 60000 at most",
    )
    tools: tuple[dict[str, JsonValue], ...] = Field(
        default=(),
        max_length=MAX_SESSION_TOOLS,
        description=(
            "The tools the agent offers in this session, as it gives them to its model (OpenAI, Anthropic, "
            "MCP or {name, description, parameters}). Given, they are all the session has: a call to another "
            "tool fails, each call is checked against its tool's parameters, and a tool no trace called exists"
        ),
    )

    @field_validator("faults")
    @classmethod
    def _bounded_latency(cls, faults: FaultPlan) -> FaultPlan:
        total = sum(rule.latency_ms for rule in faults.rules)
        if total > MAX_LATENCY_MS:
            raise ValueError(f"latency_ms of the rules adds up to {total}; keep it at most {MAX_LATENCY_MS}")
        return faults


class Usage(Frozen):
    steps: int = 0
    tool_calls: int = 0
    messages: int = 0
    errors: int = Field(default=0, description="Observations flagged as errors (injected faults included)")
    injected_faults: int = 0
    input_tokens: int = Field(default=0, description="Provider tokens spent (0 for offline engines)")
    output_tokens: int = 0

    @staticmethod
    def of(history: Iterable[Turn]) -> Usage:
        u = {"steps": 0, "tool_calls": 0, "messages": 0, "errors": 0, "injected_faults": 0}
        for turn in history:
            u["steps"] += 1
            u["tool_calls" if turn.action.kind is ActionKind.TOOL_CALL else "messages"] += 1
            u["errors"] += turn.observation.is_error
            u["injected_faults"] += turn.observation.source == FAULT_SOURCE
        return Usage(**u)


class SessionSummary(Frozen):
    id: str
    model: str
    task: str
    steps: int


class SessionList(Frozen):
    sessions: tuple[SessionSummary, ...]


class SessionInfo(Frozen):
    id: str
    model: str
    task: str
    seed: int
    faults: FaultPlan
    tools: tuple[ToolDef, ...] = Field(description="The tools the session declared (none: the model's)")
    history: tuple[Turn, ...]
    usage: Usage

    @staticmethod
    def of(state: SessionState) -> SessionInfo:
        return SessionInfo(
            id=state.id,
            model=state.model,
            task=state.task,
            seed=state.seed,
            faults=state.faults,
            tools=state.tools,
            history=state.history,
            usage=Usage.of(state.history),
        )


class StepResult(Frozen):
    observation: Observation
    step: int = Field(description="1-based number of this step in the session")
    elapsed_ms: float = Field(description="Time the world model took to answer, injected latency included")
    usage: Usage = Field(description="This step's usage")


class StepRequest(Action):
    """An action: ``{"kind": "tool_call", "name": ..., "arguments": {...}}`` or ``{"kind": "message", "content": ...}``."""


def tool_infos(
    tools: Sequence[ToolDef], examples: dict[str, list[dict[str, JsonValue]]]
) -> tuple[ToolInfo, ...]:
    from wmh.serve.schema_infer import infer_schema

    out = []
    for t in tools:
        if t.parameters:
            out.append(
                ToolInfo(
                    name=t.name,
                    description=t.description,
                    input_schema=t.parameters,
                    schema_source="recorded",
                )
            )
        else:
            schema = infer_schema(examples.get(t.name, []))
            out.append(
                ToolInfo(
                    name=t.name, description=t.description, input_schema=schema, schema_source="inferred"
                )
            )
    return tuple(out)
