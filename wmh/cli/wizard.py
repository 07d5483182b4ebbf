"""The guided ``wmh build`` a person gets on a terminal with no arguments."""

from __future__ import annotations

from pathlib import Path

import typer

from wmh.cli.common import console
from wmh.config.store import NAME_PATTERN
from wmh.optimize import DEFAULT_BUDGET

Answers = tuple[str, list[Path], str | None, float, int]


def wizard() -> Answers:
    """Ask for trace files, name, split and budget; each answer is checked before moving on."""
    console.print("[bold]wmh build[/]: a few questions (Ctrl-C to stop; --no-interactive never asks)")
    files = _files()
    name = _ask("Name of the world model", Path(files[0]).name.split(".")[0] or "model", _name_ok)
    group = typer.prompt("Trace attribute to split on (blank: by trace)", default="", show_default=False)
    holdout = float(_ask("Share held out for scoring", "0.2", _ratio_ok))
    budget = int(_ask("Optimization budget in metric calls (0 skips)", str(DEFAULT_BUDGET), _int_ok))
    console.print("Engine: offline (no model needed).")
    return name, files, group.strip() or None, holdout, budget


def _files() -> list[Path]:
    while True:
        raw = typer.prompt("Trace files (space-separated)")
        paths = [Path(p) for p in raw.split()]
        missing = [str(p) for p in paths if not p.is_file()]
        if paths and not missing:
            return paths
        console.print(f"[red]not found: {', '.join(missing) or 'nothing given'}[/]")


def _ask(question: str, default: str, ok) -> str:
    while True:
        answer = str(typer.prompt(question, default=default)).strip()
        if ok(answer):
            return answer
        console.print(f"[red]{answer!r} is not valid here[/]")


def _name_ok(s: str) -> bool:
    return bool(NAME_PATTERN.match(s)) and ".." not in s


def _ratio_ok(s: str) -> bool:
    try:
        return 0.0 <= float(s) < 1.0
    except ValueError:
        return False


def _int_ok(s: str) -> bool:
    return s.isdigit()
