"""The ``wmh`` command. Each command group lives in its own module and only parses, calls, renders."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

import typer
from typer.core import TyperGroup

from wmh.cli import build, demo, examples, listing, play, providers, serve, show
from wmh.cli import eval as eval_cmd
from wmh.cli import mcp as mcp_cmd
from wmh.cli.common import print_error, usage_error


class OneLineErrors(TyperGroup):
    """The top-level group: click's usage errors (unknown option, missing or bad value) as one line, exit 2.

    Typer would draw them as a box under the usage; ``--help`` keeps typer's rich rendering.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: object,
    ) -> object:
        if not standalone_mode:  # the caller handles errors (click's contract)
            return super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.TyperException as exc:  # typer's click: usage errors and BadParameter
            if type(exc).__name__ != "NoArgsIsHelpError":  # that one printed the help already
                print_error(usage_error(exc, self.path_of(sys.argv[1:] if args is None else args)))
            code = exc.exit_code
        except typer.Abort:
            print_error("aborted")
            code = 1
        sys.exit(code if isinstance(code, int) else 0)

    def path_of(self, args: Sequence[str]) -> str:
        """The command the arguments name, as its usage shows it (``wmh examples run``)."""
        commands: Mapping[str, object] = self.commands
        path = ["wmh"]
        for arg in args:
            sub = commands.get(arg)
            if sub is None:
                break
            commands, path = getattr(sub, "commands", {}), [*path, arg]
        return " ".join(path)


app = typer.Typer(
    name="wmh",
    cls=OneLineErrors,
    help="World-model harness: build world models of an agent's environment from OpenTelemetry traces.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("build")(build.build)
app.command("list")(listing.list_models)
app.command("show")(show.show)
app.command("rm")(show.remove)
app.command("eval")(eval_cmd.eval_files)
app.command("play")(play.play)
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("mcp")(mcp_cmd.mcp)
app.add_typer(examples.app, name="examples")
app.add_typer(providers.app, name="providers")


def main() -> None:
    app()
