"""Which engine answers a world model's steps: offline, llm or hybrid, and with which provider.

Recorded in the manifest by ``wmh build --engine/--provider/--model``; ``serve``, ``play``, ``eval`` and
``demo`` take the same flags as overrides. The offline engine is the default and needs no provider.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from wmh.core.errors import UserInputError
from wmh.core.types import Frozen, ToolDef
from wmh.engine.base import Engine
from wmh.engine.hybrid import ENGINE_KINDS, EngineKind, HybridEngine, build_engine
from wmh.engine.llm import LLMEngine, LLMEngineConfig
from wmh.engine.offline import OfflineEngine
from wmh.providers import LLM, LLMConfig, Provider, UsageReport, create_provider, provider_names


class EngineChoice(Frozen):
    kind: EngineKind = "offline"
    provider: str | None = None
    model: str | None = None


def resolve_choice(
    engine: str | None, provider: str | None, model: str | None, default: EngineChoice | None = None
) -> EngineChoice:
    """Combine flags with a recorded choice: a provider alone means the llm engine."""
    base = default or EngineChoice()
    if engine is not None and engine not in ENGINE_KINDS:
        raise UserInputError(f"unknown engine {engine!r}; use one of {', '.join(ENGINE_KINDS)}")
    if provider is not None and provider not in provider_names():
        raise UserInputError(f"unknown provider {provider!r}; use one of {', '.join(provider_names())}")
    if provider in ("offline", None) and engine is None and model is None:
        return base if provider is None else EngineChoice()
    kind = engine or ("llm" if provider not in (None, "offline") else base.kind)
    if kind == "offline":
        return EngineChoice()
    chosen = provider if provider not in (None, "offline") else base.provider
    if not chosen:
        raise UserInputError(
            f"the {kind} engine needs a model provider: add --provider (e.g. anthropic, openai)"
        )
    return EngineChoice(
        kind=kind, provider=chosen, model=model or (base.model if chosen == base.provider else None)
    )


def make_engine(
    choice: EngineChoice,
    offline: OfflineEngine,
    tools: Sequence[ToolDef],
    cache_dir: Path,
    provider_errors: Literal["observe", "raise"] = "observe",
    env_prompt: str | None = None,
) -> tuple[Engine, Provider]:
    """The engine a choice names, over a fitted offline engine; LLM answers are cached in ``cache_dir``.

    ``provider_errors``: "observe" turns a failed model call into a simulator-failure observation
    (an eval goes on); "raise" raises it (a server answers 502 and leaves the session unchanged).
    ``env_prompt``: the environment prompt (an optimized one saved with the model), else the default.
    """
    if choice.kind == "offline":
        return offline, create_provider("offline")
    provider = create_provider(choice.provider or "", model=choice.model)
    llm = LLM(provider, LLMConfig(cache_dir=cache_dir))
    config = LLMEngineConfig(provider_errors=provider_errors)
    if env_prompt:
        config = config.model_copy(
            update={"prompt": config.prompt.model_copy(update={"env_prompt": env_prompt})}
        )
    return build_engine(choice.kind, offline, tools, llm, config=config), provider


def close_engine(engine: Engine) -> None:
    """Stop an engine's background work (the LLM engine's event loop); offline engines have none."""
    close = getattr(engine, "close", None)
    if callable(close):
        close()


def usage_line(engine: Engine) -> str:
    """One line on what the model did for an LLM or hybrid engine ("" for the offline engine)."""
    if isinstance(engine, HybridEngine):
        h = engine.report()
        return f"{h.local_steps} steps answered locally, {h.model_steps} by the model; {_usage(h.usage)}"
    if isinstance(engine, LLMEngine):
        return _usage(engine.report())
    return ""


def _usage(r: UsageReport) -> str:
    t = r.total
    return (
        f"{r.provider_calls} provider calls, {r.cache_hits} cache hits, {t.input_tokens} input / "
        f"{t.output_tokens} output tokens ({t.cached_input_tokens} cached), est. cost ${t.cost_usd:.4f}"
    )
