"""Prompt assembly for the LLM engine, and reading its reply. Pure: values in, text out.

One request, most stable part first so providers cache it:

    stable_prefix   environment prompt + reply format + tool catalog   fixed for a world model
    system          the session's task                                  fixed for a session
    user message    recorded examples of the called tool (top-k, each capped), the session so far
                    (most recent turns kept, each with its state note), the action

The environment prompt is the text GEPA optimizes; the reply format is fixed beside it so an
optimized prompt cannot lose it (and OpenAI's JSON mode needs the word JSON in the prompt).
The model answers ``{"content": str, "is_error": bool, "state_note": str}``; ``parse_reply``
reads that from plain JSON, a code fence, or the first JSON object inside other text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import orjson
from pydantic import Field

from wmh.core.jsonutil import canonical
from wmh.core.types import Action, ActionKind, Frozen, ToolDef, Turn
from wmh.providers.base import CompletionRequest, Message

DEFAULT_ENV_PROMPT = """\
You are the environment of a software agent: you play every tool it can call. For each tool call,
answer exactly as the real tool would: the same format, field names, value styles, error messages
and level of detail as the recorded examples of that tool. Stay consistent with everything the
session has already shown (ids, names, balances, statuses): an object you returned earlier still
exists with the same values unless a later call changed it. When a call would fail in the real
system (unknown id, invalid argument, forbidden change), answer with the tool's error, as recorded.
Never explain yourself, never address the agent, never mention that you are a simulator."""

REPLY_FORMAT = """\
Reply with one JSON object and nothing else:
{"content": "<the tool's output, exactly as the agent would read it; JSON output as JSON text>",
 "is_error": <true if the tool reports an error, else false>,
 "state_note": "<one short line: what changed in the environment's state, or empty>"}"""

CORRECTIVE = (
    "That reply was not the JSON object asked for. Reply again with only one JSON object with the "
    'keys "content" (string), "is_error" (boolean) and "state_note" (string), and no other text.'
)


class PromptConfig(Frozen):
    """What goes into the prompt and how much of it."""

    env_prompt: str = Field(default=DEFAULT_ENV_PROMPT, description="The environment prompt (GEPA's text)")
    examples: int = Field(default=4, ge=0, description="Recorded examples of the called tool (top-k)")
    example_chars: int = Field(default=1500, ge=50, description="Cap on one example's output")
    history_turns: int = Field(default=30, ge=0, description="Most recent turns of the session kept")
    history_chars: int = Field(default=12_000, ge=0, description="Cap on the whole rendered history")
    observation_chars: int = Field(default=2000, ge=50, description="Cap on one earlier output")
    task_chars: int = Field(default=4000, ge=0, description="Cap on the task text")
    action_chars: int = Field(default=4000, ge=50, description="Cap on the action's arguments")
    schema_chars: int = Field(default=4000, ge=50, description="Cap on one tool's description + schema")


class Example(Frozen):
    """A recorded call of the tool being asked about, and what it returned."""

    arguments: str = Field(description="Canonical JSON of the recorded arguments")
    content: str
    is_error: bool = False


class Prompt(Frozen):
    """The three parts of one step's prompt; ``request`` turns them into a ``CompletionRequest``."""

    stable_prefix: str
    system: str
    user: str

    def request(self, *, temperature: float | None, seed: int | None, max_tokens: int) -> CompletionRequest:
        return CompletionRequest(
            stable_prefix=self.stable_prefix,
            system=self.system,
            messages=(Message(role="user", content=self.user),),
            temperature=temperature,
            seed=seed,
            max_tokens=max_tokens,
            json_output=True,
        )


class Reply(Frozen):
    """The model's answer for one step."""

    content: str
    is_error: bool = False
    state_note: str = ""
    repaired: bool = Field(default=False, description="Read from inside other text, not as plain JSON")


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more chars]"


def stable_prefix(config: PromptConfig, tools: Sequence[ToolDef]) -> str:
    """Environment prompt + reply format + tool catalog: the same text for every step."""
    return f"{config.env_prompt.strip()}\n\n{REPLY_FORMAT}\n\n{tool_catalog(tools, config.schema_chars)}"


def tool_catalog(tools: Sequence[ToolDef], cap: int = 4000, head: str = "# Tools") -> str:
    if not tools:
        return f"{head}\n(no tool catalog was recorded; infer each tool from its examples)"
    parts = [head]
    for tool in tools:
        body = tool.description.strip()
        if tool.parameters is not None:
            body += f"\nparameters (JSON Schema): {canonical(tool.parameters)}"
        parts.append(f"## {tool.name}\n{clip(body.strip(), cap)}".rstrip())
    return "\n\n".join(parts)


def build_prompt(
    config: PromptConfig,
    prefix: str,
    *,
    task: str,
    history: Sequence[Turn],
    notes: Sequence[str],
    action: Action,
    examples: Sequence[Example],
    session_tools: Sequence[ToolDef] = (),
) -> Prompt:
    """One step's prompt. ``prefix`` is ``stable_prefix(config, tools)``, computed once;
    ``notes[i]`` is the state note of ``history[i]`` ("" where there is none); ``session_tools``: the
    tools the session declares that the catalog lacks or defines otherwise."""
    system = f"# Task of this session\n{clip(task.strip(), config.task_chars) or '(none recorded)'}"
    if session_tools:
        head = "# Tools this session offers beyond the catalog (these definitions win)"
        system += "\n\n" + tool_catalog(session_tools, config.schema_chars, head)
    user = "\n\n".join(
        (
            render_examples(action.name, examples[: config.examples], config.example_chars),
            render_history(history, notes, config),
            f"# The call to answer now\n{render_action(action, config.action_chars)}",
        )
    )
    return Prompt(stable_prefix=prefix, system=system, user=user)


def render_examples(tool: str, examples: Sequence[Example], cap: int) -> str:
    if not examples:
        return f"# Recorded calls of {tool}\n(none recorded: answer from the catalog and the session)"
    parts = [f"# Recorded calls of {tool} (real answers, most similar first)"]
    for i, ex in enumerate(examples, 1):
        flag = " (error)" if ex.is_error else ""
        parts.append(f"[{i}] {tool} {clip(ex.arguments, cap)}\n→{flag} {clip(ex.content, cap)}")
    return "\n".join(parts)


def render_history(history: Sequence[Turn], notes: Sequence[str], config: PromptConfig) -> str:
    """The most recent turns that fit ``history_turns`` and ``history_chars``, oldest first."""
    kept: list[str] = []
    used = 0
    first = max(0, len(history) - config.history_turns)
    for i in range(len(history) - 1, first - 1, -1):
        text = render_turn(i + 1, history[i], notes[i] if i < len(notes) else "", config)
        if used + len(text) > config.history_chars:
            first = i + 1
            break
        kept.append(text)
        used += len(text)
    head = "# This session so far (oldest first)"
    if not history:
        return f"{head}\n(no calls yet)"
    omitted = f"({first} earlier turns omitted)\n" if first else ""
    return f"{head}\n{omitted}" + "\n".join(reversed(kept))


def render_turn(number: int, turn: Turn, note: str, config: PromptConfig) -> str:
    obs = turn.observation
    flag = " (error)" if obs.is_error else ""
    text = f"[{number}] {render_action(turn.action, config.action_chars)}\n→{flag} "
    text += clip(obs.content, config.observation_chars)
    return f"{text}\n  state note: {note}" if note else text


def render_action(action: Action, cap: int) -> str:
    if action.kind is ActionKind.MESSAGE:
        return f"agent says: {clip(action.content, cap)}"
    return f"{action.name} {clip(canonical(action.arguments), cap)}"


_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()


def parse_reply(text: str) -> Reply | None:
    """The reply in ``text``: plain JSON, else a fenced block, else the first JSON object with a
    ``content`` key inside the text; None when there is none (the caller retries or fails)."""
    stripped = text.strip()
    reply = _reply_of(_loads(stripped))
    if reply is not None:
        return reply
    candidates = [m.group(1).strip() for m in _FENCE.finditer(text)]
    for candidate in candidates:
        reply = _reply_of(_loads(candidate))
        if reply is not None:
            return reply.model_copy(update={"repaired": True})
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except ValueError:
            continue
        reply = _reply_of(value)
        if reply is not None:
            return reply.model_copy(update={"repaired": True})
    return None


def _loads(text: str) -> object:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def _reply_of(value: object) -> Reply | None:
    if not isinstance(value, dict) or "content" not in value:
        return None
    content, flag, note = value["content"], value.get("is_error", False), value.get("state_note", "")
    if not isinstance(content, str):
        content = orjson.dumps(content).decode()
    is_error = flag if isinstance(flag, bool) else str(flag).strip().lower() == "true"
    return Reply(content=content, is_error=is_error, state_note=note if isinstance(note, str) else str(note))
