"""Claude through the official ``anthropic`` SDK: the Anthropic API and Amazon Bedrock.

Imported only when one of these providers is used (the SDK takes seconds to import).

- The system prompt goes as text blocks; the stable prefix carries
  ``cache_control: {"type": "ephemeral"}`` so repeated calls read it from the prompt cache.
- ``temperature`` is forwarded (in the request body: this SDK's typed signature no longer lists
  it, the API still reads it). The Messages API has no ``seed``: the seed is not sent, but it is
  part of wmh's response-cache key, so a seeded run replays exactly from the cache.
- ``json_output`` sends nothing (the API has no JSON mode): the prompt asks for JSON and the caller
  parses or repairs the text.
- The SDK's own retries are off (``max_retries=0``): the ``LLM`` wrapper owns retries.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import anthropic
from anthropic.types import Message as ApiMessage
from anthropic.types import MessageParam, TextBlockParam

from wmh.providers._sdk import map_sdk_error, unreadable_response
from wmh.providers.base import Completion, CompletionRequest, Message, StandardErrors, Usage
from wmh.providers.errors import MissingCredentialsError

if TYPE_CHECKING:
    import httpx2

DEFAULT_MODEL = "claude-opus-4-5"
DEFAULT_BEDROCK_MODEL = "anthropic.claude-opus-4-5-20251101-v1:0"
_GEO_PREFIX = {"us": "us.", "eu": "eu.", "ap": "apac."}


def bedrock_default_model(region: str) -> str:
    """Opus through the cross-region inference profile of ``region``'s geography (``us.``, ``eu.``,
    ``apac.``): Bedrock serves recent Claude models on demand only through such profiles."""
    return _GEO_PREFIX.get(region.split("-")[0], "") + DEFAULT_BEDROCK_MODEL


def system_blocks(request: CompletionRequest) -> list[TextBlockParam]:
    """The system prompt as text blocks; the stable prefix is marked for prompt caching."""
    blocks: list[TextBlockParam] = []
    if request.stable_prefix:
        blocks.append({"type": "text", "text": request.stable_prefix, "cache_control": {"type": "ephemeral"}})
    if request.system:
        blocks.append({"type": "text", "text": request.system})
    return blocks


def to_completion(message: ApiMessage) -> Completion:
    text = "".join(block.text for block in message.content if block.type == "text")
    usage = message.usage
    cached = usage.cache_read_input_tokens or 0
    written = usage.cache_creation_input_tokens or 0
    return Completion(
        text=text,
        model=message.model,
        finish_reason=message.stop_reason or "",
        usage=Usage(
            input_tokens=usage.input_tokens + cached + written,
            output_tokens=usage.output_tokens,
            cached_input_tokens=cached,
            cache_write_tokens=written,
        ),
    )


def _message_param(message: Message) -> MessageParam:
    if message.role == "user":
        return {"role": "user", "content": message.content}
    return {"role": "assistant", "content": message.content}


class _ClaudeBase(StandardErrors):
    name = "anthropic"
    credential_hint = "ANTHROPIC_API_KEY"
    model: str
    _client: anthropic.AsyncAnthropic | anthropic.AsyncAnthropicBedrock
    _secrets: tuple[str | None, ...] = ()

    async def complete(self, request: CompletionRequest) -> Completion:
        system = system_blocks(request)
        temperature = request.temperature
        try:
            message = await self._client.messages.create(
                model=request.model or self.model,
                max_tokens=request.max_tokens,
                messages=[_message_param(m) for m in request.messages],
                system=system if system else anthropic.omit,
                extra_body={"temperature": temperature} if temperature is not None else None,
            )
            return to_completion(message)
        except anthropic.AnthropicError as exc:
            raise map_sdk_error(
                exc,
                anthropic,
                provider=self.name,
                credential_hint=self.credential_hint,
                secrets=self._secrets,
            ) from None
        except (AttributeError, TypeError, ValueError) as exc:  # a 200 whose body is not the documented shape
            raise unreadable_response(self.name, exc) from None

    async def aclose(self) -> None:
        """Close the SDK client's connections."""
        await self._client.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


class AnthropicProvider(_ClaudeBase):
    """The Anthropic API. Key from ``api_key`` or ``ANTHROPIC_API_KEY``."""

    name = "anthropic"

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not key:
            raise MissingCredentialsError(self.name, "ANTHROPIC_API_KEY")
        self.model = model or DEFAULT_MODEL
        self._secrets = (key,)
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=base_url,
            max_retries=0,
            http_client=http_client,
            timeout=timeout if timeout is not None else anthropic.NOT_GIVEN,
        )


class BedrockProvider(_ClaudeBase):
    """Claude on Amazon Bedrock: ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``) and the usual AWS
    credential chain (env keys, ``AWS_PROFILE``, config files, instance roles), or a Bedrock API key
    in ``AWS_BEARER_TOKEN_BEDROCK``. Requests are SigV4-signed by the SDK."""

    name = "bedrock"
    credential_hint = "your AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE)"

    def __init__(
        self,
        model: str | None = None,
        *,
        region: str | None = None,
        timeout: float | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if not region:
            raise MissingCredentialsError(self.name, "AWS_REGION")
        if not os.environ.get("AWS_BEARER_TOKEN_BEDROCK"):
            _require_aws_credentials(self.name)
        self.model = model or bedrock_default_model(region)
        self._secrets = (os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_BEARER_TOKEN_BEDROCK"))
        self._client = anthropic.AsyncAnthropicBedrock(
            aws_region=region,
            max_retries=0,
            http_client=http_client,
            timeout=timeout if timeout is not None else anthropic.NOT_GIVEN,
        )


def _require_aws_credentials(provider: str) -> None:
    import boto3

    if boto3.Session().get_credentials() is None:
        raise MissingCredentialsError(
            provider,
            "AWS_ACCESS_KEY_ID",
            "and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE: no AWS credentials found",
        )
