"""``wmh providers verify`` as a library: one minimal real call per configured provider.

A provider whose variables are unset is skipped with the variable to set; a configured one makes
one tiny call through the ``LLM`` wrapper (no cache, one retry) and passes or fails with the error
line. The deterministic embedder is checked too when ``wmh.retrieval`` provides it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from wmh.core.errors import WmhError
from wmh.core.types import Frozen
from wmh.providers.base import CompletionRequest, Message
from wmh.providers.errors import MissingCredentialsError
from wmh.providers.registry import ENTRIES, ProviderEntry, create_provider
from wmh.providers.wrapper import LLM, LLMConfig

PING = CompletionRequest(
    system="You are a connectivity check. Reply with the single word: ok",
    messages=(Message(role="user", content="ping"),),
    max_tokens=64,
)


class VerifyRow(Frozen):
    name: str
    status: Literal["pass", "fail", "skipped"]
    model: str = ""
    detail: str = Field(default="", description="The reply, the reason skipped, or the error line")
    seconds: float | None = None


def verify_providers(
    names: Sequence[str] | None = None,
    *,
    model: str | None = None,
    timeout_s: float = 60.0,
    options: Mapping[str, Mapping[str, object]] | None = None,
    include_embedder: bool = True,
) -> list[VerifyRow]:
    """One row per provider (all registered, or ``names``), then the embedder's row."""
    rows = asyncio.run(verify_providers_async(names, model=model, timeout_s=timeout_s, options=options))
    embedder = verify_embedder() if include_embedder else None
    return [*rows, embedder] if embedder else rows


async def verify_providers_async(
    names: Sequence[str] | None = None,
    *,
    model: str | None = None,
    timeout_s: float = 60.0,
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> list[VerifyRow]:
    """The providers' rows, concurrently, for callers already inside an event loop."""
    entries = [ENTRIES[n] for n in names] if names else list(ENTRIES.values())
    config = LLMConfig(max_attempts=2, timeout_s=timeout_s, cache_mode="off", backoff_base_s=0.5)
    opts = options or {}
    return list(await asyncio.gather(*(verify_one(e, model, config, opts.get(e.name, {})) for e in entries)))


async def verify_one(
    entry: ProviderEntry, model: str | None, config: LLMConfig, options: Mapping[str, object]
) -> VerifyRow:
    if not entry.makes_calls:
        return VerifyRow(name=entry.name, status="pass", detail="no model calls to check")
    if missing := entry.missing_env():
        return VerifyRow(name=entry.name, status="skipped", detail="set " + ", ".join(missing))
    if entry.name == "scripted" and "script" not in options and not os.environ.get("WMH_SCRIPTED_FILE"):
        options = {**options, "script": ["ok"]}  # no script file: check the wrapper with a built-in one
    try:
        provider = create_provider(entry.name, model, **dict(options))
    except MissingCredentialsError as exc:
        return VerifyRow(name=entry.name, status="skipped", detail=f"set {exc.variable}")
    except WmhError as exc:
        return VerifyRow(name=entry.name, status="fail", detail=str(exc))
    started = time.perf_counter()
    try:
        completion = await LLM(provider, config).complete(PING, session="verify")
    except WmhError as exc:
        return VerifyRow(name=entry.name, status="fail", model=provider.model, detail=str(exc))
    reply = " ".join(completion.text.split())[:40] or f"(empty reply, finish {completion.finish_reason})"
    usage = completion.usage
    return VerifyRow(
        name=entry.name,
        status="pass",
        model=completion.model,
        detail=f"replied {reply!r} ({usage.input_tokens} in / {usage.output_tokens} out tokens)",
        seconds=round(time.perf_counter() - started, 2),
    )


def verify_embedder() -> VerifyRow | None:
    """Embed a few texts with ``wmh.retrieval.HashingEmbedder``: deterministic, unit-norm, sensible."""
    try:
        from wmh.retrieval import HashingEmbedder
    except ImportError:
        return None
    try:
        embedder = HashingEmbedder()
        texts = ["get_user id u1", "get_user id u2", "cancel reservation ABC123"]
        first, again = embedder.embed(texts), embedder.embed(texts)
        norms = [float((row * row).sum()) ** 0.5 for row in first]
        near, far = float(first[0] @ first[1]), float(first[0] @ first[2])
    except Exception as exc:  # the check reports, never crashes
        return VerifyRow(
            name="embedder", status="fail", model="hashing", detail=f"{type(exc).__name__}: {exc}"
        )
    ok = bool((first == again).all()) and all(abs(n - 1) < 1e-3 for n in norms) and near > far
    detail = f"dim {first.shape[1]}, deterministic, similar {near:.2f} > unrelated {far:.2f}"
    return VerifyRow(name="embedder", status="pass" if ok else "fail", model="hashing", detail=detail)
