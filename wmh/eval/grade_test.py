from wmh.core.types import Observation
from wmh.eval.grade import grade, json_overlap, summarize, token_f1


def obs(content: str, is_error: bool = False) -> Observation:
    return Observation(content=content, is_error=is_error)


def test_exact_text_and_same_json_in_other_order() -> None:
    assert grade(obs(" ok \n"), obs("ok")).exact == 1.0
    g = grade(obs('{"b": 2, "a": [1, 2]}'), obs('{"a":[1,2],"b":2}'))
    assert (g.exact, g.structural, g.fidelity) == (1.0, 1.0, 1.0)


def test_structural_counts_matching_leaves() -> None:
    g = grade(obs('{"a": 1, "b": {"c": "x", "d": 3}}'), obs('{"a": 1, "b": {"c": "y", "d": 3}}'))
    assert g.exact == 0.0
    assert abs(g.structural - 2 / 3) < 1e-9
    assert "$.b.c" in g.feedback


def test_numbers_within_relative_tolerance_agree() -> None:
    score, _ = json_overlap({"x": 100.0, "y": 1}, {"x": 100.00000001, "y": 1.0})
    assert score == 1.0
    score, _ = json_overlap({"x": 100.0}, {"x": 100.1})
    assert score == 0.0


def test_bool_is_not_a_number() -> None:
    score, _ = json_overlap({"x": True}, {"x": 1})
    assert score == 0.0


def test_text_similarity_for_non_json() -> None:
    assert token_f1("the flight is full", "the flight is full") == 1.0
    assert 0 < token_f1("the flight is full", "the flight is empty") < 1
    assert token_f1("", "") == 1.0
    assert token_f1("abc", "") == 0.0


def test_error_flag_disagreement_halves_fidelity() -> None:
    g = grade(obs("Error: not found", is_error=False), obs("Error: not found", is_error=True))
    assert g.error_flag == 0.0
    assert g.fidelity == 0.5
    assert "error flag differs" in g.feedback


def test_json_versus_text_falls_back_to_text() -> None:
    g = grade(obs('{"a": 1}'), obs("a 1"))
    assert g.exact == 0.0 and 0.0 <= g.structural <= 1.0


def test_summarize_means() -> None:
    s = summarize([grade(obs("a"), obs("a")), grade(obs("a"), obs("b"))])
    assert s.n == 2 and s.exact == 0.5 and s.error_flag == 1.0
    assert summarize([]).n == 0
