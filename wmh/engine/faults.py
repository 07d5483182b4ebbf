"""Deterministic fault injection: which tool calls of a session fail, and how much latency each gets.

A decision depends only on the session's fault plan, its history and the action, so the same plan
and seed fail the same calls on every replay, in any process.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from wmh.core.types import Action, ActionKind, FaultPlan, FaultRule, Observation, SessionState

FAULT_SOURCE = "fault"


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What the plan says about one call: an injected error (or None) and the added latency."""

    error: Observation | None = None
    latency_ms: int = 0


def call_number(state: SessionState, tool: str) -> int:
    """The 1-based number this call of ``tool`` will have in the session."""
    return 1 + sum(
        1 for t in state.history if t.action.kind is ActionKind.TOOL_CALL and t.action.name == tool
    )


def unit_draw(seed: int, tool: str, n: int) -> float:
    """A number in [0, 1) fixed by (seed, tool, call number): the seeded coin for ``error_rate``."""
    digest = hashlib.sha256(f"{seed}\x00{tool}\x00{n}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(plan: FaultPlan, state: SessionState, action: Action) -> FaultDecision:
    """Apply every rule that matches the tool; the first failing rule's message wins."""
    if action.kind is not ActionKind.TOOL_CALL or not plan.rules:
        return FaultDecision()
    n = call_number(state, action.name)
    error: Observation | None = None
    latency = 0
    for rule in plan.rules:
        if rule.tool not in ("*", action.name):
            continue
        latency += rule.latency_ms
        if error is None and _fails(rule, plan.seed, action.name, n):
            error = Observation(content=rule.error_message, is_error=True, source=FAULT_SOURCE)
    return FaultDecision(error, latency)


def _fails(rule: FaultRule, seed: int, tool: str, n: int) -> bool:
    if n in rule.error_on_calls:
        return True
    return rule.error_rate > 0 and unit_draw(seed, tool, n) < rule.error_rate
