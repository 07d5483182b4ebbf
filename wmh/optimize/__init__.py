"""Optimization: GEPA-style reflective search over the environment (issue 4).

    from wmh.optimize import optimize_offline, OptimizeSettings

    result = optimize_offline(split.train, heldout=split.heldout, group_by=split.group_by,
                              settings=OptimizeSettings(budget=1500), llm=None,
                              run_dir=root / "runs" / name / "optimize", on_progress=bar_update)
    best = OfflineConfig.model_validate_json(result.best_candidate["offline_config"])
    engine = engine.with_config(best, split.train)  # recalibrated as a fit under ``best`` would be

The candidate is one text component of a ``Target``: the offline engine's ``OfflineConfig`` as
JSON (``OfflineTarget``), or an LLM engine's environment prompt (``PromptTarget``, run by
``optimize_prompt``). The ``gepa`` package runs the
search (minibatches from train, the Pareto frontier over a validation split carved from train by
group, metric-call budget, no-improvement stop, resumable run directory); a reflector proposes each
new candidate from graded failures: ``LLMReflector`` with a provider, ``DeterministicReflector``
without one (which, with train answered leak-free by group, proposes only edits with a
leave-group-out gain over the whole search split: ``wmh.optimize.screen``). An overfit guard (``guard``, train data only) keeps the base unless the search's best
beats it above noise on validation (paired bootstrap over groups) and holds up on the target's
cross-check. ``OptimizeResult`` is what is saved with the model.
"""

from wmh.optimize.adapter import Example, RunLog, WmhAdapter
from wmh.optimize.prompt import PROMPT_COMPONENT, PROMPT_MAX_CHARS, PromptTarget, optimize_prompt
from wmh.optimize.reflect import DeterministicReflector, LLMReflector, Proposal, Reflector, Runner, edits
from wmh.optimize.run import (
    DEFAULT_BUDGET,
    OptimizeSettings,
    carve_validation,
    check_budget,
    guard,
    optimize,
    optimize_offline,
)
from wmh.optimize.target import OFFLINE_COMPONENT, InvalidCandidate, OfflineTarget, Target, parse_config
from wmh.optimize.types import (
    EpisodeOutcome,
    FrontierEntry,
    GuardVerdict,
    HistoryPoint,
    OptimizeResult,
    Progress,
    Rejection,
    Rollout,
    StepOutcome,
    load_result,
)

__all__ = [
    "DEFAULT_BUDGET",
    "OFFLINE_COMPONENT",
    "PROMPT_COMPONENT",
    "PROMPT_MAX_CHARS",
    "DeterministicReflector",
    "EpisodeOutcome",
    "Example",
    "FrontierEntry",
    "GuardVerdict",
    "HistoryPoint",
    "InvalidCandidate",
    "LLMReflector",
    "OfflineTarget",
    "OptimizeResult",
    "OptimizeSettings",
    "Progress",
    "PromptTarget",
    "Proposal",
    "Reflector",
    "Rejection",
    "Rollout",
    "RunLog",
    "Runner",
    "StepOutcome",
    "Target",
    "WmhAdapter",
    "carve_validation",
    "check_budget",
    "edits",
    "guard",
    "load_result",
    "optimize",
    "optimize_offline",
    "optimize_prompt",
    "parse_config",
]
