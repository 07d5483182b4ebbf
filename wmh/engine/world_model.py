"""WorldModel: named sessions over an engine. The one code path behind the Python API, CLI and server."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import contextmanager

import orjson

from wmh.core.errors import InvalidActionError
from wmh.core.types import Action, ActionKind, FaultPlan, Observation, SessionState, ToolDef, Turn
from wmh.engine.arguments import ArgumentCheck, declared_tools
from wmh.engine.base import Engine
from wmh.engine.faults import decide
from wmh.engine.sessions import InMemorySessionStore, SessionStore

MAX_CACHED_CHECKS = 64  # distinct declared tool sets kept compiled; sessions of one agent share one


class WorldModel:
    def __init__(
        self,
        name: str,
        engine: Engine,
        tools: Sequence[ToolDef] = (),
        sessions: SessionStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.name = name
        self.engine = engine
        self.tools = tuple(tools)
        self._arguments = ArgumentCheck(self.tools)
        self._session_checks: dict[bytes, ArgumentCheck] = {}  # by the declared tools' names and schemas
        self.sessions: SessionStore = sessions if sessions is not None else InMemorySessionStore()
        self._sleep = sleep
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def new_session(
        self,
        task: str = "",
        seed: int = 0,
        session_id: str | None = None,
        faults: FaultPlan | None = None,
        tools: Iterable[object] = (),
    ) -> SessionState:
        """A new session, stored. ``tools``: the tools the agent offers in it, as ``ToolDef``s or as
        dicts in OpenAI, Anthropic, MCP or GenAI shape (``wmh.core.tools``); given, they are all the session has (a call to any
        other tool fails), each call is checked against its tool's parameters (the recorded ones where
        a tool gives none), and a tool the traces never called is known to exist."""
        state = SessionState(
            id=session_id or uuid.uuid4().hex,
            model=self.name,
            task=task,
            seed=seed,
            faults=faults or FaultPlan(),
            tools=declared_tools(tools, self.tools),
        )
        self.sessions.put(state)
        return state

    def session(self, session_id: str) -> SessionState:
        return self.sessions.get(session_id)

    def step(self, session_id: str, action: Action) -> Observation:
        """Answer ``action`` in the session and record the turn; steps on one session run one at a time.

        The session's fault plan is applied first: an injected error replaces the engine's answer,
        and added latency is slept. A call to a tool the session did not declare (where it declared
        its tools), or one that does not fit its tool's parameters, then fails without asking the engine. If the engine fails, the session is left unchanged.
        """
        return self.step_state(session_id, action).history[-1].observation

    def step_state(self, session_id: str, action: Action) -> SessionState:
        """``step``, returning the session as stored after it (the answer is its last turn)."""
        _check_action(action)
        with self._serialized(session_id):
            state = self.sessions.get(session_id)
            fault = decide(state.faults, state, action)
            if fault.latency_ms:
                self._sleep(fault.latency_ms / 1000)
            check = self._checks(state.tools)
            observation = fault.error or check.refusal(action) or self.engine.answer(state, action)
            after = state.with_turn(Turn(action=action, observation=observation))
            self.sessions.put(after)
        return after

    def _checks(self, tools: tuple[ToolDef, ...]) -> ArgumentCheck:
        """The argument check of a session's declared tools (the model's when it declared none)."""
        if not tools:
            return self._arguments
        key = orjson.dumps([(t.name, t.parameters) for t in tools])  # all a check depends on; ~10 us
        check = self._session_checks.get(key)
        if check is None:
            if len(self._session_checks) >= MAX_CACHED_CHECKS:
                self._session_checks.clear()
            check = self._session_checks[key] = ArgumentCheck(tools, closed=True)
        return check

    def reset(self, session_id: str) -> SessionState:
        with self._serialized(session_id):
            state = self.sessions.get(session_id)
            fresh = state.model_copy(update={"history": ()})
            self.sessions.put(fresh)
        return fresh

    def delete(self, session_id: str) -> None:
        with self._serialized(session_id):
            self.sessions.delete(session_id)
        with self._locks_guard:
            self._locks.pop(session_id, None)

    @contextmanager
    def _serialized(self, session_id: str) -> Generator[None]:
        """Hold this process's lock for the session, and the store's own lock where it has one."""
        with self._locks_guard:
            lock = self._locks.setdefault(session_id, threading.Lock())
        store_lock = getattr(self.sessions, "lock", None)
        with lock:
            if store_lock is None:
                yield
            else:
                with store_lock(session_id):
                    yield


def _check_action(action: Action) -> None:
    if action.kind is ActionKind.TOOL_CALL and not action.name.strip():
        raise InvalidActionError(
            "a tool call needs a tool name, e.g. Action(kind='tool_call', name='search')"
        )
