import threading

import pytest

from wmh.core.errors import NotFoundError
from wmh.core.types import Action, ActionKind, FaultPlan, Observation, SessionState, Turn
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.world_model import WorldModel
from wmh.sessions.sqlite import SqliteDatabase


def turn(i: int) -> Turn:
    return Turn(
        action=Action(kind=ActionKind.TOOL_CALL, name=f"t{i}"), observation=Observation(content=str(i))
    )


def test_round_trip_reset_delete_and_reopen(tmp_path) -> None:
    db = SqliteDatabase(tmp_path / "s.db")
    a, b = db.store("a"), db.store("b")
    state = SessionState(id="s1", model="a", task="t", seed=4, faults=FaultPlan(seed=9))
    a.put(state)
    for i in range(3):
        state = state.with_turn(turn(i))
        a.put(state)
    assert a.get("s1") == state and a.ids() == ["s1"] and b.ids() == []
    a.put(state.model_copy(update={"history": state.history[:1]}))
    assert a.get("s1").history == state.history[:1]
    db.close()
    db = SqliteDatabase(tmp_path / "s.db")
    assert db.store("a").get("s1").history == state.history[:1]
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.store("a").delete("s1")
    with pytest.raises(NotFoundError):
        db.store("a").get("s1")
    with pytest.raises(NotFoundError):
        db.store("a").delete("s1")


def test_concurrent_steps_on_one_session_are_serialized(tmp_path, tiny_episodes) -> None:
    db = SqliteDatabase(tmp_path / "s.db")
    wm = WorldModel("m", ReplayBaseline(tiny_episodes), sessions=db.store("m"))
    sid = wm.new_session().id
    ping = Action(kind=ActionKind.TOOL_CALL, name="ping")
    threads = [threading.Thread(target=lambda: [wm.step(sid, ping) for _ in range(10)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wm.session(sid).history) == 40
