"""Effects of one tool's success on what another tool reads: learned per reading tool, applied in sessions."""

from __future__ import annotations

import json

from wmh.core.types import Episode, Observation
from wmh.engine.offline import fit_offline
from wmh.engine.offline_effects import EffectRule, apply_effects, learn_effects
from wmh.engine.offline_test import act, session, step


def user(uid: str, orders: list[str]) -> dict:
    return {"user_id": uid, "email": f"{uid}@example.com", "orders": orders}


def shopping(i: int) -> Episode:
    """Read a user, order for them, read them again: the new order is on their list."""
    uid, old, new = f"u{i}", f"O{i}0", f"O{i}1"
    return Episode(
        trace_id=f"t{i}",
        task=f"order for {uid}",
        steps=(
            step("get_user", user(uid, [old]), user_id=uid),
            step("order", {"order_id": new, "user_id": uid, "item": "book"}, user_id=uid, item="book"),
            step("get_user", user(uid, [old, new]), user_id=uid),
        ),
    )


def calls(eps: list[Episode], tool: str) -> list:
    return [(e, p, s) for e, ep in enumerate(eps) for p, s in enumerate(ep.steps) if s.action.name == tool]


def test_learn_effects_finds_which_write_adds_what_to_which_list() -> None:
    eps = [shopping(i) for i in range(3)]
    rule = EffectRule(
        writer="order", arg="user_id", key="user_id", field="order_id", path="orders", hits=3, reads=3
    )
    assert learn_effects(eps, calls(eps, "get_user")) == (rule,)
    assert learn_effects(eps, calls(eps, "order")) == ()  # its answer has no list


def test_learn_effects_needs_the_list_to_hold_the_value_after_writes() -> None:
    eps = [shopping(i) for i in range(3)]
    stale = [
        ep.model_copy(
            update={
                "steps": (
                    *ep.steps[:2],
                    step("get_user", user("u", []), user_id=ep.steps[0].action.arguments["user_id"]),
                )
            }
        )
        for ep in eps
    ]
    assert learn_effects(stale, calls(stale, "get_user")) == ()


def test_apply_effects_appends_once_and_only_for_the_named_object() -> None:
    rule = EffectRule(
        writer="order", arg="user_id", key="user_id", field="order_id", path="orders", hits=3, reads=3
    )
    mine = ("order", {"user_id": "u9"}, Observation(content=json.dumps({"order_id": "O91"})))
    theirs = ("order", {"user_id": "u8"}, Observation(content=json.dumps({"order_id": "O81"})))
    failed = ("order", {"user_id": "u9"}, Observation(content="Error: out of stock", is_error=True))
    answer = user("u9", ["O90"])
    assert apply_effects(answer, {"user_id": "u9"}, [rule], [mine, theirs, failed, mine])
    assert answer["orders"] == ["O90", "O91"]
    assert not apply_effects(answer, {"user_id": "u9"}, [rule], [mine])


def test_engine_shows_a_new_order_on_the_users_next_read() -> None:
    engine = fit_offline([shopping(i) for i in range(3)])
    read = step("get_user", user("u7", ["O70"]), user_id="u7")
    ordered = step("order", {"order_id": "O71", "user_id": "u7", "item": "pen"}, user_id="u7", item="pen")
    again = json.loads(engine.answer(session(read, ordered), act("get_user", user_id="u7")).content)
    assert again["orders"] == ["O70", "O71"]
    before = json.loads(engine.answer(session(read), act("get_user", user_id="u7")).content)
    assert before["orders"] == ["O70"]
