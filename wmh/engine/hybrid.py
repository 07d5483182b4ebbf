"""The hybrid engine: the offline engine answers what it is sure of, the model the rest.

    engine = HybridEngine(offline, LLMEngine(llm, tools, retriever=offline))
    engine.answer(state, action)
    engine.report()   # steps answered locally / by the model, local answers by source, model cost

The offline engine names how it produced each answer (``Observation.source``). Sources that
reproduce recorded or derived data (exact replay, the session's own earlier answer, an object
derived from the session, a learned function or constant of the arguments, a repeated error, an
agent message) are answered locally; guesses (analogy, most-common, templates, unknown tools) go to
the model. ``HybridConfig.local_sources`` changes the set.

``build_engine`` makes any of the three engines from the parts a saved world model holds.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from wmh.core.types import Action, Frozen, Observation, SessionState, ToolDef
from wmh.engine.base import Engine
from wmh.engine.llm import LLMEngine, LLMEngineConfig
from wmh.engine.offline import OfflineEngine
from wmh.providers import LLM, UsageReport

EngineKind = Literal["offline", "llm", "hybrid"]
ENGINE_KINDS: tuple[EngineKind, ...] = ("offline", "llm", "hybrid")
LOCAL_SOURCES = frozenset({"replay", "session", "derived", "function", "constant", "sticky-error", "message"})


class HybridConfig(Frozen):
    local_sources: frozenset[str] = Field(
        default=LOCAL_SOURCES, description="Offline answer sources trusted without asking the model"
    )


class HybridReport(Frozen):
    """Where the steps went and what the model's share cost."""

    steps: int = 0
    local_steps: int = 0
    model_steps: int = 0
    local_by_source: dict[str, int] = Field(default_factory=dict)
    cost_usd: float = Field(default=0.0, description="Estimated cost of the model calls made")
    usage: UsageReport = Field(default_factory=UsageReport)


class HybridEngine:
    name = "hybrid"

    def __init__(self, offline: Engine, model: LLMEngine, config: HybridConfig | None = None) -> None:
        self.offline = offline
        self.model = model
        self.config = config or HybridConfig()
        self._local: Counter[str] = Counter()
        self._model_steps = 0
        self._lock = threading.Lock()

    def answer(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Observation:
        local = self._local_answer(state, action, exclude_trace)
        if local is not None:
            return local
        return self.model.answer(state, action, exclude_trace=exclude_trace)

    async def answer_async(
        self, state: SessionState, action: Action, *, exclude_trace: str = ""
    ) -> Observation:
        local = self._local_answer(state, action, exclude_trace)
        if local is not None:
            return local
        return await self.model.answer_async(state, action, exclude_trace=exclude_trace)

    def report(self) -> HybridReport:
        usage = self.model.report()
        with self._lock:
            local = dict(sorted(self._local.items()))
            model_steps = self._model_steps
        n_local = sum(local.values())
        return HybridReport(
            steps=n_local + model_steps,
            local_steps=n_local,
            model_steps=model_steps,
            local_by_source=local,
            cost_usd=usage.total.cost_usd,
            usage=usage,
        )

    def close(self) -> None:
        self.model.close()

    def _local_answer(self, state: SessionState, action: Action, exclude_trace: str) -> Observation | None:
        obs = self.offline.answer(state, action, exclude_trace=exclude_trace)
        with self._lock:
            if obs.source in self.config.local_sources:
                self._local[obs.source] += 1
                return obs
            self._model_steps += 1
        return None


def build_engine(
    kind: EngineKind,
    offline: OfflineEngine,
    tools: Sequence[ToolDef] = (),
    llm: LLM | None = None,
    *,
    config: LLMEngineConfig | None = None,
    hybrid: HybridConfig | None = None,
) -> Engine:
    """The engine ``kind`` over a saved model's offline engine (also the LLM's example retriever)."""
    if kind == "offline":
        return offline
    if llm is None:
        raise ValueError(f"the {kind} engine needs an LLM (a provider); the offline engine needs none")
    model = LLMEngine(llm, tools, retriever=offline, config=config)
    return model if kind == "llm" else HybridEngine(offline, model, hybrid)
