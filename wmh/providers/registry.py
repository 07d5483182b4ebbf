"""Providers by name. Entries are plain data; a provider's module (and its SDK) is imported only
when ``create_provider`` builds it, so importing ``wmh.providers`` stays fast.

``offline`` is the offline engine (no model calls; see ``offline.py``), ``scripted`` the
deterministic test double; the rest are model APIs.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping

from pydantic import Field

from wmh.core.types import Frozen
from wmh.providers.base import Provider
from wmh.providers.errors import MissingSDKError, UnknownProviderError


class ProviderEntry(Frozen):
    """How to build one provider, without importing it."""

    name: str
    module: str = Field(description="Module that defines the provider class")
    class_name: str
    env: tuple[str, ...] = Field(default=(), description="Variables that must be set (each alternative: A|B)")
    default_model: str = Field(default="", description="Empty: the provider has none (pass a model)")
    description: str = ""
    sdk: str = Field(default="", description="Top-level package the provider imports")
    install: str = Field(default="", description="Command that installs the SDK")
    makes_calls: bool = Field(default=True, description="False for engines that never call a model")

    def missing_env(self, environ: Mapping[str, str] | None = None) -> list[str]:
        """The required variables not set (``A|B`` is satisfied by either)."""
        env = os.environ if environ is None else environ
        return [spec for spec in self.env if not any(env.get(name) for name in spec.split("|"))]


_SDK_INSTALL_ANTHROPIC = "uv add 'anthropic[bedrock]'"
_SDK_INSTALL_OPENAI = "uv add openai"

ENTRIES: dict[str, ProviderEntry] = {
    e.name: e
    for e in (
        ProviderEntry(
            name="offline",
            module="wmh.providers.offline",
            class_name="OfflineProvider",
            description="The offline engine: answers from traces alone, no model calls",
            makes_calls=False,
        ),
        ProviderEntry(
            name="scripted",
            module="wmh.providers.scripted",
            class_name="ScriptedProvider",
            default_model="scripted",
            description="Deterministic test double: replies from WMH_SCRIPTED_FILE (JSON or JSONL), in order",
        ),
        ProviderEntry(
            name="anthropic",
            module="wmh.providers.anthropic_api",
            class_name="AnthropicProvider",
            env=("ANTHROPIC_API_KEY",),
            default_model="claude-opus-4-5",
            description="Claude via the Anthropic API",
            sdk="anthropic",
            install=_SDK_INSTALL_ANTHROPIC,
        ),
        ProviderEntry(
            name="bedrock",
            module="wmh.providers.anthropic_api",
            class_name="BedrockProvider",
            env=("AWS_REGION|AWS_DEFAULT_REGION",),
            default_model="anthropic.claude-opus-4-5-20251101-v1:0",
            description="Claude on Amazon Bedrock (AWS credential chain; us./eu./apac. profile by region)",
            sdk="anthropic",
            install=_SDK_INSTALL_ANTHROPIC,
        ),
        ProviderEntry(
            name="openai",
            module="wmh.providers.openai_api",
            class_name="OpenAIProvider",
            env=("OPENAI_API_KEY",),
            default_model="gpt-5",
            description="GPT via the OpenAI API",
            sdk="openai",
            install=_SDK_INSTALL_OPENAI,
        ),
        ProviderEntry(
            name="azure-openai",
            module="wmh.providers.openai_api",
            class_name="AzureOpenAIProvider",
            env=("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"),
            default_model="gpt-5",
            description="GPT on Azure OpenAI (model = deployment name)",
            sdk="openai",
            install=_SDK_INSTALL_OPENAI,
        ),
        ProviderEntry(
            name="openai-compatible",
            module="wmh.providers.openai_api",
            class_name="OpenAICompatibleProvider",
            env=("OPENAI_BASE_URL",),
            description="Any OpenAI-compatible server at a base URL (vLLM, Ollama, llama.cpp, LM Studio)",
            sdk="openai",
            install=_SDK_INSTALL_OPENAI,
        ),
    )
}


def provider_names() -> list[str]:
    return list(ENTRIES)


def get_entry(name: str) -> ProviderEntry:
    try:
        return ENTRIES[name]
    except KeyError:
        known = ", ".join(ENTRIES)
        raise UnknownProviderError(f"unknown provider {name!r}: choose one of {known}") from None


def create_provider(name: str, model: str | None = None, **options: object) -> Provider:
    """Import and build the provider ``name``. ``options`` go to its constructor (``http_client``,
    ``base_url``, ``script``, ...). Raises ``MissingCredentialsError`` naming the variable to set."""
    entry = get_entry(name)
    try:
        module = importlib.import_module(entry.module)
    except ModuleNotFoundError as exc:
        if entry.sdk and exc.name and exc.name.split(".")[0] in {entry.sdk, "boto3", "botocore"}:
            raise MissingSDKError(
                f"{name}: the {exc.name} package is not installed: run {entry.install}"
            ) from None
        raise
    cls = getattr(module, entry.class_name)
    return cls(model, **options)
