"""``LLM``: the one wrapper above every provider. It owns retries (exponential backoff with
seeded jitter, honouring ``retry-after``), a per-call timeout, a concurrency limit, the on-disk
response cache and usage accounting, so no provider re-implements them.

    llm = LLM(create_provider("anthropic"), LLMConfig(cache_dir=root / "llm-cache"))
    completion = await llm.complete(request, session="s1")
    llm.report()  # tokens and cost per run / model / session, provider calls, cache hits
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import Field

from wmh.core.errors import UserInputError
from wmh.core.types import Frozen
from wmh.providers.base import Completion, CompletionRequest, Provider
from wmh.providers.cache import CacheMode, ResponseCache, cache_key
from wmh.providers.errors import ProviderError, ProviderTimeoutError, ReplayMissError, RetriesExhaustedError
from wmh.providers.usage import UsageLedger, UsageReport

Sleep = Callable[[float], Awaitable[object]]


class LLMConfig(Frozen):
    """How the wrapper calls a provider."""

    max_attempts: int = Field(default=4, ge=1, description="Calls per request, first included")
    backoff_base_s: float = Field(default=1.0, ge=0.0, description="First backoff; doubles per attempt")
    backoff_max_s: float = Field(default=30.0, ge=0.0, description="Cap on one backoff")
    retry_after_max_s: float = Field(default=120.0, ge=0.0, description="Cap on an honoured retry-after")
    timeout_s: float = Field(default=120.0, gt=0.0, description="Per-call timeout")
    max_concurrency: int = Field(default=64, ge=1, description="Provider calls in flight at once")
    cache_dir: Path | None = Field(default=None, description="Response cache directory; None: no cache")
    cache_mode: CacheMode = "read-write"
    jitter_seed: int = 0


class LLM:
    """Wraps a ``Provider``; ``complete`` is safe to call from many tasks at once."""

    def __init__(self, provider: Provider, config: LLMConfig | None = None, *, sleep: Sleep = asyncio.sleep):
        self.provider = provider
        self.config = config or LLMConfig()
        if self.config.cache_mode == "replay-only" and self.config.cache_dir is None:
            raise UserInputError("cache mode replay-only needs a cache directory to replay from")
        self.cache = ResponseCache(self.config.cache_dir) if self.config.cache_dir else None
        self.ledger = UsageLedger()
        self.provider_calls = 0
        self.cache_hits = 0
        self.retries = 0
        self.failures = 0
        self._sleep = sleep
        self._rng = random.Random(self.config.jitter_seed)
        self._slots = asyncio.Semaphore(self.config.max_concurrency)

    async def complete(self, request: CompletionRequest, *, session: str = "") -> Completion:
        """The completion for ``request`` from the cache or the provider; usage is booked to ``session``."""
        request = request.model_copy(update={"model": request.model or self.provider.model})
        key = cache_key(self.provider.name, request)
        mode = self.config.cache_mode
        if mode != "off" and (hit := await asyncio.to_thread(self._cached, key)) is not None:
            self.cache_hits += 1
            return hit
        if mode == "replay-only":
            raise ReplayMissError(
                f"{self.provider.name}: no recorded response for request {key[:12]} and the cache is "
                "replay-only; record it with cache mode read-write"
            )
        completion = await self._call_with_retries(request)
        self.ledger.record(request.model, session, completion.usage, answered_by=completion.model)
        if self.cache is not None and mode == "read-write":
            # Disk writes off the event loop: a synchronous write here serializes every session.
            await asyncio.to_thread(self.cache.put, key, self.provider.name, request, completion)
        return completion

    def report(self) -> UsageReport:
        return UsageReport(
            total=self.ledger.total,
            by_model=dict(self.ledger.by_model),
            by_session=dict(self.ledger.by_session),
            provider_calls=self.provider_calls,
            cache_hits=self.cache_hits,
            retries=self.retries,
            failures=self.failures,
        )

    async def aclose(self) -> None:
        """Close the provider's connections, if it holds any."""
        close = getattr(self.provider, "aclose", None)
        if close is not None:
            await close()

    def _cached(self, key: str) -> Completion | None:
        if self.cache is None:
            return None
        hit = self.cache.get(key)
        return hit.model_copy(update={"from_cache": True}) if hit is not None else None

    async def _call_with_retries(self, request: CompletionRequest) -> Completion:
        attempts = self.config.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._call_once(request)
            except Exception as exc:
                if not self.provider.is_retryable(exc):
                    self.failures += 1
                    raise
                if attempt == attempts:
                    self.failures += 1
                    raise _gave_up(exc, attempts) from exc
                self.retries += 1
                await self._sleep(self._delay(exc, attempt))
        raise AssertionError("unreachable")

    async def _call_once(self, request: CompletionRequest) -> Completion:
        async with self._slots:
            self.provider_calls += 1
            try:
                return await asyncio.wait_for(self.provider.complete(request), self.config.timeout_s)
            except TimeoutError:
                raise ProviderTimeoutError(
                    f"{self.provider.name}: no answer within {self.config.timeout_s:g}s", retryable=True
                ) from None

    def _delay(self, exc: Exception, attempt: int) -> float:
        """The server's retry-after if it gave one, else exponential backoff with jitter in [d/2, d]."""
        hinted = self.provider.retry_after(exc)
        if hinted is not None:
            return min(hinted, self.config.retry_after_max_s)
        ceiling = min(self.config.backoff_base_s * 2 ** (attempt - 1), self.config.backoff_max_s)
        return ceiling * (0.5 + self._rng.random() / 2)


def _gave_up(exc: Exception, attempts: int) -> RetriesExhaustedError:
    status = exc.status if isinstance(exc, ProviderError) else None
    return RetriesExhaustedError(f"{exc} (gave up after {attempts} attempts)", status=status)
