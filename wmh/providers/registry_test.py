from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from wmh.providers import (
    ENTRIES,
    CompletionRequest,
    MissingSDKError,
    ProviderError,
    UnknownProviderError,
    create_provider,
    get_entry,
    provider_names,
)
from wmh.providers.registry import ProviderEntry

HEAVY = ("anthropic", "openai", "boto3", "botocore", "httpx2")


def test_importing_the_package_imports_no_sdk() -> None:
    code = (
        "import sys, wmh.providers as p\n"
        "p.provider_names(); p.get_entry('anthropic').missing_env({})\n"
        "p.create_provider('scripted', script=['x']); p.create_provider('offline')\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_all_providers_registered() -> None:
    assert provider_names() == [
        "offline",
        "scripted",
        "anthropic",
        "bedrock",
        "openai",
        "azure-openai",
        "openai-compatible",
    ]
    assert get_entry("anthropic").default_model.startswith("claude-opus")
    assert "opus" in get_entry("bedrock").default_model
    assert get_entry("openai").default_model == "gpt-5"


def test_every_entry_resolves_to_a_class() -> None:
    import importlib

    for entry in ENTRIES.values():
        assert hasattr(importlib.import_module(entry.module), entry.class_name), entry.name


def test_unknown_provider_lists_the_choices() -> None:
    with pytest.raises(
        UnknownProviderError, match="unknown provider 'gemini': choose one of offline, scripted"
    ):
        get_entry("gemini")


def test_missing_env_understands_alternatives() -> None:
    bedrock = get_entry("bedrock")
    assert bedrock.missing_env({}) == ["AWS_REGION|AWS_DEFAULT_REGION"]
    assert bedrock.missing_env({"AWS_DEFAULT_REGION": "eu-west-1"}) == []
    assert get_entry("azure-openai").missing_env({"AZURE_OPENAI_API_KEY": "k"}) == ["AZURE_OPENAI_ENDPOINT"]


def test_missing_sdk_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ProviderEntry(
        name="ghost",
        module="wmh_no_such_sdk_module",
        class_name="X",
        sdk="wmh_no_such_sdk_module",
        install="uv add ghost",
    )
    monkeypatch.setitem(ENTRIES, "ghost", fake)
    with pytest.raises(
        MissingSDKError, match="ghost: the wmh_no_such_sdk_module package is not installed: run uv add ghost"
    ):
        create_provider("ghost")


def test_offline_entry_makes_no_calls() -> None:
    offline = create_provider("offline")
    assert get_entry("offline").makes_calls is False and offline.name == "offline"
    with pytest.raises(ProviderError, match="makes no model calls"):
        asyncio.run(offline.complete(CompletionRequest()))
