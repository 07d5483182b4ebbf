"""``wmh eval``: fit on the train part of trace files, replay the held-out part, report fidelity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from wmh.cli.common import (
    EngineOption,
    ModelOption,
    ProviderOption,
    RootOption,
    console,
    err_console,
    one_line_errors,
    print_skipped,
    print_warnings,
    store_for,
)
from wmh.engine.choice import resolve_choice
from wmh.eval.grade import Score
from wmh.eval.suite import EvalOutcome, FoldSummary, evaluate_files


@one_line_errors
def eval_files(
    files: Annotated[list[Path], typer.Argument(help="Trace files.")],
    group_by: Annotated[str | None, typer.Option("--group-by", help="Trace attribute to split on.")] = None,
    holdout: Annotated[
        float | None, typer.Option("--holdout", help="Share held out (default 0.2); not with --folds.")
    ] = None,
    folds: Annotated[
        int | None,
        typer.Option(
            "--folds",
            help="K-fold by group (K >= 2): each group held out once, tables pool all held-out steps. "
            "Replaces --holdout (giving both is an error).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    engine: EngineOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    root: RootOption = None,
) -> None:
    """Score an engine (offline by default) on held-out steps of trace files."""
    outcome = evaluate_files(
        [str(f) for f in files],
        group_by=group_by,
        holdout=holdout,
        folds=folds,
        engine=resolve_choice(engine, provider, model),
        cache_dir=store_for(root).root / "llm-cache",
    )
    notes = err_console if as_json else console  # --json keeps stdout one JSON object
    print_skipped(outcome.problems, notes)
    print_warnings(outcome.warnings, notes)
    if as_json:
        typer.echo(orjson.dumps(to_json(outcome), option=orjson.OPT_INDENT_2).decode())
    else:
        render(outcome)


def to_json(outcome: EvalOutcome) -> dict:
    r = outcome.report
    return {
        "engine": outcome.engine,
        "overall": score_json(r.overall),
        "seen": score_json(r.seen),
        "unseen": score_json(r.unseen),
        "per_tool": {k: score_json(v) for k, v in r.per_tool.items()},
        "per_file": {k: score_json(v) for k, v in r.per_file.items()},
        "baseline": {"name": "replay-else-most-common", "overall": score_json(outcome.baseline.overall)},
        "knowable": outcome.knowable,
        "train_traces": outcome.train_traces,
        "heldout_traces": outcome.heldout_traces,
        "skipped_items": len(outcome.problems),
        "warnings": list(outcome.warnings),
        "usage": outcome.usage,
        **({"folds": [_fold_json(f) for f in outcome.folds]} if outcome.folds else {}),
    }


def score_json(score: Score) -> dict[str, int | float | None]:
    """A score's fields; an empty bucket (n = 0) has no mean, so its scores are null."""
    fields = score.model_dump()
    return fields if score.n else {k: (v if k == "n" else None) for k, v in fields.items()}


def _fold_json(fold: FoldSummary) -> dict:
    return {
        "fold": fold.fold,
        "train_traces": fold.train_traces,
        "heldout_traces": fold.heldout_traces,
        "heldout_groups": fold.heldout_groups,
        **score_json(fold.score),
        "baseline": score_json(fold.baseline),
    }


def _table(title: str, rows: dict[str, Score]) -> Table:
    table = Table("", "n", "exact", "structural", "error flag", "fidelity", title=title, title_justify="left")
    for label, s in rows.items():
        table.add_row(label, str(s.n), *_means(s, s.exact, s.structural, s.error_flag, s.fidelity))
    return table


def _means(score: Score, *values: float) -> list[str]:
    """The values to 3 places; ``-`` for each when the bucket has no steps (a mean of nothing)."""
    return [f"{v:.3f}" if score.n else "-" for v in values]


_FOLD_COLUMNS = (
    "fold",
    "traces",
    "groups",
    "n",
    "exact",
    "struct.",
    "error\nflag",
    "fidelity",
    "baseline\nexact",
)


def _folds_table(folds: tuple[FoldSummary, ...]) -> Table:
    title = "per fold (the traces and groups it held out; the replay baseline's exact)"
    table = Table(*_FOLD_COLUMNS, title=title, title_justify="left")
    for f in folds:
        s = f.score
        table.add_row(
            str(f.fold),
            str(f.heldout_traces),
            str(f.heldout_groups),
            str(s.n),
            *_means(s, s.exact, s.structural, s.error_flag, s.fidelity),
            *_means(f.baseline, f.baseline.exact),
        )
    return table


def _header(outcome: EvalOutcome) -> str:
    if not outcome.folds:
        return f"{outcome.train_traces} train / {outcome.heldout_traces} held-out traces; engine {outcome.engine}"
    return (
        f"{len(outcome.folds)}-fold by {outcome.group_by or 'trace'}: each group held out once; tables below "
        f"pool all held-out steps ({outcome.heldout_traces} traces, ~{outcome.train_traces} train per fold); "
        f"engine {outcome.engine}"
    )


def render(outcome: EvalOutcome) -> None:
    r = outcome.report
    if outcome.folds:
        console.print(_folds_table(outcome.folds))
    console.print(_header(outcome))
    console.print(_table("per file", r.per_file))
    console.print(_table("per tool", r.per_tool))
    console.print(
        _table(
            "overall",
            {
                "seen": r.seen,
                "unseen": r.unseen,
                "overall": r.overall,
                "baseline (replay, else most common)": outcome.baseline.overall,
            },
        )
    )
    console.print(
        f"knowable: {outcome.knowable:.3f} of held-out answers show only texts train or their session "
        "showed (roughly a ceiling on exact: the rest needs facts the traces never held)"
    )
    if outcome.usage:
        console.print(f"usage: {outcome.usage}")
