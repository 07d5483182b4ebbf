"""``wmh examples``: list the shipped examples and run their launchers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from wmh.cli.common import console, fail, one_line_errors

app = typer.Typer(help="Shipped examples: list them, run their launchers.", no_args_is_help=True)


def examples_dir() -> Path:
    """The repository's examples/ (next to the package in a checkout), else ./examples."""
    here = Path(__file__).resolve().parents[2] / "examples"
    return here if here.is_dir() else Path.cwd() / "examples"


def available() -> dict[str, Path]:
    base = examples_dir()
    if not base.is_dir():
        return {}
    return {p.name: p for p in sorted(base.iterdir()) if (p / "run.py").is_file()}


def summary(path: Path) -> str:
    readme = path / "README.md"
    if not readme.is_file():
        return ""
    for line in readme.read_text().splitlines():
        if line.strip():
            return line.lstrip("# ").strip()
    return ""


@app.command("list")
@one_line_errors
def list_examples() -> None:
    """List the examples."""
    found = available()
    if not found:
        console.print(f"no examples found under {examples_dir()}")
    for name, path in found.items():
        console.print(f"[bold]{name}[/]  {summary(path)}")


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@one_line_errors
def run_example(
    ctx: typer.Context,
    task: Annotated[str, typer.Argument(help="Example name, e.g. tau-bench.")],
) -> None:
    """Run an example's launcher: wmh examples run TASK -- ARGS."""
    found = available()
    if task not in found:
        raise fail(f"no example {task!r}; available: {', '.join(found) or 'none'}")
    root = found[task].parents[1]
    code = subprocess.call([sys.executable, str(found[task] / "run.py"), *ctx.args], cwd=root)
    raise typer.Exit(code)
