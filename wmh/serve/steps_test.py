import time

import anyio
import pytest

from wmh.core.errors import InvalidActionError
from wmh.core.types import Action, ActionKind, Episode, FaultPlan, FaultRule
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.world_model import WorldModel
from wmh.serve.steps import MAX_DEPTH, check_action, quiet, take_step


def deep(depth: int) -> dict:
    """Arguments ``depth`` levels deep, the arguments object itself being the first."""
    value: object = 1
    for i in range(depth - 1):
        value = {"a": value} if i % 2 else [value]
    return {"a": value}


def test_nesting_is_counted_through_objects_and_lists() -> None:
    check_action(Action(kind=ActionKind.TOOL_CALL, name="t", arguments=deep(MAX_DEPTH)))
    with pytest.raises(InvalidActionError, match="deeper than 64"):
        check_action(Action(kind=ActionKind.TOOL_CALL, name="t", arguments=deep(MAX_DEPTH + 1)))


def test_lone_surrogates_are_refused_valid_pairs_kept() -> None:
    check_action(Action(kind=ActionKind.MESSAGE, content="emoji \U0001f600 é"))
    with pytest.raises(InvalidActionError, match="surrogate"):
        check_action(Action(kind=ActionKind.MESSAGE, content="x\udc00"))


def test_take_step_sleeps_the_latency_the_quiet_model_skips(tiny_episodes: list[Episode]) -> None:
    wm = quiet(WorldModel("m", ReplayBaseline(tiny_episodes)))
    plan = FaultPlan(rules=(FaultRule(tool="ping", latency_ms=80),))
    sid = wm.new_session(faults=plan).id
    ping = Action(kind=ActionKind.TOOL_CALL, name="ping")
    t0 = time.perf_counter()
    wm.step(sid, ping)
    assert time.perf_counter() - t0 < 0.08
    t0 = time.perf_counter()
    after = anyio.run(take_step, wm, sid, ping)
    assert time.perf_counter() - t0 >= 0.08 and len(after.history) == 2
