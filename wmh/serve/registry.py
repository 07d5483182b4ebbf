"""The world models a server offers: loaded on first use, reloaded when rebuilt, sessions in one backend."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from pydantic import JsonValue

from wmh.config.store import CURRENT, WorldModelStore, check_name
from wmh.core.errors import InvalidNameError, NotFoundError
from wmh.core.types import Episode, ToolDef
from wmh.engine.base import Engine
from wmh.engine.choice import EngineChoice
from wmh.engine.sessions import SessionStore
from wmh.engine.world_model import WorldModel
from wmh.serve.schemas import ModelInfo, ToolInfo, tool_infos
from wmh.serve.steps import quiet
from wmh.sessions.factory import SessionBackend

SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MAX_EXAMPLES = 200
RECHECK_S = 1.0


def check_session_id(session_id: str) -> str:
    if not SESSION_ID.match(session_id):
        raise InvalidNameError(
            f"invalid session id {session_id!r}: use 1-128 letters, digits, '.', '_' or '-'"
        )
    return session_id


@dataclass(frozen=True)
class LoadedModel:
    wm: WorldModel
    info: ModelInfo
    tools: tuple[ToolInfo, ...]
    version: str = ""


class ModelSource(Protocol):
    """Where models come from: the on-disk store, or models handed over in code."""

    def names(self) -> list[str]: ...
    def version(self, name: str) -> str: ...
    def load(self, name: str, sessions: SessionStore) -> LoadedModel: ...


class StoreSource:
    """Models saved under a wmh root by ``wmh build``."""

    def __init__(self, store: WorldModelStore, engine: EngineChoice | None = None) -> None:
        self.store = store
        self.engine = engine

    def names(self) -> list[str]:
        return self.store.names()

    def version(self, name: str) -> str:
        pointer = self.store.models / name / CURRENT
        return pointer.read_text().strip() if pointer.is_file() else ""

    def load(self, name: str, sessions: SessionStore) -> LoadedModel:
        from wmh.engine.files import read_episodes
        from wmh.engine.loader import load_world_model

        path = self.store.resolve(name)
        wm, provider = load_world_model(path, sessions, engine=self.engine, provider_errors="raise")
        manifest = self.store.manifest(name)
        info = ModelInfo(
            name=name,
            engine=wm.engine.name,
            provider=provider.name,
            built_at=manifest.built_at,
            traces=manifest.traces,
            steps=manifest.steps,
            tools=tuple(t.name for t in wm.tools),
            metrics=manifest.metrics.model_dump(mode="json"),
        )
        examples = argument_examples(read_episodes(Path(path) / "train.jsonl"))
        return LoadedModel(wm, info, tool_infos(wm.tools, examples), version=path.name)


@dataclass(frozen=True)
class StaticModel:
    engine: Engine
    tools: tuple[ToolDef, ...] = ()
    episodes: tuple[Episode, ...] = ()


@dataclass
class StaticSource:
    """Models built in code (tests, embedding): name → engine, tools and the episodes behind them."""

    models: Mapping[str, StaticModel] = field(default_factory=dict)

    def names(self) -> list[str]:
        return sorted(self.models)

    def version(self, name: str) -> str:
        return "static"

    def load(self, name: str, sessions: SessionStore) -> LoadedModel:
        m = self.models.get(name)
        if m is None:
            raise NotFoundError(f"no world model named {name!r}; see GET /world_models")
        tools = m.tools or _tools_of(m.episodes)
        wm = WorldModel(name, m.engine, tools, sessions)
        info = ModelInfo(name=name, engine=m.engine.name, tools=tuple(t.name for t in tools))
        return LoadedModel(wm, info, tool_infos(tools, argument_examples(m.episodes)), version="static")


class ModelRegistry:
    def __init__(self, source: ModelSource, backend: SessionBackend, only: Sequence[str] = ()) -> None:
        self.source = source
        self.backend = backend
        self.only = frozenset(check_name(n) for n in only)
        self._loaded: dict[str, LoadedModel] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        names = self.source.names()
        return [n for n in names if n in self.only] if self.only else names

    def get(self, name: str) -> LoadedModel:
        """The model, loaded on first use; a rebuild is noticed within ``RECHECK_S`` seconds.

        Its world model leaves fault latency to ``steps.take_step``, which sleeps it off the lock.
        """
        now = time.monotonic()
        cached = self._loaded.get(name)
        if cached is not None and now - self._checked.get(name, 0.0) < RECHECK_S:
            return cached
        check_name(name)
        if self.only and name not in self.only:
            raise NotFoundError(f"world model {name!r} is not served here; see GET /world_models")
        version = self.source.version(name)
        with self._lock:
            cached = self._loaded.get(name)
            if cached is None or cached.version != version:
                cached = self.source.load(name, self.backend.store(name))
                cached = replace(cached, wm=quiet(cached.wm))
                self._loaded[name] = cached
            self._checked[name] = now
            return cached

    def model(self, name: str) -> WorldModel:
        return self.get(name).wm


def argument_examples(episodes: Sequence[Episode]) -> dict[str, list[dict[str, JsonValue]]]:
    out: dict[str, list[dict[str, JsonValue]]] = {}
    for ep in episodes:
        for step in ep.steps:
            seen = out.setdefault(step.action.name, [])
            if len(seen) < MAX_EXAMPLES:
                seen.append(step.action.arguments)
    return out


def _tools_of(episodes: Sequence[Episode]) -> tuple[ToolDef, ...]:
    found: dict[str, ToolDef] = {}
    for ep in episodes:
        for t in ep.tools:
            found.setdefault(t.name, t)
        for s in ep.steps:
            found.setdefault(s.action.name, ToolDef(name=s.action.name))
    return tuple(found[n] for n in sorted(found))
