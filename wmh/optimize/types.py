"""What the optimizer reads and returns: graded step outcomes, progress, and the saved result.

Everything here is a frozen pydantic model. ``OptimizeResult`` is saved with the world model; it
carries ``schema_version`` and loads through ``load_result`` (a newer version is a clear error).
"""

from __future__ import annotations

import orjson
from pydantic import Field

from wmh.core.errors import ModelFormatError
from wmh.core.types import Frozen

RESULT_SCHEMA_VERSION = 1


class StepOutcome(Frozen):
    """One graded step of an episode replayed under a candidate (texts truncated for reflection)."""

    tool: str
    source: str = Field(description="The strategy or mechanism that produced the answer")
    arguments: str = Field(default="", description="Canonical JSON of the call's arguments (truncated)")
    predicted: str = Field(default="", description="The answer under the candidate (truncated)")
    recorded: str = Field(default="", description="The recorded answer (truncated)")
    predicted_error: bool = False
    recorded_error: bool = False
    exact: float = 0.0
    fidelity: float = 0.0
    feedback: str = Field(default="", description="The grader's note on the differences")

    @property
    def failed(self) -> bool:
        return self.fidelity < 1.0


class EpisodeOutcome(Frozen):
    """One example (an episode) replayed under a candidate: its score is the mean step fidelity."""

    trace_id: str
    score: float
    steps: tuple[StepOutcome, ...] = ()


class Rollout(Frozen):
    """One metric call: a candidate scored on one example."""

    candidate: str = Field(description="Short hash of the candidate's text")
    example: str = Field(description="Trace id of the example")
    split: str = Field(description="train (a minibatch) or val (the Pareto set)")
    score: float


class Rejection(Frozen):
    """A proposal that was not a valid candidate, or a reflector that had nothing to propose."""

    iteration: int
    reflector: str
    message: str


class HistoryPoint(Frozen):
    """The search after one iteration (iteration 0: the base candidate on the validation set)."""

    iteration: int
    metric_calls: int
    candidates: int
    best_val_score: float
    accepted: bool = False
    note: str = Field(default="", description="What the reflector proposed, or why it proposed nothing")


class Progress(Frozen):
    """Sent to the progress callback whenever metric calls are spent or an iteration ends."""

    metric_calls: int
    budget: int
    iteration: int
    best_val_score: float | None = None


class FrontierEntry(Frozen):
    """A candidate on the Pareto frontier: the best (or tied best) on at least one validation example."""

    index: int = Field(description="Index among all candidates the search accepted (0 is the base)")
    candidate: dict[str, str]
    val_score: float = Field(description="Mean score over the validation examples")
    val_scores: dict[str, float] = Field(description="Score per validation example (trace id)")


class GuardVerdict(Frozen):
    """The overfit guard on one candidate: a paired test on validation, then the cross-check."""

    index: int = Field(description="The candidate's index (0 is the base)")
    val_gain: float = Field(description="Mean validation score minus the base's")
    val_wins: int = Field(description="Validation examples it scores higher than the base")
    val_losses: int = Field(description="Validation examples it scores lower than the base")
    val_lower: float = Field(description="Lower confidence bound of the gain (paired bootstrap over groups)")
    check_gain: float | None = Field(
        default=None, description="Step fidelity minus the base's on the cross-check (None: not run)"
    )
    check_lower: float | None = Field(default=None, description="Lower confidence bound of ``check_gain``")
    check_wins: int = 0
    check_losses: int = 0
    accepted: bool = False
    reason: str = ""


class OptimizeResult(Frozen):
    """What one optimization run found. JSON-serializable; saved with the model."""

    schema_version: int = RESULT_SCHEMA_VERSION
    component: str = Field(description="The candidate component optimized (e.g. offline_config)")
    reflector: str = Field(description="deterministic, or llm:<provider>")
    base_candidate: dict[str, str]
    best_candidate: dict[str, str]
    best_index: int
    candidates: int = Field(description="Candidates accepted into the pool, the base included")
    frontier: tuple[FrontierEntry, ...]
    history: tuple[HistoryPoint, ...]
    rollouts: int = Field(description="Metric calls spent (GEPA's count, resumed runs included)")
    rollout_records: tuple[Rollout, ...] = ()
    rejections: tuple[Rejection, ...] = ()
    budget: int
    train_examples: int
    val_examples: int
    val_score_base: float
    val_score_best: float
    heldout_score_base: float | None = None
    heldout_score_best: float | None = None
    heldout_steps: int | None = None
    search_best_index: int = Field(
        default=0, description="The candidate with the best validation score, before the overfit guard"
    )
    guard: str = Field(default="", description="What the overfit guard decided, and why")
    guard_verdicts: tuple[GuardVerdict, ...] = ()
    resumed: bool = Field(default=False, description="Continued a run found in the run directory")
    run_dir: str | None = None

    @property
    def improved(self) -> bool:
        return self.best_index != 0


def load_result(data: str | bytes) -> OptimizeResult:
    """An ``OptimizeResult`` from its JSON, refusing a newer schema than this code knows."""
    raw = orjson.loads(data)
    version = raw.get("schema_version", 0) if isinstance(raw, dict) else 0
    if isinstance(version, int) and version > RESULT_SCHEMA_VERSION:
        raise ModelFormatError(
            f"optimization result schema {version} is newer than {RESULT_SCHEMA_VERSION}; upgrade wmh"
        )
    return OptimizeResult.model_validate(raw)
