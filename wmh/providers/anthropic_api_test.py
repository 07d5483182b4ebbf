"""What the Anthropic and Bedrock providers send and how they read the answer."""

from __future__ import annotations

import asyncio

import pytest

from wmh.providers import CompletionRequest, Message, MissingCredentialsError, create_provider
from wmh.providers.conftest import (
    ANTHROPIC_KEY,
    AWS_ACCESS,
    AWS_SECRET,
    MockServer,
    anthropic_message,
    json_response,
)

REQUEST = CompletionRequest(
    stable_prefix="ENV PROMPT + TOOL CATALOG",
    system="Task: book a flight.",
    messages=(
        Message(role="user", content="search_flights(...)"),
        Message(role="assistant", content='{"content": "[]"}'),
        Message(role="user", content="get_user(...)"),
    ),
    temperature=0.3,
    seed=11,
    max_tokens=300,
    json_output=True,
)


def test_anthropic_request_shape_and_usage(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    server.replies = [json_response(200, anthropic_message("hi", cache_read=2048, cache_write=100))]
    provider = create_provider("anthropic", http_client=server.client())
    completion = asyncio.run(provider.complete(REQUEST))

    sent = server.requests[0]
    assert sent.method == "POST" and sent.url.path == "/v1/messages" and sent.url.host == "api.anthropic.com"
    assert ANTHROPIC_KEY in (sent.headers.get("x-api-key", "") + sent.headers.get("authorization", ""))
    assert sent.headers["anthropic-version"]
    body = server.body()
    assert body["model"] == "claude-opus-4-5" and body["max_tokens"] == 300
    assert body["system"] == [
        {"type": "text", "text": "ENV PROMPT + TOOL CATALOG", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "Task: book a flight."},
    ]
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == "get_user(...)"
    assert body["temperature"] == 0.3
    assert "seed" not in body and "response_format" not in body

    assert completion.text == "hi" and completion.model == "claude-opus-4-5-20251101"
    assert completion.finish_reason == "end_turn"
    assert completion.usage.cached_input_tokens == 2048 and completion.usage.cache_write_tokens == 100
    assert completion.usage.input_tokens == 412 + 2048 + 100 and completion.usage.output_tokens == 57


def test_anthropic_minimal_request_omits_empty_fields(
    monkeypatch: pytest.MonkeyPatch, server: MockServer
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    server.replies = [json_response(200, anthropic_message("x"))]
    provider = create_provider("anthropic", "claude-haiku-4-5", http_client=server.client())
    asyncio.run(provider.complete(CompletionRequest(messages=(Message(role="user", content="ping"),))))
    body = server.body()
    assert body["model"] == "claude-haiku-4-5"
    assert "system" not in body and "temperature" not in body


def test_anthropic_missing_key_names_the_variable() -> None:
    with pytest.raises(MissingCredentialsError, match=r"^anthropic: set ANTHROPIC_API_KEY$"):
        create_provider("anthropic")


def _aws(monkeypatch: pytest.MonkeyPatch, region: str = "us-east-1") -> None:
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", AWS_ACCESS)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)


def test_bedrock_invoke_path_and_sigv4(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    _aws(monkeypatch)
    server.replies = [json_response(200, anthropic_message("hi", model="claude-opus-4-5-20251101"))]
    provider = create_provider("bedrock", http_client=server.client())
    completion = asyncio.run(provider.complete(REQUEST))

    sent = server.requests[0]
    assert sent.url.host == "bedrock-runtime.us-east-1.amazonaws.com"
    assert sent.url.path == "/model/us.anthropic.claude-opus-4-5-20251101-v1:0/invoke"
    auth = sent.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/")
    assert "/us-east-1/bedrock/aws4_request" in auth and "Signature=" in auth
    assert sent.headers["x-amz-date"]
    assert AWS_SECRET not in str(sent.headers)
    body = server.body()
    assert (
        body["anthropic_version"] and "model" not in body
    )  # Bedrock: version in the body, model in the path
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert body["temperature"] == 0.3
    assert completion.text == "hi"


@pytest.mark.parametrize(
    ("region", "prefix"), [("us-west-2", "us."), ("eu-central-1", "eu."), ("ap-northeast-1", "apac.")]
)
def test_bedrock_default_model_uses_the_regions_inference_profile(
    monkeypatch: pytest.MonkeyPatch, region: str, prefix: str
) -> None:
    _aws(monkeypatch, region)
    assert create_provider("bedrock").model == f"{prefix}anthropic.claude-opus-4-5-20251101-v1:0"


def test_bedrock_explicit_model_is_kept(monkeypatch: pytest.MonkeyPatch, server: MockServer) -> None:
    _aws(monkeypatch)
    server.replies = [json_response(200, anthropic_message("x"))]
    provider = create_provider(
        "bedrock", "anthropic.claude-opus-4-1-20250805-v1:0", http_client=server.client()
    )
    asyncio.run(provider.complete(REQUEST))
    assert server.requests[0].url.path == "/model/anthropic.claude-opus-4-1-20250805-v1:0/invoke"


def test_bedrock_needs_a_region() -> None:
    with pytest.raises(MissingCredentialsError, match=r"^bedrock: set AWS_REGION$"):
        create_provider("bedrock")


def test_bedrock_needs_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(MissingCredentialsError, match="bedrock: set AWS_ACCESS_KEY_ID"):
        create_provider("bedrock")


def test_repr_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    _aws(monkeypatch)
    for name in ("anthropic", "bedrock"):
        text = repr(create_provider(name)) + str(vars(create_provider(name)).keys())
        assert ANTHROPIC_KEY not in text and AWS_SECRET not in text
