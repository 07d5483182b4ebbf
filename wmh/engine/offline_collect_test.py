"""Search answers collected from objects recorded elsewhere, and calibrated failure votes."""

from __future__ import annotations

import json

from wmh.core.types import Episode
from wmh.engine.offline import fit_offline
from wmh.engine.offline_test import act, session, step

CITIES = ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF", "GGG"]


def route(code: str, src: str, dst: str, **extra: object) -> dict:
    return {"code": code, "src": src, "dst": dst, "hour": len(code), **extra}


def routes(src: str, dst: str) -> list[dict]:
    return [route(f"R{src}{dst}1", src, dst), route(f"R{src}{dst}2", src, dst)]


def _episodes() -> list[Episode]:
    """Each task searches one pair of cities and reads a plan that shows the routes of the next pair."""
    eps = []
    for i in range(len(CITIES) - 1):
        a, b = CITIES[i], CITIES[i + 1]
        c = CITIES[(i + 2) % len(CITIES)]
        plan = {"plan": f"P{i}", "legs": [route(f"R{b}{c}{j}", b, c, day=f"d{i}") for j in (1, 2)]}
        eps.append(
            Episode(
                trace_id=f"t{i}",
                task=f"trip {i}",
                steps=(
                    step("find", routes(a, b), src=a, dst=b, day=f"d{i}"),
                    step("plan", plan, plan=f"P{i}"),
                ),
            )
        )
    return eps


def test_search_lists_the_objects_shown_elsewhere_that_match_the_arguments() -> None:
    engine = fit_offline(_episodes())
    rule = engine.knowledge["find"].collect
    assert rule is not None and rule.match == (("dst", "dst"), ("src", "src")) and rule.id_key == "code"
    assert rule.sort and rule.gain > 0  # calibration: better than the most common list
    # GGG→AAA was never searched, but the last plan showed its routes
    obs = engine.answer(session(), act("find", src="GGG", dst="AAA", day="d9"))
    assert obs.source == "collect" and not obs.is_error
    assert json.loads(obs.content) == [route("RGGGAAA1", "GGG", "AAA"), route("RGGGAAA2", "GGG", "AAA")]


def test_collect_prefers_the_session_and_objects_agreeing_with_more_arguments() -> None:
    engine = fit_offline(_episodes())
    seen = step("plan", {"legs": [route("RGGGAAA1", "GGG", "AAA", day="d5", hour=99)]}, plan="mine")
    obs = engine.answer(session(seen), act("find", src="GGG", dst="AAA", day="d5"))
    listed = json.loads(obs.content)
    assert listed[0]["hour"] == 99 and "day" not in listed[0]  # the session's, cut to the listed fields
    assert [r["code"] for r in listed] == ["RGGGAAA1", "RGGGAAA2"]


def test_collect_prefers_the_version_a_search_for_the_same_day_showed() -> None:
    """Two searches of the session showed a route as it was on two days (its answer does not say the
    day; the call did): a search for the first day lists the first version, though the second is newer."""
    engine = fit_offline(_episodes())
    seen = [route("RGGGAAA1", "GGG", "AAA", hour=5)], [route("RGGGAAA1", "GGG", "AAA", hour=7)]
    first = step("find", seen[0], src="GGG", dst="AAA", day="d1", seats=2)  # not the call asked below
    second = step("find", seen[1], src="GGG", dst="AAA", day="d2", seats=2)
    for day, hour in (("d1", 5), ("d2", 7)):
        obs = engine.answer(session(first, second), act("find", src="GGG", dst="AAA", day=day))
        listed = json.loads(obs.content)
        assert obs.source == "collect" and listed[0] == route("RGGGAAA1", "GGG", "AAA", hour=hour)
        assert "day" not in listed[0]  # the day the call named is not a field of the answer


def test_an_object_known_only_in_part_is_listed_with_the_usual_values_filled_in() -> None:
    """A session's booking shows a route (its code and cities, not its hour): a search for those cities
    lists it, completed with the value most listed routes had for the missing field."""
    engine = fit_offline(_episodes())
    rule = engine.knowledge["find"].collect
    assert rule is not None and rule.filler["hour"] == 8
    booking = step("book", {"legs": [{"code": "RXY", "src": "XXX", "dst": "YYY", "price": 5}]}, id="B1")
    obs = engine.answer(session(booking), act("find", src="XXX", dst="YYY", day="d3"))
    assert obs.source == "collect"
    assert json.loads(obs.content) == [{"code": "RXY", "src": "XXX", "dst": "YYY", "hour": 8}]
    whole = step("plan", {"legs": [route("RXY", "XXX", "YYY")]}, plan="other")
    both = engine.answer(session(booking, whole), act("find", src="XXX", dst="YYY", day="d3"))
    assert json.loads(both.content) == [route("RXY", "XXX", "YYY")]  # a whole object beats a partial one


def test_nothing_known_to_collect_passes_to_the_next_strategy() -> None:
    engine = fit_offline(_episodes())
    obs = engine.answer(session(), act("find", src="ZZZ", dst="YYY", day="d1"))
    assert obs.source != "collect"


def test_failure_vote_falls_back_to_the_error_rate_when_calibration_says_so() -> None:
    eps = [
        Episode(
            trace_id=f"e{i}",
            task=f"task {i}",
            steps=(step("try", "Error: refused" if i % 4 else "done", bool(i % 4), key=f"k{i}"),),
        )
        for i in range(12)
    ]
    engine = fit_offline(eps)
    k = engine.knowledge["try"]
    assert k.vote_hits >= 0 and k.prior_hits >= 0
    near_ok = act("try", key="k0")  # its nearest call succeeded
    engine.knowledge["try"] = k.model_copy(update={"vote_hits": 0, "prior_hits": 5})
    assert fails(engine.query(session(), near_ok).best_neighbor())  # the error rate (0.75) decides
    engine.knowledge["try"] = k.model_copy(update={"vote_hits": 5, "prior_hits": 0})
    assert not fails(engine.query(session(), near_ok).best_neighbor())  # the vote decides


def fails(best: tuple[int, bool] | None) -> bool:
    assert best is not None
    return best[1]


def _leg(num: str, price: int, origin: str) -> dict:
    return {"num": num, "day": "d1", "price": price, "from": origin}


def _changes() -> list[Episode]:
    """Tasks that read a booking, search a day's legs and change the booking to two of them (eco)."""
    eps = []
    for i in range(6):
        booking = {"id": f"B{i}", "legs": [_leg(f"O{i}", 50 + i, "X")]}
        found = [
            {"num": f"N{i}{j}", "day": "d1", "from": "Y", "prices": {"eco": 100 + j, "biz": 300}}
            for j in (1, 2)
        ]
        changed = {**booking, "legs": [*booking["legs"], _leg(f"N{i}1", 101, "Y"), _leg(f"N{i}2", 102, "Y")]}
        legs: list = [{"num": leg["num"], "day": "d1"} for leg in changed["legs"]]
        steps = (
            step("read", booking, id=f"B{i}"),
            step("search", found, day="d1"),
            step("change", changed, id=f"B{i}", cabin="eco", legs=legs),
        )
        eps.append(Episode(trace_id=f"c{i}", task=f"change {i}", steps=steps))
    return eps


def test_patched_items_keep_their_own_fields_and_the_recorded_field_order() -> None:
    eps = _changes()
    engine = fit_offline(eps)
    read = step("read", {"id": "B9", "legs": [_leg("O9", 77, "X")]}, id="B9")
    searched = step(
        "search", [{"num": "N91", "day": "d1", "from": "Y", "prices": {"eco": 123, "biz": 9}}], day="d1"
    )
    legs: list = [{"num": "O9", "day": "d1"}, {"num": "N91", "day": "d1"}]
    obs = engine.answer(session(read, searched), act("change", id="B9", cabin="eco", legs=legs))
    assert obs.source == "patch"
    got = json.loads(obs.content)["legs"]
    assert got == [_leg("O9", 77, "X"), _leg("N91", 123, "Y")]  # the kept leg's own price, the new one's fare
    assert [list(leg) for leg in got] == [["num", "day", "price", "from"]] * 2


def test_an_item_the_session_never_read_is_joined_from_another_traces_answer_of_its_day() -> None:
    """The fare of a leg no search of this session showed comes from another trace's search of that
    day (its objects hold no day: the call's argument dates them), not from a search of another day."""
    eps = _changes()
    for day, fare in (("d2", 999), ("d1", 123)):
        shown = [{"num": "N91", "from": "Y", "prices": {"eco": fare, "biz": 9}}]
        eps.append(Episode(trace_id=f"s{day}", task="look", steps=(step("search", shown, day=day),)))
    engine = fit_offline(eps)
    read = step("read", {"id": "B9", "legs": [_leg("O9", 77, "X")]}, id="B9")
    legs: list = [{"num": "O9", "day": "d1"}, {"num": "N91", "day": "d1"}]
    obs = engine.answer(session(read), act("change", id="B9", cabin="eco", legs=legs))
    assert obs.source == "patch"
    assert json.loads(obs.content)["legs"][1]["price"] == 123
    left_out = engine.answer(
        session(read), act("change", id="B9", cabin="eco", legs=legs), exclude_trace="sd1"
    )
    assert json.loads(left_out.content)["legs"][1].get("price") != 123  # leak-free: never the scored trace


def test_a_never_shown_value_inside_a_list_argument_fails_like_recorded() -> None:
    eps = []
    for i in range(6):
        wallet = step("wallet", {"methods": [f"card_{i}"]}, user=f"u{i}")
        items: list = [{"method": f"card_{i}", "amount": 5}]
        bad: list = [{"method": f"ghost_{i}", "amount": 5}]
        eps.append(
            Episode(
                trace_id=f"w{i}",
                task=f"pay {i}",
                steps=(
                    wallet,
                    step("pay", f"Error: method ghost_{i} not found", True, items=bad),
                    step("pay", "paid", items=items),
                ),
            )
        )
    engine = fit_offline(eps)
    shown = step("wallet", {"methods": ["card_9"]}, user="u9")
    ghost: list = [{"method": "card_9", "amount": 1}, {"method": "ghost_9", "amount": 2}]
    obs = engine.answer(session(shown), act("pay", items=ghost))
    assert obs.is_error and obs.content == "Error: method ghost_9 not found" and obs.source == "error"
    fine: list = [{"method": "card_9", "amount": 1}]
    assert not engine.answer(session(shown), act("pay", items=fine)).is_error


def test_a_guessed_record_takes_its_owner_fields_from_the_object_that_lists_it() -> None:
    eps = [
        Episode(
            trace_id=f"p{i}",
            task=f"orders {i}",
            steps=(
                step("profile", {"name": {"first": f"Ann{i}"}, "orders": [f"O{i}", f"Q{i}"]}, user=f"u{i}"),
                step(
                    "order",
                    {"id": f"O{i}", "user": f"u{i}", "buyer": {"first": f"Ann{i}"}, "total": i},
                    id=f"O{i}",
                ),
            ),
        )
        for i in range(6)
    ]
    engine = fit_offline(eps)
    rule = engine.knowledge["order"].owner
    assert rule is not None and rule.arg == "id" and rule.list_key == "orders"
    assert set(rule.fields) == {(("user",), ("@user",)), (("buyer", "first"), ("name", "first"))}
    profile = step("profile", {"name": {"first": "Zed"}, "orders": ["O99"]}, user="zed")
    obs = engine.answer(session(profile), act("order", id="O99"))
    assert obs.source in ("most-common", "analogy")
    got = json.loads(obs.content)
    assert got["id"] == "O99" and got["user"] == "zed" and got["buyer"] == {"first": "Zed"}
    # no owner in the session: the guess stays as it was
    assert json.loads(engine.answer(session(), act("order", id="O99")).content)["user"] != "zed"


def test_a_mutation_appends_only_when_its_numeric_argument_is_positive() -> None:
    def bag(bid: str, paid: list) -> dict:
        return {"id": bid, "paid": paid}

    eps = []
    for i in range(6):
        extra = i % 2  # odd calls pay for an extra bag, even ones change nothing paid
        before = bag(f"B{i}", [{"method": "card", "amount": 10}])
        after = bag(
            f"B{i}", [*before["paid"], {"method": f"m{i}", "amount": 50}] if extra else before["paid"]
        )
        eps.append(
            Episode(
                trace_id=f"g{i}",
                task=f"bags {i}",
                steps=(
                    step("read", before, id=f"B{i}"),
                    step("bags", after, id=f"B{i}", extra=extra, method=f"m{i}"),
                ),
            )
        )
    engine = fit_offline(eps)
    read = step("read", bag("B9", [{"method": "card", "amount": 10}]), id="B9")
    kept = engine.answer(session(read), act("bags", id="B9", extra=0, method="gift"))
    assert kept.source == "patch" and json.loads(kept.content)["paid"] == [{"method": "card", "amount": 10}]
    paid = json.loads(engine.answer(session(read), act("bags", id="B9", extra=2, method="gift")).content)[
        "paid"
    ]
    assert len(paid) == 2 and paid[1]["method"] == "gift"


def booking(bid: str, bags: int, paid: list) -> dict:
    return {"id": bid, "bags": bags, "paid": paid}


def bag_fee_episodes(rate: int = 25) -> list[Episode]:
    """Reads of a booking, each then setting its bags: every bag added charges ``rate`` to the method
    named; lowering or keeping the count charges nothing."""
    eps = []
    for i, (before_bags, after_bags) in enumerate([(0, 1), (1, 3), (2, 1), (2, 2), (1, 2), (3, 0), (0, 2)]):
        before = booking(f"K{i}", before_bags, [{"method": "card", "amount": 80}])
        fee = (
            [{"method": f"m{i}", "amount": rate * (after_bags - before_bags)}]
            if after_bags > before_bags
            else []
        )
        eps.append(
            Episode(
                trace_id=f"k{i}",
                task=f"bags {i}",
                steps=(
                    step("read", before, id=f"K{i}"),
                    step(
                        "set_bags",
                        booking(f"K{i}", after_bags, [*before["paid"], *fee]),
                        id=f"K{i}",
                        bags=after_bags,
                        method=f"m{i}",
                    ),
                ),
            )
        )
    return eps


def test_a_mutation_charges_a_fee_per_unit_only_when_it_raises_a_count() -> None:
    """Bags cost 25 each: raising the count from 1 to 3 appends a payment of 50; lowering it or keeping it
    appends nothing. Neither the condition (the count raised, not merely positive) nor the rate is given."""
    eps = bag_fee_episodes()
    engine = fit_offline(eps)
    read = step("read", booking("K9", 2, [{"method": "card", "amount": 80}]), id="K9")

    def paid(bags: int) -> list:
        answer = engine.answer(session(read), act("set_bags", id="K9", bags=bags, method="gift"))
        assert answer.source == "patch"
        return json.loads(answer.content)["paid"][1:]

    assert paid(5) == [{"method": "gift", "amount": 75}]
    assert paid(2) == [] and paid(1) == []  # positive, but no bag added


def test_a_guessed_answer_spells_names_from_the_argument_words() -> None:
    people = [("ann", "lee"), ("bo", "kim"), ("cy", "fox"), ("di", "ray")]
    eps = [
        Episode(
            trace_id=f"n{i}",
            task=f"who {i}",
            steps=(
                step(
                    "person",
                    {
                        "name": {"first": first.capitalize(), "last": last.upper()},
                        "plan": "economy",
                        "age": 30 + i,
                    },
                    user=f"{first}_{last}_{100 + i}",
                ),
            ),
        )
        for i, (first, last) in enumerate(people)
    ]
    engine = fit_offline(eps)
    rules = engine.knowledge["person"].spelled
    assert set(rules) == {(("name", "first"), "user", "{0:c}"), (("name", "last"), "user", "{1:u}")}
    got = json.loads(engine.answer(session(), act("person", user="eve_no_900")).content)
    assert got["name"] == {"first": "Eve", "last": "NO"} and got["plan"] == "economy"  # whole words only
