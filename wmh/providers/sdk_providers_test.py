"""Every SDK-backed provider, through its official SDK's HTTP layer (httpx2.MockTransport), in the
scenarios a real API produces: success, plain text, 400, 401, 429 + retry-after, 500 then success,
timeouts, and an answer that is not the JSON asked for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
import pytest

from wmh.providers import (
    LLM,
    CompletionRequest,
    LLMConfig,
    Message,
    ProviderError,
    RetriesExhaustedError,
    create_provider,
)
from wmh.providers.conftest import (
    ANTHROPIC_KEY,
    AWS_ACCESS,
    AWS_SECRET,
    AZURE_KEY,
    OPENAI_KEY,
    FakeSleep,
    MockServer,
    anthropic_error,
    anthropic_message,
    json_response,
    openai_completion,
    openai_error,
)


@dataclass
class Case:
    name: str
    env: dict[str, str]
    secrets: tuple[str, ...]
    ok: Callable[[str], httpx2.Response]
    error: Callable[[int, dict[str, str]], httpx2.Response]
    credential_hint: str
    model: str | None = None


_ANTHROPIC_KINDS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    429: "rate_limit_error",
    500: "api_error",
}
_OPENAI_ERRORS = {
    400: ("invalid_request_error", "Invalid value for 'messages': must not be empty.", None),
    401: ("invalid_request_error", "Incorrect API key provided: sk-proj-****cdef.", "invalid_api_key"),
    403: ("invalid_request_error", "Project does not have access to model.", "model_not_found"),
    429: (
        "requests",
        "Rate limit reached for requests per min (RPM). Please try again in 2s.",
        "rate_limit_exceeded",
    ),
    500: ("server_error", "The server had an error while processing your request. Sorry about that!", None),
}
_BEDROCK_ERRORS = {
    400: ("ValidationException", "messages: at least one message is required"),
    401: ("UnrecognizedClientException", "The security token included in the request is invalid."),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: ("InternalServerException", "The system encountered an unexpected error during processing."),
}


def _anthropic_error(status: int, headers: dict[str, str]) -> httpx2.Response:
    return anthropic_error(status, _ANTHROPIC_KINDS[status], f"{_ANTHROPIC_KINDS[status]} happened", headers)


def _openai_error(status: int, headers: dict[str, str]) -> httpx2.Response:
    kind, message, code = _OPENAI_ERRORS[status]
    return openai_error(status, kind, message, code, headers)


def _bedrock_error(status: int, headers: dict[str, str]) -> httpx2.Response:
    kind, message = _BEDROCK_ERRORS[status]
    amzn = {"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return json_response(
        status, {"message": message}, {"x-amzn-requestid": "9f1c7a4e-2b3d", **amzn, **headers}
    )


def _openai_ok(text: str) -> httpx2.Response:
    return json_response(200, openai_completion(text))


def _anthropic_ok(text: str) -> httpx2.Response:
    return json_response(200, anthropic_message(text))


CASES = {
    "anthropic": Case(
        "anthropic",
        {"ANTHROPIC_API_KEY": ANTHROPIC_KEY},
        (ANTHROPIC_KEY,),
        _anthropic_ok,
        _anthropic_error,
        "ANTHROPIC_API_KEY",
    ),
    "bedrock": Case(
        "bedrock",
        {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": AWS_ACCESS, "AWS_SECRET_ACCESS_KEY": AWS_SECRET},
        (AWS_SECRET,),
        _anthropic_ok,
        _bedrock_error,
        "AWS",
    ),
    "openai": Case(
        "openai",
        {"OPENAI_API_KEY": OPENAI_KEY},
        (OPENAI_KEY,),
        _openai_ok,
        _openai_error,
        "OPENAI_API_KEY",
    ),
    "azure-openai": Case(
        "azure-openai",
        {"AZURE_OPENAI_API_KEY": AZURE_KEY, "AZURE_OPENAI_ENDPOINT": "https://wmh-test.openai.azure.com"},
        (AZURE_KEY,),
        _openai_ok,
        _openai_error,
        "AZURE_OPENAI_API_KEY",
    ),
    "openai-compatible": Case(
        "openai-compatible",
        {"OPENAI_BASE_URL": "http://localhost:8000/v1", "OPENAI_API_KEY": OPENAI_KEY},
        (OPENAI_KEY,),
        _openai_ok,
        _openai_error,
        "OPENAI_API_KEY",
        "meta-llama/Llama-3.1-8B-Instruct",
    ),
}

REQUEST = CompletionRequest(
    stable_prefix="You simulate the environment of a tool-using agent.",
    system="Answer with a JSON object.",
    messages=(Message(role="user", content='get_user({"id": "u1"})'),),
    temperature=0.0,
    seed=7,
    json_output=True,
)


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Case:
    c = CASES[request.param]
    for name, value in c.env.items():
        monkeypatch.setenv(name, value)
    return c


def _llm(case: Case, server: MockServer, sleep: FakeSleep, attempts: int = 3) -> LLM:
    provider = create_provider(case.name, case.model, http_client=server.client())
    return LLM(provider, LLMConfig(max_attempts=attempts, timeout_s=30), sleep=sleep)


def _assert_no_secret(case: Case, *texts: str) -> None:
    for secret in case.secrets:
        for text in texts:
            assert secret not in text


def test_success_returns_text_usage_and_sends_auth(
    case: Case, server: MockServer, fake_sleep: FakeSleep, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    server.replies = [case.ok('{"content": "{\\"id\\": \\"u1\\"}", "is_error": false}')]
    llm = _llm(case, server, fake_sleep)
    completion = asyncio.run(llm.complete(REQUEST, session="s1"))
    assert completion.text.startswith('{"content"')
    assert completion.usage.output_tokens > 0 and completion.usage.input_tokens > 0
    assert completion.finish_reason in {"end_turn", "stop"}
    headers = server.requests[0].headers
    auth = headers.get("authorization", "") + headers.get("x-api-key", "") + headers.get("api-key", "")
    assert auth, "an auth header is sent"
    _assert_no_secret(case, caplog.text, repr(llm.provider), repr(llm.report()))
    assert llm.report().provider_calls == 1 and fake_sleep.delays == []


def test_plain_text_answer(case: Case, server: MockServer, fake_sleep: FakeSleep) -> None:
    server.replies = [case.ok("The user u1 is Ann.")]
    completion = asyncio.run(
        _llm(case, server, fake_sleep).complete(REQUEST.model_copy(update={"json_output": False}))
    )
    assert completion.text == "The user u1 is Ann."


def test_answer_that_is_not_the_json_asked_for_passes_through(
    case: Case, server: MockServer, fake_sleep: FakeSleep
) -> None:
    server.replies = [case.ok("Sure! Here it is: {content: u1")]
    completion = asyncio.run(_llm(case, server, fake_sleep).complete(REQUEST))
    assert completion.text == "Sure! Here it is: {content: u1"


@pytest.mark.parametrize("status", [400, 401, 403])
def test_client_errors_are_not_retried(
    case: Case, server: MockServer, fake_sleep: FakeSleep, status: int
) -> None:
    server.replies = [case.error(status, {})]
    llm = _llm(case, server, fake_sleep)
    with pytest.raises(ProviderError) as info:
        asyncio.run(llm.complete(REQUEST))
    err = info.value
    assert err.status == status and not err.retryable
    assert len(server.requests) == 1 and fake_sleep.delays == []
    message = str(err)
    assert "\n" not in message and f"HTTP {status}" in message and case.name in message
    if status in (401, 403):
        assert case.credential_hint in message
    _assert_no_secret(case, message)


def test_429_honours_retry_after_then_succeeds(case: Case, server: MockServer, fake_sleep: FakeSleep) -> None:
    server.replies = [case.error(429, {"retry-after": "7"}), case.ok("ok")]
    llm = _llm(case, server, fake_sleep)
    completion = asyncio.run(llm.complete(REQUEST))
    assert completion.text == "ok"
    assert fake_sleep.delays == [7.0]
    assert len(server.requests) == 2
    assert llm.report().retries == 1 and llm.report().provider_calls == 2


def test_retry_after_ms_wins(case: Case, server: MockServer, fake_sleep: FakeSleep) -> None:
    server.replies = [case.error(429, {"retry-after-ms": "250", "retry-after": "1"}), case.ok("ok")]
    asyncio.run(_llm(case, server, fake_sleep).complete(REQUEST))
    assert fake_sleep.delays == [0.25]


def test_500_then_success_backs_off(case: Case, server: MockServer, fake_sleep: FakeSleep) -> None:
    server.replies = [case.error(500, {}), case.ok("recovered")]
    completion = asyncio.run(_llm(case, server, fake_sleep).complete(REQUEST))
    assert completion.text == "recovered"
    assert len(fake_sleep.delays) == 1 and 0.5 <= fake_sleep.delays[0] <= 1.0


def test_timeouts_are_retried_then_fail_clearly(
    case: Case, server: MockServer, fake_sleep: FakeSleep
) -> None:
    server.replies = [httpx2.ReadTimeout("timed out")]
    with pytest.raises(RetriesExhaustedError) as info:
        asyncio.run(_llm(case, server, fake_sleep, attempts=3).complete(REQUEST))
    assert len(server.requests) == 3 and len(fake_sleep.delays) == 2
    assert "timed out" in str(info.value) and "gave up after 3 attempts" in str(info.value)


def test_connection_errors_are_retried(case: Case, server: MockServer, fake_sleep: FakeSleep) -> None:
    server.replies = [httpx2.ConnectError("connection refused"), case.ok("ok")]
    assert asyncio.run(_llm(case, server, fake_sleep).complete(REQUEST)).text == "ok"
    assert len(server.requests) == 2


def test_saved_cache_files_hold_no_secret(
    case: Case, server: MockServer, fake_sleep: FakeSleep, tmp_path
) -> None:
    server.replies = [case.ok("ok")]
    provider = create_provider(case.name, case.model, http_client=server.client())
    llm = LLM(provider, LLMConfig(cache_dir=tmp_path), sleep=fake_sleep)
    asyncio.run(llm.complete(REQUEST))
    assert asyncio.run(llm.complete(REQUEST)).from_cache and len(server.requests) == 1
    (saved,) = tmp_path.rglob("*.json")
    _assert_no_secret(case, saved.read_text())


def test_a_200_that_is_not_the_documented_shape_is_a_retryable_provider_error(
    case: Case, server: MockServer, fake_sleep: FakeSleep
) -> None:
    html = httpx2.Response(
        200, content=b"<html>502 Bad Gateway</html>", headers={"content-type": "text/html"}
    )
    server.replies = [html, case.ok("ok")]
    assert asyncio.run(_llm(case, server, fake_sleep).complete(REQUEST)).text == "ok"
    server.replies = [html]
    with pytest.raises(RetriesExhaustedError, match="unreadable response"):
        asyncio.run(_llm(case, server, fake_sleep, attempts=2).complete(REQUEST))


def test_aclose_closes_the_sdk_client(case: Case, server: MockServer, fake_sleep: FakeSleep) -> None:
    client = server.client()
    llm = LLM(create_provider(case.name, case.model, http_client=client), sleep=fake_sleep)
    asyncio.run(llm.aclose())
    assert client.is_closed
