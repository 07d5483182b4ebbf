from __future__ import annotations

import pytest

from wmh.providers.conftest import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    MockServer,
    anthropic_message,
    json_response,
    openai_error,
)
from wmh.providers.verify import verify_providers


def test_configured_providers_are_called_the_rest_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    good, bad = MockServer([json_response(200, anthropic_message("ok"))]), MockServer()
    bad.replies = [
        openai_error(401, "invalid_request_error", "Incorrect API key provided.", "invalid_api_key")
    ]
    rows = verify_providers(
        options={"anthropic": {"http_client": good.client()}, "openai": {"http_client": bad.client()}}
    )
    by_name = {row.name: row for row in rows}
    assert by_name["offline"].status == "pass"
    assert by_name["scripted"].status == "pass" and "'ok'" in by_name["scripted"].detail
    assert by_name["anthropic"].status == "pass" and "'ok'" in by_name["anthropic"].detail
    assert by_name["openai"].status == "fail" and "HTTP 401" in by_name["openai"].detail
    assert "OPENAI_API_KEY" in by_name["openai"].detail and OPENAI_KEY not in by_name["openai"].detail
    assert (
        by_name["bedrock"].status == "skipped"
        and by_name["bedrock"].detail == "set AWS_REGION|AWS_DEFAULT_REGION"
    )
    assert by_name["azure-openai"].detail == "set AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT"
    assert by_name["openai-compatible"].detail == "set OPENAI_BASE_URL"
    assert len(good.requests) == 1 and len(bad.requests) == 1
    assert by_name["embedder"].status == "pass"


def test_missing_credential_found_late_is_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")  # region set, no credentials anywhere
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")  # no model named
    rows = verify_providers(["bedrock", "openai-compatible"], include_embedder=False)
    assert [(r.status, r.detail) for r in rows] == [
        ("skipped", "set AWS_ACCESS_KEY_ID"),
        ("skipped", "set OPENAI_MODEL"),
    ]
