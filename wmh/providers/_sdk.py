"""Shared by the SDK-backed providers: map an SDK exception to a ``ProviderError``.

The anthropic and openai SDKs share one exception shape (Stainless-generated):
``APIStatusError`` (``status_code``, ``response``, ``body``), ``APITimeoutError`` and
``APIConnectionError``. Retryable: 408, 409, 429, 5xx (and Anthropic's 529), timeouts, connection
errors. Not retryable: other 4xx. Secrets are scrubbed from every message.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Iterable, Mapping
from types import ModuleType

import orjson

from wmh.providers.errors import ProviderError, ProviderTimeoutError

RETRYABLE_STATUS = frozenset({408, 409, 429})
_KEYLIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|AKIA[0-9A-Z]{12,})")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace each known secret, and anything shaped like an API key, with ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEYLIKE.sub("***", text)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    if (ms := _number(lowered.get("retry-after-ms"))) is not None:
        return ms / 1000
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    if (seconds := _number(raw)) is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _number(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None


def error_detail(body: bytes) -> tuple[str, str]:
    """(type, message) from an Anthropic or OpenAI error body; ("", raw text) otherwise."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "", body.decode(errors="replace")[:300]
    inner = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(inner, dict):
        kind = inner.get("type") or inner.get("code") or ""
        return str(kind), str(inner.get("message", ""))
    if isinstance(inner, str):  # Ollama: {"error": "model 'x' not found"}
        return "", inner
    if isinstance(parsed, dict) and "message" in parsed:  # Bedrock, vLLM: {"message": "...", ...}
        return str(parsed.get("type", "")), str(parsed["message"])
    return "", body.decode(errors="replace")[:300]


def map_sdk_error(
    exc: Exception, sdk: ModuleType, *, provider: str, credential_hint: str, secrets: Iterable[str | None]
) -> ProviderError:
    """The ``ProviderError`` for one of the SDK's exceptions (anything else it raises: not retryable)."""
    secrets = tuple(secrets)
    if isinstance(exc, sdk.APITimeoutError):
        return ProviderTimeoutError(f"{provider}: the request timed out", retryable=True)
    if isinstance(exc, sdk.APIConnectionError):
        cause = redact(str(exc.__cause__ or exc), secrets)
        return ProviderError(f"{provider}: connection failed: {cause}", retryable=True)
    if not isinstance(exc, sdk.APIStatusError):
        return ProviderError(redact(f"{provider}: {type(exc).__name__}: {exc}", secrets))
    status: int = exc.status_code
    kind, detail = error_detail(exc.response.content)
    kind = kind or exc.response.headers.get("x-amzn-errortype", "").split(":")[0]  # Bedrock
    message = f"{provider}: HTTP {status}{f' {kind}' if kind else ''}: {' '.join(detail.split())[:300]}"
    if status in (401, 403):
        message += f"; check {credential_hint}"
    return ProviderError(
        redact(message, secrets),
        status=status,
        retryable=status in RETRYABLE_STATUS or status >= 500,
        retry_after=parse_retry_after(exc.response.headers),
    )


def unreadable_response(provider: str, exc: Exception) -> ProviderError:
    """A success status with a body that is not the documented shape (a proxy's HTML page, a cut-off
    body): worth one more try."""
    detail = " ".join(str(exc).split())[:200]
    return ProviderError(f"{provider}: unreadable response ({type(exc).__name__}: {detail})", retryable=True)
