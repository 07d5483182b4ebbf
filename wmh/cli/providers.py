"""``wmh providers``: list the registered providers and check the configured ones.

Mount with ``app.add_typer(providers.app, name="providers")`` in ``wmh.cli.main``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from wmh.cli.common import console, one_line_errors
from wmh.providers.registry import ENTRIES, get_entry
from wmh.providers.verify import VerifyRow, verify_providers

app = typer.Typer(help="Model providers: list them, check the configured ones.", no_args_is_help=True)

_STYLE = {"pass": "[green]pass[/]", "fail": "[bold red]fail[/]", "skipped": "[dim]skipped[/]"}


@app.command("list")
@one_line_errors
def list_providers() -> None:
    """The registered providers, their default models and the variables they read."""
    table = Table("provider", "default model", "needs", "configured", "description")
    for entry in ENTRIES.values():
        missing = entry.missing_env()
        table.add_row(
            entry.name, entry.default_model or "(pass --model)", " ".join(entry.env) or "-",
            "yes" if not missing else "no", entry.description,
        )  # fmt: skip
    console.print(table)


@app.command("verify")
@one_line_errors
def verify(
    provider: Annotated[
        list[str] | None, typer.Option("--provider", "-p", help="Check only these (repeatable).")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Model to call instead of the default.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per call.")] = 60.0,
) -> None:
    """One minimal real call per configured provider; exits 1 if a configured one fails."""
    for name in provider or ():
        get_entry(name)
    rows = verify_providers(provider or None, model=model, timeout_s=timeout)
    console.print(render(rows))
    if any(row.status == "fail" for row in rows):
        raise typer.Exit(1)


def render(rows: list[VerifyRow]) -> Table:
    table = Table("provider", "status", "model", "detail", "seconds")
    for row in rows:
        seconds = f"{row.seconds:.2f}" if row.seconds is not None else ""
        table.add_row(row.name, _STYLE[row.status], row.model, row.detail, seconds)
    return table
