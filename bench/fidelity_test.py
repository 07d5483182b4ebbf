from bench.fidelity import sources, table
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
