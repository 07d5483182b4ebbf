"""Replay held-out steps against an engine, with their recorded history, and grade each answer."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from wmh.core.jsonutil import canonical
from wmh.core.types import Episode, Frozen, Observation, SessionState, Turn
from wmh.engine.base import Engine
from wmh.eval.grade import Grade, Score, grade, summarize


class StepResult(Frozen):
    """One graded held-out step."""

    trace_id: str
    source_file: str
    index: int
    tool: str
    seen: bool
    predicted: Observation
    recorded: Observation
    grade: Grade


class EvalReport(Frozen):
    overall: Score
    seen: Score
    unseen: Score
    per_tool: dict[str, Score]
    per_file: dict[str, Score]


def seen_pairs(episodes: Iterable[Episode]) -> set[tuple[str, str]]:
    """The (tool, canonical arguments) pairs recorded in ``episodes``."""
    return {(s.action.name, canonical(s.action.arguments)) for ep in episodes for s in ep.steps}


def replay(
    engine: Engine,
    heldout: Sequence[Episode],
    train_pairs: set[tuple[str, str]],
    *,
    exclude_self: bool = False,
    on_step: Callable[[], None] | None = None,
    workers: int = 1,
) -> list[StepResult]:
    """Answer every held-out step given the recorded steps before it (teacher forcing).

    ``workers`` > 1 replays episodes on that many threads (for engines that wait on a model);
    results keep the episodes' order either way.
    """

    def one(ep: Episode) -> list[StepResult]:
        return _replay_episode(engine, ep, train_pairs, exclude_self, on_step)

    if workers <= 1:
        return [r for ep in heldout for r in one(ep)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [r for results in pool.map(one, heldout) for r in results]


def _replay_episode(
    engine: Engine,
    ep: Episode,
    train_pairs: set[tuple[str, str]],
    exclude_self: bool,
    on_step: Callable[[], None] | None,
) -> list[StepResult]:
    results: list[StepResult] = []
    state = SessionState(id=f"eval-{ep.trace_id}", task=ep.task, tools=ep.tools)  # as the agent offered them
    exclude = ep.trace_id if exclude_self else ""
    for i, step in enumerate(ep.steps):
        predicted = engine.answer(state, step.action, exclude_trace=exclude)
        results.append(
            StepResult(
                trace_id=ep.trace_id,
                source_file=ep.source_file,
                index=i,
                tool=step.action.name,
                seen=(step.action.name, canonical(step.action.arguments)) in train_pairs,
                predicted=predicted,
                recorded=step.observation,
                grade=grade(predicted, step.observation),
            )
        )
        state = state.with_turn(Turn(action=step.action, observation=step.observation))
        if on_step:
            on_step()
    return results


def report(results: Sequence[StepResult]) -> EvalReport:
    by_tool: dict[str, list[Grade]] = defaultdict(list)
    by_file: dict[str, list[Grade]] = defaultdict(list)
    for r in results:
        by_tool[r.tool].append(r.grade)
        by_file[r.source_file].append(r.grade)
    return EvalReport(
        overall=summarize([r.grade for r in results]),
        seen=summarize([r.grade for r in results if r.seen]),
        unseen=summarize([r.grade for r in results if not r.seen]),
        per_tool={t: summarize(g) for t, g in sorted(by_tool.items())},
        per_file={f: summarize(g) for f, g in sorted(by_file.items())},
    )
