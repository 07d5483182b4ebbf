"""A small synthetic corpus for the optimizer's tests: an order store seen through five tools."""

from __future__ import annotations

import random

import orjson
import pytest

from wmh.core.types import Action, ActionKind, Episode, Observation, Step


def _step(name: str, content: object, is_error: bool = False, **arguments: str | int) -> Step:
    text = content if isinstance(content, str) else orjson.dumps(content).decode()
    return Step(
        action=Action(kind=ActionKind.TOOL_CALL, name=name, arguments=dict(arguments)),
        observation=Observation(content=text, is_error=is_error),
    )


def _episode(task: int, run: int, rng: random.Random) -> Episode:
    user = f"u{task % 7}"
    orders = [f"o{task % 7}{i}" for i in range(1 + task % 3)]
    steps = [_step("get_user", {"user_id": user, "name": f"N{task % 7}", "orders": orders}, user_id=user)]
    for oid in orders:
        total = 10 * (task + 1) + len(oid)
        status = rng.choice(["open", "shipped"])
        steps.append(_step("get_order", {"order_id": oid, "status": status, "total": total}, order_id=oid))
        if status == "open" and rng.random() < 0.6:
            steps.append(
                _step("cancel_order", {"order_id": oid, "status": "cancelled", "total": total}, order_id=oid)
            )
    if task % 4 == 0:
        steps.append(_step("get_order", "Error: order not found", True, order_id=f"x{task}{run}"))
    a, b = task + 3, run + 2
    steps.append(_step("calculate", str(a * b), expression=f"{a} * {b}"))
    return Episode(
        trace_id=f"t{task:02d}-{run}",
        task=f"help user {user} with their orders",
        steps=tuple(steps),
        attributes={"task_id": f"task-{task:02d}"},
    )


def synthetic_corpus(tasks: int = 16, runs: int = 2) -> list[Episode]:
    rng = random.Random(7)
    return [_episode(t, r, rng) for t in range(tasks) for r in range(runs)]


@pytest.fixture(scope="module")
def corpus() -> list[Episode]:
    return synthetic_corpus()
