"""The deterministic test double: replies come from a script, in order.

The script is a list of texts given to the constructor, or a file named by ``path`` or the
``WMH_SCRIPTED_FILE`` environment variable: a JSON array, or JSON Lines, whose items are strings
or objects with a ``"text"`` field. ``WMH_SCRIPTED_SLEEP`` (seconds) or ``sleep_s`` adds latency
per call, for benchmarks. Running out of script raises ``ScriptExhaustedError`` (unless
``cycle=True``). Token usage is estimated as characters / 4, so accounting has numbers to add.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

import orjson

from wmh.core.errors import UserInputError
from wmh.providers.base import Completion, CompletionRequest, StandardErrors, Usage
from wmh.providers.errors import ScriptExhaustedError


def load_script(path: Path) -> list[str]:
    """Replies from a JSON array or JSON Lines file of strings or ``{"text": ...}`` objects."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserInputError(f"scripted: cannot read {path}: {exc.strerror}") from None
    try:
        items = orjson.loads(raw)
        if not isinstance(items, list):
            items = [items]
    except orjson.JSONDecodeError:
        try:
            items = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
        except orjson.JSONDecodeError as exc:
            raise UserInputError(f"scripted: {path} is neither JSON nor JSON Lines: {exc}") from None
    return [_reply_text(item, path) for item in items]


def _reply_text(item: object, path: Path) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict) and isinstance(item.get("text"), str):
        return item["text"]
    raise UserInputError(f'scripted: {path}: each reply must be a string or {{"text": "..."}}')


def _tokens(text: str) -> int:
    return max(1, len(text) // 4) if text else 0


class ScriptedProvider(StandardErrors):
    """Replies from a script; records every request it was sent in ``requests``."""

    name = "scripted"

    def __init__(
        self,
        model: str | None = None,
        *,
        script: Sequence[str] | None = None,
        path: Path | str | None = None,
        sleep_s: float | None = None,
        cycle: bool = False,
    ) -> None:
        self.model = model or "scripted"
        if script is None:
            source = path or os.environ.get("WMH_SCRIPTED_FILE")
            if not source:
                raise UserInputError("scripted: give a script, or set WMH_SCRIPTED_FILE to a JSON/JSONL file")
            script = load_script(Path(source))
        self.script = list(script)
        env_sleep = os.environ.get("WMH_SCRIPTED_SLEEP")
        self.sleep_s = sleep_s if sleep_s is not None else float(env_sleep) if env_sleep else 0.0
        self.cycle = cycle
        self.requests: list[CompletionRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def complete(self, request: CompletionRequest) -> Completion:
        index = len(self.requests)
        self.requests.append(request)
        if index >= len(self.script) and not (self.cycle and self.script):
            raise ScriptExhaustedError(
                f"scripted: the script has {len(self.script)} replies and call {index + 1} asked for another"
            )
        text = self.script[index % len(self.script)]
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.sleep_s:
                await asyncio.sleep(self.sleep_s)
        finally:
            self.in_flight -= 1
        prompt = request.full_system() + "".join(m.content for m in request.messages)
        usage = Usage(input_tokens=_tokens(prompt), output_tokens=_tokens(text))
        return Completion(text=text, model=request.model or self.model, finish_reason="stop", usage=usage)

    def __repr__(self) -> str:
        return f"ScriptedProvider(replies={len(self.script)}, sleep_s={self.sleep_s})"
