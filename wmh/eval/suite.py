"""Evaluate trace files end to end: ingest, split (once, or k folds by group), fit, replay, grade.

One split's work is ``run_split``; a single split and k-fold both go through it, and the folds'
graded steps are pooled and graded by ``report`` exactly like one split's (every held-out step once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import Field

from wmh.build.pipeline import collect_tools, ingest_warnings
from wmh.build.split import Split, fold_splits, split_episodes
from wmh.core.errors import UserInputError
from wmh.core.types import Episode, Frozen, Problem
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.choice import EngineChoice, close_engine, make_engine, usage_line
from wmh.engine.offline import fit_offline
from wmh.engine.offline_config import OfflineConfig
from wmh.eval.grade import Score, summarize
from wmh.eval.knowable import knowable
from wmh.eval.run import EvalReport, StepResult, replay, report, seen_pairs
from wmh.ingest import ingest_files

DEFAULT_HOLDOUT = 0.2


class FoldSummary(Frozen):
    """One fold of a k-fold eval: what it held out and how the engine and the baseline scored on it."""

    fold: int = Field(description="0-based; fold 0 holds out what a single split at 1/K does")
    train_traces: int
    heldout_traces: int
    heldout_groups: int
    score: Score
    baseline: Score


class EvalOutcome(Frozen):
    engine: str
    report: EvalReport
    baseline: EvalReport
    train_traces: int = Field(description="Train traces; with folds, the mean per fold (rounded)")
    heldout_traces: int = Field(description="Held-out traces; with folds, all of them (each held out once)")
    problems: tuple[Problem, ...] = ()
    usage: str = Field(default="", description="The LLM usage line; with folds, one per fold joined by ' | '")
    knowable: float = Field(
        default=1.0, description="Share of held-out answers knowable from the data (wmh.eval.knowable)"
    )
    folds: tuple[FoldSummary, ...] = Field(default=(), description="Per-fold figures; empty for one split")
    group_by: str | None = None
    warnings: tuple[str, ...] = Field(
        default=(), description="What the reader should know, e.g. traces dropped"
    )


class SplitRun(Frozen):
    """One split's work: the engine's and the baseline's graded held-out steps, in episode order."""

    engine: str
    ours: tuple[StepResult, ...]
    baseline: tuple[StepResult, ...]
    knowable: tuple[bool, ...]
    usage: str = ""


def evaluate_files(
    files: Sequence[str],
    *,
    group_by: str | None = None,
    holdout: float | None = None,
    folds: int | None = None,
    on_step: Callable[[], None] | None = None,
    engine: EngineChoice | None = None,
    cache_dir: Path | None = None,
) -> EvalOutcome:
    """Fit on train, answer the held-out steps with the chosen engine, grade them.

    ``holdout`` (default 0.2) splits once; ``folds`` K holds out each group once over K fits instead
    and pools the held-out steps. Giving both is a UserInputError.
    """
    ingested = ingest_files(list(files))
    splits = make_splits(ingested.episodes, group_by, holdout, folds)
    choice, cache = engine or EngineChoice(), cache_dir or Path(".wmh") / "llm-cache"
    runs = [run_split(s, choice, cache, on_step) for s in splits]
    outcome = pool(splits, runs, ingested.problems, k_fold=folds is not None)
    return outcome.model_copy(update={"warnings": ingest_warnings(ingested)})


def make_splits(
    episodes: Sequence[Episode], group_by: str | None, holdout: float | None, folds: int | None
) -> list[Split]:
    """One split at ``holdout``, or ``folds`` splits that hold out each group once."""
    if folds is not None:
        if holdout is not None:
            raise UserInputError(
                "--folds replaces --holdout (each fold holds out 1/K of the groups); drop one of them"
            )
        return fold_splits(episodes, folds, group_by)
    split = split_episodes(episodes, DEFAULT_HOLDOUT if holdout is None else holdout, group_by)
    if not split.heldout or not split.train:
        raise UserInputError(
            f"the split left {len(split.train)} train and {len(split.heldout)} held-out traces; "
            "adjust --holdout or --group-by so both are non-empty"
        )
    return [split]


def run_split(
    split: Split, choice: EngineChoice, cache_dir: Path, on_step: Callable[[], None] | None = None
) -> SplitRun:
    """Fit on train, answer held-out with the chosen engine (then close it), and with the baseline."""
    pairs = seen_pairs(split.train)
    offline = fit_offline(split.train, OfflineConfig(group_by=split.group_by))
    answering, _ = make_engine(choice, offline, collect_tools(split.train), cache_dir)
    try:
        workers = 1 if answering is offline else 16
        ours = replay(answering, split.heldout, pairs, on_step=on_step, workers=workers)
        usage = usage_line(answering)
    finally:
        close_engine(answering)
    return SplitRun(
        engine=answering.name,
        ours=tuple(ours),
        baseline=tuple(replay(ReplayBaseline(split.train), split.heldout, pairs)),
        knowable=tuple(knowable(split.train, split.heldout)),
        usage=usage,
    )


def pool(
    splits: Sequence[Split], runs: Sequence[SplitRun], problems: tuple[Problem, ...], k_fold: bool
) -> EvalOutcome:
    """One outcome over all runs' held-out steps, graded together; per-fold figures when ``k_fold``."""
    flags = [k for run in runs for k in run.knowable]
    return EvalOutcome(
        engine=runs[0].engine,
        usage=_usage(runs),
        report=report([r for run in runs for r in run.ours]),
        baseline=report([r for run in runs for r in run.baseline]),
        train_traces=round(sum(len(s.train) for s in splits) / len(splits)),
        heldout_traces=sum(len(s.heldout) for s in splits),
        problems=problems,
        knowable=sum(flags) / len(flags) if flags else 1.0,
        folds=tuple(_summary(i, s, r) for i, (s, r) in enumerate(zip(splits, runs, strict=True)))
        if k_fold
        else (),
        group_by=splits[0].group_by,
    )


def _summary(fold: int, split: Split, run: SplitRun) -> FoldSummary:
    return FoldSummary(
        fold=fold,
        train_traces=len(split.train),
        heldout_traces=len(split.heldout),
        heldout_groups=split.groups_heldout,
        score=summarize([r.grade for r in run.ours]),
        baseline=summarize([r.grade for r in run.baseline]),
    )


def _usage(runs: Sequence[SplitRun]) -> str:
    if len(runs) == 1:
        return runs[0].usage
    return " | ".join(f"fold {i}: {r.usage}" for i, r in enumerate(runs) if r.usage)
