"""``wmh build``: traces in, a saved world model out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from wmh.build.pipeline import (
    DEFAULT_PROMPT_BUDGET,
    BuildRequest,
    BuildSummary,
    build_world_model,
    check_options,
)
from wmh.cli.common import (
    EngineOption,
    ModelOption,
    ProviderOption,
    RootOption,
    console,
    fail,
    is_tty,
    one_line_errors,
    print_skipped,
    print_warnings,
    store_for,
)
from wmh.cli.progress import RichProgress
from wmh.cli.wizard import wizard
from wmh.engine.choice import resolve_choice
from wmh.optimize import DEFAULT_BUDGET


@one_line_errors
def build(
    name: Annotated[str | None, typer.Option("--name", "-n", help="Name of the world model.")] = None,
    file: Annotated[list[Path] | None, typer.Option("--file", "-f", help="Trace file (repeatable).")] = None,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help="Trace attribute to split on, e.g. a task id.")
    ] = None,
    holdout: Annotated[float, typer.Option("--holdout", help="Share of traces/groups held out.")] = 0.2,
    budget: Annotated[
        int, typer.Option("--budget", envvar="WMH_BUDGET", help="GEPA metric calls (0 skips optimization).")
    ] = DEFAULT_BUDGET,
    prompt_budget: Annotated[
        int,
        typer.Option(
            "--prompt-budget", help="GEPA episodes for the LLM environment prompt (llm/hybrid; 0 skips)."
        ),
    ] = DEFAULT_PROMPT_BUDGET,
    no_interactive: Annotated[bool, typer.Option("--no-interactive", help="Never prompt.")] = False,
    from_collected: Annotated[
        bool,
        typer.Option("--from-collected", help="Also read the traces `wmh serve` received at /v1/traces."),
    ] = False,
    engine: EngineOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    root: RootOption = None,
) -> None:
    """Build a world model from OpenTelemetry trace files (offline engine unless --provider/--engine)."""
    file = [*(file or []), *(_collected(root) if from_collected else [])]
    if not name and not file and not no_interactive and is_tty():
        name, file, group_by, holdout, budget = wizard()
    if not name or not file:
        raise fail(
            "wmh build needs --name NAME and at least one --file TRACES, e.g. "
            "wmh build --name airline --file examples/tau-bench/traces.otel.jsonl"
        )
    check_options(holdout, budget, prompt_budget)
    request = BuildRequest(
        name=name,
        files=tuple(str(f) for f in file),
        group_by=group_by,
        holdout=holdout,
        budget=budget,
        engine=resolve_choice(engine, provider, model),
        prompt_budget=prompt_budget,
    )
    with RichProgress() as progress:
        summary = build_world_model(request, store_for(root), progress)
    render_summary(summary)


def _collected(root: Path | None) -> list[Path]:
    from wmh.serve.otlp import collected_files

    found = collected_files(store_for(root).root)
    if not found:
        raise fail(
            f"no collected traces under {store_for(root).root}/collected; point an OTLP exporter at "
            "`wmh serve` (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:8000) first"
        )
    return found


def render_summary(summary: BuildSummary) -> None:
    m = summary.manifest
    print_skipped(summary.problems)
    table = Table(title=f"world model {m.name!r}", show_header=False, title_justify="left")
    table.add_row("spans", str(m.spans))
    table.add_row("bad lines/spans skipped", str(m.bad_items))
    table.add_row("traces", str(m.traces))
    table.add_row("steps", str(m.steps))
    table.add_row("tools", str(len(m.tools)))
    s = m.split
    split_on = f"by {s.group_by}" if s.group_by else "by trace"
    table.add_row(
        "train / held-out",
        f"{s.train_traces} / {s.heldout_traces} traces ({split_on}), "
        f"{s.train_steps} / {s.heldout_steps} steps",
    )
    h, b = m.metrics.heldout, m.metrics.baseline
    if h.n:
        table.add_row(
            "held-out fidelity",
            f"{h.fidelity:.3f}  (exact {h.exact:.3f}, structural "
            f"{h.structural:.3f}, error flag {h.error_flag:.3f}; baseline {b.fidelity:.3f})",
        )
    else:
        table.add_row("held-out fidelity", "n/a (no held-out steps)")
    o = m.optimization
    if o is not None:
        held = (
            f"held-out {o.heldout_base:.3f} -> {o.heldout_best:.3f}, " if o.heldout_best is not None else ""
        )
        table.add_row(
            "optimization (GEPA)",
            f"{held}validation {o.val_base:.3f} -> {o.val_best:.3f}; "
            f"{o.rollouts} of {o.budget} metric calls, {o.candidates} candidates, frontier {o.frontier}",
        )
    table.add_row(
        "engine", m.engine if not m.provider else f"{m.engine} ({m.provider} {m.model or 'default model'})"
    )
    table.add_row("saved to", summary.path)
    console.print(table)
    print_warnings(summary.warnings)
