"""What every engine is: a pure answer to (session state, action)."""

from __future__ import annotations

from typing import Protocol

from wmh.core.types import Action, Observation, SessionState


class Engine(Protocol):
    """Answers one step. Must be deterministic for the same state and action.

    ``exclude_trace`` names a recorded trace the engine must not draw on (leak-free scoring of a
    trace that is part of what the engine learned from).
    """

    name: str

    def answer(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Observation: ...
