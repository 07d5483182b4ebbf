"""Evaluate trace files end to end: ingest, split, fit on train, replay held-out, grade."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import Field

from wmh.build.pipeline import collect_tools
from wmh.build.split import split_episodes
from wmh.core.errors import UserInputError
from wmh.core.types import Frozen, Problem
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.choice import EngineChoice, close_engine, make_engine, usage_line
from wmh.engine.offline import fit_offline
from wmh.engine.offline_config import OfflineConfig
from wmh.eval.knowable import knowable_share
from wmh.eval.run import EvalReport, replay, report, seen_pairs
from wmh.ingest import ingest_files


class EvalOutcome(Frozen):
    engine: str
    report: EvalReport
    baseline: EvalReport
    train_traces: int
    heldout_traces: int
    problems: tuple[Problem, ...] = ()
    usage: str = ""
    knowable: float = Field(
        default=1.0, description="Share of held-out answers knowable from the data (wmh.eval.knowable)"
    )


def evaluate_files(
    files: Sequence[str],
    *,
    group_by: str | None = None,
    holdout: float = 0.2,
    on_step: Callable[[], None] | None = None,
    engine: EngineChoice | None = None,
    cache_dir: Path | None = None,
) -> EvalOutcome:
    """Fit on the train part, answer the held-out steps with the chosen engine, grade them."""
    ingested = ingest_files(list(files))
    split = split_episodes(ingested.episodes, holdout, group_by)
    if not split.heldout or not split.train:
        raise UserInputError(
            f"the split left {len(split.train)} train and {len(split.heldout)} held-out traces; "
            "adjust --holdout or --group-by so both are non-empty"
        )
    pairs = seen_pairs(split.train)
    offline = fit_offline(split.train, OfflineConfig(group_by=group_by))
    tools = collect_tools(split.train)
    choice = engine or EngineChoice()
    answering, _ = make_engine(choice, offline, tools, cache_dir or Path(".wmh") / "llm-cache")
    try:
        workers = 1 if answering is offline else 16
        ours = report(replay(answering, split.heldout, pairs, on_step=on_step, workers=workers))
        usage = usage_line(answering)
    finally:
        close_engine(answering)
    base = report(replay(ReplayBaseline(split.train), split.heldout, pairs))
    return EvalOutcome(
        engine=answering.name,
        usage=usage,
        report=ours,
        baseline=base,
        train_traces=len(split.train),
        heldout_traces=len(split.heldout),
        problems=ingested.problems,
        knowable=knowable_share(split.train, split.heldout),
    )
