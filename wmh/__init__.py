"""wmh, the world-model harness: OpenTelemetry traces of an agent in, a world model of its environment out."""

__version__ = "0.1.0"

from wmh.core.types import Action, ActionKind, Episode, Observation, SessionState, Step, ToolDef, Turn

__all__ = [
    "Action",
    "ActionKind",
    "Episode",
    "Observation",
    "SessionState",
    "Step",
    "ToolDef",
    "Turn",
    "__version__",
]
