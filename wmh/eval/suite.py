"""Evaluate trace files end to end: ingest, split, fit on train, replay held-out, grade."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from wmh.build.split import split_episodes
from wmh.core.errors import UserInputError
from wmh.core.types import Frozen, Problem
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.offline import fit_offline
from wmh.eval.run import EvalReport, replay, report, seen_pairs
from wmh.ingest import ingest_files


class EvalOutcome(Frozen):
    engine: str
    report: EvalReport
    baseline: EvalReport
    train_traces: int
    heldout_traces: int
    problems: tuple[Problem, ...] = ()


def evaluate_files(
    files: Sequence[str],
    *,
    group_by: str | None = None,
    holdout: float = 0.2,
    on_step: Callable[[], None] | None = None,
) -> EvalOutcome:
    ingested = ingest_files(list(files))
    split = split_episodes(ingested.episodes, holdout, group_by)
    if not split.heldout or not split.train:
        raise UserInputError(
            f"the split left {len(split.train)} train and {len(split.heldout)} held-out traces; "
            "adjust --holdout or --group-by so both are non-empty"
        )
    pairs = seen_pairs(split.train)
    engine = fit_offline(split.train)
    ours = report(replay(engine, split.heldout, pairs, on_step=on_step))
    base = report(replay(ReplayBaseline(split.train), split.heldout, pairs))
    return EvalOutcome(
        engine=engine.name,
        report=ours,
        baseline=base,
        train_traces=len(split.train),
        heldout_traces=len(split.heldout),
        problems=ingested.problems,
    )
