"""What a span's attribute keys tell, worked out once per distinct key list.

Producers write the same few key lists over and over (every tool span of an agent has the same
keys), so looking at the keys once per list, not once per span, takes most of the per-span
prefix matching out of building episodes. A ``Keys`` only says where there is nothing to find:
a flag that is set means "look", not "found".
"""

from __future__ import annotations

from dataclasses import dataclass

from wmh.ingest.spans import Attributes

# Content, not context: left out of an episode's attributes.
CONTENT_PREFIXES = (
    "gen_ai.input.",
    "gen_ai.output",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.system_instructions",
    "gen_ai.tool.",
    "gen_ai.usage.",
    "gen_ai.response.",
    "llm.",
    "input.",
    "output.",
    "tool.",
    "tool_call.",
    "traceloop.entity.",
    "tool_arguments",
    "tool_response",
    "gcp.vertex.agent.",
    "ai.",
    "mcp.",
    "metadata.",
    "logfire.",
    "input",
    "output",
)
# Every key ``wmh.ingest.messages`` reads messages or system instructions from starts with one of these.
_MESSAGE_PREFIXES = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.system_instructions",
    "llm.input_messages.",
    "llm.output_messages.",
)
_TOOL_DEFINITION_KEYS = frozenset(
    {"gen_ai.tool.definitions", "llm.tools.0.tool.json_schema", "llm.request.functions.0.name"}
)
_MAX_CACHED = 10_000


@dataclass(frozen=True, slots=True)
class Keys:
    context: tuple[str, ...]  # the keys that are not content, in order: trace attribute candidates
    messages: bool  # a key that may hold LLM messages or system instructions
    tool_definitions: bool  # a key that may hold the definitions of the tools offered


_CACHE: dict[tuple[str, ...], Keys] = {}


def keys_of(attrs: Attributes) -> Keys:
    """The ``Keys`` of an attribute dict (cached by its key list)."""
    names = tuple(attrs)
    found = _CACHE.get(names)
    if found is None:
        found = Keys(
            context=tuple(k for k in names if not k.startswith(CONTENT_PREFIXES)),
            messages=any(k.startswith(_MESSAGE_PREFIXES) for k in names),
            tool_definitions=not _TOOL_DEFINITION_KEYS.isdisjoint(names),
        )
        if len(_CACHE) < _MAX_CACHED:
            _CACHE[names] = found
    return found
