"""What every command shares: one-line errors, the root option, the console."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from wmh.config.store import WorldModelStore
from wmh.core.errors import NotFoundError, UserInputError, WmhError
from wmh.core.types import Problem

console = Console()
err_console = Console(stderr=True)
MAX_PROBLEMS_SHOWN = 10

P = ParamSpec("P")
R = TypeVar("R")

RootOption = Annotated[
    Path | None,
    typer.Option("--root", envvar="WMH_HOME", help="Where world models live (default .wmh)."),
]


EngineOption = Annotated[
    str | None,
    typer.Option("--engine", envvar="WMH_ENGINE", help="offline, llm or hybrid (default: the model's)."),
]
ProviderOption = Annotated[
    str | None,
    typer.Option("--provider", envvar="WMH_PROVIDER", help="Model provider for llm/hybrid (e.g. anthropic)."),
]
ModelOption = Annotated[
    str | None, typer.Option("--model", envvar="WMH_MODEL", help="Model id for the provider.")
]


def store_for(root: Path | None) -> WorldModelStore:
    return WorldModelStore(root)


def fail(message: str, code: int = 2) -> typer.Exit:
    print_error(message)
    return typer.Exit(code)


def print_error(message: str) -> None:
    """``error: MESSAGE`` on stderr, on one line however long (the message is never read as markup)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def usage_error(exc: typer.TyperException, command_path: str = "") -> str:
    """A usage error (typer's click) as one line: ``missing option '--name'. Try 'wmh build --help'.``

    Most usage errors carry the context of the command that failed; an option missing its value does
    not (click's parser raises it), so the caller passes the ``command_path`` the arguments named."""
    message = " ".join(exc.format_message().split())
    message = message[:1].lower() + message[1:] if message[1:2].islower() else message
    if message and message[-1] not in ".?!":
        message += "."
    ctx = getattr(exc, "ctx", None)
    helps = getattr(ctx, "help_option_names", None)
    if ctx is not None and helps:
        message += f" Try '{ctx.command_path} {helps[0]}'."
    elif command_path:
        message += f" Try '{command_path} --help'."
    return message


def one_line_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn wmh's errors into one line on stderr and an exit code; never a traceback for the user."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except (UserInputError, NotFoundError) as exc:
            raise fail(str(exc), 2) from None
        except WmhError as exc:
            raise fail(str(exc), 1) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None
        except OSError as exc:
            raise fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1) from None
        except Exception as exc:
            if os.environ.get("WMH_DEBUG"):
                raise
            msg = f"internal error ({type(exc).__name__}: {exc}); rerun with WMH_DEBUG=1 and report it"
            raise fail(msg, 1) from None

    return wrapper


def print_skipped(problems: Sequence[Problem], out: Console = console) -> None:
    """The first bad lines/spans by file and line, then how many more."""
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        out.print(f"[yellow]skipped[/] {problem}", highlight=False, soft_wrap=True)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        out.print(f"[yellow]... and {len(problems) - MAX_PROBLEMS_SHOWN} more skipped items[/]")


def print_warnings(warnings: Sequence[str], out: Console = console) -> None:
    for warning in warnings:
        out.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


def is_tty() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()
