"""``wmh show`` (what a world model is and what it learned per tool) and ``wmh rm``."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from wmh.cli.common import RootOption, console, fail, is_tty, one_line_errors, store_for
from wmh.config.manifest import Manifest
from wmh.engine.describe import describe, summary, unseen_tools
from wmh.engine.offline import load_offline


@one_line_errors
def show(
    name: Annotated[str, typer.Argument(help="The world model.")],
    tool: Annotated[str | None, typer.Option("--tool", help="Only this tool.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    root: RootOption = None,
) -> None:
    """Show a world model: its sources, split and scores, and what it learned about each tool."""
    store = store_for(root)
    path = store.resolve(name)
    manifest = store.manifest(name)
    engine = load_offline(path / "engine")
    tools = sorted(engine.knowledge)
    if tool is not None:
        if tool not in engine.knowledge:
            raise fail(f"world model {name!r} has no tool {tool!r}; its tools: {', '.join(tools)}")
        tools = [tool]
    learned = {t: (summary(engine.knowledge[t]), describe(engine.knowledge[t], engine.config)) for t in tools}
    if as_json:
        body = {
            "manifest": manifest.model_dump(mode="json"),
            "tools": {t: {"summary": s, "rules": rules} for t, (s, rules) in learned.items()},
            "unseen_tools": unseen_tools(engine.novel, engine.config),
        }
        typer.echo(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
        return
    if tool is None:
        console.print(_overview(manifest))
        console.print(f"\n[bold]other tools[/]: {unseen_tools(engine.novel, engine.config)}", highlight=False)
    for t, (line, rules) in learned.items():
        console.print(f"\n[bold]{t}[/]: {line}", highlight=False, soft_wrap=True)
        for rule in rules or ["(no rule: exact replay, else analogy from the nearest recorded calls)"]:
            console.print(f"  - {rule}", highlight=False, soft_wrap=True)


def _overview(m: Manifest) -> Table:
    table = Table(show_header=False)
    engine = m.engine if not m.provider else f"{m.engine}/{m.provider}" + (f" ({m.model})" if m.model else "")
    table.add_row("world model", f"{m.name}  (engine {engine}, built {m.built_at[:16].replace('T', ' ')})")
    for s in m.sources:
        table.add_row("source", f"{s.path}  ({s.spans} spans, {s.steps} steps, {s.problems} problems)")
    sp = m.split
    by = f" by {sp.group_by}" if sp.group_by else ""
    table.add_row(
        "train / held-out",
        f"{sp.train_traces} / {sp.heldout_traces} traces{by}, {sp.train_steps} / {sp.heldout_steps} steps",
    )
    h = m.metrics.heldout
    if h.n:
        table.add_row(
            "held-out",
            f"fidelity {h.fidelity:.3f} (exact {h.exact:.3f}, structural {h.structural:.3f}, "
            f"error flag {h.error_flag:.3f}; baseline {m.metrics.baseline.fidelity:.3f})",
        )
    table.add_row("tools", f"{len(m.tools)}: {', '.join(m.tools)}")
    return table


@one_line_errors
def remove(
    name: Annotated[str, typer.Argument(help="The world model to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    root: RootOption = None,
) -> None:
    """Delete a world model (every version of it) from the root."""
    store = store_for(root)
    path = store.folder(name)
    if not yes:
        if not is_tty():
            raise fail(f"deleting {name!r} needs confirmation: rerun with --yes")
        typer.confirm(f"delete world model {name!r} ({path})?", abort=True)
    store.delete(name)
    console.print(f"deleted world model {name!r} from {store.root}")
