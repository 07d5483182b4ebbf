"""The LLM engine under load: no hidden serialization, and a re-run that costs nothing.

    uv run python -m bench llm [--sessions 256] [--steps 4] [--latency 1.0] [--cache-parent DIR]

A scripted provider sleeps ``--latency`` seconds per call. Each of ``--sessions`` held-out
sessions is replayed (``wmh.eval.run.replay``, teacher forcing) on its own thread through one
``LLMEngine`` with retrieval from an offline engine fitted on synthetic traces, response cache on.
- throughput: steps/s against the ideal, sessions / latency (every session's call in flight at once;
  target >= 200 steps/s for 256 sessions at 1 s);
- cache: the same eval again, through a fresh engine and provider on the same cache directory:
  provider calls (target 0) and steps/s;
- hybrid: the same eval through ``HybridEngine`` on a fresh cache: steps answered locally (by the
  offline engine's source) and by the model, and what the model's share cost.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson

from wmh.core.types import Action, ActionKind, Episode, Observation, Step, ToolDef
from wmh.engine.hybrid import HybridEngine, HybridReport
from wmh.engine.llm import LLMEngine
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.eval.run import StepResult, replay, seen_pairs
from wmh.providers import LLM, LLMConfig, ScriptedProvider, UsageReport

TOOLS = (
    ToolDef(name="get_order", description="Look up an order.", parameters={"type": "object"}),
    ToolDef(name="search", description="Search the catalog."),
    ToolDef(name="update_order", description="Change an order's status."),
)
REPLY = orjson.dumps({"content": '{"ok": true}', "is_error": False, "state_note": ""}).decode()


def _step(tool: str, args: dict[str, str], content: object) -> Step:
    action = Action(kind=ActionKind.TOOL_CALL, name=tool, arguments=dict(args))
    return Step(action=action, observation=Observation(content=orjson.dumps(content).decode()))


def episode(i: int, steps: int, prefix: str) -> Episode:
    oid = f"{prefix}-o{i}"
    cycle = [
        ("get_order", {"order_id": oid}, {"order_id": oid, "status": "open", "total": i % 97}),
        ("search", {"q": f"item {i % 13} size {i % 5}"}, {"hits": [f"sku-{i % 13}-{j}" for j in range(3)]}),
        ("update_order", {"order_id": oid, "status": "shipped"}, {"order_id": oid, "status": "shipped"}),
    ]
    chosen = [_step(*cycle[j % len(cycle)]) for j in range(steps)]
    return Episode(trace_id=f"{prefix}{i}", task=f"ship order {oid}", tools=TOOLS, steps=tuple(chosen))


def run(
    offline: OfflineEngine,
    heldout: list[Episode],
    pairs: set[tuple[str, str]],
    cache: Path,
    latency: float,
    hybrid: bool = False,
) -> tuple[float, list[StepResult], UsageReport, int, HybridReport | None]:
    """Every held-out session replayed on its own thread; (seconds, results, usage, max in flight, hybrid)."""
    provider = ScriptedProvider(script=[REPLY], cycle=True, sleep_s=latency)
    llm = LLM(provider, LLMConfig(cache_dir=cache, max_concurrency=len(heldout)))
    model = LLMEngine(llm, TOOLS, retriever=offline)
    engine = HybridEngine(offline, model) if hybrid else model
    try:
        start, cpu = time.perf_counter(), time.process_time()
        with ThreadPoolExecutor(max_workers=len(heldout)) as pool:
            parts = list(pool.map(lambda ep: replay(engine, [ep], pairs), heldout))
        elapsed = time.perf_counter() - start
        print(f"    (process CPU during the run: {time.process_time() - cpu:.2f} s)")
    finally:
        model.close()
        split = engine.report() if isinstance(engine, HybridEngine) else None
    results = [r for part in parts for r in part]
    return elapsed, results, model.report(), provider.max_in_flight, split


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench llm")
    parser.add_argument("--sessions", type=int, default=256)
    parser.add_argument("--steps", type=int, default=4, help="steps per session")
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per provider call")
    parser.add_argument("--train", type=int, default=200, help="training traces for retrieval")
    parser.add_argument(
        "--cache-parent",
        default=".",
        help="where the temporary response cache goes (default: here, where .wmh/ would be)",
    )
    args = parser.parse_args(argv)
    train = [episode(i, 3, "train") for i in range(args.train)]
    heldout = [episode(i, args.steps, "held") for i in range(args.sessions)]
    offline = fit_offline(train)
    pairs = seen_pairs(train)
    ideal = args.sessions / args.latency
    print(
        f"llm engine: {args.sessions} sessions x {args.steps} steps, scripted provider {args.latency:g} s/call"
    )
    print(f"  baseline (ideal, every session in flight at once): {ideal:.0f} steps/s")
    with tempfile.TemporaryDirectory(dir=args.cache_parent, prefix=".bench-llm-") as tmp:
        print(f"  response cache under {tmp}")
        cache = Path(tmp) / "cache"
        elapsed, results, report, in_flight, _ = run(offline, heldout, pairs, cache, args.latency)
        rate = len(results) / elapsed
        verdict = "PASS" if rate >= 200 * ideal / 256 else "FAIL"
        print(
            f"  first run:  {len(results)} steps in {elapsed:.2f} s = {rate:.0f} steps/s "
            f"({rate / ideal:.0%} of ideal; target >= {200 * ideal / 256:.0f}: {verdict}); "
            f"provider calls {report.provider_calls}, max in flight {in_flight}"
        )
        elapsed2, results2, report2, _, _ = run(offline, heldout, pairs, cache, args.latency)
        same = [r.predicted for r in results] == [r.predicted for r in results2]
        verdict2 = "PASS" if report2.provider_calls == 0 and same else "FAIL"
        print(
            f"  second run: {len(results2)} steps in {elapsed2:.2f} s = {len(results2) / elapsed2:.0f} steps/s; "
            f"provider calls {report2.provider_calls} (target 0: {verdict2}), cache hits {report2.cache_hits}, "
            f"same answers {same}"
        )
        elapsed3, results3, _, _, split = run(
            offline, heldout, pairs, Path(tmp) / "hybrid", args.latency, True
        )
        assert split is not None
        print(
            f"  hybrid (fresh cache): {len(results3)} steps in {elapsed3:.2f} s; {split.local_steps} answered "
            f"locally {split.local_by_source}, {split.model_steps} by the model "
            f"({split.usage.provider_calls} provider calls, ${split.cost_usd:.4f}; scripted is unpriced)"
        )
