"""Model providers and the wrapper that calls them. Importing this package imports no SDK.

    from wmh.providers import LLM, LLMConfig, CompletionRequest, Message, create_provider

    provider = create_provider("anthropic", model=None)      # SDK imported here, key from env
    llm = LLM(provider, LLMConfig(cache_dir=cache, max_concurrency=8))
    completion = await llm.complete(
        CompletionRequest(stable_prefix=env_prompt, system=task, messages=(Message(role="user", content=action),),
                          temperature=0.0, seed=7, json_output=True),
        session=session_id,
    )
    completion.text, completion.usage, llm.report()

Public: the request/response types (``base``), the errors (``errors``), the registry
(``registry``), ``LLM``/``LLMConfig`` (``wrapper``), ``UsageReport`` (``usage``), prices
(``pricing``) and ``ScriptedProvider``. The SDK-backed modules (``anthropic_api``,
``openai_api``) are reached through ``create_provider``.
"""

from wmh.providers.base import Completion, CompletionRequest, Message, Provider, Usage
from wmh.providers.cache import CacheMode, cache_key
from wmh.providers.errors import (
    MissingCredentialsError,
    MissingSDKError,
    ProviderError,
    ProviderTimeoutError,
    ReplayMissError,
    RetriesExhaustedError,
    ScriptExhaustedError,
    UnknownProviderError,
)
from wmh.providers.pricing import Price, cost_usd, price_for
from wmh.providers.registry import ENTRIES, ProviderEntry, create_provider, get_entry, provider_names
from wmh.providers.scripted import ScriptedProvider
from wmh.providers.usage import UsageReport, UsageTotals
from wmh.providers.wrapper import LLM, LLMConfig

__all__ = [
    "ENTRIES",
    "LLM",
    "CacheMode",
    "Completion",
    "CompletionRequest",
    "LLMConfig",
    "Message",
    "MissingCredentialsError",
    "MissingSDKError",
    "Price",
    "Provider",
    "ProviderEntry",
    "ProviderError",
    "ProviderTimeoutError",
    "ReplayMissError",
    "RetriesExhaustedError",
    "ScriptExhaustedError",
    "ScriptedProvider",
    "UnknownProviderError",
    "Usage",
    "UsageReport",
    "UsageTotals",
    "cache_key",
    "cost_usd",
    "create_provider",
    "get_entry",
    "price_for",
    "provider_names",
]
