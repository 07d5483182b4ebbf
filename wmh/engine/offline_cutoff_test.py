"""Cutoffs: calls dated in the environment's past answer alike; learned per tool, one clock for all."""

from __future__ import annotations

from wmh.core.types import Episode
from wmh.engine.offline import fit_offline
from wmh.engine.offline_cutoff import CutoffRule, applies, clock, dated, learn_cutoffs, render
from wmh.engine.offline_json import Json
from wmh.engine.offline_test import act, session, step

GONE = "Error: flight {flight_number} not available on date {date}"


def flights(origin: str, day: str) -> list[dict]:
    return [{"flight_number": f"F{origin}{day[-2:]}", "origin": origin, "date": day, "seats": 5}]


def search(i: int, day: str) -> Episode:
    """Search a route on ``day``; on or before 2024-05-15 nothing flies any more, then change a booking."""
    origin = f"A{i % 4}"
    past = day <= "2024-05-15"
    number = f"F{origin}{day[-2:]}"
    changed = GONE.format(flight_number=number, date=day) if past else {"reservation_id": f"R{i}", "ok": True}
    return Episode(
        trace_id=f"t{i}",
        task=f"fly from {origin}",
        steps=(
            step("search", [] if past else flights(origin, day), origin=origin, date=day),
            step(
                "change",
                changed,
                is_error=past,
                reservation_id=f"R{i}",
                flights=[
                    {"flight_number": "KEEP1", "date": "2024-06-30"},
                    {"flight_number": number, "date": day},
                ],
            ),
        ),
    )


DAYS = ["2024-05-06", "2024-05-10", "2024-05-13", "2024-05-17", "2024-05-20", "2024-05-22", "2024-05-24"]


def corpus() -> list[Episode]:
    return [search(i, day) for i, day in enumerate(DAYS * 2)]


def test_learn_cutoffs_finds_the_day_before_which_calls_answer_alike() -> None:
    eps = corpus()
    (rule,) = learn_cutoffs(s for ep in eps for s in ep.steps if s.action.name == "search")
    assert (rule.path, rule.last, rule.first_other, rule.template, rule.is_error) == (
        "date",
        "2024-05-13",
        "2024-05-17",
        "[]",
        False,
    )
    assert rule.calls == 6 and rule.later_share == 0.0
    (change,) = learn_cutoffs(s for ep in eps for s in ep.steps if s.action.name == "change")
    assert (change.path, change.template, change.is_error) == ("flights[].date", GONE, True)


def test_no_cutoff_from_one_day_or_when_later_calls_answer_the_same() -> None:
    one_day = [search(i, "2024-05-10") for i in range(3)] + [search(9, "2024-05-20")]
    assert learn_cutoffs(s for ep in one_day for s in ep.steps if s.action.name == "search") == ()
    alike = [step("ping", "pong", day=day) for day in DAYS]
    assert learn_cutoffs(alike) == ()
    mostly = [step("ping", "[]", day=day) for day in DAYS] + [step("ping", "x", day="2024-05-30")]
    assert learn_cutoffs(mostly) == ()  # all answered [] up to the last day: no day marks a change


def test_the_clock_is_the_earliest_last_day_and_the_earliest_item_decides() -> None:
    rule = CutoffRule(
        path="flights[].date",
        last="2024-05-14",
        first_other="2024-05-17",
        template=GONE,
        is_error=True,
        calls=3,
        later_share=0,
    )
    other = rule.model_copy(update={"path": "date", "last": "2024-05-12"})
    assert clock([rule, other]) == "2024-05-12" and clock([]) == ""
    args: dict[str, Json] = {
        "flights": [
            {"flight_number": "X1", "date": "2024-06-01"},
            {"flight_number": "X2", "date": "2024-05-11"},
        ]
    }
    second = {"flight_number": "X2", "date": "2024-05-11"}
    assert dated(args, rule.path) == ("2024-05-11", second)
    holder = applies(rule, args, "2024-05-12")
    assert holder is not None and render(rule, holder) == "Error: flight X2 not available on date 2024-05-11"
    assert applies(rule, args, "2024-05-10") is None
    assert dated({"date": "2024-05-11T09:30:00Z"}, "date") == ("2024-05-11", {"date": "2024-05-11T09:30:00Z"})
    assert dated({"date": "20240511"}, "date") is None


def test_engine_answers_past_calls_with_the_cutoff_and_others_as_before() -> None:
    engine = fit_offline(corpus())
    past = engine.answer(session(), act("search", origin="A9", date="2024-05-01"))
    assert (past.content, past.is_error, past.source) == ("[]", False, "cutoff")
    later = engine.answer(session(), act("search", origin="A1", date="2024-05-24"))
    assert later.source != "cutoff" and later.content != "[]"
    flights_: list[Json] = [
        {"flight_number": "KEEP1", "date": "2024-06-30"},
        {"flight_number": "Z9", "date": "2024-05-02"},
    ]
    changed = engine.answer(session(), act("change", reservation_id="R77", flights=flights_))
    assert changed.is_error and changed.content == "Error: flight Z9 not available on date 2024-05-02"
    # between the clock's last day and the first day seen otherwise, no cutoff answers
    gap = engine.answer(session(), act("search", origin="A1", date="2024-05-15"))
    assert gap.source != "cutoff"
