"""The sentences ``wmh show`` prints for what the offline engine learned."""

from __future__ import annotations

from wmh.engine.describe import describe, summary, unseen_tools
from wmh.engine.offline import fit_offline
from wmh.engine.offline_chain import ChainRule
from wmh.engine.offline_config import OfflineConfig
from wmh.engine.offline_cutoff import CutoffRule
from wmh.engine.offline_knowledge import (
    NovelErrorRule,
    NumericCheckRule,
    StateErrorRule,
    StickyErrorRule,
    ToolKnowledge,
)
from wmh.engine.offline_limits_test import bagging, charged_corpus, corpus, rail_corpus
from wmh.engine.offline_novel import NovelToolRule

CFG = OfflineConfig()


def knowledge(**rules: object) -> ToolKnowledge:
    base = ToolKnowledge(name="cancel", calls=20, error_rate=0.25, common="ok", common_share=0.5)
    return base.model_copy(update=rules)


def test_describe_says_what_a_rule_does_and_how_often_it_held() -> None:
    state = StateErrorRule(
        arg="order_id",
        key="order_id",
        field="status",
        value="closed",
        template="Error: closed",
        rate=0.9,
        support=5,
    )
    lines = describe(knowledge(state_errors=(state,)), CFG)
    assert lines == [
        "error: a call on an object whose status is 'closed' (named by order_id) fails with 'Error: closed' (90%)"
    ]
    assert summary(knowledge()) == "20 recorded calls, 25% failed; most common answer (50%): 'ok'"


def test_describe_leaves_out_rules_below_the_configured_thresholds() -> None:
    weak = StateErrorRule(
        arg="order_id", key="order_id", field="status", value="open", template="Error: x", rate=0.2, support=5
    )
    untested = StickyErrorRule(arg="", hits=0, opportunities=0)
    lines = describe(knowledge(state_errors=(weak,), sticky_errors=(untested,)), CFG)
    assert lines == [
        "sticky error: after a failure, a call still naming what the error named fails the same way "
        "(untested in train: assumed)"
    ]
    strict = CFG.model_copy(update={"sticky_prior": 0.0})
    assert describe(knowledge(state_errors=(weak,), sticky_errors=(untested,)), strict) == []


def test_describe_a_fitted_engine() -> None:
    engine = fit_offline(corpus())
    lines = describe(engine.knowledge["pay"], engine.config)
    assert any(
        line.startswith(
            "limit: a items[].amount above the balance of the object whose id is the call's items[].card_id"
        )
        for line in lines
    ), lines
    assert not any(
        line.startswith("limit") for line in describe(engine.knowledge["get_wallet"], engine.config)
    )


def test_describe_a_count_limit_and_the_tool_that_taught_it() -> None:
    engine = fit_offline(rail_corpus((1, 4), (2, 2), (3, 6)))
    said = (
        "limit: a count of riders above the seats entry the call's cabin picks of the object whose train_id is "
        "the call's trains[].train_id fails with 'Error: no room on train {value}'"
    )
    assert f"{said} (as book failed)" in describe(engine.knowledge["move"], engine.config)
    assert any(line.startswith(said) for line in describe(engine.knowledge["book"], engine.config))


def test_describe_a_charge_limit_and_what_decides_an_appended_item() -> None:
    engine = fit_offline(charged_corpus())
    lines = describe(engine.knowledge["add_seats"], engine.config)
    assert (
        "charge limit: a write adding to payments an item whose amount is above the balance of the object "
        "with kind 'gift' its card_id names (by id) fails with 'Error: gift card balance is not enough' "
        "(92% of calls foretold)"
    ) in lines, lines
    assert any(line.startswith("template: ") and "payments gains an item" in line for line in lines), lines


def test_describe_what_one_write_learned_from_another() -> None:
    """A carried charge limit names the write that taught it; a carried price, the write charging it."""
    engine = fit_offline(charged_corpus() + [bagging(i, n) for i, n in enumerate([1, 2, 3, 1, 2, 4])])
    (line,) = [x for x in describe(engine.knowledge["add_bags"], engine.config) if x.startswith("charge")]
    assert line.endswith("fails with 'Error: gift card balance is not enough' (as add_seats failed)"), line
    rule = NumericCheckRule(
        paid="sum:arg.payments.amount",
        terms=(("join:items.price", 1.0), ("arg.bags", 25.0)),
        template="Error: total is {total}, but paid {paid}",
        accuracy=1.0,
        support=9,
        carried=(("arg.bags", "set_bags"),),
    )
    assert describe(knowledge(numeric_check=rule), CFG) == [
        "numeric check: fails with 'Error: total is {total}, but paid {paid}' unless sum:arg.payments.amount "
        "= 1 x join:items.price + 25 x arg.bags (100% of 9 calls; arg.bags priced as set_bags charges it)"
    ]


def test_describe_a_never_seen_value_that_fails_only_when_mistyped() -> None:
    rule = NovelErrorRule(
        arg="user_id", template="Error: no user", rate=0.1, support=3, near_rate=0.8, near_support=4
    )
    assert describe(knowledge(novel_errors=(rule,)), CFG) == [
        "error: a user_id never seen before, with the characters of one seen in another order (a mistyped "
        "id), fails with 'Error: no user' (80%)"
    ]


def test_describe_tells_a_cutoff_with_its_day() -> None:
    rule = CutoffRule(
        path="date",
        last="2024-05-15",
        first_other="2024-05-17",
        template="[]",
        is_error=False,
        calls=11,
        later_share=0.1,
    )
    (line,) = describe(knowledge(cutoffs=(rule,)), CFG)
    assert line.startswith("cutoff: a call whose date is in the past (on or before 2024-05-15")
    assert line.endswith("answers '[]' (all 11 such calls; 10% of later ones)")
    assert describe(knowledge(cutoffs=(rule.model_copy(update={"calls": 1}),)), CFG) == []


def test_describe_says_how_a_chain_links_and_orders_its_objects() -> None:
    chain = ChainRule(
        length=2,
        item_keys=("num", "from", "to", "dep", "arr"),
        at=((0, "frm", "from"), (1, "to", "to")),
        links=(("to", "from"),),
        before=(("arr", "dep"),),
        ties=(("arr", "dep"),),
        id_key="num",
        support=12,
    )
    assert describe(knowledge(chain=chain), CFG) == [
        "chain: lists chains of 2 known objects linked by to = next from, arr at or before next dep (12 chains)"
    ]


def test_unseen_tools_says_what_a_call_to_a_tool_train_never_called_gets() -> None:
    assert unseen_tools(NovelToolRule(), CFG) == "a tool no train call used fails as an unknown tool"
    real = NovelToolRule(rare=4, rare_ok=3, declared=("toggle_wifi",))
    assert unseen_tools(real, CFG) == (
        "a tool no train call used succeeds, answering as the known tool whose name shares most words with "
        "it (3 of 4 tools train called in one trace only succeeded on their first call); offered but never "
        "called, so taken to exist: toggle_wifi"
    )
    made_up = NovelToolRule(rare=3, rare_ok=0, error_template="Unknown action {value}", error_support=3)
    assert unseen_tools(made_up, CFG) == (
        "a tool no train call used fails with 'Unknown action {value}' (0 of 3 tools train called in one "
        "trace only succeeded on their first call; 3 failed so)"
    )
