from __future__ import annotations

from pathlib import Path

import orjson

from wmh.core.types import Action, ActionKind, Episode, Observation, SessionState, Step, ToolDef, Turn
from wmh.engine.offline import fit_offline, load_offline
from wmh.engine.offline_knowledge import ToolKnowledge
from wmh.engine.offline_novel import (
    NovelToolRule,
    learn_novel_tools,
    name_words,
    nearest_tool,
    novel_answer,
)

BAR = "Status Bar: {} | 80%"


def step(name: str, content: str, is_error: bool = False, **arguments: str) -> Step:
    return Step(
        action=Action(kind=ActionKind.TOOL_CALL, name=name, arguments=arguments),
        observation=Observation(content=content, is_error=is_error),
    )


def episode(i: int, *steps: Step, tools: tuple[str, ...] = ()) -> Episode:
    return Episode(trace_id=f"t{i}", steps=steps, tools=tuple(ToolDef(name=t) for t in tools))


def device_corpus(rare_fail: bool = False) -> list[Episode]:
    """Six phone sessions: every one checks the status and toggles data; four of them each use a tool no
    other session uses (each succeeds, or fails as an unknown action when ``rare_fail``)."""
    eps = []
    for i in range(6):
        signal = ("Good", "Poor")[i % 2]
        steps = [
            step("check_status", f"Network: up\n{BAR.format(signal)}"),
            step("toggle_data", f"Mobile Data is now OFF.\n{BAR.format(signal)}"),
        ]
        if i < 4:
            rare = ("reboot_device", "reset_apn", "check_sim", "run_speed_test")[i]
            text = f"Unknown action {rare}" if rare_fail else f"{rare} done"
            steps.append(step(rare, text, is_error=rare_fail))
        eps.append(episode(i, *steps, tools=("check_status", "toggle_data", "toggle_wifi") if i == 0 else ()))
    return eps


def test_learns_from_the_tools_called_in_one_trace_only() -> None:
    rule = learn_novel_tools(device_corpus())
    assert (rule.rare, rule.rare_ok, rule.error_support) == (4, 4, 0)
    assert rule.declared == ("toggle_wifi",)  # offered, never called
    assert rule.exists("enable_roaming", min_support=2) and rule.exists("toggle_wifi", min_support=2)
    failing = learn_novel_tools(device_corpus(rare_fail=True))
    assert (failing.rare, failing.rare_ok) == (4, 0)
    assert (failing.error_template, failing.error_support) == ("Unknown action {value}", 4)
    assert not failing.exists("enable_roaming", min_support=2)
    assert failing.exists("toggle_wifi", min_support=2)  # the tool definitions offered it


def test_too_few_rare_tools_say_nothing() -> None:
    rule = NovelToolRule(rare=1, rare_ok=1)
    assert not rule.exists("anything", min_support=2)
    assert rule.exists("anything", min_support=1)
    assert not NovelToolRule(rare=4, rare_ok=2).exists("anything", min_support=2)  # half is not most


def test_nearest_tool_shares_most_words_then_the_verb_then_fewest_others() -> None:
    known = ["check_network_mode", "toggle_data", "toggle_data_saver_mode", "get_user"]
    assert nearest_tool("toggle_airplane_mode", known) == "toggle_data_saver_mode"  # toggle + mode
    assert nearest_tool("toggle_roaming", known) == "toggle_data"  # toggle; fewer other words
    assert nearest_tool("set_network_mode", known) == "check_network_mode"
    assert nearest_tool("makePayment", known) is None
    assert name_words("get_userDetails") == ["get", "user", "details"]
    assert name_words("fetchURLList") == ["fetch", "url", "list"]


def test_a_tool_taken_to_exist_answers_as_its_nearest_named_tool_with_the_sessions_lines() -> None:
    knowledge = {
        "toggle_data": ToolKnowledge(
            name="toggle_data",
            calls=6,
            error_rate=0.0,
            common="Mobile Data is now OFF.\nStatus Bar: Good | 80%",
            common_ok="Mobile Data is now OFF.\nStatus Bar: Good | 80%",
            carried=(("Status Bar", 6),),
        )
    }
    rule = NovelToolRule(rare=3, rare_ok=3)
    session = ["Airplane: off\nStatus Bar: Poor | 80%", "Status Bar: Good | 80%"]  # newest first
    obs = novel_answer(rule, "toggle_wifi", knowledge, session, min_support=2)
    assert obs == Observation(
        content="Mobile Data is now OFF.\nStatus Bar: Poor | 80%", is_error=False, source="novel-tool"
    )
    unnamed = novel_answer(rule, "make_payment", knowledge, session, min_support=2)
    assert unnamed == Observation(content="", is_error=False, source="novel-tool")


def test_a_tool_taken_not_to_exist_fails_as_the_rare_tools_did_or_is_left_to_the_caller() -> None:
    failing = NovelToolRule(rare=4, rare_ok=0, error_template="Unknown action {value}", error_support=4)
    obs = novel_answer(failing, "teleport", {}, [], min_support=2)
    assert obs == Observation(content="Unknown action teleport", is_error=True, source="novel-tool")
    assert novel_answer(NovelToolRule(), "teleport", {}, [], min_support=2) is None


def _state(*steps: Step) -> SessionState:
    return SessionState(
        id="s", history=tuple(Turn(action=s.action, observation=s.observation) for s in steps)
    )


def test_the_engine_answers_an_unseen_tool_by_what_rare_tools_did(tmp_path: Path) -> None:
    engine = fit_offline(device_corpus())
    before = step("check_status", f"Network: up\n{BAR.format('Poor')}")
    obs = engine.answer(_state(before), Action(kind=ActionKind.TOOL_CALL, name="toggle_roaming"))
    assert obs == Observation(
        content=f"Mobile Data is now OFF.\n{BAR.format('Poor')}", is_error=False, source="novel-tool"
    )
    engine.save(tmp_path / "engine")
    assert load_offline(tmp_path / "engine").novel == engine.novel

    failing = fit_offline(device_corpus(rare_fail=True))
    obs = failing.answer(_state(), Action(kind=ActionKind.TOOL_CALL, name="teleport"))
    assert obs == Observation(content="Unknown action teleport", is_error=True, source="novel-tool")
    offered = failing.answer(_state(), Action(kind=ActionKind.TOOL_CALL, name="toggle_wifi"))
    assert not offered.is_error and offered.source == "novel-tool"


def test_a_tool_the_session_declares_exists_whatever_the_rare_tools_say() -> None:
    failing = fit_offline(device_corpus(rare_fail=True))
    call = Action(kind=ActionKind.TOOL_CALL, name="toggle_bluetooth")
    assert failing.answer(_state(), call).content == "Unknown action toggle_bluetooth"
    declared = _state().model_copy(update={"tools": (ToolDef(name="toggle_bluetooth"),)})
    obs = failing.answer(declared, call)
    assert obs == Observation(
        content=f"Mobile Data is now OFF.\n{BAR.format('Good')}", is_error=False, source="novel-tool"
    )


def test_a_model_saved_before_the_rule_loads_and_calls_unseen_tools_unknown(tmp_path: Path) -> None:
    engine = fit_offline(device_corpus())
    engine.save(tmp_path / "engine")
    meta_path = tmp_path / "engine" / "engine.json"
    meta = orjson.loads(meta_path.read_bytes())
    del meta["novel_tools"]
    meta_path.write_bytes(orjson.dumps(meta))
    old = load_offline(tmp_path / "engine")
    obs = old.answer(_state(), Action(kind=ActionKind.TOOL_CALL, name="toggle_roaming"))
    assert obs.is_error and obs.source == "unknown-tool"
