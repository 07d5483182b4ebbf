from __future__ import annotations

import pytest

from wmh.providers import Usage, cost_usd, price_for
from wmh.providers.pricing import base_model


@pytest.mark.parametrize(
    ("model", "base"),
    [
        ("claude-opus-4-5", "claude-opus-4-5"),
        ("claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("anthropic.claude-opus-4-1-20250805-v1:0", "claude-opus-4-1"),
        ("us.anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("gpt-5-2025-08-07", "gpt-5"),
        ("gpt-4o-mini", "gpt-4o-mini"),
    ],
)
def test_base_model(model: str, base: str) -> None:
    assert base_model(model) == base


def test_default_models_are_priced() -> None:
    for model in ("claude-opus-4-5", "anthropic.claude-opus-4-5-20251101-v1:0", "gpt-5", "claude-opus-4-1"):
        assert price_for(model) is not None, model


def test_cost_counts_cache_reads_and_writes() -> None:
    usage = Usage(input_tokens=1_000, output_tokens=100, cached_input_tokens=600, cache_write_tokens=300)
    expected = (100 * 5.0 + 600 * 0.5 + 300 * 6.25 + 100 * 25.0) / 1e6
    assert cost_usd("claude-opus-4-5", usage) == pytest.approx(expected)


def test_unknown_model_has_no_cost() -> None:
    assert cost_usd("llama3.1:8b", Usage(input_tokens=10)) is None
