"""Labeled lines carried from the session: learned per tool, applied to guessed text answers."""

from __future__ import annotations

from wmh.core.types import Episode
from wmh.engine.offline import fit_offline
from wmh.engine.offline_lines import carry, labeled, latest, learn_carried
from wmh.engine.offline_test import act, session, step


def device(i: int) -> Episode:
    """Toggling sets the status bar; a reboot reports it unchanged (each task starts from its own)."""
    start, other = ("Data On", "Data Off") if i % 2 else ("Data Off", "Data On")
    return Episode(
        trace_id=f"t{i}",
        task=f"fix phone {i}",
        steps=(
            step("status", f"Status Bar: {start} | {i}0%"),
            step("reboot", f"Rebooting...\nStatus Bar: {start} | {i}0%"),
            step("toggle", f"Data toggled.\nStatus Bar: {other} | {i}0%"),
            step("reboot", f"Rebooting...\nStatus Bar: {other} | {i}0%"),
        ),
    )


def test_labeled_reads_label_lines_of_text_only() -> None:
    assert labeled("Rebooting...\nStatus Bar: Data On | 80%\nMode: 5G ") == {
        "Status Bar": "Data On | 80%",
        "Mode": "5G",
    }
    assert labeled('{"Status Bar": "x"}') == {}
    assert labeled("no labels here: lower case") == {}


def test_latest_takes_the_newest_value_of_each_label() -> None:
    newest_first = ["Mode: 4G", "Status Bar: B\nMode: 3G", "Status Bar: A"]
    assert latest(newest_first, ["Status Bar", "Mode", "Other"]) == {"Status Bar": "B", "Mode": "4G"}


def test_learn_carried_keeps_labels_a_tool_repeats_not_ones_it_sets() -> None:
    eps = [device(i) for i in range(4)]

    def calls(tool: str) -> list:
        return [
            (e, p, s) for e, ep in enumerate(eps) for p, s in enumerate(ep.steps) if s.action.name == tool
        ]

    assert learn_carried(eps, calls("reboot")) == (("Status Bar", 8),)
    assert learn_carried(eps, calls("toggle")) == ()  # it changes the bar: never the value shown before
    assert learn_carried(eps, calls("status")) == ()  # first in every episode: nothing shown before


def test_carry_replaces_the_value_and_keeps_the_rest() -> None:
    text = "Rebooting...\nStatus Bar: Data On | 10%"
    assert carry(text, ["Status Bar"], ["Mode: 5G", "Status Bar: Data Off | 90%"]) == (
        "Rebooting...\nStatus Bar: Data Off | 90%"
    )
    assert carry(text, ["Status Bar"], ["Mode: 5G"]) == text
    assert carry(text, [], ["Status Bar: x"]) == text


def test_engine_reports_the_sessions_state_in_a_replayed_text_answer() -> None:
    engine = fit_offline([device(i) for i in range(4)])
    before = step("status", "Status Bar: Data Off | 70%")
    obs = engine.answer(session(before), act("reboot"))
    assert obs.content == "Rebooting...\nStatus Bar: Data Off | 70%"
    toggled = engine.answer(session(before), act("toggle"))
    assert "Data Off | 70%" not in toggled.content  # not carried: toggling sets the bar
