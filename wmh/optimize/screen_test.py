from __future__ import annotations

import pytest

from wmh.engine.offline_config import STRATEGIES, OfflineConfig
from wmh.optimize.screen import MIN_GAIN, Screened, bundle, knob_decisions, ladder, lgo, per_tool_decisions
from wmh.optimize.types import EpisodeOutcome, StepOutcome

GROUPS = ("g1", "g2", "g3", "g4")


def test_a_gain_on_one_group_alone_gains_nothing_left_out() -> None:
    current = dict.fromkeys(GROUPS, 1.0)
    one_group = {**current, "g1": 4.0}
    chosen, gain = lgo({"current": current, "edit": one_group}, "current")
    assert chosen == "edit" and gain == 0.0  # g1 left out, the others see no reason to change
    broad = {g: 2.0 for g in GROUPS}
    chosen, gain = lgo({"current": current, "edit": broad, "one": one_group}, "current")
    assert chosen == "edit" and gain == 4.0


def test_ties_keep_the_current_option() -> None:
    same = dict.fromkeys(GROUPS, 1.0)
    assert lgo({"current": same, "other": dict(same)}, "current") == ("current", 0.0)


def test_a_loss_somewhere_is_charged_to_the_gain() -> None:
    current = dict.fromkeys(GROUPS, 1.0)
    mixed = {"g1": 2.0, "g2": 2.0, "g3": 2.0, "g4": 0.0}
    chosen, gain = lgo({"current": current, "edit": mixed}, "current")
    assert chosen == "edit" and gain == 2.0  # 3 wins of 1 each, one loss of 1


def test_ladder_stays_in_bounds_and_leaves_out_the_current_value() -> None:
    cfg = OfflineConfig(k=1, derive_min_precision=0.95, template_fill="neighbor", patch_any_source=True)
    assert ladder(cfg, "k") == [2]
    assert ladder(cfg, "derive_min_precision") == [0.75]
    assert ladder(cfg, "context_weight") == [0.1, 0.4]
    assert ladder(cfg, "template_fill") == ["omit"]
    assert ladder(cfg, "patch_any_source") == [False]
    assert all(v != cfg.analogy_margin for v in ladder(cfg, "analogy_margin"))


def _screened(fidelity: dict[tuple[str, str], float]) -> Screened:
    """One episode per group, one step per tool, with the given fidelity (default 0.5)."""
    return [
        (
            g,
            EpisodeOutcome(
                trace_id=g,
                score=0.0,
                steps=tuple(
                    StepOutcome(tool=t, source="analogy", fidelity=fidelity.get((t, g), 0.5))
                    for t in ("a", "b")
                ),
            ),
        )
        for g in GROUPS
    ]


def fake_screen(cfg: OfflineConfig) -> Screened:
    """Tool a does better without analogy on three groups, tool b on one group only; k 16 helps all."""
    found: dict[tuple[str, str], float] = {}
    if "analogy" not in cfg.order_for("a"):
        found |= {("a", g): 1.0 for g in GROUPS[:3]}
    if "analogy" not in cfg.order_for("b"):
        found[("b", "g1")] = 1.0
    if cfg.k == 16:
        found |= {("b", g): 0.9 for g in GROUPS}
    return _screened(found)


def test_per_tool_choices_need_evidence_from_more_than_one_group() -> None:
    cfg = OfflineConfig()
    found = per_tool_decisions(cfg, fake_screen, fake_screen(cfg))
    assert [d.tool for d in found] == ["a"]
    assert found[0].gain == 1.5 >= MIN_GAIN
    orders = found[0].update["tool_strategies"]
    assert isinstance(orders, dict) and orders["a"] == tuple(s for s in STRATEGIES if s != "analogy")
    assert set(orders) == {"a"}


def test_knobs_and_the_bundle() -> None:
    cfg = OfflineConfig()
    knobs = knob_decisions(cfg, fake_screen, fake_screen(cfg))
    assert [(d.key, dict(d.update)) for d in knobs] == [("knob:k", {"k": 16})]
    assert knobs[0].gain == pytest.approx(1.6)
    assert bundle(cfg, knobs) is None  # knobs interact: they are never bundled


def test_every_tool_choice_in_one_bundle() -> None:
    def screen(cfg: OfflineConfig) -> Screened:
        return _screened({(t, g): 1.0 for t in "ab" if "replay" not in cfg.order_for(t) for g in GROUPS[1:]})

    cfg = OfflineConfig()
    together = bundle(cfg, per_tool_decisions(cfg, screen, screen(cfg)))
    assert together is not None and together.gain == pytest.approx(3.0)
    orders = together.update["tool_strategies"]
    assert isinstance(orders, dict) and all("replay" not in orders[t] for t in "ab")
