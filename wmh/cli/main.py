"""The ``wmh`` command. Each command group lives in its own module and only parses, calls, renders."""

from __future__ import annotations

import typer

from wmh.cli import build, demo, examples, listing, play, providers, serve, show
from wmh.cli import eval as eval_cmd
from wmh.cli import mcp as mcp_cmd

app = typer.Typer(
    name="wmh",
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
