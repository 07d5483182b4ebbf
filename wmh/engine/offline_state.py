"""What a session has seen so far, read off its history: calls, answers, entities, values.

Built from a ``SessionState`` on every step (the engine keeps no hidden state), with the JSON
parsing cached.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from wmh.core.jsonutil import canonical
from wmh.core.types import Action, Observation, SessionState
from wmh.engine.arguments import SCHEMA_SOURCE
from wmh.engine.faults import FAULT_SOURCE
from wmh.engine.offline_json import Json, as_dict, parsed, scalar, strings

_NOT_SEEN = frozenset({SCHEMA_SOURCE, FAULT_SOURCE})


@dataclass(frozen=True)
class Call:
    """One earlier turn of the session."""

    tool: str
    args: dict[str, Json]
    cargs: str
    observation: Observation


@dataclass
class SessionView:
    task: str
    calls: list[Call] = field(default_factory=list)
    _values: set[str] | None = None

    @classmethod
    def of(cls, state: SessionState) -> SessionView:
        """The session's tool calls, less those the environment never saw: calls refused for not fitting
        the tool's schema, and injected faults (an overlay on the environment, not its behaviour)."""
        calls = [
            Call(t.action.name, dict(t.action.arguments), canonical(t.action.arguments), t.observation)
            for t in state.history
            if t.action.name and t.observation.source not in _NOT_SEEN
        ]
        return cls(task=state.task, calls=calls)

    def repeat(self, tool: str, cargs: str) -> Observation | None:
        """The latest answer this session got for the very same call."""
        for c in reversed(self.calls):
            if c.tool == tool and c.cargs == cargs:
                return c.observation
        return None

    def latest_entity(
        self, key: str, value: Json, sources: Sequence[str] | None
    ) -> tuple[Call, dict[str, Json]] | None:
        """The latest successful answer (from one of ``sources``, or any tool if None) that is an object
        with ``key == value``."""
        for c in reversed(self.calls):
            if c.observation.is_error or (sources is not None and c.tool not in sources):
                continue
            obj = as_dict(c.observation.content)
            if obj is not None and obj.get(key) == value and type(obj.get(key)) is type(value):
                return c, obj
        return None

    def values(self) -> set[str]:
        """Every string the session's successful answers showed (values, or words of a text answer).

        The task's words do not count: a user may well name something that does not exist."""
        if self._values is None:
            vals: set[str] = set()
            for c in self.calls:
                if c.observation.is_error:
                    continue
                ok, v = parsed(c.observation.content)
                if ok:
                    vals.update(strings(v))
                else:
                    vals.update(c.observation.content.replace(",", " ").replace(".", " ").split())
            self._values = vals
        return self._values

    def objects(self) -> Iterator[dict[str, Json]]:
        """Every object nested in the session's answers, latest answer first."""
        for c in reversed(self.calls):
            if c.observation.is_error:
                continue
            ok, v = parsed(c.observation.content)
            if ok:
                yield from _objects(v)

    def call_objects(self) -> Iterator[tuple[dict[str, Json], dict[str, Json]]]:
        """``objects``, each with the arguments of the call whose answer showed it (``with_call_args``
        adds them: a search for a day shows objects as they are that day)."""
        for c in reversed(self.calls):
            if c.observation.is_error:
                continue
            ok, v = parsed(c.observation.content)
            if ok:
                yield from ((obj, c.args) for obj in _objects(v))

    def context_tokens(self, turns: int) -> set[str]:
        return context_tokens([(c.tool, c.args) for c in self.calls[-turns:]] if turns > 0 else [])


def _objects(value: Json) -> Iterator[dict[str, Json]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _objects(v)
    elif isinstance(value, list):
        for v in value:
            yield from _objects(v)


def with_call_args(obj: dict[str, Json], args: dict[str, Json]) -> dict[str, Json]:
    """``obj`` (a copy, where anything is added) also holding the call's scalar arguments it lacks."""
    named = {k: v for k, v in args.items() if k not in obj and isinstance(v, str | int | float)}
    return {**named, **obj} if named else obj


def context_tokens(calls: Sequence[tuple[str, dict[str, Json]]]) -> set[str]:
    """What the preceding calls looked like: tool names and their scalar argument values."""
    out: set[str] = set()
    for tool, args in calls:
        out.add(f"t:{tool}")
        for k, v in args.items():
            if scalar(v):
                out.add(f"v:{k}={v}")
    return out


def action_cargs(action: Action) -> str:
    return canonical(action.arguments)
