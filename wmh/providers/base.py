"""What crosses the provider boundary: a request in, a completion (with usage) out.

A provider implements ``complete`` and says which of its errors are worth retrying; everything
else (retries, timeouts, concurrency, caching, accounting) is the ``LLM`` wrapper's job.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import Field

from wmh.core.types import Frozen
from wmh.providers.errors import ProviderError


class Message(Frozen):
    """One chat turn. Content is text."""

    role: Literal["user", "assistant"]
    content: str


class CompletionRequest(Frozen):
    """Everything that decides a model's answer; its canonical JSON is the response-cache key.

    The system prompt is ``stable_prefix`` then ``system``. Put what stays fixed across calls
    (environment prompt, tool catalog) in ``stable_prefix``: Anthropic marks it for prompt caching
    (``cache_control: ephemeral``); OpenAI caches a fixed leading prefix automatically.
    """

    model: str = Field(default="", description="Model id; empty means the provider's default")
    stable_prefix: str = Field(default="", description="Fixed leading part of the system prompt (cached)")
    system: str = Field(default="", description="The rest of the system prompt, after the stable prefix")
    messages: tuple[Message, ...] = Field(default=(), description="The conversation, oldest first")
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, description="None: provider default")
    seed: int | None = Field(
        default=None, description="Sent where the API takes one (OpenAI); always part of the cache key"
    )
    max_tokens: int = Field(default=1024, gt=0, description="Cap on output tokens")
    json_output: bool = Field(
        default=False,
        description="Ask for a JSON object (OpenAI response_format); the answer may still not be",
    )

    def full_system(self) -> str:
        """The whole system prompt as one text (stable prefix first)."""
        return "\n\n".join(part for part in (self.stable_prefix, self.system) if part)


class Usage(Frozen):
    """Tokens one call used. ``input_tokens`` counts all input, cached reads and cache writes included."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = Field(default=0, description="Input read from the provider's prompt cache")
    cache_write_tokens: int = Field(default=0, description="Input written to the prompt cache (Anthropic)")

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
        )


class Completion(Frozen):
    """A model's answer. ``text`` is passed through as sent: a caller that asked for JSON parses it."""

    text: str
    model: str = Field(description="The model that answered, as the API reports it")
    finish_reason: str = Field(default="", description="The API's stop reason (end_turn, stop, length, ...)")
    usage: Usage = Field(default_factory=Usage)
    from_cache: bool = Field(default=False, description="Served from wmh's response cache (no call made)")


@runtime_checkable
class Provider(Protocol):
    """One model API. ``complete`` raises ``ProviderError`` (or the SDK's own errors, which
    ``is_retryable`` / ``retry_after`` understand)."""

    name: str
    model: str

    async def complete(self, request: CompletionRequest) -> Completion: ...

    def is_retryable(self, exc: BaseException) -> bool: ...

    def retry_after(self, exc: BaseException) -> float | None: ...


class StandardErrors:
    """``is_retryable`` / ``retry_after`` for providers that raise ``ProviderError``."""

    def is_retryable(self, exc: BaseException) -> bool:
        return isinstance(exc, ProviderError) and exc.retryable

    def retry_after(self, exc: BaseException) -> float | None:
        return exc.retry_after if isinstance(exc, ProviderError) else None
