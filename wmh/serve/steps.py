"""A step as the server takes it: the action checked for what the store could not keep, and the fault
plan's latency slept on the event loop, before the step and outside its lock, so that slow sessions hold
no worker thread and no other step of the session waits on the sleep.

The registry's world models sleep nothing themselves (``quiet``): every step of the server goes
through ``take_step``.
"""

from __future__ import annotations

import re

import anyio
import anyio.to_thread
from pydantic import JsonValue

from wmh.core.errors import InvalidActionError
from wmh.core.types import Action, SessionState
from wmh.engine.faults import decide
from wmh.engine.world_model import WorldModel

MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")


def quiet(wm: WorldModel) -> WorldModel:
    """The same world model, on the same sessions, with its fault latency left to ``take_step``."""
    return WorldModel(wm.name, wm.engine, wm.tools, wm.sessions, sleep=lambda seconds: None)


async def take_step(wm: WorldModel, session_id: str, action: Action) -> SessionState:
    """Step the session (see ``WorldModel.step_state``) after sleeping the latency its fault plan adds."""
    check_action(action)
    delay_ms, after = await anyio.to_thread.run_sync(_step_unless_delayed, wm, session_id, action)
    if after is None:
        await anyio.sleep(delay_ms / 1000)
        after = await anyio.to_thread.run_sync(wm.step_state, session_id, action)
    return after


def _step_unless_delayed(wm: WorldModel, session_id: str, action: Action) -> tuple[int, SessionState | None]:
    """The latency the plan adds to ``action``; with none, the step is taken at once (one thread hop)."""
    state = wm.session(session_id)
    delay_ms = decide(state.faults, state, action).latency_ms
    return (delay_ms, None) if delay_ms else (0, wm.step_state(session_id, action))


def check_action(action: Action) -> None:
    """Refuse what could be saved but not read back or not saved at all: deep nesting, lone surrogates."""
    _check_text(action.name, "name")
    _check_text(action.content, "content")
    _check_json(action.arguments, 1)


def _check_json(value: JsonValue, depth: int) -> None:
    """``value`` being an object or array ``depth`` levels deep (the arguments object is level 1)."""
    if isinstance(value, str):
        _check_text(value, "an argument value")
        return
    if isinstance(value, dict | list) and depth > MAX_DEPTH:
        raise InvalidActionError(f"arguments nest deeper than {MAX_DEPTH} levels; send flatter arguments")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, "an argument name")
            _check_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, depth + 1)


def _check_text(text: str, what: str) -> None:
    if _SURROGATE.search(text):
        raise InvalidActionError(
            f"{what} holds a lone UTF-16 surrogate (e.g. \\ud800); send valid Unicode text"
        )
