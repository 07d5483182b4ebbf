"""The build: traces → episodes → split → engine → held-out score → a saved world model."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import Field

from wmh.build.split import Split, check_holdout, split_episodes
from wmh.config.manifest import Manifest, Metrics, OptimizationInfo, SourceInfo, SplitInfo
from wmh.config.store import WorldModelStore, check_name
from wmh.core.errors import UserInputError
from wmh.core.types import Episode, Frozen, Problem, ToolDef
from wmh.engine.base import Engine
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.choice import EngineChoice, close_engine, make_engine
from wmh.engine.files import write_episodes, write_tools
from wmh.engine.loader import ENV_PROMPT_FILE
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.engine.offline_config import OfflineConfig
from wmh.eval.run import EvalReport, replay, report, seen_pairs
from wmh.ingest import IngestResult, ingest_files
from wmh.optimize import (
    DEFAULT_BUDGET,
    OFFLINE_COMPONENT,
    PROMPT_COMPONENT,
    OptimizeResult,
    OptimizeSettings,
    optimize_offline,
    optimize_prompt,
)
from wmh.optimize import Progress as OptimizeProgress
from wmh.providers import LLM, LLMConfig, create_provider

OPTIMIZE_FILE = "optimize.json"
OPTIMIZE_PROMPT_FILE = "optimize-prompt.json"
DEFAULT_PROMPT_BUDGET = 100


class BuildRequest(Frozen):
    name: str
    files: tuple[str, ...]
    group_by: str | None = None
    holdout: float = Field(default=0.2, ge=0.0, lt=1.0)
    budget: int = Field(default=DEFAULT_BUDGET, ge=0, description="GEPA metric calls; 0 skips optimization")
    engine: EngineChoice = Field(default_factory=EngineChoice, description="The engine recorded in the model")
    prompt_budget: int = Field(
        default=DEFAULT_PROMPT_BUDGET,
        ge=0,
        description="Metric calls (episodes) for the environment-prompt search",
    )


def check_options(holdout: float, budget: int, prompt_budget: int) -> None:
    """The one-line errors for build options a ``BuildRequest`` would refuse with a ValidationError."""
    check_holdout(holdout)
    for flag, value in (("--budget", budget), ("--prompt-budget", prompt_budget)):
        if value < 0:
            raise UserInputError(f"{flag} must be >= 0, got {value}; e.g. {flag} 0 (skips that search)")


def ingest_warnings(ingested: IngestResult) -> tuple[str, ...]:
    n = ingested.duplicate_traces
    if not n:
        return ()
    return (f"skipped {n} traces already read from an earlier file (same trace id); give each file once",)


def split_warnings(split: Split) -> tuple[str, ...]:
    if split.heldout or split.holdout == 0:
        return ()
    by = f"--group-by {split.group_by}" if split.group_by else "splitting by trace"
    return (
        f"nothing was held out: {by} gives {split.groups_total} group(s), which training needs; "
        "no held-out score (group by a key with more values)",
    )


class BuildSummary(Frozen):
    manifest: Manifest
    path: str
    problems: tuple[Problem, ...] = ()
    warnings: tuple[str, ...] = Field(default=(), description="What went wrong without stopping the build")


class Progress:
    """Callbacks a front end can hook: phases and per-unit advances. The default does nothing.

    A phase ends with all of its ``total`` done when the next one starts, unless ``finish`` said
    how much of it was done (a search that stopped short of its budget).
    """

    def phase(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self, done: int) -> None: ...


def build_world_model(
    request: BuildRequest, store: WorldModelStore, progress: Progress | None = None
) -> BuildSummary:
    progress = progress or Progress()
    check_name(request.name)
    if request.engine.kind != "offline":  # a missing key is reported before any work, not after it
        provider = create_provider(request.engine.provider or "", model=request.engine.model)
        request = request.model_copy(
            update={"engine": request.engine.model_copy(update={"model": provider.model})}
        )
    ingested = _ingest(request.files, progress)
    split = split_episodes(ingested.episodes, request.holdout, request.group_by)
    if not split.train:
        raise UserInputError("every trace landed in the held-out split; lower --holdout or check --group-by")
    progress.phase("fitting the offline engine")
    engine = fit_offline(split.train, OfflineConfig(group_by=request.group_by))
    optimized, warnings = _optimize(request, engine, split, store, progress)
    warnings = ingest_warnings(ingested) + split_warnings(split) + warnings
    if optimized is not None:
        engine = engine.with_config(  # recalibrated where the config changes what calibration reads
            OfflineConfig.model_validate_json(optimized.best_candidate[OFFLINE_COMPONENT]), split.train
        )
    tools = collect_tools(ingested.episodes)
    prompt_result, prompt_warnings = _optimize_prompt(request, engine, tools, split, store, progress)
    warnings += prompt_warnings
    env_prompt = prompt_result.best_candidate[PROMPT_COMPONENT] if prompt_result else None
    answering, _ = make_engine(request.engine, engine, tools, store.root / "llm-cache", env_prompt=env_prompt)
    try:
        evaluation, baseline = _score(answering, split, progress, workers=1 if answering is engine else 16)
    finally:
        close_engine(answering)

    def fill(directory: Path) -> Manifest:
        engine.save(directory / "engine")
        write_episodes(directory / "train.jsonl", split.train)
        write_episodes(directory / "heldout.jsonl", split.heldout)
        write_tools(directory / "tools.json", tools)
        if optimized is not None:
            (directory / OPTIMIZE_FILE).write_text(optimized.model_dump_json(indent=2))
        if prompt_result is not None:
            (directory / OPTIMIZE_PROMPT_FILE).write_text(prompt_result.model_dump_json(indent=2))
            (directory / ENV_PROMPT_FILE).write_text(prompt_result.best_candidate[PROMPT_COMPONENT])
        manifest = _manifest(request, ingested, split, tools, evaluation, baseline, optimized)
        return manifest.model_copy(update={"prompt_optimization": _optimization_info(prompt_result)})

    progress.phase("saving")
    path = store.write(request.name, fill)
    manifest = store.manifest(request.name)
    return BuildSummary(manifest=manifest, path=str(path), problems=ingested.problems, warnings=warnings)


def _optimize_prompt(
    request: BuildRequest,
    engine: OfflineEngine,
    tools: Sequence[ToolDef],
    split: Split,
    store: WorldModelStore,
    progress: Progress,
) -> tuple[OptimizeResult | None, tuple[str, ...]]:
    """GEPA over the LLM engine's environment prompt (llm and hybrid engines only)."""
    if request.engine.kind == "offline" or request.prompt_budget == 0:
        return None, ()
    progress.phase("optimizing the prompt (GEPA)", request.prompt_budget)
    llm = LLM(
        create_provider(request.engine.provider or "", model=request.engine.model),
        LLMConfig(cache_dir=store.root / "llm-cache"),
    )
    try:
        result = optimize_prompt(
            split.train,
            llm=llm,
            offline_engine=engine,
            tools=tools,
            heldout=split.heldout or None,
            group_by=split.group_by,
            settings=OptimizeSettings(budget=request.prompt_budget),
            run_dir=store.root / "runs" / request.name / "optimize-prompt",
            on_progress=_advance_to(progress, request.prompt_budget),
        )
    except UserInputError as exc:
        progress.finish(0)
        return None, (f"prompt optimization skipped: {exc}; the default prompt was kept",)
    progress.finish(result.rollouts)
    return result, ()


def _advance_to(progress: Progress, budget: int) -> Callable[[OptimizeProgress], None]:
    done = 0

    def on_progress(p: OptimizeProgress) -> None:
        nonlocal done
        now = min(p.metric_calls, budget)
        progress.advance(max(0, now - done))
        done = max(done, now)

    return on_progress


def _optimize(
    request: BuildRequest, engine: OfflineEngine, split: Split, store: WorldModelStore, progress: Progress
) -> tuple[OptimizeResult | None, tuple[str, ...]]:
    """GEPA over the engine's configuration; a search that cannot run is a warning, not a failed build."""
    if request.budget == 0:
        return None, ()
    progress.phase("optimizing (GEPA)", request.budget)
    on_progress = _advance_to(progress, request.budget)
    try:
        result = optimize_offline(
            split.train,
            heldout=split.heldout or None,
            base=engine.config,
            settings=OptimizeSettings(budget=request.budget),
            group_by=split.group_by,
            run_dir=store.root / "runs" / request.name / "optimize",
            on_progress=on_progress,
            full_engine=engine,
        )
    except UserInputError as exc:
        progress.finish(0)
        return None, (f"optimization skipped: {exc}; the base configuration was kept",)
    progress.finish(result.rollouts)  # GEPA stops early when nothing improves, or runs a few past
    return result, ()


def _ingest(files: Sequence[str], progress: Progress) -> IngestResult:
    if not files:
        raise UserInputError("no trace file given; pass --file PATH (repeat for several files)")
    total = sum(Path(f).stat().st_size for f in files if Path(f).is_file())
    progress.phase("reading traces", total)
    last = 0

    def on_progress(done: int) -> None:
        nonlocal last
        progress.advance(done - last)
        last = done

    return ingest_files(list(files), on_progress=on_progress)


def _score(
    engine: Engine, split: Split, progress: Progress, workers: int = 1
) -> tuple[EvalReport | None, EvalReport | None]:
    if not split.heldout:
        return None, None
    pairs = seen_pairs(split.train)
    n = sum(len(ep.steps) for ep in split.heldout)
    progress.phase("scoring held-out steps", n * 2)
    tick: Callable[[], None] = progress.advance
    ours = report(replay(engine, split.heldout, pairs, on_step=tick, workers=workers))
    base = report(replay(ReplayBaseline(split.train), split.heldout, pairs, on_step=tick))
    return ours, base


def collect_tools(episodes: Sequence[Episode]) -> tuple[ToolDef, ...]:
    """Recorded tool definitions, plus a bare entry for every tool called without one."""
    found: dict[str, ToolDef] = {}
    for ep in episodes:
        for tool in ep.tools:
            found.setdefault(tool.name, tool)
    for ep in episodes:
        for step in ep.steps:
            found.setdefault(step.action.name, ToolDef(name=step.action.name))
    return tuple(found[name] for name in sorted(found))


def _manifest(
    request: BuildRequest,
    ingested: IngestResult,
    split: Split,
    tools: Sequence[ToolDef],
    evaluation: EvalReport | None,
    baseline: EvalReport | None,
    optimized: OptimizeResult | None,
) -> Manifest:
    from wmh import __version__

    metrics = Metrics()
    if evaluation and baseline:
        metrics = Metrics(
            heldout=evaluation.overall,
            heldout_seen=evaluation.seen,
            heldout_unseen=evaluation.unseen,
            baseline=baseline.overall,
        )
    return Manifest(
        name=request.name,
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        wmh_version=__version__,
        engine=request.engine.kind,
        provider=request.engine.provider,
        model=request.engine.model,
        sources=tuple(SourceInfo(**f.model_dump()) for f in ingested.files),
        spans=ingested.span_count,
        bad_items=len(ingested.problems),
        traces=len(ingested.episodes),
        steps=sum(len(ep.steps) for ep in ingested.episodes),
        tools=tuple(t.name for t in tools),
        split=SplitInfo(
            group_by=split.group_by,
            holdout=split.holdout,
            groups_total=split.groups_total,
            groups_heldout=split.groups_heldout,
            train_traces=len(split.train),
            heldout_traces=len(split.heldout),
            train_steps=sum(len(ep.steps) for ep in split.train),
            heldout_steps=sum(len(ep.steps) for ep in split.heldout),
        ),
        metrics=metrics,
        optimization=_optimization_info(optimized),
    )


def _optimization_info(result: OptimizeResult | None) -> OptimizationInfo | None:
    if result is None:
        return None
    return OptimizationInfo(
        reflector=result.reflector,
        budget=result.budget,
        rollouts=result.rollouts,
        candidates=result.candidates,
        frontier=len(result.frontier),
        val_base=result.val_score_base,
        val_best=result.val_score_best,
        heldout_base=result.heldout_score_base,
        heldout_best=result.heldout_score_best,
        improved=result.improved,
        guard=result.guard,
    )
