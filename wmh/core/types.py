"""The data wmh passes around: actions, observations, steps, episodes, sessions.

Everything here is a frozen pydantic model: it is saved with a world model, sent over HTTP, or
both. Observation content is always text (what the agent would read); grading parses it as JSON
where it is JSON.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class Frozen(BaseModel):
    """Base for wmh's value types: immutable, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ActionKind(StrEnum):
    TOOL_CALL = "tool_call"
    MESSAGE = "message"


class Action(Frozen):
    """What the agent does: call a tool (name + JSON arguments) or send a message."""

    kind: ActionKind = Field(description="tool_call or message")
    name: str = Field(default="", description="Tool name, for a tool call")
    arguments: dict[str, JsonValue] = Field(default_factory=dict, description="Tool arguments")
    content: str = Field(default="", description="Message text, for a message")


class Observation(Frozen):
    """What the environment answers."""

    content: str = Field(description="The answer as the agent reads it (JSON answers stay JSON text)")
    is_error: bool = Field(default=False, description="The tool reported an error")
    source: str = Field(default="recorded", description="How it was produced: recorded, replay, analogy, ...")


class ToolDef(Frozen):
    """A tool the agent was offered, as recorded in the traces."""

    name: str
    description: str = ""
    parameters: dict[str, JsonValue] | None = Field(default=None, description="JSON Schema, when recorded")


class Step(Frozen):
    """One recorded (action → observation), with where it came from."""

    action: Action
    observation: Observation
    call_id: str = Field(default="", description="Tool-call id from the trace, if any")
    span_id: str = ""
    start_ns: int = 0


class Episode(Frozen):
    """One trace: the task, the tools offered, and the time-ordered steps.

    The state before step i is (task, tools, steps[:i]).
    """

    trace_id: str
    source_file: str = ""
    task: str = Field(default="", description="The task or instructions the agent worked on")
    tools: tuple[ToolDef, ...] = ()
    steps: tuple[Step, ...] = ()
    attributes: dict[str, str] = Field(default_factory=dict, description="Trace-level attributes (flattened)")

    def group_key(self, key: str | None) -> str:
        """The value a split groups on: the attribute ``key`` if given and present, else the trace id."""
        if key and key in self.attributes:
            return self.attributes[key]
        return self.trace_id


class Turn(Frozen):
    """One step taken in a session."""

    action: Action
    observation: Observation


class FaultRule(Frozen):
    """Inject a failure into one tool (or every tool with ``*``) of a session, deterministically."""

    tool: str = Field(default="*", description="Tool name, or * for every tool")
    error_on_calls: tuple[int, ...] = Field(
        default=(), description="1-based call numbers of this tool that fail"
    )
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of calls that fail (seeded)")
    error_message: str = Field(default="Error: injected fault", description="Content of the injected error")
    latency_ms: int = Field(default=0, ge=0, description="Added latency per call")


class FaultPlan(Frozen):
    """The faults a session carries; the same plan and seed fail the same calls on every replay."""

    seed: int = 0
    rules: tuple[FaultRule, ...] = ()


class SessionState(Frozen):
    """Everything the engine needs to answer the next step; goes in and comes out explicitly."""

    id: str
    model: str = ""
    task: str = ""
    seed: int = 0
    history: tuple[Turn, ...] = ()
    faults: FaultPlan = Field(default_factory=FaultPlan)
    tools: tuple[ToolDef, ...] = Field(
        default=(),
        description="The tools the agent offers in this session; none: the world model's recorded tools",
    )

    def with_turn(self, turn: Turn) -> SessionState:
        return self.model_copy(update={"history": (*self.history, turn)})


class Problem(Frozen):
    """A bad item that was skipped: where it was and what was wrong."""

    file: str
    line: int = 0
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"
