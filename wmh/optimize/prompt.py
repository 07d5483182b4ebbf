"""The LLM engine's candidate: its environment prompt (``PromptConfig.env_prompt``).

    result = optimize_prompt(split.train, llm=llm, offline_engine=engine, tools=tools,
                             heldout=split.heldout, group_by=split.group_by,
                             settings=OptimizeSettings(budget=200), run_dir=run_dir)
    env_prompt = result.best_candidate["env_prompt"]

``PromptTarget`` scores a prompt text by replaying episodes through an ``LLMEngine`` over the
fitted offline engine (its example retriever) with ``LLMEngineConfig(prompt=PromptConfig(
env_prompt=text))``; the fixed reply format and the tool catalog stay beside the candidate, so an
evolved prompt cannot lose them. Every example is answered leaving its own trace out of the
retrieved examples (the offline engine was fitted on all of train, validation included).

All model calls of a run (every candidate's engine and the reflector) go through one event loop
owned by the target, so the provider's connections live on one loop; ``close`` (called by
``optimize_prompt`` when it returns) closes the provider's connections and stops the loop: the
``llm`` given is spent after the run.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TypeVar

from wmh.core.types import Episode, ToolDef
from wmh.engine.llm import LLMEngine, LLMEngineConfig
from wmh.engine.offline import OfflineEngine
from wmh.engine.prompt import DEFAULT_ENV_PROMPT, PromptConfig
from wmh.eval.run import StepResult, replay
from wmh.optimize.reflect import LLMReflector
from wmh.optimize.run import OptimizeSettings, carve_validation, optimize
from wmh.optimize.target import InvalidCandidate, outcome
from wmh.optimize.types import EpisodeOutcome, OptimizeResult, Progress
from wmh.providers import LLM

PROMPT_COMPONENT = "env_prompt"
PROMPT_MAX_CHARS = 8000
T = TypeVar("T")
PROMPT_DESCRIPTION = (
    "The environment prompt: the first part of the system prompt of a model that plays every tool "
    "of a software agent's environment. After it, the simulator always appends a fixed reply format "
    "(one JSON object with content, is_error, state_note) and the tool catalog; each call's message "
    "shows recorded calls of the same tool (real answers, most similar first), the session so far, "
    "and the call to answer. Write general instructions that make the answers match the recorded "
    "ones (format, field names, value styles, error messages, consistency with the session); do not "
    "restate the reply format or the catalog, and do not copy single recorded answers into it. "
    f"Plain text, at most {PROMPT_MAX_CHARS} characters, no code fence."
)


class _Loop:
    """One background event loop, started on first use; every model call of a run goes through it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="wmh-optimize-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def run(self, make: Callable[[], Coroutine[object, object, T]]) -> T:
        return asyncio.run_coroutine_threadsafe(make(), self.get()).result()

    def close(self, llms: Sequence[LLM]) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        for llm in llms:
            asyncio.run_coroutine_threadsafe(llm.aclose(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


class _CandidateEngine(LLMEngine):
    """An ``LLMEngine`` whose model calls run on the target's shared loop, not a loop of its own."""

    def __init__(
        self,
        llm: LLM,
        tools: Sequence[ToolDef],
        *,
        retriever: OfflineEngine,
        config: LLMEngineConfig,
        loop: _Loop,
    ) -> None:
        super().__init__(llm, tools, retriever=retriever, config=config)
        self._shared = loop

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        return self._shared.get()


class PromptTarget:
    """The environment prompt of an LLM engine as the candidate (see the module docstring).

    ``llm``: the engine's model. ``offline_engine``: fitted on all of train; it retrieves the
    recorded examples each step shows. ``config``: the engine's other settings (the candidate
    replaces ``config.prompt.env_prompt``). ``workers``: episodes replayed at once.
    """

    component = PROMPT_COMPONENT

    def __init__(
        self,
        llm: LLM,
        offline_engine: OfflineEngine,
        tools: Sequence[ToolDef] = (),
        *,
        base: str = DEFAULT_ENV_PROMPT,
        config: LLMEngineConfig | None = None,
        workers: int = 8,
        max_chars: int = PROMPT_MAX_CHARS,
    ) -> None:
        self.llm = llm
        self.offline = offline_engine
        self.tools = tuple(tools)
        self.base = base
        self.config = config or LLMEngineConfig()
        self.workers = max(1, workers)
        self.max_chars = max_chars
        self.loop = _Loop()
        self._engines: dict[str, LLMEngine] = {}
        self._lock = threading.Lock()

    def seed(self) -> str:
        return self.validate(self.base)

    def validate(self, text: str) -> str:
        stripped = text.strip()
        if not stripped:
            raise InvalidCandidate("the environment prompt is empty")
        if len(stripped) > self.max_chars:
            raise InvalidCandidate(
                f"the environment prompt has {len(stripped)} characters; at most {self.max_chars} are allowed"
            )
        if "```" in stripped:
            raise InvalidCandidate("the environment prompt contains a code fence; give the prompt text alone")
        return stripped

    def engine(self, text: str) -> LLMEngine:
        """The LLM engine answering under the environment prompt ``text``."""
        with self._lock:
            if text not in self._engines:
                prompt: PromptConfig = self.config.prompt.model_copy(update={"env_prompt": text})
                self._engines[text] = _CandidateEngine(
                    self.llm,
                    self.tools,
                    retriever=self.offline,
                    config=self.config.model_copy(update={"prompt": prompt}),
                    loop=self.loop,
                )
            return self._engines[text]

    def evaluate(self, text: str, episode: Episode, *, train: bool) -> EpisodeOutcome:
        return self.evaluate_batch(text, [episode], train=train)[0]

    def evaluate_batch(self, text: str, episodes: Sequence[Episode], *, train: bool) -> list[EpisodeOutcome]:
        # the offline engine holds every train episode, validation included: leave each one's own out
        results = replay(self.engine(text), episodes, set(), exclude_self=True, workers=self.workers)
        by_trace: dict[str, list[StepResult]] = {}
        for r in results:
            by_trace.setdefault(r.trace_id, []).append(r)
        return [outcome(ep, by_trace.get(ep.trace_id, [])) for ep in episodes]

    def crosscheck(self, text: str) -> list[EpisodeOutcome]:
        return []  # a second check costs model calls; the guard relies on the validation test alone

    def heldout(self, text: str, episodes: Sequence[Episode]) -> tuple[float, int]:
        results = replay(self.engine(self.validate(text)), episodes, set(), workers=self.workers)
        if not results:
            return 0.0, 0
        return sum(r.grade.fidelity for r in results) / len(results), len(results)

    def run(self, make: Callable[[], Coroutine[object, object, T]]) -> T:
        """Run a coroutine on the target's loop (the reflector's calls go through here)."""
        return self.loop.run(make)

    def close(self, *others: LLM) -> None:
        """Close the provider connections of ``llm`` (and ``others``) and stop the loop."""
        self.loop.close([self.llm, *(o for o in others if o is not self.llm)])


def optimize_prompt(
    train: Sequence[Episode],
    *,
    llm: LLM,
    offline_engine: OfflineEngine,
    tools: Sequence[ToolDef] = (),
    heldout: Sequence[Episode] | None = None,
    base: str | None = None,
    settings: OptimizeSettings | None = None,
    group_by: str | None = None,
    run_dir: Path | str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    engine_config: LLMEngineConfig | None = None,
    reflect_llm: LLM | None = None,
    workers: int = 8,
) -> OptimizeResult:
    """Evolve the LLM engine's environment prompt on ``train``; score base and best on ``heldout``.

    ``offline_engine``: the engine the build fitted on all of ``train`` (the example retriever).
    ``base``: the starting prompt (default ``DEFAULT_ENV_PROMPT``, or ``engine_config``'s).
    ``reflect_llm``: the model that proposes prompts (default ``llm``). Each metric call replays one
    episode: one model call per step (two for a malformed reply). ``llm`` and ``reflect_llm`` are
    closed when the run ends. Same errors as ``optimize_offline`` (empty validation split, budget
    too small).
    """
    settings = settings or OptimizeSettings()
    if group_by is not None:
        settings = settings.model_copy(update={"group_by": group_by})
    fit, val = carve_validation(train, settings.val_share, settings.group_by)
    config = engine_config or LLMEngineConfig()
    target = PromptTarget(
        llm,
        offline_engine,
        tools,
        base=base if base is not None else config.prompt.env_prompt,
        config=config,
        workers=workers,
    )
    reflector = LLMReflector(reflect_llm or llm, describe=PROMPT_DESCRIPTION, runner=target.run)
    try:
        return optimize(
            target,
            fit,
            val,
            reflector=reflector,
            settings=settings,
            heldout=heldout,
            run_dir=run_dir,
            on_progress=on_progress,
        )
    finally:
        target.close(*([reflect_llm] if reflect_llm is not None else []))
