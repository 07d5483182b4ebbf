"""A rich progress bar behind the build's Progress callbacks."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from wmh.build.pipeline import Progress as BuildProgress
from wmh.cli.common import err_console


class RichProgress(BuildProgress):
    def __init__(self, enabled: bool = True) -> None:
        self._bar = Progress(
            TextColumn("{task.description:<26}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console,
            disable=not enabled,
            transient=False,
        )
        self._task: TaskID | None = None
        self._finished = False

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self._finish()
        else:  # the error's one line is all the user sees, not the bars of the phases before it
            self._bar.live.transient = True
        self._bar.stop()

    def phase(self, name: str, total: int | None = None) -> None:
        self._finish()
        self._task = self._bar.add_task(name, total=total)
        self._finished = False

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n)

    def finish(self, done: int) -> None:
        """End the phase at ``done`` (its total stays, e.g. GEPA's budget: ``37/200``)."""
        if self._task is not None:
            self._bar.update(self._task, completed=done)
            self._finished = True

    def _finish(self) -> None:
        if self._task is not None and not self._finished:
            task = self._bar.tasks[self._task]
            total = task.total if task.total is not None else 1
            self._bar.update(self._task, total=total, completed=total)
