"""``wmh list``: the world models under the root."""

from __future__ import annotations

from rich.table import Table

from wmh.cli.common import RootOption, console, one_line_errors, store_for
from wmh.core.errors import WmhError


@one_line_errors
def list_models(root: RootOption = None) -> None:
    """List the built world models."""
    store = store_for(root)
    names = store.folders()
    if not names:
        console.print(f"no world models under {store.root}; build one with `wmh build --name N --file F`")
        return
    table = Table("name", "engine/provider", "steps", "tools", "held-out", "rollouts", "frontier", "built at")
    damaged = []
    for name in names:
        try:
            m = store.manifest(name)
        except WmhError:
            damaged.append(name)
            table.add_row(name, "[red]damaged[/]", "", "", "", "", "", "")
            continue
        engine = m.engine if not m.provider else f"{m.engine}/{m.provider}"
        score = f"{m.metrics.heldout.fidelity:.3f}" if m.metrics.heldout.n else "n/a"
        o = m.optimization
        rollouts, frontier = (str(o.rollouts), str(o.frontier)) if o else ("-", "-")
        table.add_row(
            name,
            engine,
            str(m.steps),
            str(len(m.tools)),
            score,
            rollouts,
            frontier,
            m.built_at[:16].replace("T", " "),
        )
    console.print(table)
    if damaged:
        console.print(
            f"damaged: {', '.join(damaged)}; rebuild, or delete with `wmh rm NAME --yes`", highlight=False
        )
