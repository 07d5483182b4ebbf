"""GEPA over the offline engine's configuration: held-out fidelity of base vs optimized, one run.

    uv run python -m bench gepa [--budget N] [--holdout 0.2]

Corpora (each skipped when absent), split by task (``tau.task_id``) as in ``bench fidelity``:
the converted tau-bench airline trajectories and ``examples/tau-bench/traces.otel.jsonl``. The
search sees only train (its validation split is carved from train by task); the held-out tasks
are scored once at the end, for the base and the best configuration, with the engine fitted on
all of train. Reflection is the deterministic reflector (no model), choosing edits by their
leave-group-out gain on the search split (``wmh.optimize.screen``). Every candidate is scored as an
engine fitted under it would answer (recalibrated where its calibration differs). The overfit
guard (train data only) decides between the search's best and the base; the candidate it turned
down is scored on held-out too, for this report only.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.fidelity import EXAMPLE_TRACES, GROUP_BY, REPO, TAU_AIRLINE, convert_tau, load
from wmh.build.split import split_episodes
from wmh.core.types import Episode
from wmh.optimize import (
    DEFAULT_BUDGET,
    OFFLINE_COMPONENT,
    OfflineTarget,
    OptimizeResult,
    OptimizeSettings,
    optimize_offline,
)


def run(
    label: str, episodes: Sequence[Episode], holdout: float, budget: int, screen: bool = False
) -> OptimizeResult:
    split = split_episodes(episodes, holdout, GROUP_BY)
    t0 = time.perf_counter()
    settings = OptimizeSettings(budget=budget, screen=screen)
    result = optimize_offline(split.train, heldout=split.heldout, group_by=GROUP_BY, settings=settings)
    seconds = time.perf_counter() - t0
    print(
        f"\n{label}: {len(split.train)} train traces ({result.train_examples} search / "
        f"{result.val_examples} validation), {len(split.heldout)} held-out traces "
        f"({result.heldout_steps} steps, {split.groups_heldout} of {split.groups_total} {GROUP_BY} groups)"
    )
    print(
        f"  metric calls {result.rollouts} of {budget}, {len(result.history) - 1} iterations, "
        f"{result.candidates} candidates, frontier {len(result.frontier)}, {seconds:.1f} s"
    )
    print(f"  {'':22}{'base':>8}{'optimized':>11}{'delta':>9}")
    for name, b, o in (
        ("validation fidelity", result.val_score_base, result.val_score_best),
        ("held-out fidelity", result.heldout_score_base or 0.0, result.heldout_score_best or 0.0),
    ):
        print(f"  {name:22}{b:8.4f}{o:11.4f}{o - b:+9.4f}")
    accepted = [h.note for h in result.history if h.accepted]
    print("  edits the search accepted: " + ("; ".join(accepted) if accepted else "none"))
    print(f"  guard: {result.guard}")
    if (
        result.search_best_index != result.best_index
    ):  # what the guard turned down, scored for the report only
        frontier = {f.index: f for f in result.frontier}
        entry = frontier.get(result.search_best_index)
        if entry is not None:
            # the engine fitted under the base config, then ``with_config`` the candidate (recalibrated)
            target = OfflineTarget(split.train)
            target.heldout(result.base_candidate[OFFLINE_COMPONENT], split.heldout)
            held, _ = target.heldout(entry.candidate[OFFLINE_COMPONENT], split.heldout)
            base = result.heldout_score_base or 0.0
            print(
                f"  unguarded search best (candidate {entry.index}): validation {entry.val_score:.4f}, "
                f"held-out {held:.4f} ({held - base:+.4f} vs base)"
            )
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench gepa", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--holdout", type=float, default=0.2, help="share of task groups held out")
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET, help="metric calls per corpus")
    p.add_argument(
        "--screen",
        action="store_true",
        help="choose edits by leave-group-out screening (slow; see OptimizeSettings)",
    )
    args = p.parse_args(argv)
    if TAU_AIRLINE.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            converted = convert_tau(TAU_AIRLINE, Path(tmp))
            run(
                "tau-bench airline (gpt-4o, converted)",
                load(converted),
                args.holdout,
                args.budget,
                args.screen,
            )
    else:
        print(f"skipped tau-bench airline: {TAU_AIRLINE} is absent")
    if EXAMPLE_TRACES.is_file():
        run(
            f"example traces ({EXAMPLE_TRACES.relative_to(REPO)})",
            load(EXAMPLE_TRACES),
            args.holdout,
            args.budget,
            args.screen,
        )
    else:
        print(f"skipped example traces: {EXAMPLE_TRACES} is absent")


if __name__ == "__main__":
    main()
