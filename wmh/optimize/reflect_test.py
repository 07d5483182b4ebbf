from __future__ import annotations

import orjson
import pytest

from wmh.engine.offline_config import STRATEGIES, OfflineConfig
from wmh.optimize.reflect import DeterministicReflector, LLMReflector, edits, parse_answer
from wmh.optimize.screen_test import fake_screen
from wmh.optimize.target import OfflineTarget, config_text, parse_config
from wmh.optimize.types import EpisodeOutcome, StepOutcome
from wmh.providers import LLM, LLMConfig, ScriptedProvider

# pinned values, so the expected edits do not move with the engine's defaults
PINNED = OfflineConfig(
    k=8, error_vote_k=1, analogy_margin=0.0, derive_min_precision=0.6, strategy_order=STRATEGIES
)
BASE = config_text(PINNED)


def out(
    tool: str, source: str, fidelity: float, *, pred_err: bool = False, rec_err: bool = False
) -> StepOutcome:
    return StepOutcome(
        tool=tool,
        source=source,
        fidelity=fidelity,
        exact=1.0 if fidelity == 1.0 else 0.0,
        predicted_error=pred_err,
        recorded_error=rec_err,
        feedback='structural 0.50; $.status: expected "open", got "shipped"',
    )


@pytest.fixture(scope="module")
def target() -> OfflineTarget:
    return OfflineTarget(fit=())


def propose(
    target: OfflineTarget, outcomes: list[StepOutcome], tried: frozenset[str] = frozenset()
) -> OfflineConfig:
    proposal = DeterministicReflector().propose(target, BASE, outcomes, tried | {BASE})
    assert proposal.text is not None, proposal.note
    return parse_config(proposal.text)


def test_demotes_the_strategy_whose_answers_for_a_tool_failed(target: OfflineTarget) -> None:
    outcomes = [out("get_order", "analogy", 0.3)] * 3 + [out("get_user", "replay", 1.0)] * 4
    cfg = propose(target, outcomes)
    assert cfg.tool_strategies["get_order"] == tuple(s for s in STRATEGIES if s != "analogy")  # last: dropped
    assert cfg.strategy_order == PINNED.strategy_order
    cfg = propose(target, [out("get_order", "replay", 0.3)] * 3)
    assert cfg.tool_strategies["get_order"][-1] == "replay"
    assert set(cfg.tool_strategies["get_order"]) == set(STRATEGIES)


def test_raises_the_threshold_of_a_rule_whose_answers_were_wrong() -> None:
    a = [out("a", "derived", 0.2), out("a", "derived", 0.3)]
    b = [out("b", "derived", 0.4), out("b", "derived", 1.0), out("b", "derived", 1.0)]
    found = {e.key: e for e in edits(PINNED, a + b)}
    assert found["raise:derived"].update == {"derive_min_precision": 0.8}
    assert "demote:a:derived" in found and "demote:b:derived" not in found  # b's derive was mostly right
    one_miss = edits(PINNED, b[:1])  # one wrong answer is no pattern
    assert not any(e.key.startswith(("raise", "demote")) for e in one_miss)


def test_wrong_analogies_change_k_and_wrong_error_flags_the_vote(target: OfflineTarget) -> None:
    content = [out(t, "analogy", 0.6) for t in ("a", "b", "c")] + [out(t, "analogy", 1.0) for t in "abcdef"]
    assert propose(target, content).k == 16
    flags = [out(t, "analogy", 0.0, pred_err=False, rec_err=True) for t in "ab"] + [
        out(t, "analogy", 1.0) for t in "abcdef"
    ]
    assert propose(target, flags).error_vote_k == 3


def test_wrong_fallbacks_let_analogies_answer_more(target: OfflineTarget) -> None:
    outcomes = [out(t, "most-common", 0.1) for t in "abc"]
    assert propose(target, outcomes).analogy_margin == 0.25


def test_same_failures_same_proposal_different_failures_different_one(target: OfflineTarget) -> None:
    a = [out("get_order", "analogy", 0.3)] * 3
    b = [out("cancel", "template", 0.2)] * 3
    assert propose(target, a) == propose(target, list(a))
    assert propose(target, a) != propose(target, b)


def test_tried_edits_are_skipped_then_nothing_is_left(target: OfflineTarget) -> None:
    outcomes = [out("get_order", "most-common", 0.1)]
    reflector = DeterministicReflector()
    tried = {BASE}
    seen = []
    while (p := reflector.propose(target, BASE, outcomes, frozenset(tried))).text is not None:
        assert p.text not in tried
        tried.add(p.text)
        seen.append(p.note)
    assert len(seen) >= 2 and "tried already" in p.note


def test_no_failure_no_proposal(target: OfflineTarget) -> None:
    p = DeterministicReflector().propose(target, BASE, [out("a", "replay", 1.0)], frozenset({BASE}))
    assert p.text is None and "no failed step" in p.note


def test_llm_answer_parsing(target: OfflineTarget) -> None:
    better = OfflineConfig(k=4)
    fenced = f"Here you go:\n```json\n{better.model_dump_json()}\n```"
    assert parse_answer(target, fenced, BASE, {BASE}, "llm").text == config_text(better)
    bad = parse_answer(target, "I would lower k.", BASE, {BASE}, "llm")
    assert bad.text is None and "not a valid candidate" in bad.note
    wrong_field = orjson.dumps({**better.model_dump(mode="json"), "k": 0}).decode()
    assert "k" in parse_answer(target, wrong_field, BASE, {BASE}, "llm").note
    assert "unchanged" in parse_answer(target, BASE, BASE, {BASE}, "llm").note


def test_llm_reflector_shows_failures_and_parses_the_answer(target: OfflineTarget) -> None:
    provider = ScriptedProvider(script=[OfflineConfig(k=3).model_dump_json()])
    reflector = LLMReflector(LLM(provider, LLMConfig()))
    p = reflector.propose(target, BASE, [out("get_order", "analogy", 0.3)], frozenset({BASE}))
    assert p.text is not None and parse_config(p.text).k == 3
    prompt = provider.requests[0].messages[0].content
    assert "get_order" in prompt and "analogy" in prompt and "expected" in prompt


class ScreenedTarget(OfflineTarget):
    """A target whose screen is ``fake_screen`` (no engine behind it)."""

    def screen(self, text: str) -> list[tuple[str, EpisodeOutcome]]:
        return list(fake_screen(parse_config(text)))


def test_screened_reflector_proposes_by_left_out_gain_best_first() -> None:
    target, reflector = ScreenedTarget(fit=()), DeterministicReflector(screen=True)
    tried = {BASE}
    found = []
    while (p := reflector.propose(target, BASE, [], frozenset(tried))).text is not None:
        tried.add(p.text)
        found.append(parse_config(p.text))
    assert [c.k for c in found] == [16, PINNED.k]  # k first (+1.6 steps), then tool a's order (+1.5)
    assert "analogy" not in found[1].order_for("a") and "analogy" in found[1].order_for("b")
    assert "tried already" in p.note
    assert not reflector.minibatch_gate and DeterministicReflector().minibatch_gate
    unscreened = DeterministicReflector().propose(target, BASE, [], frozenset({BASE}))
    assert unscreened.text is None and "no failed step" in unscreened.note
