"""The GEPA adapter: examples are episodes, a candidate is one text component of a ``Target``.

GEPA (the ``gepa`` package) owns the search: minibatches from train, the Pareto frontier over the
validation examples, acceptance, the budget and the run directory. This adapter scores a candidate
on a batch of episodes (cached by candidate and example, so GEPA's re-evaluations of a parent cost
no time), turns the graded steps into the reflective dataset, and asks the reflector for the next
text (``propose_new_texts``). What the run has seen (rollouts, rejections, history, candidates
tried) lives in ``RunLog``, which GEPA saves in its run directory so a resumed run continues it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from gepa.core.adapter import EvaluationBatch
from gepa.core.callbacks import BudgetUpdatedEvent, IterationEndEvent, ValsetEvaluatedEvent
from pydantic import Field, JsonValue

from wmh.core.types import Episode, Frozen
from wmh.optimize.reflect import Reflector
from wmh.optimize.target import InvalidCandidate, Target
from wmh.optimize.types import EpisodeOutcome, HistoryPoint, Progress, Rejection, Rollout, StepOutcome


class Example(Frozen):
    """A GEPA data instance: one episode of the train or the validation split."""

    split: Literal["train", "val"]
    index: int


class RunLog(Frozen):
    """What a run has recorded so far; saved in GEPA's state, restored on resume."""

    rollouts: tuple[Rollout, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    history: tuple[HistoryPoint, ...] = ()
    tried: tuple[str, ...] = Field(default=(), description="Candidate texts proposed or evaluated")
    last_note: str = ""


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class WmhAdapter:
    """``GEPAAdapter`` over a ``Target``; also GEPA's callback (history and progress)."""

    def __init__(
        self,
        target: Target,
        train: Sequence[Episode],
        val: Sequence[Episode],
        reflector: Reflector,
        *,
        budget: int,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.target = target
        self.episodes = {"train": tuple(train), "val": tuple(val)}
        self.reflector = reflector
        self.budget = budget
        self.on_progress = on_progress
        self.cache: dict[tuple[str, str, int], EpisodeOutcome] = {}
        self.valid: dict[str, str | InvalidCandidate] = {}
        self.log = RunLog(tried=(target.validate(target.seed()),))
        self.fresh_evaluations = 0

    # ---- GEPAAdapter ---------------------------------------------------------------------------

    def evaluate(
        self, batch: list[Example], candidate: dict[str, str], capture_traces: bool = False
    ) -> EvaluationBatch[EpisodeOutcome, str]:
        text = candidate.get(self.target.component, "")
        checked = self._validate(text)
        if not isinstance(checked, InvalidCandidate):
            self._fill(checked, batch)
        outcomes = [self._outcome(checked, ex) for ex in batch]
        self.log = self.log.model_copy(
            update={
                "rollouts": self.log.rollouts
                + tuple(
                    Rollout(candidate=short_hash(text), example=o.trace_id, split=ex.split, score=o.score)
                    for ex, o in zip(batch, outcomes, strict=True)
                )
            }
        )
        return EvaluationBatch(
            outputs=[o.trace_id for o in outcomes],
            scores=[o.score for o in outcomes],
            trajectories=outcomes if capture_traces else None,
        )

    def make_reflective_dataset(
        self,
        candidate: dict[str, str],
        eval_batch: EvaluationBatch[EpisodeOutcome, str],
        components_to_update: list[str],
    ) -> Mapping[str, Sequence[Mapping[str, JsonValue]]]:
        steps = [s.model_dump(mode="json") for o in eval_batch.trajectories or () for s in o.steps]
        return {c: steps for c in components_to_update}

    def propose_new_texts(
        self,
        candidate: dict[str, str],
        reflective_dataset: Mapping[str, Sequence[Mapping[str, JsonValue]]],
        components_to_update: list[str],
    ) -> dict[str, str]:
        component = self.target.component
        if component not in components_to_update:
            return {}
        current = self._validate(candidate[component])
        if isinstance(current, InvalidCandidate):
            return self._reject(f"the parent candidate is invalid: {current}")
        outcomes = [StepOutcome.model_validate(r) for r in reflective_dataset.get(component, ())]
        proposal = self.reflector.propose(self.target, current, outcomes, frozenset(self.log.tried))
        if proposal.text is None:
            return self._reject(proposal.note)
        self.log = self.log.model_copy(
            update={"tried": (*self.log.tried, proposal.text), "last_note": proposal.note}
        )
        return {component: proposal.text}

    def get_adapter_state(self) -> dict[str, JsonValue]:
        return {"run_log": self.log.model_dump(mode="json")}

    def set_adapter_state(self, state: dict[str, JsonValue]) -> None:
        saved = state.get("run_log")
        if isinstance(saved, dict):
            self.log = RunLog.model_validate(saved)

    # ---- GEPA callbacks ------------------------------------------------------------------------

    def on_valset_evaluated(self, event: ValsetEvaluatedEvent) -> None:
        if event["iteration"] == 0 and not self.log.history:
            point = HistoryPoint(
                iteration=0,
                metric_calls=event["num_examples_evaluated"],
                candidates=1,
                best_val_score=event["average_score"],
                note="base candidate",
            )
            self.log = self.log.model_copy(update={"history": (point,)})

    def on_iteration_end(self, event: IterationEndEvent) -> None:
        state = event["state"]
        scores = state.program_full_scores_val_set
        point = HistoryPoint(
            iteration=event["iteration"],
            metric_calls=state.total_num_evals,
            candidates=len(scores),
            best_val_score=max(scores) if scores else 0.0,
            accepted=event["proposal_accepted"],
            note=self.log.last_note,
        )
        self.log = self.log.model_copy(update={"history": (*self.log.history, point), "last_note": ""})
        self._progress(state.total_num_evals, event["iteration"], point.best_val_score)

    def on_budget_updated(self, event: BudgetUpdatedEvent) -> None:
        best = self.log.history[-1].best_val_score if self.log.history else None
        self._progress(event["metric_calls_used"], event["iteration"], best)

    # ---- internals -----------------------------------------------------------------------------

    def _progress(self, calls: int, iteration: int, best: float | None) -> None:
        if self.on_progress is not None:
            self.on_progress(
                Progress(
                    metric_calls=min(calls, self.budget),
                    budget=self.budget,
                    iteration=iteration,
                    best_val_score=best,
                )
            )

    def _reject(self, note: str) -> dict[str, str]:
        rejection = Rejection(iteration=len(self.log.history), reflector=self.reflector.name, message=note)
        self.log = self.log.model_copy(
            update={"rejections": (*self.log.rejections, rejection), "last_note": note}
        )
        return {}

    def _validate(self, text: str) -> str | InvalidCandidate:
        if text not in self.valid:
            try:
                self.valid[text] = self.target.validate(text)
            except InvalidCandidate as e:
                self.valid[text] = e
        return self.valid[text]

    def _fill(self, text: str, batch: Sequence[Example]) -> None:
        """Score the examples of ``batch`` not cached yet, one target call per split."""
        for split in ("train", "val"):
            missing = sorted(
                {ex.index for ex in batch if ex.split == split and (text, split, ex.index) not in self.cache}
            )
            if not missing:
                continue
            episodes = [self.episodes[split][i] for i in missing]
            found = self.target.evaluate_batch(text, episodes, train=split == "train")
            for i, o in zip(missing, found, strict=True):
                self.cache[(text, split, i)] = o
            self.fresh_evaluations += len(missing)

    def _outcome(self, text: str | InvalidCandidate, ex: Example) -> EpisodeOutcome:
        episode = self.episodes[ex.split][ex.index]
        if isinstance(text, InvalidCandidate):
            return EpisodeOutcome(trace_id=episode.trace_id, score=0.0)
        key = (text, ex.split, ex.index)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.target.evaluate(text, episode, train=ex.split == "train")
            self.fresh_evaluations += 1
        return found
