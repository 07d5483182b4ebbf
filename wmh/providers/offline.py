"""The offline engine's registry entry. It answers from traces alone and makes no model calls.

It is registered like the model providers so the CLI, the server and ``wmh providers verify``
treat every engine choice the same way. Its factory returns an ``OfflineProvider`` whose
``complete`` refuses: anything that tries to call a model while the offline engine is selected is
a bug, and says so.
"""

from __future__ import annotations

from wmh.providers.base import Completion, CompletionRequest, StandardErrors
from wmh.providers.errors import ProviderError


class OfflineProvider(StandardErrors):
    name = "offline"
    makes_calls = False

    def __init__(self, model: str | None = None) -> None:
        self.model = model or "offline"

    async def complete(self, request: CompletionRequest) -> Completion:
        raise ProviderError("offline: the offline engine makes no model calls; choose an LLM provider")

    def __repr__(self) -> str:
        return "OfflineProvider()"
