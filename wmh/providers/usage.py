"""Usage accounting: tokens and estimated cost per run, per model and per session (or tag)."""

from __future__ import annotations

from pydantic import Field

from wmh.core.types import Frozen
from wmh.providers.base import Usage
from wmh.providers.pricing import cost_usd


class UsageTotals(Frozen):
    """Sums over calls made to a provider (cache hits cost nothing and are not counted here)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = Field(default=0.0, description="Estimated cost of the priced calls")
    unpriced_calls: int = Field(default=0, description="Calls to models missing from the price table")

    def plus(self, usage: Usage, cost: float | None) -> UsageTotals:
        return UsageTotals(
            calls=self.calls + 1,
            input_tokens=self.input_tokens + usage.input_tokens,
            output_tokens=self.output_tokens + usage.output_tokens,
            cached_input_tokens=self.cached_input_tokens + usage.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens + usage.cache_write_tokens,
            cost_usd=self.cost_usd + (cost or 0.0),
            unpriced_calls=self.unpriced_calls + (cost is None),
        )


class UsageReport(Frozen):
    """What a run spent: totals, per model, per session, and the call/cache counters."""

    total: UsageTotals = Field(default_factory=UsageTotals)
    by_model: dict[str, UsageTotals] = Field(default_factory=dict)
    by_session: dict[str, UsageTotals] = Field(default_factory=dict)
    provider_calls: int = 0
    cache_hits: int = 0
    retries: int = 0
    failures: int = 0


class UsageLedger:
    """Mutable running sums (one per ``LLM``); ``report()`` snapshots them."""

    def __init__(self) -> None:
        self.total = UsageTotals()
        self.by_model: dict[str, UsageTotals] = {}
        self.by_session: dict[str, UsageTotals] = {}

    def record(self, model: str, session: str, usage: Usage, answered_by: str = "") -> float | None:
        """Add one call; priced by the requested model, else by the model the API says answered."""
        cost = cost_usd(model, usage)
        if cost is None and answered_by:
            cost = cost_usd(answered_by, usage)
        self.total = self.total.plus(usage, cost)
        self.by_model[model] = self.by_model.get(model, UsageTotals()).plus(usage, cost)
        self.by_session[session] = self.by_session.get(session, UsageTotals()).plus(usage, cost)
        return cost
