from bench.fidelity import knowable, sources, table
from wmh.core.types import Episode
from wmh.engine.offline_test import step
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


def test_knowable_needs_every_answer_string_in_train_or_the_session() -> None:
    train = [Episode(trace_id="a", task="t", steps=(step("get", {"id": "X1", "name": "Ann"}, id="X1"),))]
    heldout = [
        Episode(
            trace_id="b",
            task="about Y2",
            steps=(
                step("get", {"id": "X1", "name": "Ann"}, id="X1"),  # all in train
                step("get", {"id": "Y2", "name": "Bob"}, id="Y2"),  # Bob is nowhere before
                step("get", {"id": "Y2", "name": "Bob", "n": 7}, id="Y2"),  # the session showed Bob
                step("calc", "Error: bad Zed", True, x="1"),  # a text answer's words count
                step("calc", "12.5", x="10 + 2.5"),  # numbers may be computed: not checked
            ),
        )
    ]
    assert knowable(train, heldout) == [True, False, True, False, True]
