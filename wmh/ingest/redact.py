"""Secret redaction: API keys and bearer tokens in recorded traces become ``[REDACTED]``.

``redact`` runs one compiled regex, and only on text that passes a cheap substring pre-check
(``might_contain_secret``); ``redact_episode`` runs that check once per episode, on all its text
joined. A label in front of a secret (``Bearer``, ``Authorization:``, ``api_key=``)
is kept; only the secret itself is replaced.
"""

from __future__ import annotations

import re

from pydantic import JsonValue

from wmh.core.types import Episode, Step
from wmh.ingest.fast import tool_step

REDACTED = "[REDACTED]"

_SECRET = re.compile(
    r"""
    (?P<label>
        \b(?i:bearer)\s+
      | \b(?i:authorization)["']?\s*[:=]\s*["']?(?:(?i:bearer|basic|token)\s+)?
      | \b(?i:x-api-key|api[_-]?key)["']?\s*[:=]\s*["']?
    )
    (?P<value>[A-Za-z0-9_\-.~+/=]{8,})
  | \bsk-(?:ant-)?[A-Za-z0-9_\-]{16,}
  | \bAKIA[0-9A-Z]{16}\b
  | \bgh[pousr]_[A-Za-z0-9]{20,}
  | \bgithub_pat_[A-Za-z0-9_]{20,}
  | \bxox[bpas]-[A-Za-z0-9\-]{10,}
  | \bAIza[0-9A-Za-z_\-]{30,}
  | \beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}
    """,
    re.VERBOSE,
)

_GITHUB_TOKEN_START = re.compile("gh[pousr]_")  # one scan, where five ``in`` tests each scan text with "gh"


def might_contain_secret(text: str) -> bool:
    """Cheap pre-check: False means ``redact`` would change nothing.

    Looks for the fixed part of each pattern in the lower-cased text (one scan for the ones that
    share a start), and for ``sk-`` as the pattern does: case-sensitive, at the start of a word.
    """
    t = text.lower()
    return (
        ("api" in t and ("api-key" in t or "api_key" in t or "apikey" in t))
        or "github_pat_" in t
        or _GITHUB_TOKEN_START.search(t) is not None
        or "xox" in t
        or "akia" in t
        or "aiza" in t
        or "bearer" in t
        or "authoriz" in t
        or "eyj" in t
        or _at_word_start(text, "sk-")
    )


def _at_word_start(text: str, needle: str) -> bool:
    """True if ``needle`` occurs in ``text`` where the pattern's ``\\b`` allows (no word character before)."""
    at = text.find(needle)
    while at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_"):
        at = text.find(needle, at + 1)
    return at >= 0


def redact(text: str) -> str:
    """``text`` with API keys, tokens and credentials replaced by ``[REDACTED]``."""
    if not might_contain_secret(text):
        return text
    return _SECRET.sub(_replace, text)


def _replace(match: re.Match[str]) -> str:
    label = match.group("label")
    return label + REDACTED if label else REDACTED


def _episode_text(episode: Episode) -> str:
    texts = [episode.task, *episode.attributes.values()]
    for step in episode.steps:
        texts.append(step.observation.content)
        for value in step.action.arguments.values():
            if isinstance(value, str):
                texts.append(value)
            elif isinstance(value, (dict, list)):
                texts.extend(_strings(value))
    return "\x00".join(texts)


def _strings(value: JsonValue) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def redact_episode(episode: Episode) -> Episode:
    """The episode with secrets redacted from its task, attributes, argument strings and observations.

    One pre-check on all its text joined; the same episode comes back when it is clean.
    """
    if not might_contain_secret(_episode_text(episode)):
        return episode
    steps = tuple(_redact_step(step) for step in episode.steps)
    attributes = {k: redact(v) for k, v in episode.attributes.items()}
    return episode.model_copy(update={"task": redact(episode.task), "steps": steps, "attributes": attributes})


def _redact_step(step: Step) -> Step:
    return tool_step(
        name=step.action.name,
        arguments={k: _redact_value(v) for k, v in step.action.arguments.items()},
        content=redact(step.observation.content),
        is_error=step.observation.is_error,
        call_id=step.call_id,
        span_id=step.span_id,
        start_ns=step.start_ns,
    )


def _redact_value(value: JsonValue) -> JsonValue:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    return value
