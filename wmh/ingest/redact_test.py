"""Secrets in trace text are replaced; ordinary text is left alone."""

from __future__ import annotations

import pytest

from wmh.ingest.redact import REDACTED, might_contain_secret, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("key sk-abcdefghijklmnopqrstuv1234 end", f"key {REDACTED} end"),
        ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", REDACTED),
        ("aws AKIAIOSFODNN7EXAMPLE", f"aws {REDACTED}"),
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", REDACTED),
        ("gho_abcdefghijklmnopqrstuvwxyz0123456789", REDACTED),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", REDACTED),
        ("token github_pat_11ABCDEF0123456789_XYZxyzXYZxyz", f"token {REDACTED}"),  # no "gh" in it
        ("slack xoxb-1234567890-abcdefghij", f"slack {REDACTED}"),
        ("AIzaSyA1234567890abcdefghijklmnopqrstuv", REDACTED),
        ("Authorization: Bearer abc.def-ghi_12345", f"Authorization: Bearer {REDACTED}"),
        ('{"authorization": "Basic dXNlcjpwYXNzd29yZA=="}', f'{{"authorization": "Basic {REDACTED}"}}'),
        ("curl -H 'bearer 0123456789abcdef'", f"curl -H 'bearer {REDACTED}'"),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            REDACTED,
        ),
        ('{"api_key": "abcdef0123456789abcdef"}', f'{{"api_key": "{REDACTED}"}}'),
        ("API-KEY=ABCDEF0123456789XYZ", f"API-KEY={REDACTED}"),
        ("x-api-key: 0123456789abcdef0123", f"x-api-key: {REDACTED}"),
    ],
)
def test_secrets_are_redacted(text: str, expected: str):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        '{"id": "id_123", "status": "ok", "total": 5}',
        "task-12 is done; ask-me-anything",
        "the bearer of bad news",
        "our api key policy is documented",
        "sk-short",
        "skeleton key",
    ],
)
def test_ordinary_text_is_unchanged(text: str):
    assert redact(text) == text


def test_precheck_is_conservative():
    assert not might_contain_secret('{"id": "id_123", "status": "ok"}')
    for text in (
        "sk-x",
        "AKIA",
        "ghp_",
        "github_pat_",
        "xoxb-",
        "AIza",
        "Bearer",
        "AUTHORIZATION",
        "eyJ",
        "ApiKey",
        "API_KEY",
    ):
        assert might_contain_secret(text), text
