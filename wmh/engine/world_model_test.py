import pytest

from wmh.core.errors import InvalidActionError, NotFoundError
from wmh.core.types import Action, ActionKind, Episode
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.world_model import WorldModel


def tool(name: str, **arguments: str) -> Action:
    return Action(kind=ActionKind.TOOL_CALL, name=name, arguments=dict(arguments))


def test_sessions_record_turns(tiny_episodes: list[Episode]) -> None:
    wm = WorldModel("m", ReplayBaseline(tiny_episodes))
    s = wm.new_session(task="hi")
    obs = wm.step(s.id, tool("get_user", id="u2"))
    assert obs.content == '{"id": "u2", "name": "Bob"}' and obs.source == "replay"
    assert wm.step(s.id, tool("ping")).content == "pong"
    assert [t.action.name for t in wm.session(s.id).history] == ["get_user", "ping"]
    assert wm.reset(s.id).history == ()


def test_bad_actions_and_sessions(tiny_episodes: list[Episode]) -> None:
    wm = WorldModel("m", ReplayBaseline(tiny_episodes))
    s = wm.new_session()
    with pytest.raises(InvalidActionError):
        wm.step(s.id, tool(" "))
    with pytest.raises(NotFoundError):
        wm.step("nope", tool("ping"))
    assert wm.step(s.id, tool("nope")).is_error


def test_baseline_most_common_and_exclude(tiny_episodes: list[Episode]) -> None:
    base = ReplayBaseline(tiny_episodes)
    wm = WorldModel("m", base)
    s = wm.new_session()
    assert wm.step(s.id, tool("get_user", id="new")).source == "most-common"
    state = wm.session(s.id)
    assert base.answer(state, tool("get_user", id="u1"), exclude_trace="t1").source == "most-common"
