import pytest

from wmh.cli.progress import RichProgress


def test_finish_keeps_what_was_done_and_the_next_phase_leaves_it() -> None:
    progress = RichProgress(enabled=False)
    with progress:
        progress.phase("optimizing (GEPA)", 200)
        progress.advance(30)
        progress.finish(37)  # GEPA stopped after 37 of its 200 metric calls
        progress.phase("saving")
    search, saving = progress._bar.tasks
    assert (search.completed, search.total) == (37, 200)
    assert saving.completed == saving.total == 1  # a phase not finished explicitly ends full


def test_a_failed_run_leaves_no_bars(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError), RichProgress() as progress:
        progress.phase("reading traces", 10)
        raise ValueError("the error's one line says it all")
    assert capsys.readouterr().err.strip() == ""  # (rich ends a transient display with a bare newline)
