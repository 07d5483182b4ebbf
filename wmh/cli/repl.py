"""The pure part of ``wmh play``: turning a typed line into a command or an action."""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection

from pydantic import JsonValue

from wmh.core.errors import InvalidActionError
from wmh.core.jsonutil import parse_json
from wmh.core.types import Action, ActionKind, Frozen

COMMANDS = (":tools", ":history", ":reset", ":quit", ":help")
_IDENT = re.compile(r"^[A-Za-z_][\w.\-/]*$")
_KV = re.compile(r"^[A-Za-z_][\w.\-]*=")


class Command(Frozen):
    name: str


def parse_line(line: str, tools: Collection[str]) -> Command | Action | None:
    """``:cmd``, ``tool {json}``, ``tool k=v ...``, a bare tool name, or free text (a message)."""
    text = line.strip()
    if not text:
        return None
    if text.startswith(":"):
        name = text.split()[0].lower()
        if name in (":q", ":exit"):
            name = ":quit"
        if name not in COMMANDS:
            raise InvalidActionError(f"unknown command {name}; try one of {', '.join(COMMANDS)}")
        return Command(name=name)
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    if not _IDENT.match(head):
        return Action(kind=ActionKind.MESSAGE, content=text)
    if rest.startswith("{"):
        return Action(kind=ActionKind.TOOL_CALL, name=head, arguments=_json_args(rest))
    if rest and all(_KV.match(tok) for tok in _split(rest)):
        return Action(kind=ActionKind.TOOL_CALL, name=head, arguments=_kv_args(rest))
    if not rest and head in tools:
        return Action(kind=ActionKind.TOOL_CALL, name=head)
    return Action(kind=ActionKind.MESSAGE, content=text)


def _json_args(text: str) -> dict[str, JsonValue]:
    ok, value = parse_json(text)
    if not ok or not isinstance(value, dict):
        raise InvalidActionError('arguments must be a JSON object, e.g. search {"origin": "JFK"}')
    return value


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidActionError(f"cannot read arguments ({exc}); close your quotes") from None


def _kv_args(text: str) -> dict[str, JsonValue]:
    args: dict[str, JsonValue] = {}
    for token in _split(text):
        key, _, raw = token.partition("=")
        ok, value = parse_json(raw)
        args[key] = value if ok else raw
    return args
