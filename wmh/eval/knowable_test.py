from wmh.core.types import Episode
from wmh.engine.offline_test import step
from wmh.eval.knowable import knowable, knowable_share, texts_of


def test_knowable_needs_every_answer_text_in_train_or_the_session() -> None:
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
    assert knowable_share(train, heldout) == 3 / 5
    assert knowable_share(train, []) == 1.0


def test_texts_of_json_and_text() -> None:
    assert texts_of('{"a": ["x", 1, {"b": "y"}], "c": null}') == {"x", "y"}
    assert texts_of("Error: user u_1 not found (404)") == {"Error:", "user", "u_1", "not", "found"}
