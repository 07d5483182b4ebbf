"""``wmh mcp``: one world model as an MCP server over stdio; every call is a step in one session."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from wmh.cli.common import RootOption, one_line_errors, store_for
from wmh.cli.serve import check_names


@one_line_errors
def mcp(
    name: Annotated[str, typer.Option("--name", "-n", help="World model to serve.")],
    session: Annotated[
        str | None,
        typer.Option("--session", help="wmh session to step (created if absent; default a new one)."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option("--store", envvar="WMH_STORE", help="Sessions: sqlite:///PATH, redis://... or memory:."),
    ] = None,
    root: RootOption = None,
) -> None:
    """Serve a world model's tools over MCP on stdin/stdout (for agents that launch MCP servers)."""
    import anyio

    from wmh.serve.mcp import run_stdio
    from wmh.serve.registry import ModelRegistry, StoreSource, check_session_id
    from wmh.sessions import open_sessions

    check_names((name,), root)
    models = store_for(root)
    backend = open_sessions(store, models.root)
    try:
        model = ModelRegistry(StoreSource(models), backend).get(name)
        session_id = check_session_id(session) if session else f"mcp-stdio-{uuid.uuid4().hex}"
        anyio.run(run_stdio, model, session_id)
    finally:
        backend.close()
