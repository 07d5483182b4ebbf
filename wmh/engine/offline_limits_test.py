"""Limits: a call asking more than the object it names holds fails; learned per tool, applied in sessions."""

from __future__ import annotations

import json

from wmh.core.types import Episode, Observation, Step
from wmh.engine.offline import fit_offline
from wmh.engine.offline_json import Json
from wmh.engine.offline_limits import (
    ChargeRule,
    LimitRule,
    asks,
    check,
    check_charge,
    eased,
    learn_limits,
    named_record,
)
from wmh.engine.offline_test import act, session, step

TEXT = "Error: not enough balance in card {value}"


def wallet(uid: str, card: str, balance: int) -> dict:
    return {"user_id": uid, "cards": {card: {"id": card, "kind": "gift", "balance": balance}}}


def paying(i: int, pay: int, balance: int = 100) -> Episode:
    """Read a user's wallet, then pay ``pay`` from its gift card: over the balance, the payment fails."""
    uid, card = f"u{i}", f"card_{i:04d}"
    items: list[Json] = [{"card_id": card, "amount": pay}]
    over = pay > balance
    answer = TEXT.replace("{value}", card) if over else {"payment_id": f"P{i}", "user_id": uid, "paid": pay}
    return Episode(
        trace_id=f"t{i}",
        task=f"pay for {uid}",
        steps=(
            step("get_wallet", wallet(uid, card, balance), user_id=uid),
            step("pay", answer, is_error=over, user_id=uid, items=items),
        ),
    )


def corpus() -> list[Episode]:
    return [paying(i, pay) for i, pay in enumerate([50, 150, 80, 120, 100, 300, 20, 99])]


def calls(eps: list[Episode], tool: str) -> list:
    return [(e, p, s) for e, ep in enumerate(eps) for p, s in enumerate(ep.steps) if s.action.name == tool]


RULE = LimitRule(
    name="items[].card_id",
    amount="items[].amount",
    key="id",
    field="balance",
    template=TEXT,
    fails=3,
    accuracy=0,
    explained=3,
    passed=5,
)


def test_learn_limits_finds_the_number_the_call_may_not_exceed() -> None:
    eps = corpus()
    (rule,) = learn_limits(eps, calls(eps, "pay"))
    assert rule.model_copy(update={"accuracy": 0}) == RULE
    assert rule.accuracy == 8 / 9  # every call foretold, after a pseudo-count
    assert learn_limits(eps, calls(eps, "get_wallet")) == ()


def test_learn_limits_needs_failures_on_two_objects() -> None:
    eps = [paying(1, 150), paying(1, 200), paying(2, 50), paying(3, 60)]
    assert learn_limits(eps, calls(eps, "pay")) == ()


def test_learn_limits_drops_a_rule_the_outcomes_contradict() -> None:
    eps = corpus() + [paying(i, 10 + i) for i in range(20, 24)]
    eps += [paying(i, 500, balance=1000) for i in range(30, 33)]  # within the balance, failed anyway
    eps = [
        ep.model_copy(
            update={
                "steps": (
                    ep.steps[0],
                    step("pay", TEXT.replace("{value}", "x"), True, **ep.steps[1].action.arguments),
                )
            }
        )
        if ep.trace_id in {"t30", "t31", "t32"}
        else ep
        for ep in eps
    ]
    assert learn_limits(eps, calls(eps, "pay")) == ()  # 3 wrong of 15: below the accuracy kept


def test_check_reads_the_latest_object_and_each_item() -> None:
    args: dict[str, Json] = {"items": [{"card_id": "c1", "amount": 40}, {"card_id": "c2", "amount": 70}]}
    assert list(asks(args, RULE.name, RULE.amount)) == [("c1", 40.0), ("c2", 70.0)]
    latest_first: list[dict[str, Json]] = [
        {"id": "c2", "balance": 60},
        {"id": "c1", "balance": 50},
        {"id": "c2", "balance": 500},
    ]
    assert check(RULE, args, latest_first) == (True, "c2")
    assert check(RULE, args, latest_first[1:2]) == (True, "")  # c2 unknown: no verdict on it
    assert check(RULE, args, [{"id": "c3", "balance": 1}, {"card_id": "c1", "balance": 1}]) == (False, "")


def test_engine_fails_a_payment_over_the_balance_the_session_read() -> None:
    engine = fit_offline(corpus())
    read = step("get_wallet", wallet("u9", "card_0009", 70), user_id="u9")
    over = engine.answer(
        session(read), act("pay", user_id="u9", items=[{"card_id": "card_0009", "amount": 71}])
    )
    assert (over.is_error, over.content, over.source) == (True, TEXT.replace("{value}", "card_0009"), "limit")
    within = engine.answer(
        session(read), act("pay", user_id="u9", items=[{"card_id": "card_0009", "amount": 70}])
    )
    assert not within.is_error


def test_a_failure_the_numbers_now_stay_within_does_not_stick() -> None:
    engine = fit_offline(corpus() + [_retried(i) for i in range(40, 44)])
    read = step("get_wallet", wallet("u9", "card_0009", 70), user_id="u9")
    failed = step(
        "pay",
        TEXT.replace("{value}", "card_0009"),
        True,
        user_id="u9",
        items=[{"card_id": "card_0009", "amount": 90}],
    )
    again = engine.answer(
        session(read, failed), act("pay", user_id="u9", items=[{"card_id": "card_0009", "amount": 60}])
    )
    assert not again.is_error
    still = engine.answer(
        session(read, failed), act("pay", user_id="u9", items=[{"card_id": "card_0009", "amount": 80}])
    )
    assert still.is_error


def _retried(i: int) -> Episode:
    """A payment over the balance, then the same card paying less: the failure does not repeat."""
    ep = paying(i, 150)
    card, uid = f"card_{i:04d}", f"u{i}"
    ok = {"payment_id": f"P{i}", "user_id": uid, "paid": 90}
    return ep.model_copy(
        update={"steps": (*ep.steps, step("pay", ok, user_id=uid, items=[{"card_id": card, "amount": 90}]))}
    )


SHORT = "Error: gift card balance is not enough"


def plan(sid: str, uid: str) -> dict:
    return {"sub_id": sid, "user_id": uid, "seats": 10, "payments": [{"card_id": "card_start", "amount": 10}]}


def adding(i: int, seats: int, balance: int = 50) -> Episode:
    """Read a plan of 10 seats and a wallet, then add seats charging the difference to a gift card: a
    charge above its balance fails (the call itself names no amount)."""
    uid, sid, card = f"u{i}", f"SUB{i:03d}", f"gift_{i:04d}"
    base = plan(sid, uid)
    charge = seats - 10
    payments = [*base["payments"], {"card_id": card, "amount": charge}]
    over = charge > balance
    return Episode(
        trace_id=f"t{i}",
        task=f"add seats to {sid}",
        steps=(
            step("get_plan", base, sub_id=sid),
            step("get_wallet", wallet(uid, card, balance), user_id=uid),
            step(
                "add_seats",
                SHORT if over else {**base, "seats": seats, "payments": payments},
                over,
                **{"sub_id": sid, "seats": seats, "card_id": card},
            ),
        ),
    )


def charged_corpus() -> list[Episode]:
    return [adding(i, seats) for i, seats in enumerate([20, 70, 30, 45, 100, 15, 90, 25, 58, 60, 55])]


CHARGE = ChargeRule(
    list_key="payments",
    name_field="card_id",
    amount_field="amount",
    key="id",
    field="balance",
    template=SHORT,
    where={"kind": "gift"},
    fails=3,
    accuracy=0,
)


def test_fit_learns_the_balance_a_write_may_not_charge_beyond() -> None:
    knowledge = fit_offline(charged_corpus()).knowledge["add_seats"]
    (rule,) = knowledge.charges
    assert rule.model_copy(update={"accuracy": 0}) == CHARGE
    assert rule.accuracy == 11 / 12  # every call foretold, after a pseudo-count
    assert knowledge.limits == ()  # the seats asked are no limit: 55, 58 and 60 seats stay within 50


def test_a_charge_limit_failing_one_card_needs_five_charges_it_let_through() -> None:
    """Two failures, both on one card (the same task run twice): the limit is learned once five charges
    within their cards' balances have tested it from the other side."""
    failed = adding(1, 70)
    twice = [failed, failed.model_copy(update={"trace_id": "t1-again"})]
    within = [adding(i, seats) for i, seats in enumerate([20, 30, 45, 15, 58], start=2)]
    (rule,) = fit_offline(twice + within).knowledge["add_seats"].charges
    assert (rule.fails, rule.template, rule.where) == (1, SHORT, {"kind": "gift"})
    assert fit_offline(twice + within[:4]).knowledge["add_seats"].charges == ()


def test_check_charge_reads_the_appended_item_and_holds_only_like_objects() -> None:
    base: dict[str, Json] = plan("SUB1", "u1")
    answer: dict[str, Json] = {
        **base,
        "payments": [*plan("SUB1", "u1")["payments"], {"card_id": "g1", "amount": 40}],
    }
    gift: dict[str, Json] = {"id": "g1", "kind": "gift", "balance": 30}
    assert check_charge(CHARGE, answer, base, [gift]) == (True, "g1")
    assert check_charge(CHARGE, answer, base, [{**gift, "balance": 40}]) == (True, "")
    assert check_charge(CHARGE, answer, base, [{**gift, "kind": "certificate"}]) == (False, "")
    assert check_charge(CHARGE, base, base, [gift]) == (False, "")  # nothing appended: no charge


def test_engine_fails_a_write_charging_more_than_the_card_the_session_read() -> None:
    engine = fit_offline(charged_corpus())
    reads = (step("get_plan", plan("SUB9", "u9"), sub_id="SUB9"), step("get_wallet", wallet("u9", "g9", 30)))
    over = engine.answer(session(*reads), act("add_seats", sub_id="SUB9", seats=50, card_id="g9"))
    assert (over.is_error, over.content, over.source) == (True, SHORT, "limit")
    within = engine.answer(session(*reads), act("add_seats", sub_id="SUB9", seats=40, card_id="g9"))
    assert not within.is_error
    assert json.loads(within.content)["payments"][-1] == {"card_id": "g9", "amount": 30}
    failed = step("add_seats", SHORT, True, sub_id="SUB9", seats=50, card_id="g9")
    again = engine.answer(session(*reads, failed), act("add_seats", sub_id="SUB9", seats=35, card_id="g9"))
    assert not again.is_error  # the earlier failure does not stick: this charge stays within


def bagging(i: int, bags: int, balance: int = 500) -> Episode:
    """Read a plan with no bags and a wallet, then add bags charging 20 each to a gift card: it never
    failed in train (no charge went beyond the balance)."""
    uid, sid, card = f"v{i}", f"BAG{i:03d}", f"gift_{50 + i:04d}"
    base = {**plan(sid, uid), "bags": 0}
    payments = [*plan(sid, uid)["payments"], {"card_id": card, "amount": 20 * bags}]
    return Episode(
        trace_id=f"v{i}",
        task=f"bags for {sid}",
        steps=(
            step("get_plan", base, sub_id=sid),
            step("get_wallet", wallet(uid, card, balance), user_id=uid),
            step(
                "add_bags", {**base, "bags": bags, "payments": payments}, sub_id=sid, bags=bags, card_id=card
            ),
        ),
    )


def test_a_write_that_never_failed_is_held_to_the_charge_limit_another_write_learned() -> None:
    """Adding bags charges the card named, as adding seats does: a bag fee beyond the gift card's balance
    fails as a seat charge beyond it did, though no bag fee ever failed in train."""
    bags = [bagging(i, n) for i, n in enumerate([1, 2, 3, 1, 2, 4])]
    engine = fit_offline(charged_corpus() + bags)
    (rule,) = engine.knowledge["add_bags"].charges
    assert (rule.source, rule.template, rule.list_key) == ("add_seats", SHORT, "payments")
    reads = (
        step("get_plan", {**plan("BAG9", "u9"), "bags": 0}, sub_id="BAG9"),
        step("get_wallet", wallet("u9", "g9", 30)),
    )
    over = engine.answer(session(*reads), act("add_bags", sub_id="BAG9", bags=2, card_id="g9"))
    assert (over.is_error, over.content, over.source) == (True, SHORT, "limit")
    within = engine.answer(session(*reads), act("add_bags", sub_id="BAG9", bags=1, card_id="g9"))
    assert not within.is_error
    # a bag fee beyond the balance that succeeded in train: the limit is not this write's
    contradicted = fit_offline(charged_corpus() + bags + [bagging(9, 2, balance=10)])
    assert contradicted.knowledge["add_bags"].charges == ()


def test_a_failure_is_eased_by_asking_within_what_the_session_read_of_the_value_it_named() -> None:
    """No train failure taught the balance: the session's own failure (90 asked of a card holding 70)
    does not stick to a call asking 60 of it, but does to one asking 80, or where nothing was read."""
    text = TEXT.replace("{value}", "card_0009")
    card: dict[str, Json] = {"id": "card_0009", "kind": "gift", "balance": 70}

    def paying(amount: int) -> dict[str, Json]:
        return {"user_id": "u9", "items": [{"card_id": "card_0009", "amount": amount}]}

    assert eased(paying(90), text, paying(60), [card])
    assert eased(paying(90), text, paying(70), [{"note": "x"}, card])
    assert not eased(paying(90), text, paying(80), [card])  # still above what the card holds
    assert not eased(paying(90), text, paying(60), [])  # nothing read: the failure may be anything
    assert not eased(paying(90), "Error: card blocked", paying(60), [card])  # it named no card


ROOM = "Error: no room on train {value}"


def _riders(n: int) -> list[Json]:
    return [{"name": f"rider {j}"} for j in range(n)]


def _search(train: str, coach: int) -> Step:
    return step("search_trains", [{"train_id": train, "seats": {"coach": coach, "first": 9}}], day="d1")


def booking(i: int, riders: int, coach: int) -> Episode:
    """Search a train, then book ``riders`` in coach on it: more riders than coach seats fails."""
    train, over = f"TR{i:03d}", riders > coach
    trains: list[Json] = [{"train_id": train, "day": "d1"}]
    answer = ROOM.replace("{value}", train) if over else {"booking_id": f"B{i}", "trains": trains}
    return Episode(
        trace_id=f"b{i}",
        task=f"book {riders}",
        steps=(
            _search(train, coach),
            step("book", answer, over, cabin="coach", trains=trains, riders=_riders(riders)),
        ),
    )


def moving(i: int, riders: int, coach: int) -> Episode:
    """Read a booking of ``riders``, search a train, move the booking onto it; an unknown booking fails."""
    booking_id, train = f"M{i}", f"TR{i:03d}"
    trains: list[Json] = [{"train_id": train, "day": "d1"}]
    read = {"booking_id": booking_id, "riders": _riders(riders), "trains": [{"train_id": "TR999"}]}
    moved = {"booking_id": booking_id, "riders": _riders(riders), "trains": trains}
    return Episode(
        trace_id=f"m{i}",
        task=f"move {booking_id}",
        steps=(
            step("get_booking", read, booking_id=booking_id),
            _search(train, coach),
            step("move", moved, booking_id=booking_id, cabin="coach", trains=trains),
            step("move", "Error: booking X1 not found", True, booking_id="X1", cabin="coach", trains=trains),
        ),
    )


SEATS = LimitRule(
    name="trains[].train_id",
    amount="len(riders)",
    key="train_id",
    field="seats[cabin]",
    template=ROOM,
    fails=2,
    accuracy=0,
    explained=2,
    passed=5,
)


def test_learn_limits_counts_a_list_against_the_entry_an_argument_picks() -> None:
    eps = [
        booking(i, riders, coach)
        for i, (riders, coach) in enumerate([(3, 2), (1, 5), (2, 2), (4, 1), (2, 8), (1, 1), (3, 3)])
    ]
    (rule,) = learn_limits(eps, calls(eps, "book"))
    assert rule.model_copy(update={"accuracy": 0}) == SEATS
    args: dict[str, Json] = {"cabin": "first", "trains": [{"train_id": "TR1"}], "riders": _riders(2)}
    seen: list[dict[str, Json]] = [{"train_id": "TR1", "seats": {"coach": 9, "first": 1}}]
    assert check(rule, args, seen) == (True, "TR1")  # the cabin the call names picks the seats
    assert check(rule, {**args, "cabin": "coach"}, seen) == (True, "")


def test_one_explained_failure_is_enough_when_its_text_names_another_value_unchecked() -> None:
    # the same train fails twice; four bookings within their seats: too few passes alone
    eps = [
        booking(i % 2 * i, riders, coach)
        for i, (riders, coach) in enumerate([(3, 2), (1, 5), (3, 2), (2, 8)])
    ]
    eps += [booking(i, riders, coach) for i, (riders, coach) in enumerate([(1, 1), (3, 3)], start=5)]
    assert learn_limits(eps, calls(eps, "book")) == ()
    elsewhere = {ROOM.replace("{value}", "TR000"), ROOM.replace("{value}", "TR777"), "Error: other"}
    (rule,) = learn_limits(eps, calls(eps, "book"), elsewhere)
    assert (rule.fails, rule.explained, rule.passed) == (2, 1, 4)
    booked = booking(9, 4, 9)  # four riders booked on a train the session read with three seats left
    contradicted = [*eps, booked.model_copy(update={"steps": (_search("TR009", 3), booked.steps[1])})]
    assert learn_limits(contradicted, calls(contradicted, "book"), elsewhere) == ()


def test_one_explained_failure_is_enough_when_the_limit_let_several_calls_through() -> None:
    """Tested on both sides: one train too full, and five bookings within the seats of theirs."""
    passes = [(1, 5), (2, 2), (2, 8), (1, 1), (3, 3)]
    eps = [booking(i, riders, coach) for i, (riders, coach) in enumerate([(3, 2), *passes])]
    (rule,) = learn_limits(eps, calls(eps, "book"))
    assert (rule.fails, rule.explained, rule.passed, rule.support) == (1, 1, 5, 6)
    assert learn_limits(eps[:-1], calls(eps[:-1], "book")) == ()  # four through: too few to trust one failure
    engine = fit_offline(eps)
    full = engine.answer(
        session(_search("TR050", 1)),
        act("book", cabin="coach", trains=[{"train_id": "TR050", "day": "d1"}], riders=_riders(2)),
    )
    assert full == Observation(content=ROOM.replace("{value}", "TR050"), is_error=True, source="limit")


def rail_corpus(*moved: tuple[int, int]) -> list[Episode]:
    """Bookings failing on two trains, and moves (``moved``: riders, coach seats) that never failed so."""
    books = [
        booking(i, riders, coach)
        for i, (riders, coach) in enumerate([(3, 2), (1, 5), (4, 1), (2, 8), (1, 1), (3, 3)])
    ]
    return books + [moving(i, riders, coach) for i, (riders, coach) in enumerate(moved, start=10)]


def test_a_tool_takes_a_limit_another_learned_counting_the_record_it_names() -> None:
    engine = fit_offline(rail_corpus((1, 4), (2, 2), (3, 6), (1, 1)))
    (rule,) = engine.knowledge["move"].limits
    assert (rule.amount, rule.field, rule.source) == ("len(riders)", "seats[cabin]", "book")
    read = step("get_booking", {"booking_id": "M50", "riders": _riders(2), "trains": []}, booking_id="M50")
    trains: list[Json] = [{"train_id": "TR050", "day": "d1"}]
    full = engine.answer(
        session(read, _search("TR050", 1)), act("move", booking_id="M50", cabin="coach", trains=trains)
    )
    assert (full.is_error, full.content, full.source) == (True, ROOM.replace("{value}", "TR050"), "limit")
    room = engine.answer(
        session(read, _search("TR050", 2)), act("move", booking_id="M50", cabin="coach", trains=trains)
    )
    assert not room.is_error
    contradicted = rail_corpus((1, 4), (2, 2), (3, 6), (1, 1), (2, 1))  # two riders moved onto one seat
    assert fit_offline(contradicted).knowledge["move"].limits == ()


def test_the_record_a_call_names_is_matched_by_the_argument_name_first() -> None:
    latest_first: list[dict[str, Json]] = [
        {"booking_id": "MB002", "cabin": "coach", "riders": _riders(3)},
        {"booking_id": "MB001", "cabin": "coach", "riders": _riders(1)},
    ]
    by_name = named_record({"booking_id": "MB001", "cabin": "coach"}, latest_first, "riders")
    assert by_name is not None and by_name["booking_id"] == "MB001"  # not the later booking in the same cabin
    by_value = named_record({"id": "MB001"}, latest_first, "riders")
    assert by_value is not None and by_value["booking_id"] == "MB001"
    assert named_record({"booking_id": "MB001"}, latest_first, "payments") is None
    assert list(
        asks({"booking_id": "MB001", "trains": [{"train_id": "TR1"}]}, SEATS.name, SEATS.amount, latest_first)
    ) == [("TR1", 1.0)]


def test_counts_explaining_the_same_failures_alike_make_one_limit() -> None:
    """Each booking passes as many meals as riders: either count explains every failure; one rule stays."""
    eps = []
    for i, (riders, coach) in enumerate([(3, 2), (1, 5), (2, 2), (4, 1), (2, 8), (1, 1), (3, 3)]):
        search, book = booking(i, riders, coach).steps
        args = {**book.action.arguments, "meals": [{"meal": "veg"}] * riders}
        meals = book.model_copy(update={"action": book.action.model_copy(update={"arguments": args})})
        eps.append(Episode(trace_id=f"b{i}", task="book", steps=(search, meals)))
    (rule,) = learn_limits(eps, calls(eps, "book"))
    assert (rule.name, rule.field, rule.template) == (SEATS.name, SEATS.field, ROOM)
    assert rule.amount in {"len(meals)", "len(riders)"}
