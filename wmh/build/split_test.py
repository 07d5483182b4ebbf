import pytest

from wmh.build.split import bucket, fold_splits, split_episodes
from wmh.core.errors import UserInputError
from wmh.core.types import Episode


def eps(n: int, groups: int) -> list[Episode]:
    return [Episode(trace_id=f"t{i:03d}", attributes={"task": f"g{i % groups}"}) for i in range(n)]


def test_bucket_is_stable() -> None:
    assert bucket("abc") == bucket("abc")
    assert 0 <= bucket("x") < 1
    assert bucket("abc") != bucket("abd")


def test_split_by_trace_meets_ratio_and_is_order_independent() -> None:
    episodes = eps(50, 50)
    a = split_episodes(episodes, 0.2)
    b = split_episodes(list(reversed(episodes)), 0.2)
    assert len(a.heldout) == 10
    assert {e.trace_id for e in a.heldout} == {e.trace_id for e in b.heldout}


def test_split_by_group_keeps_groups_whole() -> None:
    s = split_episodes(eps(40, 10), 0.2, group_by="task")
    held = {e.attributes["task"] for e in s.heldout}
    train = {e.attributes["task"] for e in s.train}
    assert len(held) == 2 and not held & train
    assert s.groups_total == 10 and s.groups_heldout == 2


def test_missing_group_attribute_falls_back_to_trace_id() -> None:
    episodes = [Episode(trace_id="a"), Episode(trace_id="b"), Episode(trace_id="c", attributes={"task": "x"})]
    s = split_episodes(episodes, 0.5, group_by="task")
    assert s.groups_total == 3


@pytest.mark.parametrize("folds", [None, 2])
def test_group_key_no_trace_has_is_an_error(folds: int | None) -> None:
    episodes = eps(6, 3)
    with pytest.raises(UserInputError, match=r"no trace has attribute 'nope'; attributes seen: task$"):
        if folds is None:
            split_episodes(episodes, 0.5, group_by="nope")
        else:
            fold_splits(episodes, folds, group_by="nope")


@pytest.mark.parametrize("holdout", [1.0, -1.0, 2.0, float("nan")])
def test_bad_holdout_values(holdout: float) -> None:
    with pytest.raises(UserInputError, match=r"--holdout must be in \[0, 1\)"):
        split_episodes(eps(5, 5), holdout)


def test_zero_holdout_and_bad_ratio() -> None:
    assert not split_episodes(eps(5, 5), 0.0).heldout
    with pytest.raises(UserInputError, match="--holdout"):
        split_episodes(eps(5, 5), 1.5)


def test_folds_hold_out_every_group_once() -> None:
    episodes = eps(60, 13)
    folds = fold_splits(episodes, 5, group_by="task")
    assert len(folds) == 5
    held = [task for s in folds for task in {e.attributes["task"] for e in s.heldout}]
    assert sorted(held) == sorted({e.attributes["task"] for e in episodes})  # each group exactly once
    for s in folds:
        assert len(s.train) + len(s.heldout) == 60
        assert not {e.attributes["task"] for e in s.heldout} & {e.attributes["task"] for e in s.train}
        assert s.holdout == 0.2 and s.groups_total == 13 and s.groups_heldout in (2, 3)


@pytest.mark.parametrize(("groups", "k"), [(50, 5), (13, 5), (10, 4), (9, 2), (7, 3), (5, 5)])
def test_fold_zero_is_split_episodes_at_one_over_k(groups: int, k: int) -> None:
    episodes = eps(3 * groups, groups)
    first = fold_splits(episodes, k, group_by="task")[0]
    assert first == split_episodes(episodes, 1 / k, group_by="task")


def test_folds_are_deterministic_and_order_independent() -> None:
    episodes = eps(40, 11)
    a = fold_splits(episodes, 4, group_by="task")
    b = fold_splits(list(reversed(episodes)), 4, group_by="task")
    assert [{e.trace_id for e in s.heldout} for s in a] == [{e.trace_id for e in s.heldout} for s in b]
    assert a == fold_splits(episodes, 4, group_by="task")


@pytest.mark.parametrize("k", [0, 1, 6])
def test_bad_fold_count(k: int) -> None:
    with pytest.raises(UserInputError, match="--folds"):
        fold_splits(eps(10, 5), k, group_by="task")
