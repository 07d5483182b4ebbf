from wmh.engine.offline_json import safe_eval, substitute, substitution_pairs


def test_safe_eval_is_arithmetic_only() -> None:
    assert safe_eval("(2 + 3) * 4 - 1 / 2") == 19.5
    assert safe_eval("-3 ** 2") == -9
    for bad in ("__import__('os')", "2 ** 1000", "1 / 0", "x + 1", "2024-05-20", ""):
        assert safe_eval(bad) is None


def test_new_argument_values_are_carried_into_recorded_answers() -> None:
    pairs = substitution_pairs({"id": "u_1", "n": 200}, {"id": "u_22", "n": 50})
    text = "user u_1 paid 200. (u_1; u_12; 1200)"
    assert substitute(text, pairs, 3) == "user u_22 paid 50. (u_22; u_12; 1200)"
    answer = '{"id": "u_1", "n": 200, "note": "for u_1", "total": 200, "other": "u_12"}'
    assert (
        substitute(answer, pairs, 3)
        == '{"id": "u_22", "n": 50, "note": "for u_22", "total": 200, "other": "u_12"}'
    )
