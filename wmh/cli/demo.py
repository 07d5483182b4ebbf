"""``wmh demo``: a throwaway agent replays sampled recorded actions against a world model.

For each step the CLI prints the action, the prompt an LLM engine sends for it (abridged; for an
offline model, the prompt the LLM engine would send) and the world model's observation.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Annotated

import typer
from rich.markup import escape

from wmh.cli.common import RootOption, console, one_line_errors, store_for
from wmh.core.errors import UserInputError
from wmh.core.jsonutil import canonical
from wmh.core.types import Action, Episode, Frozen, Observation, SessionState, ToolDef
from wmh.engine.base import Engine
from wmh.engine.files import read_episodes
from wmh.engine.hybrid import ENGINE_KINDS, HybridEngine, build_engine
from wmh.engine.llm import LLMEngine, recorded_examples
from wmh.engine.loader import load_world_model
from wmh.engine.offline import OfflineEngine
from wmh.engine.prompt import Prompt, PromptConfig, build_prompt, stable_prefix
from wmh.engine.world_model import WorldModel
from wmh.providers import LLM, LLMConfig, create_provider


class DemoStep(Frozen):
    number: int
    action: Action
    prompt: Prompt | None
    observation: Observation


def agent_plan(episodes: Sequence[Episode], steps: int, seed: int) -> tuple[str, list[Action]]:
    """A task and ``steps`` actions: one sampled trace's calls in order, then calls sampled from any trace."""
    rng = random.Random(seed)
    with_calls = [ep for ep in episodes if any(s.action.name for s in ep.steps)]
    if not with_calls:
        raise UserInputError(
            "the model's train.jsonl holds no tool calls to sample; rebuild it with `wmh build`"
        )
    episode = rng.choice(with_calls)
    actions = [s.action for s in episode.steps if s.action.name][:steps]
    pool = [s.action for ep in with_calls for s in ep.steps if s.action.name]
    actions += [rng.choice(pool) for _ in range(steps - len(actions))]
    return episode.task, actions


def run_demo(wm: WorldModel, episodes: Sequence[Episode], steps: int, seed: int) -> Iterator[DemoStep]:
    task, actions = agent_plan(episodes, steps, seed)
    session = wm.new_session(task=task, seed=seed)
    for number, action in enumerate(actions, 1):
        prompt = engine_prompt(wm.engine, wm.tools, wm.session(session.id), action)
        yield DemoStep(number=number, action=action, prompt=prompt, observation=wm.step(session.id, action))


def engine_prompt(
    engine: Engine, tools: Sequence[ToolDef], state: SessionState, action: Action
) -> Prompt | None:
    """The prompt the engine sends for this step (what an LLM engine would send, for the offline one)."""
    model = engine.model if isinstance(engine, HybridEngine) else engine
    if isinstance(model, LLMEngine):
        return model.prompt_for(state, action)
    if isinstance(engine, OfflineEngine):
        cfg = PromptConfig()
        examples = recorded_examples(engine, state, action, cfg.examples)
        return build_prompt(
            cfg,
            stable_prefix(cfg, tools),
            task=state.task,
            history=state.history,
            notes=[],
            action=action,
            examples=examples,
        )
    return None


def abridge(text: str, lines: int, width: int = 160) -> str:
    """Each ``# `` section of ``text`` cut to its first ``lines`` lines (and long lines cut)."""
    out: list[str] = []
    kept = dropped = 0
    for row in text.splitlines():
        if row.startswith("# "):
            out += [f"… ({dropped} more lines)"] if dropped else []
            kept = dropped = 0
        if kept < lines:
            out.append(row if len(row) <= width else row[: width - 1] + "…")
            kept += 1
        else:
            dropped += 1
    return "\n".join(out + ([f"… ({dropped} more lines)"] if dropped else []))


@one_line_errors
def demo(
    name: Annotated[str, typer.Option("--name", "-n", help="World model to demo.")],
    steps: Annotated[int, typer.Option("--steps", min=1, help="Actions the agent takes.")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the agent's sampling and the session.")] = 0,
    engine: Annotated[
        str | None, typer.Option("--engine", help="offline, llm or hybrid (default: the model's).")
    ] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Provider for llm/hybrid.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model id for the provider.")] = None,
    prompt_lines: Annotated[
        int, typer.Option("--prompt-lines", help="Lines shown of each prompt section.")
    ] = 6,
    root: RootOption = None,
) -> None:
    """A throwaway agent takes sampled recorded actions; the world model answers."""
    store = store_for(root)
    path = store.resolve(name)
    wm, default_provider = load_world_model(path)
    if engine is not None or provider is not None:
        wm = _with_engine(wm, engine or "llm", provider or default_provider.name, model)
    episodes = read_episodes(path / "train.jsonl")
    console.print(f"[bold]{escape(wm.name)}[/] ({wm.engine.name} engine), {steps} steps, seed {seed}")
    shown_prefix = False
    try:
        for shown in run_demo(wm, episodes, steps, seed):
            if shown.prompt is not None and not shown_prefix:
                _section("environment prompt + tool catalog (fixed, abridged)", shown.prompt.stable_prefix, 7)
                shown_prefix = True
            _render(shown, prompt_lines)
    finally:
        close = getattr(wm.engine, "close", None)
        if close is not None:
            close()


def _with_engine(wm: WorldModel, kind: str, provider: str, model: str | None) -> WorldModel:
    if kind not in ENGINE_KINDS:
        raise UserInputError(f"unknown engine {kind!r}; choose one of {', '.join(ENGINE_KINDS)}")
    candidates = (wm.engine, getattr(wm.engine, "offline", None), getattr(wm.engine, "retriever", None))
    offline = next((e for e in candidates if isinstance(e, OfflineEngine)), None)
    if offline is None:
        raise UserInputError("this model has no offline engine to retrieve examples from; rebuild it")
    if kind != "offline" and provider == "offline":
        raise UserInputError(
            f"the {kind} engine needs a model provider: pass --provider (see `wmh providers`)"
        )
    llm = None if kind == "offline" else LLM(create_provider(provider, model=model), LLMConfig())
    engine = build_engine(kind, offline, wm.tools, llm)
    return WorldModel(wm.name, engine, wm.tools)


def _section(title: str, text: str, lines: int) -> None:
    console.print(f"[dim]── {title}[/]")
    console.print(escape(abridge(text, lines)), highlight=False, soft_wrap=True)


def _render(step: DemoStep, prompt_lines: int) -> None:
    a = step.action
    console.print(
        f"\n[bold cyan]step {step.number}[/] agent calls [bold]{escape(a.name)}[/] {escape(canonical(a.arguments))}"
    )
    if step.prompt is not None:
        _section(
            "prompt for this step (abridged)", f"{step.prompt.system}\n\n{step.prompt.user}", prompt_lines
        )
    obs = step.observation
    flag = "[red]error[/] " if obs.is_error else ""
    console.print(f"[dim]── observation ({escape(obs.source)})[/]")
    console.print(flag + escape(abridge(obs.content, 10)), highlight=False, soft_wrap=True)
