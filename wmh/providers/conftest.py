"""Fixtures for provider tests: a clean environment, a recording mock HTTP server for the SDKs'
httpx2 clients, complete API payloads in the providers' documented shapes, and a fake sleep."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx2
import orjson
import pytest

PROVIDER_ENV = (
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "OPENAI_API_VERSION",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_VERSION",
    "AZURE_OPENAI_DEPLOYMENT",
    "AZURE_OPENAI_AD_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_BEARER_TOKEN_BEDROCK",
    "WMH_SCRIPTED_FILE",
    "WMH_SCRIPTED_SLEEP",
)

ANTHROPIC_KEY = "sk-ant-api03-TESTKEYtestkey0123456789abcdef"
OPENAI_KEY = "sk-proj-TESTKEYtestkey0123456789abcdef"
AZURE_KEY = "0123456789abcdef0123456789abcdef"
AWS_ACCESS = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No real credential or AWS config reaches a test, and botocore never probes instance metadata."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    nowhere = tmp_path_factory.mktemp("aws") / "none"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)


Reply = httpx2.Response | Exception


@dataclass
class MockServer:
    """Serves queued replies in order (the last one repeats) and records every request."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[httpx2.Request] = field(default_factory=list)

    def handler(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        self.requests.append(request)
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, Exception):
            raise reply
        return reply

    def client(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self.handler))

    def body(self, index: int = -1) -> dict:
        return orjson.loads(self.requests[index].content)


@pytest.fixture
def server() -> MockServer:
    return MockServer()


@dataclass
class FakeSleep:
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def fake_sleep() -> FakeSleep:
    return FakeSleep()


def json_response(status: int, payload: object, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(
        status, content=orjson.dumps(payload), headers={"content-type": "application/json", **(headers or {})}
    )


def anthropic_message(
    text: str, *, model: str = "claude-opus-4-5-20251101", cache_read: int = 0, cache_write: int = 0
) -> dict:
    """A complete Messages API response (https://docs.anthropic.com/en/api/messages)."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 412,
            "cache_creation_input_tokens": cache_write,
            "cache_read_input_tokens": cache_read,
            "output_tokens": 57,
            "service_tier": "standard",
        },
    }


def anthropic_error(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> httpx2.Response:
    payload = {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    return json_response(status, payload, {"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy", **(headers or {})})


def openai_completion(text: str, *, model: str = "gpt-5-2025-08-07", cached: int = 0) -> dict:
    """A complete chat.completion object (https://platform.openai.com/docs/api-reference/chat/object)."""
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": 1741570283,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1117,
            "completion_tokens": 46,
            "total_tokens": 1163,
            "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035",
    }


def openai_error(
    status: int, kind: str, message: str, code: str | None = None, headers: dict[str, str] | None = None
) -> httpx2.Response:
    payload = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return json_response(status, payload, {"x-request-id": "req_5e1c2b8a9f", **(headers or {})})


@pytest.fixture
def no_logged_secrets(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level("DEBUG")
    yield caplog
