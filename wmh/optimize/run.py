"""Run one optimization: carve the validation split, drive ``gepa.optimize``, assemble the result.

    result = optimize_offline(split.train, heldout=split.heldout, group_by="tau.task_id",
                              run_dir=root / "runs" / name / "optimize", on_progress=bar.update)

The run directory holds GEPA's state (``gepa_state.bin``, saved every iteration) under a
subdirectory named by a fingerprint of the inputs (base candidate, train and validation episodes,
settings other than the budget and the guard's). Running again with the same inputs resumes that
state: a larger budget continues the search where it stopped; changed inputs start a fresh
subdirectory. After the search, the overfit guard (``guard``) picks between the search's best and
the base using train data only.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, cast

import gepa
from gepa.core.adapter import GEPAAdapter
from gepa.core.callbacks import GEPACallback
from gepa.strategies.acceptance import ImprovementOrEqualAcceptance, StrictImprovementAcceptance
from gepa.utils import NoImprovementStopper
from pydantic import Field

from wmh.build.split import split_episodes
from wmh.core.errors import UserInputError
from wmh.core.jsonutil import canonical
from wmh.core.types import Episode, Frozen
from wmh.engine.offline import OfflineEngine
from wmh.engine.offline_config import STRATEGIES, OfflineConfig
from wmh.optimize.adapter import Example, WmhAdapter
from wmh.optimize.reflect import DeterministicReflector, LLMReflector, Reflector
from wmh.optimize.target import OfflineTarget, Target
from wmh.optimize.types import EpisodeOutcome, FrontierEntry, GuardVerdict, OptimizeResult, Progress
from wmh.providers import LLM

DEFAULT_BUDGET = 1500
RUN_VERSION = "wmh-gepa-2"
OFFLINE_DESCRIPTION = (
    "The JSON configuration of an offline (no-model) simulator. For each tool call it tries the "
    "strategies in `strategy_order` (or the tool's own order in `tool_strategies`); the first that "
    f"answers wins, else the tool's most common answer. Strategies: {', '.join(STRATEGIES)}. A step's "
    "`source` names what answered it (derived, session, replay, function, constant, sticky-error, "
    "error, patch/template, analogy, most-common). Keep every field; change values, orders and "
    "per-tool orders. Fields:\n"
    + "\n".join(
        f"- {name}: {f.description}" for name, f in OfflineConfig.model_fields.items() if f.description
    )
)


class OptimizeSettings(Frozen):
    """How the search runs; everything but ``budget`` is part of the run directory's fingerprint."""

    budget: int = Field(default=DEFAULT_BUDGET, ge=1, description="Metric calls (one example scored once)")
    patience: int = Field(
        default=30, ge=1, description="Stop after this many iterations with no better candidate"
    )
    folds: int = Field(
        default=5,
        ge=1,
        description="1: train episodes are answered leaving their own trace out; k>1: by engines fitted on "
        "the other k-1 folds of train groups (leak-free by task, k more fits)",
    )
    screen: bool = Field(
        default=False,
        description="With folds > 1 and no LLM: the deterministic reflector chooses edits by their "
        "leave-group-out gain over the whole search split (``wmh.optimize.screen``) instead of from "
        "minibatch failures. Thorough and about 5-10x slower: the screening runs outside the "
        "metric-call budget",
    )
    minibatch: int = Field(default=8, ge=1, description="Train episodes per reflection minibatch")
    val_share: float = Field(
        default=0.2, gt=0.0, lt=1.0, description="Share of train groups carved off as validation"
    )
    group_by: str | None = Field(default=None, description="Trace attribute the validation split groups by")
    seed: int = 0
    guard: bool = Field(
        default=True,
        description="Keep the base unless the best candidate passes the overfit guard (train data only)",
    )
    guard_folds: int = Field(
        default=5,
        ge=0,
        description="Group folds of the guard's cross-check over the search's train (<2: none)",
    )
    guard_confidence: float = Field(
        default=0.9, gt=0.0, lt=1.0, description="One-sided confidence of the paired bootstrap on validation"
    )
    guard_candidates: int = Field(
        default=3, ge=1, description="Candidates the guard tries, best validation score first"
    )
    min_gain: float = Field(default=0.0, ge=0.0, description="Least mean validation gain the guard accepts")


GUARD_FIELDS = {"budget", "guard", "guard_folds", "guard_confidence", "guard_candidates", "min_gain"}
BOOTSTRAP_RESAMPLES = 2000


def carve_validation(
    train: Sequence[Episode], val_share: float, group_by: str | None
) -> tuple[tuple[Episode, ...], tuple[Episode, ...]]:
    """(search train, validation): a deterministic group split of train; episodes with no step drop out."""
    usable = [ep for ep in train if ep.steps]
    split = split_episodes(usable, val_share, group_by)
    by = f"by {group_by!r}" if group_by else "by trace"
    if not split.heldout:
        raise UserInputError(
            f"the validation split is empty: the {len(usable)} train traces with steps form "
            f"{split.groups_total} group(s) {by}, and validation needs one of at least 2; "
            "add traces, group by another attribute, or build without optimizing"
        )
    if not split.train:
        raise UserInputError(
            f"no train traces are left beside the validation split ({split.groups_total} group(s) {by}); "
            "add traces or lower the validation share"
        )
    return split.train, split.heldout


def optimize_offline(
    train: Sequence[Episode],
    *,
    heldout: Sequence[Episode] | None = None,
    base: OfflineConfig | None = None,
    settings: OptimizeSettings | None = None,
    group_by: str | None = None,
    llm: LLM | None = None,
    run_dir: Path | str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    full_engine: OfflineEngine | None = None,
) -> OptimizeResult:
    """Evolve the offline engine's configuration on ``train``; score base and best on ``heldout``.

    ``group_by`` (or ``settings.group_by``) is the attribute the validation split is carved by (use
    the build's split key). ``llm``: reflect with that model; None: the deterministic reflector.
    ``full_engine``: the engine the build fitted on all of ``train``, reused for the held-out score.
    """
    settings = settings or OptimizeSettings()
    if group_by is not None:
        settings = settings.model_copy(update={"group_by": group_by})
    fit, val = carve_validation(train, settings.val_share, settings.group_by)
    target = OfflineTarget(
        fit,
        full_train=train,
        base=base,
        group_by=settings.group_by,
        folds=settings.folds,
        check_folds=settings.guard_folds,
        full_engine=full_engine,
    )
    reflector: Reflector = (
        LLMReflector(llm, describe=OFFLINE_DESCRIPTION)
        if llm
        else DeterministicReflector(screen=settings.screen and settings.folds > 1)
    )
    return optimize(
        target,
        fit,
        val,
        reflector=reflector,
        settings=settings,
        heldout=heldout,
        run_dir=run_dir,
        on_progress=on_progress,
    )


def optimize(
    target: Target,
    train: Sequence[Episode],
    val: Sequence[Episode],
    *,
    reflector: Reflector,
    settings: OptimizeSettings | None = None,
    heldout: Sequence[Episode] | None = None,
    run_dir: Path | str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> OptimizeResult:
    """GEPA over ``target``: minibatches from ``train``, the Pareto frontier over ``val``.

    Raises ``UserInputError`` for an empty ``train``/``val`` or a budget below one evaluation of
    the base candidate on ``val``. Returns as best the candidate the overfit guard accepts
    (``guard``; the search's best by mean validation score when ``settings.guard`` is off, the
    base when nothing beat it); held-out scores when ``heldout`` is given, computed after the
    choice and never used for it.
    """
    settings = settings or OptimizeSettings()
    train, val = [ep for ep in train if ep.steps], [ep for ep in val if ep.steps]
    if not val:
        raise UserInputError(
            "the validation split has no episode with steps; add traces or lower the holdout"
        )
    if not train:
        raise UserInputError("the search's train split has no episode with steps; add traces")
    check_budget(settings.budget, len(val))
    seed_text = target.validate(target.seed())
    adapter = WmhAdapter(target, train, val, reflector, budget=settings.budget, on_progress=on_progress)
    directory = _run_directory(run_dir, target, seed_text, train, val, settings, reflector)
    resumed = directory is not None and (directory / "gepa_state.bin").is_file()
    result = gepa.optimize(
        seed_candidate={target.component: seed_text},
        trainset=[Example(split="train", index=i) for i in range(len(train))],
        valset=[Example(split="val", index=i) for i in range(len(val))],
        adapter=cast("GEPAAdapter[Example, EpisodeOutcome, str]", adapter),
        candidate_selection_strategy="pareto",
        reflection_minibatch_size=settings.minibatch,
        max_metric_calls=settings.budget,
        stop_callbacks=[NoImprovementStopper(settings.patience)],
        logger=_RunLogger(directory),
        run_dir=str(directory) if directory is not None else None,
        callbacks=cast("list[GEPACallback]", [adapter]),  # the adapter implements the hooks it needs
        track_best_outputs=False,
        cache_evaluation=True,
        acceptance_criterion=StrictImprovementAcceptance()
        if reflector.minibatch_gate
        else ImprovementOrEqualAcceptance(),
        seed=settings.seed,
        raise_on_exception=True,
    )
    scores = list(result.val_aggregate_scores)
    search_best = max(range(len(scores)), key=lambda i: (scores[i], -i))  # ties keep the earlier (the base)
    per_val = [[result.val_subscores[i].get(j, 0.0) for j in range(len(val))] for i in range(len(scores))]
    texts = [dict(c)[target.component] for c in result.candidates]
    best, guard_note, verdicts = search_best, "guard off", ()
    if settings.guard:
        best, guard_note, verdicts = guard(
            target,
            texts,
            scores,
            per_val,
            [ep.group_key(settings.group_by) for ep in val],
            settings,
            check_groups={ep.trace_id: ep.group_key(settings.group_by) for ep in train},
        )
    base_c, best_c = dict(result.candidates[0]), dict(result.candidates[best])
    frontier_ids = sorted({i for ids in result.per_val_instance_best_candidates.values() for i in ids})
    log = adapter.log
    held_base = held_best = None
    held_steps = None
    if heldout:
        held_base, held_steps = target.heldout(base_c[target.component], heldout)
        held_best = held_base if best == 0 else target.heldout(best_c[target.component], heldout)[0]
    return OptimizeResult(
        component=target.component,
        reflector=reflector.name,
        base_candidate=base_c,
        best_candidate=best_c,
        best_index=best,
        candidates=len(scores),
        frontier=tuple(
            FrontierEntry(
                index=i,
                candidate=dict(result.candidates[i]),
                val_score=scores[i],
                val_scores={val[int(k)].trace_id: v for k, v in sorted(result.val_subscores[i].items())},
            )
            for i in frontier_ids
        ),
        history=log.history,
        rollouts=result.total_metric_calls or 0,
        rollout_records=log.rollouts,
        rejections=log.rejections,
        budget=settings.budget,
        train_examples=len(train),
        val_examples=len(val),
        val_score_base=scores[0],
        val_score_best=scores[best],
        heldout_score_base=held_base,
        heldout_score_best=held_best,
        heldout_steps=held_steps,
        search_best_index=search_best,
        guard=guard_note,
        guard_verdicts=verdicts,
        resumed=resumed,
        run_dir=str(directory) if directory is not None else None,
    )


class CrossChecked(Protocol):
    """What the guard needs of a target: its second, independent check."""

    def crosscheck(self, text: str) -> list[EpisodeOutcome]: ...


def guard(
    target: CrossChecked,
    texts: Sequence[str],
    scores: Sequence[float],
    per_val: Sequence[Sequence[float]],
    val_groups: Sequence[str],
    settings: OptimizeSettings,
    check_groups: Mapping[str, str] | None = None,
) -> tuple[int, str, tuple[GuardVerdict, ...]]:
    """The overfit guard: (chosen index, why, verdicts). Train data only; held-out is never read.

    Candidates better than the base on validation are tried best first (at most
    ``guard_candidates``). One is accepted when (a) its validation gain is above noise: mean gain
    at least ``min_gain``, more validation examples won than lost, and the lower bound of a
    seeded paired bootstrap over validation groups (``guard_confidence``, one-sided) above 0; and
    (b) it holds up on the target's cross-check (the search's train answered leak-free by group),
    measured as the held-out score is (step fidelity): a gain whose bootstrap lower bound over
    ``check_groups`` (trace id → group; each trace its own group when absent) is above 0. A mere
    "no loss" there is not enough: on the benchmark corpora, candidates with a small positive
    cross-check gain still lost held-out fidelity. Else the base.
    """
    ranked = sorted(
        (i for i in range(1, len(scores)) if scores[i] > scores[0]), key=lambda i: (-scores[i], i)
    )
    if not ranked:
        return 0, "base kept: no candidate scored above the base on validation", ()
    verdicts: list[GuardVerdict] = []
    base_check: list[EpisodeOutcome] | None = None
    for i in ranked[: settings.guard_candidates]:
        deltas = [b - a for a, b in zip(per_val[0], per_val[i], strict=True)]
        gain = sum(deltas) / len(deltas)
        wins, losses = sum(d > 0 for d in deltas), sum(d < 0 for d in deltas)
        lower = _bootstrap_lower(
            [(d, 1) for d in deltas], val_groups, settings.guard_confidence, settings.seed
        )
        verdict = GuardVerdict(index=i, val_gain=gain, val_wins=wins, val_losses=losses, val_lower=lower)
        if gain < settings.min_gain or wins <= losses or lower <= 0.0:
            why = f"validation gain {gain:+.4f} (won {wins}, lost {losses}, lower bound {lower:+.4f}) is not above noise"
            verdicts.append(verdict.model_copy(update={"reason": why}))
            continue
        if base_check is None:
            base_check = target.crosscheck(texts[0])
        check = target.crosscheck(texts[i])
        if not check:
            why = f"validation gain {gain:+.4f} (lower bound {lower:+.4f}); the target has no cross-check"
            verdicts.append(verdict.model_copy(update={"accepted": True, "reason": why}))
            return i, f"candidate {i} accepted: {why}", tuple(verdicts)
        c_gain, c_wins, c_losses = _paired_steps(base_check, check)
        items = [
            (sum(s.fidelity for s in b.steps) - sum(s.fidelity for s in a.steps), len(a.steps))
            for a, b in zip(base_check, check, strict=True)
        ]
        groups = [(check_groups or {}).get(o.trace_id, o.trace_id) for o in check]
        c_lower = _bootstrap_lower(items, groups, settings.guard_confidence, settings.seed)
        verdict = verdict.model_copy(
            update={
                "check_gain": c_gain,
                "check_lower": c_lower,
                "check_wins": c_wins,
                "check_losses": c_losses,
            }
        )
        where = f"cross-check over {len(check)} train traces by group"
        measured = f"step fidelity {c_gain:+.4f} (won {c_wins}, lost {c_losses}, lower bound {c_lower:+.4f})"
        if c_gain <= 0.0 or c_lower <= 0.0:
            why = f"{where}: {measured}: it does not hold up"
            verdicts.append(verdict.model_copy(update={"reason": why}))
            continue
        why = (
            f"validation gain {gain:+.4f} (won {wins}, lost {losses}, lower bound {lower:+.4f}); "
            f"{where}: {measured}"
        )
        verdicts.append(verdict.model_copy(update={"accepted": True, "reason": why}))
        return i, f"candidate {i} accepted: {why}", tuple(verdicts)
    tried = "; ".join(f"candidate {v.index}: {v.reason}" for v in verdicts)
    return 0, f"base kept: {tried}", tuple(verdicts)


def _bootstrap_lower(
    items: Sequence[tuple[float, int]], groups: Sequence[str], confidence: float, seed: int
) -> float:
    """One-sided lower bound of a weighted mean delta (items: (delta sum, weight)), by a seeded
    bootstrap that resamples whole groups (runs of one task are not independent)."""
    by_group: dict[str, list[tuple[float, int]]] = {}
    for item, g in zip(items, groups, strict=True):
        by_group.setdefault(g, []).append(item)
    sums = [(sum(d for d, _ in v), sum(w for _, w in v)) for _, v in sorted(by_group.items())]
    if len(sums) < 2:
        return min((d / w for d, w in items if w), default=0.0)
    rng = random.Random(f"wmh-guard:{seed}")
    means = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        picked = [sums[rng.randrange(len(sums))] for _ in sums]
        means.append(sum(s for s, _ in picked) / (sum(n for _, n in picked) or 1))
    means.sort()
    return means[int((1.0 - confidence) * len(means))]


def _paired_steps(base: Sequence[EpisodeOutcome], other: Sequence[EpisodeOutcome]) -> tuple[float, int, int]:
    """(step fidelity gain, episodes won, episodes lost) of ``other`` over ``base``, same episodes."""
    steps = sum(len(o.steps) for o in base) or 1
    gain = (
        sum(s.fidelity for o in other for s in o.steps) - sum(s.fidelity for o in base for s in o.steps)
    ) / steps
    wins = sum(b.score > a.score for a, b in zip(base, other, strict=True))
    losses = sum(b.score < a.score for a, b in zip(base, other, strict=True))
    return gain, wins, losses


def check_budget(budget: int, val_examples: int) -> None:
    """A budget must cover scoring the base candidate once on every validation example."""
    if budget < val_examples:
        raise UserInputError(
            f"budget {budget} is too small: scoring the base candidate once on the {val_examples} "
            f"validation traces takes {val_examples} metric calls; use a budget of at least {val_examples} "
            f"(the default is {DEFAULT_BUDGET})"
        )


def _run_directory(
    run_dir: Path | str | None,
    target: Target,
    seed_text: str,
    train: Sequence[Episode],
    val: Sequence[Episode],
    settings: OptimizeSettings,
    reflector: Reflector,
) -> Path | None:
    if run_dir is None:
        return None
    key = canonical(
        {
            "version": RUN_VERSION,
            "component": target.component,
            "seed": seed_text,
            "train": [ep.trace_id for ep in train],
            "val": [ep.trace_id for ep in val],
            "train_steps": sum(len(ep.steps) for ep in train),
            "settings": settings.model_dump(mode="json", exclude=GUARD_FIELDS),
            "reflector": reflector.name,
        }
    )
    directory = Path(run_dir) / f"gepa-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


class _RunLogger:
    """GEPA's log lines go to ``run_log.txt`` in the run directory (nowhere without one), not stdout."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / "run_log.txt" if directory is not None else None

    def log(self, message: str) -> None:
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(message.rstrip("\n") + "\n")
