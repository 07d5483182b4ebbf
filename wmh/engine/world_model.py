"""WorldModel: named sessions over an engine. The one code path behind the Python API, CLI and server."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from wmh.core.errors import InvalidActionError
from wmh.core.types import Action, ActionKind, Observation, SessionState, ToolDef, Turn
from wmh.engine.base import Engine
from wmh.engine.sessions import InMemorySessionStore, SessionStore


class WorldModel:
    def __init__(
        self,
        name: str,
        engine: Engine,
        tools: Sequence[ToolDef] = (),
        sessions: SessionStore | None = None,
    ) -> None:
        self.name = name
        self.engine = engine
        self.tools = tuple(tools)
        self.sessions: SessionStore = sessions if sessions is not None else InMemorySessionStore()

    def new_session(self, task: str = "", seed: int = 0, session_id: str | None = None) -> SessionState:
        state = SessionState(id=session_id or uuid.uuid4().hex, model=self.name, task=task, seed=seed)
        self.sessions.put(state)
        return state

    def session(self, session_id: str) -> SessionState:
        return self.sessions.get(session_id)

    def step(self, session_id: str, action: Action) -> Observation:
        """Answer ``action`` in the session and record the turn."""
        _check_action(action)
        state = self.sessions.get(session_id)
        observation = self.engine.answer(state, action)
        self.sessions.put(state.with_turn(Turn(action=action, observation=observation)))
        return observation

    def reset(self, session_id: str) -> SessionState:
        state = self.sessions.get(session_id)
        fresh = state.model_copy(update={"history": ()})
        self.sessions.put(fresh)
        return fresh


def _check_action(action: Action) -> None:
    if action.kind is ActionKind.TOOL_CALL and not action.name.strip():
        raise InvalidActionError(
            "a tool call needs a tool name, e.g. Action(kind='tool_call', name='search')"
        )
