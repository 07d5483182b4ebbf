"""The LLM wrapper: cache modes, retries, timeout, concurrency, accounting — over the scripted provider."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from wmh.core.errors import UserInputError
from wmh.providers import (
    LLM,
    Completion,
    CompletionRequest,
    LLMConfig,
    Message,
    ProviderError,
    ReplayMissError,
    RetriesExhaustedError,
    ScriptedProvider,
    ScriptExhaustedError,
    Usage,
    cache_key,
)
from wmh.providers.base import StandardErrors
from wmh.providers.conftest import FakeSleep


def _req(text: str = "ping", **update: object) -> CompletionRequest:
    return CompletionRequest(messages=(Message(role="user", content=text),)).model_copy(update=update)


def test_cache_hit_makes_no_provider_call(tmp_path: Path) -> None:
    config = LLMConfig(cache_dir=tmp_path)
    first = LLM(ScriptedProvider(script=["pong"]), config)
    assert asyncio.run(first.complete(_req())).from_cache is False
    again = LLM(ScriptedProvider(script=[]), config)  # an empty script fails loudly if called
    completion = asyncio.run(again.complete(_req()))
    assert completion.text == "pong" and completion.from_cache
    report = again.report()
    assert report.provider_calls == 0 and report.cache_hits == 1 and report.total.calls == 0


def test_cache_key_covers_model_temperature_seed_and_provider() -> None:
    base = _req(model="m")
    keys = {
        cache_key("p", base),
        cache_key("q", base),
        cache_key("p", base.model_copy(update={"model": "n"})),
        cache_key("p", base.model_copy(update={"temperature": 0.5})),
        cache_key("p", base.model_copy(update={"seed": 1})),
        cache_key("p", base.model_copy(update={"stable_prefix": "x"})),
    }
    assert len(keys) == 6
    assert cache_key("p", base) == cache_key("p", _req(model="m"))


def test_default_model_is_resolved_before_keying(tmp_path: Path) -> None:
    llm = LLM(ScriptedProvider("scripted-x", script=["a"]), LLMConfig(cache_dir=tmp_path))
    asyncio.run(llm.complete(_req()))
    replay = LLM(
        ScriptedProvider("scripted-x", script=[]), LLMConfig(cache_dir=tmp_path, cache_mode="replay-only")
    )
    assert asyncio.run(replay.complete(_req(model="scripted-x"))).text == "a"


def test_replay_only_raises_on_unseen_key(tmp_path: Path) -> None:
    provider = ScriptedProvider(script=["never"])
    llm = LLM(provider, LLMConfig(cache_dir=tmp_path, cache_mode="replay-only"))
    with pytest.raises(ReplayMissError, match="replay-only"):
        asyncio.run(llm.complete(_req()))
    assert provider.requests == []


def test_cache_off_always_calls(tmp_path: Path) -> None:
    llm = LLM(ScriptedProvider(script=["a", "b"]), LLMConfig(cache_dir=tmp_path, cache_mode="off"))
    texts = [asyncio.run(llm.complete(_req())).text for _ in range(2)]
    assert texts == ["a", "b"] and not list(tmp_path.rglob("*.json"))


def test_cache_files_are_whole_json_and_corrupt_ones_are_misses(tmp_path: Path) -> None:
    llm = LLM(ScriptedProvider(script=["a", "b"]), LLMConfig(cache_dir=tmp_path))
    asyncio.run(llm.complete(_req()))
    (path,) = tmp_path.rglob("*.json")
    assert path.name == f"{cache_key('scripted', _req(model='scripted'))}.json"
    path.write_text("{not json")
    assert asyncio.run(llm.complete(_req())).text == "b"
    assert asyncio.run(llm.complete(_req())).text == "b"  # repaired by the rewrite
    assert not list(tmp_path.rglob(".tmp-*"))


def test_concurrent_identical_requests_leave_one_good_file(tmp_path: Path) -> None:
    llm = LLM(ScriptedProvider(script=["same"], cycle=True, sleep_s=0.01), LLMConfig(cache_dir=tmp_path))

    async def many() -> list[Completion]:
        return await asyncio.gather(*(llm.complete(_req()) for _ in range(20)))

    assert {c.text for c in asyncio.run(many())} == {"same"}
    assert len(list(tmp_path.rglob("*.json"))) == 1 and not list(tmp_path.rglob(".tmp-*"))


def test_concurrency_limit_is_respected() -> None:
    provider = ScriptedProvider(script=["x"], cycle=True, sleep_s=0.02)
    llm = LLM(provider, LLMConfig(max_concurrency=3))

    async def many() -> None:
        await asyncio.gather(*(llm.complete(_req(f"q{i}")) for i in range(12)))

    asyncio.run(many())
    assert provider.max_in_flight == 3 and llm.report().provider_calls == 12


def test_no_hidden_serialization(tmp_path: Path) -> None:
    provider = ScriptedProvider(script=["x"], cycle=True, sleep_s=0.05)
    llm = LLM(provider, LLMConfig(max_concurrency=256, cache_dir=tmp_path))

    async def many() -> None:
        await asyncio.gather(*(llm.complete(_req(f"q{i}"), session=f"s{i}") for i in range(256)))

    asyncio.run(many())
    assert provider.max_in_flight == 256 and len(llm.report().by_session) == 256


def test_script_exhaustion_is_loud_and_not_retried() -> None:
    llm = LLM(ScriptedProvider(script=["one"]), LLMConfig(max_attempts=5))
    asyncio.run(llm.complete(_req("a")))
    with pytest.raises(ScriptExhaustedError, match="has 1 replies and call 2"):
        asyncio.run(llm.complete(_req("b")))
    assert llm.report().retries == 0 and llm.report().failures == 1


class Flaky(StandardErrors):
    """Fails ``failures`` times with a retryable error, then answers."""

    name = "flaky"
    model = "flaky-1"

    def __init__(self, failures: int, retry_after: float | None = None, hang: bool = False) -> None:
        self.failures = failures
        self.retry_after_s = retry_after
        self.hang = hang
        self.calls = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        self.calls += 1
        if self.hang:
            await asyncio.sleep(10)
        if self.calls <= self.failures:
            raise ProviderError("flaky: HTTP 503", status=503, retryable=True, retry_after=self.retry_after_s)
        return Completion(text="ok", model=self.model)


def test_backoff_grows_with_deterministic_jitter() -> None:
    def delays(seed: int) -> list[float]:
        sleep = FakeSleep()
        llm = LLM(Flaky(3), LLMConfig(max_attempts=4, jitter_seed=seed, backoff_base_s=1.0), sleep=sleep)
        assert asyncio.run(llm.complete(_req())).text == "ok"
        return sleep.delays

    first = delays(0)
    assert first == delays(0) and first != delays(1)
    for attempt, delay in enumerate(first, start=1):
        assert 2 ** (attempt - 1) / 2 <= delay <= 2 ** (attempt - 1)


def test_retry_after_is_honoured_and_capped() -> None:
    sleep = FakeSleep()
    llm = LLM(Flaky(2, retry_after=500.0), LLMConfig(retry_after_max_s=60.0), sleep=sleep)
    asyncio.run(llm.complete(_req()))
    assert sleep.delays == [60.0, 60.0]


def test_gives_up_after_max_attempts() -> None:
    provider = Flaky(10)
    llm = LLM(provider, LLMConfig(max_attempts=3), sleep=FakeSleep())
    with pytest.raises(RetriesExhaustedError, match=r"HTTP 503 \(gave up after 3 attempts\)") as info:
        asyncio.run(llm.complete(_req()))
    assert provider.calls == 3 and info.value.status == 503


def test_per_call_timeout() -> None:
    provider = Flaky(0, hang=True)
    llm = LLM(provider, LLMConfig(timeout_s=0.01, max_attempts=2), sleep=FakeSleep())
    with pytest.raises(RetriesExhaustedError, match=r"no answer within 0.01s"):
        asyncio.run(llm.complete(_req()))
    assert provider.calls == 2


class Priced(StandardErrors):
    name = "priced"

    def __init__(self, model: str) -> None:
        self.model = model

    async def complete(self, request: CompletionRequest) -> Completion:
        usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_input_tokens=400_000)
        return Completion(text="x", model=request.model, usage=usage)


def test_usage_and_cost_by_session_model_and_run() -> None:
    llm = LLM(Priced("gpt-5"))

    async def run() -> None:
        await llm.complete(_req("a"), session="s1")
        await llm.complete(_req("b"), session="s1")
        await llm.complete(_req("c", model="claude-opus-4-5"), session="s2")
        await llm.complete(_req("d", model="my-local-llama"), session="s2")

    asyncio.run(run())
    report = llm.report()
    gpt5 = (600_000 * 1.25 + 400_000 * 0.125 + 100_000 * 10.0) / 1e6
    opus = (600_000 * 5.0 + 400_000 * 0.5 + 100_000 * 25.0) / 1e6
    assert report.by_model["gpt-5"].cost_usd == pytest.approx(2 * gpt5)
    assert report.by_model["claude-opus-4-5"].cost_usd == pytest.approx(opus)
    assert report.by_model["my-local-llama"].unpriced_calls == 1
    assert report.by_session["s1"].calls == 2 and report.by_session["s1"].input_tokens == 2_000_000
    assert report.by_session["s2"].cost_usd == pytest.approx(opus)
    assert report.total.calls == 4 and report.total.cost_usd == pytest.approx(2 * gpt5 + opus)
    assert report.total.cached_input_tokens == 1_600_000 and report.total.unpriced_calls == 1
    assert report.provider_calls == 4


def test_replay_only_needs_a_cache_dir() -> None:
    with pytest.raises(UserInputError, match="replay-only needs a cache directory"):
        LLM(ScriptedProvider(script=[]), LLMConfig(cache_mode="replay-only"))
