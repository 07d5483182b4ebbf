"""The LLM engine: a frontier model in the environment's seat.

    llm = LLM(create_provider("anthropic"), LLMConfig(cache_dir=store.root / "llm-cache"))
    engine = LLMEngine(llm, tools, retriever=offline_engine)   # offline engine: top-k examples
    obs = engine.answer(state, action)                         # sync, from any number of threads
    obs = await engine.answer_async(state, action)             # from any event loop
    engine.report()                                            # tokens, cost, calls, cache hits
    engine.close()

Every model call runs on one background event loop owned by the engine (the SDKs' connection
pools and the wrapper's concurrency limit belong to one loop); callers on other threads or loops
hand their coroutine to it and wait, so nothing is serialized but by ``LLMConfig.max_concurrency``.

A reply that is not the JSON asked for is repaired (``prompt.parse_reply``) or asked for once more
with a corrective message; after that, and when the provider fails, the step is an error
observation with source ``simulator-failure`` (or the error is raised, ``provider_errors="raise"``).

State notes: the model's ``state_note`` for a step is remembered per session under the turn's
number and a fingerprint of the turn it produced (action and observation). A later step's prompt
shows the note beside that turn only if the session's history still holds exactly that turn, so a
reset, an injected fault or a teacher-forced eval (recorded observations in place of the model's)
never shows a note that no longer fits. Notes live in this process, for the most recent
``note_sessions`` sessions; a turn without one shows no note (after a restart, say).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Coroutine, Sequence
from typing import Literal, TypeVar

from pydantic import Field

from wmh.core.jsonutil import canonical
from wmh.core.types import Action, ActionKind, Frozen, Observation, SessionState, ToolDef, Turn
from wmh.engine.offline import OfflineEngine
from wmh.engine.prompt import (
    CORRECTIVE,
    Example,
    Prompt,
    PromptConfig,
    build_prompt,
    parse_reply,
    stable_prefix,
)
from wmh.providers import LLM, Message, ProviderError, UsageReport

T = TypeVar("T")
FAILURE_SOURCE = "simulator-failure"


class LLMEngineConfig(Frozen):
    """How the LLM engine asks the model."""

    prompt: PromptConfig = Field(default_factory=PromptConfig)
    temperature: float | None = Field(default=0.0, ge=0.0, le=2.0, description="None: provider default")
    max_tokens: int = Field(default=2048, gt=0, description="Cap on the reply's tokens")
    provider_errors: Literal["observe", "raise"] = Field(
        default="observe",
        description="A failed model call becomes a simulator-failure observation, or raises ProviderError",
    )
    note_sessions: int = Field(
        default=10_000, ge=0, description="Sessions whose state notes are remembered (least recent dropped)"
    )


class EngineStats(Frozen):
    """What the engine did, by step."""

    steps: int = 0
    model_steps: int = Field(default=0, description="Steps answered by the model")
    repaired: int = Field(default=0, description="Replies read from inside other text")
    retried: int = Field(default=0, description="Malformed replies asked for again")
    failures: int = Field(default=0, description="Steps answered with a simulator-failure observation")
    provider_errors: int = Field(default=0, description="Steps whose model call failed")


class LLMEngine:
    """Answers each step with one model call (two when the first reply is malformed)."""

    name = "llm"

    def __init__(
        self,
        llm: LLM,
        tools: Sequence[ToolDef] = (),
        *,
        retriever: OfflineEngine | None = None,
        config: LLMEngineConfig | None = None,
    ) -> None:
        self.llm = llm
        self.config = config or LLMEngineConfig()
        self.retriever = retriever
        if not tools and retriever is not None:
            tools = [ToolDef(name=t) for t in retriever.tools]
        self.tools = tuple(tools)
        self.prefix = stable_prefix(self.config.prompt, self.tools)
        self._notes: OrderedDict[str, dict[int, tuple[str, str]]] = OrderedDict()
        self._stats: dict[str, int] = dict.fromkeys(EngineStats.model_fields, 0)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # ---- the Engine protocol ------------------------------------------------------------------

    def answer(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Observation:
        """The model's answer; safe to call from many threads at once. It blocks the calling
        thread: code running on an event loop awaits ``answer_async`` instead."""
        if action.kind is ActionKind.MESSAGE:
            return self._message()
        prompt = self.prompt_for(state, action, exclude_trace=exclude_trace)
        return self._submit(self._ask(state, action, prompt)).result()

    async def answer_async(
        self, state: SessionState, action: Action, *, exclude_trace: str = ""
    ) -> Observation:
        if action.kind is ActionKind.MESSAGE:
            return self._message()
        prompt = self.prompt_for(state, action, exclude_trace=exclude_trace)
        coro = self._ask(state, action, prompt)
        if self._loop is not None and asyncio.get_running_loop() is self._loop:
            return await coro
        return await asyncio.wrap_future(self._submit(coro))

    def prompt_for(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Prompt:
        """The prompt this step sends (pure but for retrieval over the offline engine's index)."""
        examples = (
            recorded_examples(self.retriever, state, action, self.config.prompt.examples, exclude_trace)
            if self.retriever is not None
            else []
        )
        return build_prompt(
            self.config.prompt,
            self.prefix,
            task=state.task,
            history=state.history,
            notes=self.notes_for(state),
            action=action,
            examples=examples,
            session_tools=[t for t in state.tools if t not in self.tools],
        )

    def notes_for(self, state: SessionState) -> list[str]:
        """The state note of each turn of the session, "" where none is known."""
        with self._lock:
            known = dict(self._notes.get(state.id, {}))
        notes = [""] * len(state.history)
        for i, (fingerprint, note) in known.items():
            if i < len(notes) and _fingerprint(state.history[i]) == fingerprint:
                notes[i] = note
        return notes

    def stats(self) -> EngineStats:
        with self._lock:
            return EngineStats(**self._stats)

    def report(self) -> UsageReport:
        """Tokens, cost, provider calls and cache hits, per run, model and session."""
        return self.llm.report()

    def close(self) -> None:
        """Close the provider's connections and stop the background loop."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
            self._closed = True
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.llm.aclose(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    def __enter__(self) -> LLMEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- one step -------------------------------------------------------------------------------

    async def _ask(self, state: SessionState, action: Action, prompt: Prompt) -> Observation:
        cfg = self.config
        request = prompt.request(temperature=cfg.temperature, seed=state.seed, max_tokens=cfg.max_tokens)
        self._count("steps")
        try:
            first = await self.llm.complete(request, session=state.id)
            reply = parse_reply(first.text)
            if reply is None:
                self._count("retried")
                again = (
                    Message(role="assistant", content=first.text or "(empty)"),
                    Message(role="user", content=CORRECTIVE),
                )
                retry = request.model_copy(update={"messages": (*request.messages, *again)})
                second = await self.llm.complete(retry, session=state.id)
                reply = parse_reply(second.text)
                if reply is None:
                    return self._failure(
                        f"the model's reply was not the JSON object asked for: {second.text!r}"
                    )
        except ProviderError as exc:
            self._count("provider_errors")
            if cfg.provider_errors == "raise":
                raise
            return self._failure(f"the model call failed: {exc}")
        self._count("model_steps")
        if reply.repaired:
            self._count("repaired")
        observation = Observation(content=reply.content, is_error=reply.is_error, source="llm")
        if reply.state_note.strip():
            self._remember(state, Turn(action=action, observation=observation), reply.state_note.strip())
        return observation

    def _failure(self, why: str) -> Observation:
        self._count("failures")
        content = f"Error: the simulator failed to answer this call ({why[:500]})"
        return Observation(content=content, is_error=True, source=FAILURE_SOURCE)

    def _message(self) -> Observation:
        self._count("steps")
        return Observation(content="", source="message")

    def _remember(self, state: SessionState, turn: Turn, note: str) -> None:
        if self.config.note_sessions == 0:
            return
        fingerprint = _fingerprint(turn)
        with self._lock:
            self._notes.setdefault(state.id, {})[len(state.history)] = (fingerprint, note)
            self._notes.move_to_end(state.id)
            while len(self._notes) > self.config.note_sessions:
                self._notes.popitem(last=False)

    def _count(self, counter: str) -> None:
        with self._lock:
            self._stats[counter] += 1

    # ---- the background loop ----------------------------------------------------------------------

    def _submit(self, coro: Coroutine[object, object, T]) -> concurrent.futures.Future[T]:
        try:
            loop = self._running_loop()
            if threading.current_thread() is self._thread:
                raise RuntimeError("LLMEngine.answer was called on the engine's own loop; await answer_async")
        except RuntimeError:
            coro.close()
            raise
        return asyncio.run_coroutine_threadsafe(coro, loop)

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("this LLMEngine is closed; make a new one")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=_run_forever, args=(loop,), name="wmh-llm-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop


def _run_forever(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    loop.run_forever()


def _fingerprint(turn: Turn) -> str:
    obs = turn.observation
    material = canonical([turn.action.model_dump(mode="json"), obs.content, obs.is_error])
    return hashlib.sha256(material.encode()).hexdigest()


def recorded_examples(
    offline: OfflineEngine, state: SessionState, action: Action, k: int, exclude_trace: str = ""
) -> list[Example]:
    """Up to ``k`` recorded calls of the same tool, most similar first (the exact call first when it
    was recorded), distinct by (arguments, answer); never from ``exclude_trace``."""
    if k <= 0 or action.name not in offline.knowledge:
        return []
    exclude = offline.trace_ids.get(exclude_trace, -1) if exclude_trace else -1
    q = offline.query(state, action, exclude=exclude)
    exact = offline.replay_record(q)
    records = ([exact] if exact is not None else []) + [rec for _, _, rec in q.neighbors()]
    seen: set[tuple[str, str]] = set()
    out: list[Example] = []
    for rec in records:
        key = (offline.rec_cargs[rec], offline.rec_content[rec])
        if key in seen:
            continue
        seen.add(key)
        out.append(Example(arguments=key[0], content=key[1], is_error=bool(offline.rec_err[rec])))
        if len(out) == k:
            break
    return out
