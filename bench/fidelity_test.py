import json

import pytest

from bench.fidelity import GROUP_BY, cross_validate, sources, table
from wmh.core.types import Action, ActionKind, Episode, Observation, Step
from wmh.eval.grade import Score


def test_table_shows_both_engines_and_ratios() -> None:
    base = Score(n=10, exact=0.25, structural=0.5, error_flag=0.9, fidelity=0.45)
    ours = Score(n=10, exact=0.5, structural=0.75, error_flag=0.9, fidelity=0.7)
    text = table({"overall": (base, ours), "empty": (Score(), Score())})
    lines = text.splitlines()
    assert "exact" in lines[0] and "base" in lines[1] and "offl" in lines[1]
    assert "0.250  0.500   2.00x" in lines[2] and "1.00x" in lines[2]
    assert lines[3].split()[-1] == "="
    assert len({len(line) for line in lines}) == 1  # columns line up


def test_sources_counts_strategies() -> None:
    assert sources([]) == ""


def _corpus(tasks: int = 10, trials: int = 2) -> list[Episode]:
    """Synthetic episodes: each task run ``trials`` times, its order looked up and then cancelled."""

    def step(name: str, oid: str, status: str) -> Step:
        return Step(
            action=Action(kind=ActionKind.TOOL_CALL, name=name, arguments={"order_id": oid}),
            observation=Observation(content=json.dumps({"order_id": oid, "status": status})),
        )

    return [
        Episode(
            trace_id=f"t{task}-{trial}",
            task=f"cancel order O{task}",
            attributes={GROUP_BY: f"task-{task}"},
            steps=(step("get_order", f"O{task}", "open"), step("cancel_order", f"O{task}", "cancelled")),
        )
        for task in range(tasks)
        for trial in range(trials)
    ]


def test_cross_validate_prints_each_fold_and_pools_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    episodes = _corpus()
    base, ours = cross_validate("synthetic", episodes, 5)
    lines = capsys.readouterr().out.splitlines()
    assert "5-fold" in lines[1] and "each task held out once" in lines[1]
    assert sum(line.strip().startswith("fold ") for line in lines) == 5
    assert any(line.strip().startswith("pooled (5 folds)") for line in lines)
    assert ours.overall.n == base.overall.n == sum(len(ep.steps) for ep in episodes) == 40
