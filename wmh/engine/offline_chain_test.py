"""Chain searches composed from objects the traces showed elsewhere."""

from __future__ import annotations

import json

from pydantic import JsonValue

from wmh.core.types import Episode
from wmh.engine.offline import fit_offline
from wmh.engine.offline_chain import ChainObjects, ChainRule, chain_rule, compose
from wmh.engine.offline_rules_test import session
from wmh.engine.offline_test import act, step

HUBS = ("H1", "H2")


def leg(number: str, frm: str, to: str, dep: str, arr: str, **more: JsonValue) -> dict[str, JsonValue]:
    return {"num": number, "from": frm, "to": to, "dep": dep, "arr": arr, "seats": 5, **more}


def _episodes() -> list[Episode]:
    """Per city: direct searches to and from each hub, then a connecting search whose chains are the
    direct legs that meet at a hub with the second departing after the first arrives."""
    eps = []
    for i, city in enumerate(("A", "B", "C", "D", "E", "F")):
        day = f"d{i}"
        out = [leg(f"{city}{h}", city, h, "08:00", "10:00") for h in HUBS]
        back = [leg(f"{h}Z", h, "Z", "12:00", "14:00") for h in HUBS] + [
            leg(f"{h}Y", h, "Z", "07:00", "09:00") for h in HUBS[:1]
        ]
        chains = [
            [{**a, "day": day}, {**b, "day": day}]
            for a in out
            for b in back
            if a["to"] == b["from"] and str(a["arr"]) < str(b["dep"])
        ]
        steps = (
            step("direct", out, frm=city, to="*", day=day),
            step("direct", back, frm="*", to="Z", day=day),
            step("connecting", chains, frm=city, to="Z", day=day),
        )
        eps.append(Episode(trace_id=f"c{i}", task=f"trip {i}", steps=steps))
    return eps


def test_chain_rule_learns_anchors_links_and_order() -> None:
    answers = [
        (dict(s.action.arguments), json.loads(s.observation.content))
        for e in _episodes()
        for s in e.steps
        if s.action.name == "connecting"
    ]
    rule = chain_rule(answers)
    assert rule is not None and rule.length == 2 and rule.id_key == "num"
    assert (0, "frm", "from") in rule.at and (1, "to", "to") in rule.at and (0, "day", "day") in rule.at
    assert ("to", "from") in rule.links and ("arr", "dep") in rule.before
    objects = ChainObjects(
        rule,
        [
            (o, 0)
            for o in (
                leg("Q1", "Q", "H1", "06:00", "07:00"),
                leg("H1Z", "H1", "Z", "08:00", "09:00"),
                leg("H1Z0", "H1", "Z", "06:30", "09:00"),
            )
        ],
    )
    chains = compose(rule, {"frm": "Q", "to": "Z", "day": "d9"}, [objects], set())
    assert chains == [
        [
            {**leg("Q1", "Q", "H1", "06:00", "07:00"), "day": "d9"},
            {**leg("H1Z", "H1", "Z", "08:00", "09:00"), "day": "d9"},
        ]
    ]
    assert compose(rule, {"frm": "Q", "to": "Z", "day": "d9"}, [objects], {0}) == []  # its traces excluded


def test_connecting_search_for_a_new_city_lists_chains_of_legs_searched_directly() -> None:
    engine = fit_offline(_episodes())
    searched_leg = leg("GH1", "G", "H1", "06:00", "07:30")
    searched = step("direct", [searched_leg], frm="G", to="*", day="d7")
    obs = engine.answer(session(searched), act("connecting", frm="G", to="Z", day="d7"))
    assert obs.source == "chain", obs
    chains = json.loads(obs.content)
    # the hub's later flight only (the earlier one leaves before the first leg lands), on the call's day
    assert chains == [
        [{**searched_leg, "day": "d7"}, {**leg("H1Z", "H1", "Z", "12:00", "14:00"), "day": "d7"}]
    ]


def test_a_field_no_rule_fills_takes_the_value_of_the_object_before() -> None:
    rule = ChainRule(
        length=2,
        item_keys=("num", "from", "to", "day"),
        at=((0, "day", "day"), (0, "frm", "from"), (1, "to", "to")),
        links=(("to", "from"),),
        id_key="num",
    )
    first: dict[str, JsonValue] = {"num": "1", "from": "A", "to": "H"}
    second: dict[str, JsonValue] = {"num": "2", "from": "H", "to": "Z"}
    objects = ChainObjects(rule, [(first, 0), (second, 0)])
    chains = compose(rule, {"frm": "A", "to": "Z", "day": "d1"}, [objects], set())
    assert chains == [[{**first, "day": "d1"}, {**second, "day": "d1"}]]
    assert compose(rule, {"frm": "A", "to": "Q", "day": "d1"}, [objects], set()) == []
    assert compose(rule, {"frm": "A", "day": "d1"}, [objects], set()) is None  # an anchor argument is missing


def test_a_connection_leaving_as_the_first_leg_lands_is_listed_where_a_recorded_one_did() -> None:
    def answers(tie: bool) -> list[tuple[dict[str, JsonValue], JsonValue]]:
        out: list[tuple[dict[str, JsonValue], JsonValue]] = []
        for i in range(6):
            city = f"C{i}"
            dep = "10:00" if tie and i == 0 else "12:00"
            first, second = leg(f"{city}H", city, "H", "08:00", "10:00"), leg(f"H{i}", "H", "Z", dep, "14:00")
            out.append(({"frm": city, "to": "Z"}, [[first, second]]))
        return out

    objects = [(leg("QH", "Q", "H", "08:00", "10:00"), 0), (leg("HZ", "H", "Z", "10:00", "12:00"), 0)]
    for tie in (True, False):
        rule = chain_rule(answers(tie))
        assert rule is not None and ("arr", "dep") in rule.before
        assert (("arr", "dep") in rule.ties) is tie
        chains = compose(rule, {"frm": "Q", "to": "Z"}, [ChainObjects(rule, objects)], set())
        assert len(chains or []) == (1 if tie else 0)
