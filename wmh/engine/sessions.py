"""SessionStore: where session states live between steps. In memory here; durable stores plug in behind it."""

from __future__ import annotations

import threading
from typing import Protocol

from wmh.core.errors import NotFoundError
from wmh.core.types import SessionState


class SessionStore(Protocol):
    def get(self, session_id: str) -> SessionState: ...
    def put(self, state: SessionState) -> None: ...
    def delete(self, session_id: str) -> None: ...
    def ids(self) -> list[str]: ...


class InMemorySessionStore:
    def __init__(self) -> None:
        self._states: dict[str, SessionState] = {}
        self._lock = threading.Lock()

    def get(self, session_id: str) -> SessionState:
        with self._lock:
            state = self._states.get(session_id)
        if state is None:
            raise NotFoundError(f"no session {session_id!r}; create one with new_session()")
        return state

    def put(self, state: SessionState) -> None:
        with self._lock:
            self._states[state.id] = state

    def delete(self, session_id: str) -> None:
        with self._lock:
            if self._states.pop(session_id, None) is None:
                raise NotFoundError(f"no session {session_id!r}")

    def ids(self) -> list[str]:
        with self._lock:
            return sorted(self._states)
