"""``OfflineConfig``: every knob of the offline engine, as one JSON-serializable value.

Thresholds apply when answering, not when fitting: the rules keep their evidence, so a new config
(e.g. one proposed by an optimizer) takes effect on a fitted engine without refitting
(``engine.with_config(cfg)``). ``REFIT_FIELDS`` (``embed_dim``, ``group_by``), read when learning,
need a refit. ``CALIBRATION_FIELDS`` are also read by the fit's calibration (analogies against the
most common answer on train calls): ``engine.with_config(cfg, episodes)`` recalibrates when one of
them changes, as a fresh fit would; without the episodes it keeps the original calibration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from wmh.core.types import Frozen

STRATEGIES = (
    "derive",
    "session",
    "replay",
    "function",
    "constant",
    "cutoff",
    "shape_error",
    "state_error",
    "limit",
    "sticky_error",
    "novel_error",
    "numeric_check",
    "template",
    "collect",
    "chain",
    "analogy",
)


REFIT_FIELDS = ("embed_dim", "group_by")
CALIBRATION_FIELDS = (
    "k",
    "context_turns",
    "context_weight",
    "error_vote_k",
    "error_prior_weight",
    "analogy_min_similarity",
    "retry_success_min",
    "substitute_min_length",
    "min_support",
)


class OfflineConfig(Frozen):
    """The offline engine's configuration (see each field's description)."""

    schema_version: int = 1
    group_by: str | None = Field(
        default=None,
        description="Trace attribute naming the task a trace ran (refit); episodes of one task are left out "
        "together when learning what a new task meets. Default: the task text",
    )
    embed_dim: int = Field(default=96, ge=8, le=4096, description="Embedding size of the call index (refit)")
    k: int = Field(default=8, ge=1, le=256, description="Recorded calls retrieved per analogy")
    context_turns: int = Field(default=3, ge=0, le=50, description="Earlier turns that form a call's context")
    context_weight: float = Field(
        default=0.2, ge=0.0, description="Weight of context overlap against argument similarity"
    )
    error_vote_k: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Nearest calls voting (by similarity) on whether an analogy fails",
    )
    error_prior_weight: float = Field(
        default=1.0,
        ge=0.0,
        description="Weight of the tool's train error rate in the vote on whether an analogy fails",
    )
    analogy_min_similarity: float = Field(
        default=0.0, ge=-1.0, le=1.0, description="Below this, answer the tool's most common answer instead"
    )
    analogy_margin: float = Field(
        default=-0.25,
        description="Analogies answer from the similarity where, on calibration calls, they scored more than "
        "the tool's most common answer minus this (exact + fidelity per call); higher: analogies answer more",
    )
    calibration_min_calls: int = Field(
        default=10,
        ge=1,
        description="Fewer calibration calls than this decide analogy-or-most-common for all similarities "
        "at once (by mean) instead of learning a similarity threshold",
    )
    substitute_min_length: int = Field(
        default=3, ge=1, description="Shortest argument text replaced inside recorded answer text"
    )
    constant_min_share: float = Field(
        default=0.9, ge=0.0, le=1.0, description="A tool this uniform answers its constant"
    )
    function_min_accuracy: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Use a function-of-arguments rule this accurate in train"
    )
    derive_min_precision: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Use a derive (read the session's latest object) rule this precise",
    )
    repeat_min_consistency: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Repeat a session's earlier answer to the same call if this consistent",
    )
    template_min_accuracy: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Build answers from a key template this accurate in train"
    )
    template_key_min_accuracy: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Below this, a template key takes the base's or neighbor's value",
    )
    patch_any_source: bool = Field(
        default=True,
        description="A patch whose learned source tools left no matching object may start from any "
        "tool's answer with the matching field",
    )
    template_fill: Literal["neighbor", "omit"] = Field(
        default="neighbor",
        description="A templated answer's key with no reliable rule (and no base object): copy the nearest "
        "recorded answer's value, or leave the key out",
    )
    sticky_min_precision: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Repeat a session's earlier error of the tool if this precise",
    )
    sticky_prior: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Assumed precision of an error-persistence rule that train never tested",
    )
    retry_success_min: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="After a failure, a changed call succeeds if the tool's retries succeeded this often",
    )
    novel_error_min_rate: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Fail on a never-seen value if such calls failed this often"
    )
    numeric_check_min_accuracy: float = Field(
        default=0.8,
        ge=0.0,
        le=1.0,
        description="Decide failure by a learned numeric check (the numbers a call pays against the total "
        "computed from what the session read) when it computed this share of train totals exactly",
    )
    shape_error_min_rate: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Fail on an argument of a form (each digit masked) whose calls failed this often",
    )
    state_error_min_rate: float = Field(
        default=0.6,
        ge=0.0,
        le=1.0,
        description="Fail on an object the session read whose field has a value on which calls failed this often",
    )
    min_support: int = Field(default=2, ge=1, description="Fewest train examples behind a rule")
    strategy_order: tuple[str, ...] = Field(default=STRATEGIES, description="Strategies tried, in order")
    tool_strategies: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="Per-tool strategy order overriding strategy_order"
    )

    def order_for(self, tool: str) -> tuple[str, ...]:
        return self.tool_strategies.get(tool, self.strategy_order)

    def calibration_key(self) -> tuple[object, ...]:
        """The values a fit's calibration reads (``REFIT_FIELDS`` and ``CALIBRATION_FIELDS``): two
        configs with the same key calibrate alike."""
        return tuple(getattr(self, f) for f in (*REFIT_FIELDS, *CALIBRATION_FIELDS))
