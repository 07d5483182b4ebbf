"""Held-out fidelity of the offline engine beside the replay baseline, measured in the same run.

    uv run python -m bench fidelity [--holdout 0.2] [--folds 5] [--per-tool]

Corpora (each skipped when absent):

- tau-bench airline (``../shared/data/tau-bench/historical_trajectories/gpt-4o-airline.json``),
  converted to OTel with ``examples/tau-bench/run.py convert``, then ingested with ``ingest_files``;
- ``examples/tau-bench/traces.otel.jsonl`` (traces captured from the example airline environment);
- tau2-bench telecom (``../shared/data/tau2-bench/data/simulations/*telecom*.json``, 20 simulations,
  agent and simulated user both calling tools), converted with ``bench.tau2``, then ingested.

All are split by task (``tau.task_id``): the same task's trials never straddle the split. The
engine is fitted on train episodes only (told the group attribute, so that
calibration leaves a task's trials out together); held-out steps are answered with their recorded history
(teacher forcing). Targets for the offline engine on tau-bench airline: exact >= 0.55,
structural >= 0.70, error flag >= 0.98.

One split of a few dozen tasks is noisy, so each corpus is then also measured by k-fold cross-validation
by task (``--folds``, default 5; ``--folds 1`` skips it): the fold f holds out the f-th 1/k of the
ranked tasks (fold 0 is the ``--holdout 0.2`` split when k = 5), every task is held out exactly once,
and one line per fold is followed by the pooled figures over all held-out steps (each counted once).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.tau2 import convert_file
from wmh.build.split import Split, fold_splits, split_episodes
from wmh.core.types import Episode
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.offline import fit_offline
from wmh.engine.offline_config import OfflineConfig
from wmh.eval.grade import Score
from wmh.eval.knowable import knowable
from wmh.eval.run import EvalReport, StepResult, replay, report, seen_pairs

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
TAU_AIRLINE = DATA / "tau-bench" / "historical_trajectories" / "gpt-4o-airline.json"
EXAMPLE_TRACES = REPO / "examples" / "tau-bench" / "traces.otel.jsonl"
CONVERTER = REPO / "examples" / "tau-bench" / "run.py"
TAU2_TELECOM = (
    DATA
    / "tau2-bench"
    / "data"
    / "simulations"
    / "2025-08-10T02:44:06.496849_telecom_llm_agent_gpt-4o_user_simulator_gpt-4o.json"
)
GROUP_BY = "tau.task_id"
MEASURES = ("exact", "structural", "error_flag", "fidelity")
FOLD_HEAD = (
    f"  {'':22}{'n':>6}{'seen':>6}  {'base':>20}  {'offline':>20}\n  {'':34}"
    + f"  {'exact':>6} {'struct':>6} {'errflg':>6}" * 2
)


def convert_tau(source: Path, out_dir: Path) -> Path:
    """tau-bench trajectory JSON → OTel OTLP JSON lines, by the example's converter."""
    out = out_dir / f"{source.stem}.otel.jsonl"
    subprocess.run(
        [sys.executable, str(CONVERTER), "convert", str(source), str(out)],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    return out


def load(path: Path) -> list[Episode]:
    from wmh.ingest import ingest_files

    result = ingest_files([str(path)])
    if result.problems:
        print(f"  ({len(result.problems)} problems while ingesting {path.name}; first: {result.problems[0]})")
    return list(result.episodes)


def compare(
    label: str, episodes: Sequence[Episode], holdout: float, per_tool: bool = False
) -> tuple[EvalReport, EvalReport]:
    """Fit on train, replay held-out through both engines, print the side-by-side tables."""
    split = split_episodes(episodes, holdout, GROUP_BY)
    pairs = seen_pairs(split.train)
    t0 = time.perf_counter()
    engine = fit_offline(split.train, OfflineConfig(group_by=GROUP_BY))
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours_steps = replay(engine, split.heldout, pairs)
    step_ms = (time.perf_counter() - t0) / max(1, len(ours_steps)) * 1e3
    ours = report(ours_steps)
    base = report(replay(ReplayBaseline(split.train), split.heldout, pairs))
    print(
        f"\n{label}: {len(split.train)} train / {len(split.heldout)} held-out traces "
        f"({split.groups_heldout} of {split.groups_total} {GROUP_BY} groups), {ours.overall.n} held-out steps; "
        f"fit {fit_s:.2f} s, {step_ms:.2f} ms/step"
    )
    print(
        table(
            {
                "overall": (base.overall, ours.overall),
                "seen": (base.seen, ours.seen),
                "unseen": (base.unseen, ours.unseen),
            }
        )
    )
    print("  offline answers by strategy: " + sources(ours_steps))
    known = knowable(split.train, split.heldout)
    print(
        f"  knowable: {sum(known)} of {len(known)} held-out answers ({sum(known) / max(1, len(known)):.3f}) show "
        "only texts train or their session showed (roughly a ceiling on exact for any engine)"
    )
    if per_tool:
        rows = {t: (base.per_tool[t], ours.per_tool[t]) for t in ours.per_tool}
        print(table(rows))
    return base, ours


def cross_validate(label: str, episodes: Sequence[Episode], folds: int) -> tuple[EvalReport, EvalReport]:
    """Fit and replay every fold; print a line per fold, then the pooled (step-weighted) figures."""
    print(f"\n{label}: {folds}-fold by {GROUP_BY} (each task held out once)")
    print(FOLD_HEAD)
    base_all: list[StepResult] = []
    ours_all: list[StepResult] = []
    exacts: list[float] = []
    for f, split in enumerate(fold_splits(episodes, folds, GROUP_BY)):
        base_steps, ours_steps = replay_both(split)
        base_all += base_steps
        ours_all += ours_steps
        ours = report(ours_steps)
        exacts.append(ours.overall.exact)
        print(fold_line(f"fold {f} ({split.groups_heldout} tasks)", report(base_steps), ours))
    base, ours = report(base_all), report(ours_all)
    print(fold_line(f"pooled ({folds} folds)", base, ours))
    ratios = ", ".join(
        f"{m.replace('_', ' ')} {_ratio(getattr(ours.overall, m), getattr(base.overall, m))}"
        for m in MEASURES
    )
    print(f"  pooled offline/base: {ratios}; offline exact over folds {min(exacts):.3f}-{max(exacts):.3f}")
    return base, ours


def replay_both(split: Split) -> tuple[list[StepResult], list[StepResult]]:
    """Fit the baseline and the offline engine on train; replay the held-out steps through each."""
    pairs = seen_pairs(split.train)
    engine = fit_offline(split.train, OfflineConfig(group_by=GROUP_BY))
    return replay(ReplayBaseline(split.train), split.heldout, pairs), replay(engine, split.heldout, pairs)


def fold_line(name: str, base: EvalReport, ours: EvalReport) -> str:
    """n, seen steps, then exact / structural / error flag for the baseline and the offline engine."""
    cells = "".join(
        f"  {r.overall.exact:6.3f} {r.overall.structural:6.3f} {r.overall.error_flag:6.3f}"
        for r in (base, ours)
    )
    return f"  {name[:22]:22}{ours.overall.n:>6}{ours.seen.n:>6}{cells}"


def table(rows: dict[str, tuple[Score, Score]]) -> str:
    """One line per row: n, then baseline / offline / ratio for each measure."""
    head = f"  {'':24}{'n':>5}" + "".join(f"  {m.replace('_', ' '):>21}" for m in MEASURES)
    sub = f"  {'':24}{'':>5}" + "".join(f"  {'base':>6} {'offl':>6} {'ratio':>7}" for _ in MEASURES)
    lines = [head, sub]
    for name, (b, o) in rows.items():
        cells = "".join(
            f"  {getattr(b, m):6.3f} {getattr(o, m):6.3f} {_ratio(getattr(o, m), getattr(b, m)):>7}"
            for m in MEASURES
        )
        lines.append(f"  {name[:24]:24}{o.n:>5}{cells}")
    return "\n".join(lines)


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base > 0 else ("=" if ours == 0 else "inf")


def sources(results: Sequence[StepResult]) -> str:
    counts = Counter(r.predicted.source for r in results)
    return ", ".join(f"{s} {n}" for s, n in counts.most_common())


def measure(label: str, episodes: Sequence[Episode], args: argparse.Namespace) -> None:
    """The single split's tables, then (with --folds >= 2) the k-fold lines (at most one fold per task)."""
    compare(label, episodes, args.holdout, args.per_tool)
    folds = min(args.folds, len({ep.group_key(GROUP_BY) for ep in episodes}))
    if folds >= 2:
        cross_validate(label, episodes, folds)


def measure_tau2(args: argparse.Namespace) -> bool:
    """tau2-bench telecom, converted into a temp dir and measured; False when the file is absent."""
    if not TAU2_TELECOM.is_file():
        print(f"skipped tau2-bench telecom: {TAU2_TELECOM} is absent")
        return False
    with tempfile.TemporaryDirectory() as tmp:
        converted = Path(tmp) / "tau2-telecom.otel.jsonl"
        convert_file(TAU2_TELECOM, converted)
        measure("tau2-bench telecom (gpt-4o agent + user, converted)", load(converted), args)
    return True


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench fidelity",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--holdout", type=float, default=0.2, help="share of task groups held out")
    p.add_argument("--per-tool", action="store_true", help="also print a table per tool")
    p.add_argument("--folds", type=int, default=5, help="k-fold by task after the split (below 2: skip)")
    args = p.parse_args(argv)
    ran = False
    if TAU_AIRLINE.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            converted = convert_tau(TAU_AIRLINE, Path(tmp))
            measure("tau-bench airline (gpt-4o, converted)", load(converted), args)
        ran = True
    else:
        print(f"skipped tau-bench airline: {TAU_AIRLINE} is absent")
    if EXAMPLE_TRACES.is_file():
        measure(f"example traces ({EXAMPLE_TRACES.relative_to(REPO)})", load(EXAMPLE_TRACES), args)
        ran = True
    else:
        print(f"skipped example traces: {EXAMPLE_TRACES} is absent")
    ran = measure_tau2(args) or ran
    if not ran:
        print("nothing to measure")


if __name__ == "__main__":
    main()
