"""Launcher of the tau-bench example (``wmh examples run tau-bench -- ARGS`` calls this file).

    python examples/tau-bench/run.py capture [--out PATH] [--seed N] [--tasks N]
    python examples/tau-bench/run.py convert IN OUT [--model NAME]

``capture`` runs the scripted agent against the synthetic airline environment and writes its OTel
traces; ``convert`` turns a tau-bench trajectory file into the same form. Both print one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

DEFAULT_OUT = HERE / "traces.otel.jsonl"
DEFAULT_SEED = 7
DEFAULT_TASKS = 88


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="run.py", description="tau-bench example: capture or convert OTel traces."
    )
    commands = top.add_subparsers(dest="command", required=True)
    capture = commands.add_parser("capture", help="run the scripted agent and write its traces")
    capture.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output OTLP JSON lines file")
    capture.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the data, tasks and ids")
    capture.add_argument(
        "--tasks", type=_positive, default=DEFAULT_TASKS, help="distinct tasks (every third runs 4 trials)"
    )
    convert = commands.add_parser("convert", help="convert a tau-bench trajectory file into OTel traces")
    convert.add_argument(
        "input", type=Path, help="tau-bench results JSON (array of {task_id, trial, traj, ...})"
    )
    convert.add_argument("output", type=Path, help="output OTLP JSON lines file")
    convert.add_argument("--model", help="model name for the chat spans (default: from the file name)")
    return top


def shown(path: Path) -> str:
    """The path relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def run_capture(out: Path, seed: int, tasks: int) -> str:
    from agent import capture
    from genai_tracing import count_tool_calls, write_otlp_jsonl

    recorder = capture(seed, tasks)
    lines = write_otlp_jsonl(out, recorder.traces)
    calls = count_tool_calls(recorder.traces)
    return f"captured {len(recorder.traces)} traces, {calls} tool calls, {lines} lines -> {shown(out)}"


def run_convert(source: Path, out: Path, model: str | None) -> str:
    from genai_tracing import write_otlp_jsonl
    from tau_convert import convert

    result = convert(source, model)
    lines = write_otlp_jsonl(out, result.recorder.traces)
    note = (
        f" ({result.missing_observations} tool calls without an observation skipped)"
        if result.missing_observations
        else ""
    )
    return f"converted {result.traces} traces, {result.tool_calls} tool calls, {lines} lines -> {shown(out)}{note}"


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from tau_convert import InputError

    try:
        if args.command == "capture":
            print(run_capture(args.out, args.seed, args.tasks))
        else:
            print(run_convert(args.input, args.output, args.model))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
