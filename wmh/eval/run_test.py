from wmh.core.types import Episode
from wmh.engine.baseline import ReplayBaseline
from wmh.eval.run import replay, report, seen_pairs


def test_replay_uses_recorded_history_and_marks_seen(tiny_episodes: list[Episode]) -> None:
    train, held = tiny_episodes[:1], tiny_episodes[1:]
    results = replay(ReplayBaseline(train), held, seen_pairs(train))
    assert [r.index for r in results] == [0, 1, 2]
    assert [r.seen for r in results] == [False, False, True]
    rep = report(results)
    assert rep.overall.n == 3 and rep.seen.n == 1 and rep.unseen.n == 2
    assert rep.per_tool["ping"].exact == 1.0
    assert set(rep.per_file) == {""}


def test_exclude_self_is_leak_free(tiny_episodes: list[Episode]) -> None:
    engine = ReplayBaseline(tiny_episodes)
    leaky = report(replay(engine, tiny_episodes[1:], set()))
    clean = report(replay(engine, tiny_episodes[1:], set(), exclude_self=True))
    assert leaky.overall.exact > clean.overall.exact
