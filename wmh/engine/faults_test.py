from wmh.core.types import Action, ActionKind, FaultPlan, FaultRule, SessionState, Turn
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.faults import FAULT_SOURCE, decide, unit_draw
from wmh.engine.world_model import WorldModel


def tool(name: str) -> Action:
    return Action(kind=ActionKind.TOOL_CALL, name=name)


def test_nth_call_and_wildcard(tiny_episodes) -> None:
    plan = FaultPlan(rules=(FaultRule(tool="ping", error_on_calls=(2,)), FaultRule(tool="*", latency_ms=5)))
    slept: list[float] = []
    wm = WorldModel("m", ReplayBaseline(tiny_episodes), sleep=slept.append)
    s = wm.new_session(faults=plan)
    sources = [wm.step(s.id, tool(t)).source for t in ("ping", "get_user", "ping", "ping")]
    assert sources == ["replay", "most-common", FAULT_SOURCE, "replay"]
    assert slept == [0.005] * 4
    assert wm.session(s.id).history[2].observation.content == "Error: injected fault"


def test_rate_is_seeded_and_replays() -> None:
    plan = FaultPlan(seed=11, rules=(FaultRule(tool="x", error_rate=0.3),))
    state = SessionState(id="s")
    fails = []
    for _ in range(200):
        d = decide(plan, state, tool("x"))
        fails.append(d.error is not None)
        state = state.with_turn(Turn(action=tool("x"), observation=d.error or _ok()))
    assert 40 < sum(fails) < 80
    again = [unit_draw(11, "x", n) < 0.3 for n in range(1, 201)]
    assert fails == again
    assert fails != [unit_draw(12, "x", n) < 0.3 for n in range(1, 201)]


def test_messages_and_other_tools_untouched() -> None:
    plan = FaultPlan(rules=(FaultRule(tool="x", error_on_calls=(1,)),))
    assert decide(plan, SessionState(id="s"), tool("y")).error is None
    msg = Action(kind=ActionKind.MESSAGE, content="hi")
    assert decide(plan, SessionState(id="s"), msg).error is None


def _ok():
    from wmh.core.types import Observation

    return Observation(content="ok")
