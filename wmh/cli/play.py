"""``wmh play``: step a world model by hand."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from wmh.cli.common import (
    EngineOption,
    ModelOption,
    ProviderOption,
    RootOption,
    console,
    is_tty,
    one_line_errors,
    store_for,
)
from wmh.cli.repl import Command, parse_line
from wmh.core.errors import InvalidActionError, UserInputError, WmhError
from wmh.core.types import Action, ActionKind, SessionState, ToolDef
from wmh.engine.choice import close_engine, resolve_choice, usage_line
from wmh.engine.loader import load_world_model, recorded_choice
from wmh.engine.world_model import WorldModel

HELP = (
    'type  tool {"key": "value"}  or  tool key=value ...  to call a tool, or free text to send a message;\n'
    ":tools lists the tools, :history shows this session, :reset starts over, :quit leaves"
)


@one_line_errors
def play(
    name: Annotated[str, typer.Option("--name", "-n", help="World model to play.")],
    task: Annotated[str, typer.Option("--task", help="Task text for the session.")] = "",
    engine: EngineOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    root: RootOption = None,
    tools: Annotated[
        Path | None,
        typer.Option(
            "--tools",
            help="JSON file of the tools the agent offers (a list, or an object with a tools list; OpenAI, "
            "Anthropic or MCP shape): the session has those tools only.",
        ),
    ] = None,
) -> None:
    """Step a world model interactively."""
    declared = read_tools(tools) if tools is not None else []
    store = store_for(root)
    choice = resolve_choice(engine, provider, model, recorded_choice(store.manifest(name)))
    wm, used = load_world_model(store.resolve(name), engine=choice)
    session = wm.new_session(task=task, tools=declared)
    offered = f"{len(session.tools)} declared tools" if session.tools else f"{len(wm.tools)} tools"
    console.print(f"[bold]{wm.name}[/] ({wm.engine.name} engine, provider {used.name}, {offered}). {HELP}")
    read = _prompt_reader(wm, store.root, session.tools or wm.tools) if is_tty() else _stdin_reader()
    try:
        repl(wm, read, session)
    finally:
        if line := usage_line(wm.engine):
            console.print(line)
        close_engine(wm.engine)


def read_tools(path: Path) -> list[object]:
    """The tool definitions in a JSON file: a list of them, or an object holding one under ``tools``
    (a saved request to a model provider)."""
    try:
        value = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise UserInputError(
            f"cannot read --tools {path}: {exc.strerror}; pass a JSON file of tools"
        ) from None
    except orjson.JSONDecodeError as exc:
        raise UserInputError(f"--tools {path} is not JSON ({exc}); pass a JSON list of tools") from None
    found = value.get("tools") if isinstance(value, dict) else value
    if not isinstance(found, list):
        raise UserInputError(f'--tools {path} holds no list of tools; pass [{{"name": ...}}, ...]')
    return found


def repl(wm: WorldModel, read: Callable[[], str | None], session: SessionState) -> None:
    tools = [t.name for t in session.tools or wm.tools]
    while (line := read()) is not None:
        try:
            parsed = parse_line(line, tools)
        except InvalidActionError as exc:
            console.print(f"[red]{escape(str(exc))}[/]")
            continue
        if parsed is None:
            continue
        if isinstance(parsed, Command):
            if parsed.name == ":quit":
                return
            session = _command(wm, parsed.name, session.id)
            continue
        _step(wm, session.id, parsed)


def _step(wm: WorldModel, session_id: str, action: Action) -> None:
    try:
        obs = wm.step(session_id, action)
    except WmhError as exc:
        console.print(f"[red]{escape(str(exc))}[/]")
        return
    style = "red" if obs.is_error else "green"
    label = "error" if obs.is_error else "ok"
    console.print(f"[{style}]{label}[/] [dim]({obs.source})[/]")
    console.print(escape(obs.content), highlight=False, soft_wrap=True)


def _command(wm: WorldModel, name: str, session_id: str):
    if name == ":tools":
        for t in wm.session(session_id).tools or wm.tools:
            console.print(f"[bold]{t.name}[/] {escape(t.description[:100])}")
    elif name == ":history":
        for i, turn in enumerate(wm.session(session_id).history, 1):
            a = turn.action
            what = f"{a.name} {a.arguments}" if a.kind is ActionKind.TOOL_CALL else repr(a.content)
            console.print(f"{i}. {escape(what)} -> {escape(turn.observation.content[:120])}", highlight=False)
    elif name == ":reset":
        console.print("session reset")
        return wm.reset(session_id)
    else:
        console.print(HELP)
    return wm.session(session_id)


def _stdin_reader() -> Callable[[], str | None]:
    def read() -> str | None:
        line = sys.stdin.readline()
        return line if line else None

    return read


def _prompt_reader(wm: WorldModel, root, tools: Sequence[ToolDef]) -> Callable[[], str | None]:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory

    root.mkdir(parents=True, exist_ok=True)
    words = [t.name for t in tools] + [":tools", ":history", ":reset", ":quit", ":help"]
    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(root / "play_history")), completer=WordCompleter(words, sentence=True)
    )

    def read() -> str | None:
        try:
            return session.prompt(f"{wm.name}> ")
        except (EOFError, KeyboardInterrupt):
            return None

    return read
