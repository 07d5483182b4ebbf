"""The GenAI parts fast path of ``message`` reads a message as the general path does."""

from __future__ import annotations

import pytest

from wmh.ingest.messages import message

_PARTS = [
    [{"type": "text", "content": "hi"}, {"type": "text", "content": "there"}],
    [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"a": 1}}],
    [{"type": "tool_call_response", "id": "c1", "response": '{"ok": true}'}],
    [{"type": "tool_use", "id": "c2", "name": "g", "input": {"b": 2}}, "plain text"],
    [{"type": "image", "url": "x"}],
    [],
    "just text",
    None,
]


@pytest.mark.parametrize("parts", _PARTS)
@pytest.mark.parametrize("role", ["user", "assistant", "tool", "", None, 3])
def test_parts_message_is_the_general_reading(role: object, parts: object):
    fast = message({"role": role, "parts": parts})
    general = message({"role": role, "parts": parts, "content": None})  # a third key: the general path
    assert fast == general
