from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from wmh.build.split import split_episodes
from wmh.core.errors import ModelFormatError, UserInputError
from wmh.core.types import Episode
from wmh.engine.offline_config import STRATEGIES, OfflineConfig
from wmh.optimize import (
    OFFLINE_COMPONENT,
    EpisodeOutcome,
    GuardVerdict,
    OptimizeResult,
    OptimizeSettings,
    Progress,
    StepOutcome,
    guard,
    load_result,
    optimize_offline,
)
from wmh.optimize.adapter import short_hash
from wmh.optimize.target import config_text
from wmh.providers import LLM, LLMConfig, ScriptedProvider

GROUP = "task_id"
# a poor base (every call answered by its tool's most common answer) leaves the search something to find
POOR = OfflineConfig(
    strategy_order=("constant", *(s for s in STRATEGIES if s != "constant")), constant_min_share=0.0
)


def run(
    corpus: list[Episode],
    budget: int = 200,
    *,
    run_dir: Path | None = None,
    llm: LLM | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    screen: bool = False,
) -> OptimizeResult:
    split = split_episodes(corpus, 0.25, GROUP)
    return optimize_offline(
        split.train,
        heldout=split.heldout,
        base=POOR,
        group_by=GROUP,
        settings=OptimizeSettings(budget=budget, minibatch=4, patience=10, folds=2, screen=screen),
        llm=llm,
        run_dir=run_dir,
        on_progress=on_progress,
    )


def test_search_improves_on_validation_and_reports_everything(corpus: list[Episode]) -> None:
    seen: list[Progress] = []
    result = run(corpus, on_progress=seen.append)
    assert result.val_score_best > result.val_score_base and result.best_index > 0
    assert result.base_candidate == {OFFLINE_COMPONENT: config_text(POOR)}
    assert result.best_candidate != result.base_candidate
    assert result.rollouts == len(result.rollout_records)
    assert {r.split for r in result.rollout_records} == {"train", "val"}
    assert any(f.index == result.best_index for f in result.frontier)
    assert all(len(f.val_scores) == result.val_examples for f in result.frontier)
    assert [h.iteration for h in result.history] == list(range(len(result.history)))
    assert result.heldout_score_base is not None and result.heldout_score_best is not None
    assert seen and seen[-1].budget == 200 and seen[-1].metric_calls <= 200
    assert [p.metric_calls for p in seen] == sorted(p.metric_calls for p in seen)


def test_screening_search_accepts_edits_that_gain_left_out_by_group(corpus: list[Episode]) -> None:
    result = run(corpus, screen=True)
    assert result.val_score_best > result.val_score_base
    assert any(h.accepted and "left out by group" in h.note for h in result.history)


def test_whole_search_is_deterministic(corpus: list[Episode]) -> None:
    assert run(corpus) == run(corpus)


def test_never_returns_a_candidate_below_the_base(corpus: list[Episode]) -> None:
    split = split_episodes(corpus, 0.25, GROUP)
    for base in (OfflineConfig(), POOR, OfflineConfig(k=1, context_turns=0)):
        result = optimize_offline(
            split.train,
            base=base,
            group_by=GROUP,
            settings=OptimizeSettings(budget=120, minibatch=4, folds=2),
        )
        assert result.val_score_best >= result.val_score_base
        assert result.best_index == 0 or result.val_score_best > result.val_score_base


def test_budget_below_one_validation_pass_says_the_minimum(corpus: list[Episode]) -> None:
    with pytest.raises(UserInputError, match=r"budget 3 is too small.*at least 4"):
        run(corpus, budget=3)


def test_empty_validation_split_is_a_clear_error(corpus: list[Episode]) -> None:
    one_group = [ep.model_copy(update={"attributes": {GROUP: "same"}}) for ep in corpus]
    with pytest.raises(UserInputError, match="validation split is empty"):
        optimize_offline(one_group, group_by=GROUP)


def test_invalid_llm_answers_are_recorded_and_skipped(corpus: list[Episode]) -> None:
    good = OfflineConfig(strategy_order=STRATEGIES).model_dump_json()
    provider = ScriptedProvider(script=["I think k should be lower.", '{"k": "many"}', good], cycle=True)
    result = run(corpus, budget=80, llm=LLM(provider, LLMConfig()))
    messages = [r.message for r in result.rejections]
    assert "not a valid candidate" in messages[0] and "not a valid candidate" in messages[1]
    assert result.reflector == "llm:scripted"
    proposed = short_hash(config_text(OfflineConfig.model_validate_json(good)))
    assert any(r.candidate == proposed for r in result.rollout_records)  # the valid answer was scored
    assert result.val_score_best >= result.val_score_base


def test_resume_continues_the_run(corpus: list[Episode], tmp_path: Path) -> None:
    first = run(corpus, budget=40, run_dir=tmp_path)
    assert not first.resumed and first.run_dir is not None
    assert (Path(first.run_dir) / "gepa_state.bin").is_file()
    second = run(corpus, budget=120, run_dir=tmp_path)
    assert second.resumed and second.run_dir == first.run_dir
    assert second.history[: len(first.history)] == first.history
    assert second.history[len(first.history)].iteration == first.history[-1].iteration + 1
    assert second.rollout_records[: len(first.rollout_records)] == first.rollout_records
    assert (
        first.rollouts < second.rollouts <= 120 + 2 * 4 + second.val_examples
    )  # GEPA ends its last iteration
    assert run(corpus, budget=40, run_dir=tmp_path / "other").history == first.history


def test_result_round_trips_as_json(corpus: list[Episode]) -> None:
    result = run(corpus, budget=60)
    assert load_result(result.model_dump_json()) == result
    newer = result.model_copy(update={"schema_version": 99}).model_dump_json()
    with pytest.raises(ModelFormatError, match="upgrade wmh"):
        load_result(newer)


# ---- the overfit guard ----------------------------------------------------------------------


class CheckTarget:
    """A target whose cross-check gives each candidate text a fixed step fidelity on two episodes."""

    component = "c"

    def __init__(self, fidelity: dict[str, float | tuple[float, float]]) -> None:
        self.fidelity = fidelity
        self.checked: list[str] = []

    def crosscheck(self, text: str) -> list[EpisodeOutcome]:
        self.checked.append(text)
        f = self.fidelity.get(text)
        if f is None:
            return []
        pair = f if isinstance(f, tuple) else (f, f)
        return [
            EpisodeOutcome(trace_id=t, score=v, steps=(StepOutcome(tool="t", source="s", fidelity=v),) * 2)
            for t, v in zip(("a", "b"), pair, strict=True)
        ]


VAL_GROUPS = ["g1", "g1", "g2", "g3", "g4", "g5"]
BASE_VAL = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
CLEAR = [0.6, 0.7, 0.6, 0.55, 0.6, 0.5]  # wins 5, loses none
NOISE = [0.9, 0.5, 0.2, 0.9, 0.3, 0.5]  # a higher mean from two lucky examples


def check_guard(
    target: CheckTarget, per_val: list[list[float]], settings: OptimizeSettings | None = None
) -> tuple[int, str, tuple[GuardVerdict, ...]]:
    texts = [f"t{i}" for i in range(len(per_val))]
    scores = [sum(v) / len(v) for v in per_val]
    return guard(target, texts, scores, per_val, VAL_GROUPS, settings or OptimizeSettings())


def test_guard_accepts_a_clear_gain_that_holds_up_on_the_cross_check() -> None:
    index, note, verdicts = check_guard(CheckTarget({"t0": 0.5, "t1": 0.55}), [BASE_VAL, CLEAR])
    assert index == 1 and note.startswith("candidate 1 accepted")
    (v,) = verdicts
    assert v.accepted and v.val_wins == 5 and v.val_losses == 0 and v.val_lower > 0
    assert v.check_gain == pytest.approx(0.05)


def test_guard_keeps_the_base_when_the_gain_is_noise_or_does_not_hold_up() -> None:
    target = CheckTarget({"t0": 0.5, "t1": 0.6})
    index, note, verdicts = check_guard(target, [BASE_VAL, NOISE])
    assert index == 0 and "not above noise" in note and not verdicts[0].accepted
    assert target.checked == []  # the cross-check is not run for a gain that is noise
    index, note, _ = check_guard(CheckTarget({"t0": 0.5, "t1": 0.45}), [BASE_VAL, CLEAR])
    assert index == 0 and note.startswith("base kept") and "does not hold up" in note
    index, note, verdicts = check_guard(CheckTarget({"t0": 0.5, "t1": (0.9, 0.2)}), [BASE_VAL, CLEAR])
    assert index == 0 and "does not hold up" in note  # a mean gain carried by one trace is noise
    assert verdicts[0].check_gain == pytest.approx(0.05) and (verdicts[0].check_lower or 0.0) < 0
    index, _, _ = check_guard(CheckTarget({"t0": 0.5, "t1": 0.5}), [BASE_VAL, CLEAR])
    assert index == 0  # no gain on the cross-check: the validation gain alone does not carry it
    index, note, verdicts = check_guard(CheckTarget({}), [BASE_VAL, BASE_VAL])
    assert index == 0 and "no candidate scored above the base" in note and verdicts == ()


def test_guard_tries_the_next_candidate_and_is_deterministic() -> None:
    better_but_overfit = [0.7, 0.8, 0.7, 0.65, 0.7, 0.6]
    target = CheckTarget({"t0": 0.5, "t1": 0.4, "t2": 0.55})
    first = check_guard(target, [BASE_VAL, better_but_overfit, CLEAR])
    assert first[0] == 2 and [v.index for v in first[2]] == [1, 2]
    assert check_guard(target, [BASE_VAL, better_but_overfit, CLEAR]) == first
    only_one = OptimizeSettings(guard_candidates=1)
    assert check_guard(target, [BASE_VAL, better_but_overfit, CLEAR], only_one)[0] == 0


def test_guard_off_returns_the_search_best(corpus: list[Episode]) -> None:
    split = split_episodes(corpus, 0.25, GROUP)
    settings = OptimizeSettings(budget=200, minibatch=4, patience=10, guard=False, folds=2)
    result = optimize_offline(split.train, base=POOR, group_by=GROUP, settings=settings)
    assert result.best_index == result.search_best_index > 0 and result.guard == "guard off"
    guarded = run(corpus)
    assert guarded.search_best_index == result.search_best_index and guarded.guard
    assert guarded.best_index in (0, guarded.search_best_index) or guarded.guard_verdicts
