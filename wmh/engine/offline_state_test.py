"""What a session has seen: the calls the environment never saw (schema refusals, faults) are not in it."""

from __future__ import annotations

from pydantic import JsonValue

from wmh.core.types import Episode, Observation, SessionState, Turn
from wmh.engine.arguments import SCHEMA_SOURCE
from wmh.engine.faults import FAULT_SOURCE
from wmh.engine.offline import fit_offline
from wmh.engine.offline_state import SessionView
from wmh.engine.offline_test import act, order, step


def turn(name: str, content: str, source: str, **arguments: JsonValue) -> Turn:
    return Turn(
        action=act(name, **arguments), observation=Observation(content=content, is_error=True, source=source)
    )


def test_refused_and_faulted_calls_are_not_part_of_what_the_session_saw() -> None:
    refused = turn(
        "cancel_order", "Error: invalid arguments for cancel_order: ...", SCHEMA_SOURCE, order_id=["OR001"]
    )
    faulted = turn("get_order", "Error: service unavailable", FAULT_SOURCE, order_id="OR001")
    seen = Turn(action=act("get_order", order_id="OR001"), observation=Observation(content="{}"))
    view = SessionView.of(SessionState(id="s", history=(refused, faulted, seen)))
    assert [(c.tool, c.args) for c in view.calls] == [("get_order", {"order_id": "OR001"})]


def test_a_refused_call_leaves_the_next_answer_as_it_would_be_without_it() -> None:
    episodes = [
        *(
            Episode(
                trace_id=f"t{i}",
                task=f"cancel OR00{i}",
                steps=(
                    step(
                        "cancel_order",
                        "Error: order is already cancelled",
                        is_error=True,
                        order_id=f"OR00{i}",
                    ),
                    step(
                        "cancel_order",
                        "Error: order is already cancelled",
                        is_error=True,
                        order_id=f"OR00{i}",
                    ),
                ),
            )
            for i in range(3)
        ),
        *(
            Episode(
                trace_id=f"u{i}",
                task=f"cancel OR10{i}",
                steps=(step("cancel_order", order(f"OR10{i}", "cancelled"), order_id=f"OR10{i}"),),
            )
            for i in range(3)
        ),
    ]
    engine = fit_offline(episodes)
    refused = turn(
        "cancel_order",
        "Error: invalid arguments for cancel_order: ['OR105'] is not of type 'string'",
        SCHEMA_SOURCE,
        order_id=["OR105"],
    )
    alone = engine.answer(SessionState(id="a"), act("cancel_order", order_id="OR105"))
    after = engine.answer(SessionState(id="b", history=(refused,)), act("cancel_order", order_id="OR105"))
    assert after == alone and "invalid arguments" not in after.content
