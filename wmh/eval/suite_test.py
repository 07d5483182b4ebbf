"""evaluate_files: one split, and k-fold by group pooling every held-out step once."""

from __future__ import annotations

from pathlib import Path

import pytest

from wmh.build.split import fold_splits
from wmh.cli.cli_test import write_traces
from wmh.core.errors import UserInputError
from wmh.eval.knowable import knowable_share
from wmh.eval.suite import evaluate_files
from wmh.ingest import ingest_files

TRACES, STEPS_PER_TRACE, GROUPS = 20, 3, 16  # write_traces keys task.id on the trace id's last hex digit


@pytest.fixture
def traces(tmp_path: Path) -> str:
    return str(write_traces(tmp_path / "t.jsonl", n=TRACES))


def test_single_split_has_no_folds(traces: str) -> None:
    out = evaluate_files([traces], group_by="task.id")
    assert out.folds == ()
    assert out.train_traces + out.heldout_traces == TRACES
    assert 0 < out.report.overall.n < TRACES * STEPS_PER_TRACE


def test_folds_pool_every_heldout_step_once(traces: str) -> None:
    out = evaluate_files([traces], group_by="task.id", folds=4)
    total = TRACES * STEPS_PER_TRACE
    assert out.report.overall.n == out.baseline.overall.n == total
    assert out.report.seen.n + out.report.unseen.n == total
    assert len(out.folds) == 4 and [f.fold for f in out.folds] == [0, 1, 2, 3]
    assert sum(f.score.n for f in out.folds) == sum(f.baseline.n for f in out.folds) == total
    assert sum(f.heldout_traces for f in out.folds) == out.heldout_traces == TRACES
    assert sum(f.heldout_groups for f in out.folds) == GROUPS
    assert all(f.train_traces + f.heldout_traces == TRACES for f in out.folds)


def test_fold_zero_is_the_single_split_at_one_over_k(traces: str) -> None:
    folds = evaluate_files([traces], group_by="task.id", folds=4).folds
    single = evaluate_files([traces], group_by="task.id", holdout=1 / 4)
    assert folds[0].score == single.report.overall
    assert folds[0].baseline == single.baseline.overall
    assert (folds[0].train_traces, folds[0].heldout_traces) == (single.train_traces, single.heldout_traces)


def test_knowable_is_pooled_step_weighted(traces: str) -> None:
    out = evaluate_files([traces], group_by="task.id", folds=4)
    splits = fold_splits(ingest_files([traces]).episodes, 4, "task.id")
    weighted = sum(
        knowable_share(s.train, s.heldout) * f.score.n for s, f in zip(splits, out.folds, strict=True)
    )
    assert out.knowable == pytest.approx(weighted / out.report.overall.n)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"folds": 1}, "--folds must be between 2"),
        ({"folds": GROUPS + 1}, "--folds must be between 2"),
        ({"folds": 3, "holdout": 0.3}, "--folds replaces --holdout"),
    ],
)
def test_bad_folds_say_what_to_do(traces: str, kwargs: dict, expected: str) -> None:
    with pytest.raises(UserInputError, match=expected):
        evaluate_files([traces], group_by="task.id", **kwargs)
