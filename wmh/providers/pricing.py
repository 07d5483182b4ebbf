"""The one price table: US dollars per million tokens, list prices for the default models and
their close relatives. An unknown model has no price (cost ``None``), never a crash.

Bedrock ids (``anthropic.claude-opus-4-1-20250805-v1:0``, with or without a ``us.``/``eu.``
inference-profile prefix) and dated ids (``claude-opus-4-1-20250805``) resolve to the base name.
"""

from __future__ import annotations

import re

from pydantic import Field

from wmh.core.types import Frozen
from wmh.providers.base import Usage


class Price(Frozen):
    """$ per million tokens."""

    input: float
    output: float
    cached_input: float = Field(description="Reading input from the prompt cache")
    cache_write: float | None = Field(default=None, description="Writing the prompt cache; None: as input")

    def cost(self, usage: Usage) -> float:
        write = self.input if self.cache_write is None else self.cache_write
        fresh = max(usage.input_tokens - usage.cached_input_tokens - usage.cache_write_tokens, 0)
        dollars = (
            fresh * self.input
            + usage.cached_input_tokens * self.cached_input
            + usage.cache_write_tokens * write
            + usage.output_tokens * self.output
        )
        return dollars / 1_000_000


PRICES: dict[str, Price] = {
    "claude-opus-4-5": Price(input=5.0, output=25.0, cached_input=0.5, cache_write=6.25),
    "claude-opus-4-1": Price(input=15.0, output=75.0, cached_input=1.5, cache_write=18.75),
    "claude-opus-4": Price(input=15.0, output=75.0, cached_input=1.5, cache_write=18.75),
    "claude-sonnet-4-5": Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75),
    "claude-sonnet-4": Price(input=3.0, output=15.0, cached_input=0.3, cache_write=3.75),
    "claude-haiku-4-5": Price(input=1.0, output=5.0, cached_input=0.1, cache_write=1.25),
    "gpt-5": Price(input=1.25, output=10.0, cached_input=0.125),
    "gpt-5-mini": Price(input=0.25, output=2.0, cached_input=0.025),
    "gpt-5-nano": Price(input=0.05, output=0.4, cached_input=0.005),
    "gpt-4.1": Price(input=2.0, output=8.0, cached_input=0.5),
    "gpt-4.1-mini": Price(input=0.4, output=1.6, cached_input=0.1),
    "gpt-4o": Price(input=2.5, output=10.0, cached_input=1.25),
    "gpt-4o-mini": Price(input=0.15, output=0.6, cached_input=0.075),
    "scripted": Price(input=0.0, output=0.0, cached_input=0.0),
}

_BEDROCK = re.compile(r"^(?:[a-z]{2,6}\.)?anthropic\.")
_SUFFIX = re.compile(r"(?:-\d{8})?(?:-v\d+(?::\d+)?)?$")
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def base_model(model: str) -> str:
    """``us.anthropic.claude-opus-4-1-20250805-v1:0`` → ``claude-opus-4-1``; ``gpt-5-2025-08-07`` → ``gpt-5``."""
    name = _BEDROCK.sub("", model.strip().lower())
    name = _DATED.sub("", name)
    return _SUFFIX.sub("", name)


def price_for(model: str) -> Price | None:
    return PRICES.get(model) or PRICES.get(base_model(model))


def cost_usd(model: str, usage: Usage) -> float | None:
    """Estimated list-price cost of one call; ``None`` when the model is not in the table."""
    price = price_for(model)
    return None if price is None else price.cost(usage)
