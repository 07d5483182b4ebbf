"""GPT models through the official ``openai`` SDK: OpenAI, Azure OpenAI, and any server that
speaks the OpenAI chat API at a ``base_url`` (vLLM, Ollama, llama.cpp, LM Studio).

Imported only when one of these providers is used.

- The system prompt is the first message (stable prefix first), so OpenAI's automatic prompt
  caching reuses it; cached tokens come back in ``usage.prompt_tokens_details.cached_tokens``.
- ``temperature`` and ``seed`` are forwarded. Reasoning models (``gpt-5``, ``o1``/``o3``/``o4``)
  accept only the default temperature, so it is not sent to them (the seed still is).
- OpenAI itself also gets a ``prompt_cache_key`` derived from the stable prefix, so calls that
  share it land on the same prompt cache.
- ``json_output`` sends ``response_format={"type": "json_object"}`` (the prompt must mention JSON).
- OpenAI and Azure take ``max_completion_tokens``; compatible servers take ``max_tokens``.
- The SDK's own retries are off (``max_retries=0``): the ``LLM`` wrapper owns retries.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING

import openai
from openai import NOT_GIVEN, NotGiven, Omit, omit
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from wmh.providers._sdk import map_sdk_error, unreadable_response
from wmh.providers.base import Completion, CompletionRequest, StandardErrors, Usage
from wmh.providers.errors import MissingCredentialsError

if TYPE_CHECKING:
    import httpx2

DEFAULT_MODEL = "gpt-5"
DEFAULT_AZURE_API_VERSION = "2025-04-01-preview"
_REASONING = re.compile(r"^(o\d|gpt-5)(?!.*-chat)")


def chat_messages(request: CompletionRequest) -> list[ChatCompletionMessageParam]:
    messages: list[ChatCompletionMessageParam] = []
    if system := request.full_system():
        messages.append({"role": "system", "content": system})
    for m in request.messages:
        if m.role == "user":
            messages.append({"role": "user", "content": m.content})
        else:
            messages.append({"role": "assistant", "content": m.content})
    return messages


def to_completion(response: ChatCompletion) -> Completion:
    choice = response.choices[0] if response.choices else None
    text = (choice.message.content or choice.message.refusal or "") if choice else ""
    usage = response.usage
    details = usage.prompt_tokens_details if usage else None
    return Completion(
        text=text,
        model=response.model,
        finish_reason=(choice.finish_reason or "") if choice else "",
        usage=Usage(
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cached_input_tokens=(details.cached_tokens or 0) if details else 0,
        ),
    )


class _ChatBase(StandardErrors):
    name = "openai"
    credential_hint = "OPENAI_API_KEY"
    max_tokens_param = "max_completion_tokens"
    sends_prompt_cache_key = False
    model: str
    _client: openai.AsyncOpenAI
    _secrets: tuple[str | None, ...] = ()

    async def complete(self, request: CompletionRequest) -> Completion:
        model = request.model or self.model
        cap = request.max_tokens
        sampled = request.temperature is not None and not _REASONING.match(model)
        try:
            response = await self._client.chat.completions.create(
                model=model,
                messages=chat_messages(request),
                max_completion_tokens=cap if self.max_tokens_param == "max_completion_tokens" else omit,
                max_tokens=cap if self.max_tokens_param == "max_tokens" else omit,
                temperature=request.temperature if sampled else omit,
                seed=request.seed if request.seed is not None else omit,
                response_format={"type": "json_object"} if request.json_output else omit,
                prompt_cache_key=self._prompt_cache_key(request),
            )
            return to_completion(response)
        except openai.OpenAIError as exc:
            raise map_sdk_error(
                exc, openai, provider=self.name, credential_hint=self.credential_hint, secrets=self._secrets
            ) from None
        except (AttributeError, TypeError, ValueError) as exc:  # a 200 whose body is not the documented shape
            raise unreadable_response(self.name, exc) from None

    def _prompt_cache_key(self, request: CompletionRequest) -> str | Omit:
        """OpenAI routes calls with one key to one cache: key on the stable prefix (OpenAI only)."""
        if not (self.sends_prompt_cache_key and request.stable_prefix):
            return omit
        return "wmh-" + hashlib.sha256(request.stable_prefix.encode()).hexdigest()[:32]

    async def aclose(self) -> None:
        """Close the SDK client's connections."""
        await self._client.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def _timeout(timeout: float | None) -> float | NotGiven:
    return timeout if timeout is not None else NOT_GIVEN


class OpenAIProvider(_ChatBase):
    """The OpenAI API. Key from ``api_key`` or ``OPENAI_API_KEY``. ``OPENAI_BASE_URL`` is not read
    here (it selects ``openai-compatible``); pass ``base_url`` for a proxy."""

    name = "openai"
    sends_prompt_cache_key = True

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        base_url: str = "https://api.openai.com/v1",
        timeout: float | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        key = api_key or os.environ.get("OPENAI_API_KEY")
        if not key:
            raise MissingCredentialsError(self.name, "OPENAI_API_KEY")
        self.model = model or DEFAULT_MODEL
        self._secrets = (key,)
        self._client = openai.AsyncOpenAI(
            api_key=key, base_url=base_url, max_retries=0, http_client=http_client, timeout=_timeout(timeout)
        )


class AzureOpenAIProvider(_ChatBase):
    """Azure OpenAI. ``model`` is the deployment name. ``AZURE_OPENAI_API_KEY``,
    ``AZURE_OPENAI_ENDPOINT``; api version from ``OPENAI_API_VERSION`` or ``AZURE_OPENAI_API_VERSION``
    (default ``2025-04-01-preview``); default deployment ``AZURE_OPENAI_DEPLOYMENT`` or ``gpt-5``."""

    name = "azure-openai"
    credential_hint = "AZURE_OPENAI_API_KEY"

    def __init__(
        self,
        model: str | None = None,
        *,
        api_key: str | None = None,
        endpoint: str | None = None,
        api_version: str | None = None,
        timeout: float | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        key = api_key or os.environ.get("AZURE_OPENAI_API_KEY")
        if not key:
            raise MissingCredentialsError(self.name, "AZURE_OPENAI_API_KEY")
        endpoint = endpoint or os.environ.get("AZURE_OPENAI_ENDPOINT")
        if not endpoint:
            raise MissingCredentialsError(
                self.name, "AZURE_OPENAI_ENDPOINT", "https://<resource>.openai.azure.com"
            )
        version = (
            api_version
            or os.environ.get("OPENAI_API_VERSION")
            or os.environ.get("AZURE_OPENAI_API_VERSION")
            or DEFAULT_AZURE_API_VERSION
        )
        self.model = model or os.environ.get("AZURE_OPENAI_DEPLOYMENT") or DEFAULT_MODEL
        self._secrets = (key,)
        self._client = openai.AsyncAzureOpenAI(
            api_key=key,
            azure_endpoint=endpoint,
            api_version=version,
            max_retries=0,
            http_client=http_client,
            timeout=_timeout(timeout),
        )


class OpenAICompatibleProvider(_ChatBase):
    """Any OpenAI-compatible chat server. ``base_url`` or ``OPENAI_BASE_URL`` (e.g.
    ``http://localhost:8000/v1`` for vLLM, ``http://localhost:11434/v1`` for Ollama); key from
    ``OPENAI_API_KEY`` if the server wants one. ``model`` is the name the server serves (no default:
    ``OPENAI_MODEL`` or the argument)."""

    name = "openai-compatible"
    credential_hint = "OPENAI_API_KEY (if your server needs a key)"
    max_tokens_param = "max_tokens"

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not url:
            raise MissingCredentialsError(self.name, "OPENAI_BASE_URL", "or pass a base URL")
        model = model or os.environ.get("OPENAI_MODEL")
        if not model:
            raise MissingCredentialsError(
                self.name, "OPENAI_MODEL", "or pass --model: the name your server serves"
            )
        key = api_key or os.environ.get("OPENAI_API_KEY") or "not-needed"
        self.model = model
        self._secrets = (key,)
        self._client = openai.AsyncOpenAI(
            api_key=key, base_url=url, max_retries=0, http_client=http_client, timeout=_timeout(timeout)
        )
