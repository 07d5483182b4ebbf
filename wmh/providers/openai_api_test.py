"""What the OpenAI, Azure OpenAI and OpenAI-compatible providers send and how they read the answer."""

from __future__ import annotations

import asyncio

import pytest

from wmh.providers import CompletionRequest, Message, MissingCredentialsError, create_provider
from wmh.providers.conftest import AZURE_KEY, OPENAI_KEY, MockServer, json_response, openai_completion

REQUEST = CompletionRequest(
    stable_prefix="ENV PROMPT + TOOL CATALOG",
    system="Task: book a flight. Answer in JSON.",
    messages=(Message(role="user", content="search_flights(...)"),),
    temperature=0.2,
    seed=42,
    max_tokens=256,
    json_output=True,
)


def _complete(name: str, server: MockServer, model: str | None = None, request: CompletionRequest = REQUEST):
    provider = create_provider(name, model, http_client=server.client())
    return asyncio.run(provider.complete(request))


def test_openai_request_shape_and_usage(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    server.replies = [
        json_response(200, openai_completion('{"content": "[]"}', model="gpt-4.1", cached=1024))
    ]
    completion = _complete("openai", server, "gpt-4.1")

    sent = server.requests[0]
    assert str(sent.url) == "https://api.openai.com/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    body = server.body()
    assert body["model"] == "gpt-4.1"
    assert body["messages"] == [
        {"role": "system", "content": "ENV PROMPT + TOOL CATALOG\n\nTask: book a flight. Answer in JSON."},
        {"role": "user", "content": "search_flights(...)"},
    ]
    assert body["temperature"] == 0.2 and body["seed"] == 42
    assert body["response_format"] == {"type": "json_object"}
    assert body["max_completion_tokens"] == 256 and "max_tokens" not in body
    assert body["prompt_cache_key"].startswith("wmh-") and len(body["prompt_cache_key"]) == 36

    assert completion.text == '{"content": "[]"}' and completion.finish_reason == "stop"
    assert completion.usage.input_tokens == 1117 and completion.usage.output_tokens == 46
    assert completion.usage.cached_input_tokens == 1024


def test_openai_reasoning_default_model_gets_seed_not_temperature(
    monkeypatch: pytest.MonkeyPatch, server: MockServer
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    server.replies = [json_response(200, openai_completion("x"))]
    _complete("openai", server)
    body = server.body()
    assert body["model"] == "gpt-5" and body["seed"] == 42 and "temperature" not in body


def test_openai_ignores_the_compatible_base_url(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    server.replies = [json_response(200, openai_completion("x"))]
    _complete("openai", server)
    assert server.requests[0].url.host == "api.openai.com"


def test_openai_plain_request_sends_no_optional_fields(
    monkeypatch: pytest.MonkeyPatch, server: MockServer
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    server.replies = [json_response(200, openai_completion("x"))]
    _complete("openai", server, "gpt-4.1", CompletionRequest(messages=(Message(role="user", content="hi"),)))
    body = server.body()
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert not {"temperature", "seed", "response_format", "prompt_cache_key"} & set(body)


def test_openai_missing_key_names_the_variable() -> None:
    with pytest.raises(MissingCredentialsError, match=r"^openai: set OPENAI_API_KEY$"):
        create_provider("openai")


def _azure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://wmh-test.openai.azure.com")


def test_azure_deployment_path_api_version_and_key_header(
    monkeypatch: pytest.MonkeyPatch, server: MockServer
) -> None:
    _azure(monkeypatch)
    server.replies = [json_response(200, openai_completion("x", model="gpt-5-2025-08-07"))]
    completion = _complete("azure-openai", server, "my-gpt5-deployment")
    sent = server.requests[0]
    assert sent.url.host == "wmh-test.openai.azure.com"
    assert sent.url.path == "/openai/deployments/my-gpt5-deployment/chat/completions"
    assert sent.url.params["api-version"] == "2025-04-01-preview"
    assert sent.headers["api-key"] == AZURE_KEY
    body = server.body()
    assert body["seed"] == 42 and body["response_format"] == {"type": "json_object"}
    assert "prompt_cache_key" not in body and body["max_completion_tokens"] == 256
    assert completion.model == "gpt-5-2025-08-07"


def test_azure_api_version_and_deployment_from_env(
    monkeypatch: pytest.MonkeyPatch, server: MockServer
) -> None:
    _azure(monkeypatch)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENT", "gpt-41-prod")
    server.replies = [json_response(200, openai_completion("x"))]
    _complete("azure-openai", server)
    sent = server.requests[0]
    assert sent.url.params["api-version"] == "2024-10-21"
    assert sent.url.path == "/openai/deployments/gpt-41-prod/chat/completions"


@pytest.mark.parametrize(
    ("env", "variable"),
    [({}, "AZURE_OPENAI_API_KEY"), ({"AZURE_OPENAI_API_KEY": AZURE_KEY}, "AZURE_OPENAI_ENDPOINT")],
)
def test_azure_missing_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], variable: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(MissingCredentialsError, match=f"^azure-openai: set {variable}"):
        create_provider("azure-openai")


def test_compatible_server_without_key(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    server.replies = [json_response(200, openai_completion("x", model="llama3.1:8b"))]
    completion = _complete("openai-compatible", server, "llama3.1:8b")
    sent = server.requests[0]
    assert str(sent.url) == "http://localhost:11434/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer not-needed"
    body = server.body()
    assert body["max_tokens"] == 256 and "max_completion_tokens" not in body
    assert "prompt_cache_key" not in body
    assert body["temperature"] == 0.2 and body["seed"] == 42
    assert completion.model == "llama3.1:8b"


def test_compatible_base_url_argument_and_model_env(
    monkeypatch: pytest.MonkeyPatch, server: MockServer
) -> None:
    monkeypatch.setenv("OPENAI_MODEL", "Qwen/Qwen2.5-7B-Instruct")
    server.replies = [json_response(200, openai_completion("x"))]
    provider = create_provider(
        "openai-compatible", base_url="http://gpu-box:8000/v1", http_client=server.client()
    )
    asyncio.run(provider.complete(REQUEST))
    assert str(server.requests[0].url) == "http://gpu-box:8000/v1/chat/completions"
    assert server.body()["model"] == "Qwen/Qwen2.5-7B-Instruct"


def test_compatible_needs_base_url_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingCredentialsError, match=r"^openai-compatible: set OPENAI_BASE_URL"):
        create_provider("openai-compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    with pytest.raises(MissingCredentialsError, match="set OPENAI_MODEL"):
        create_provider("openai-compatible")
