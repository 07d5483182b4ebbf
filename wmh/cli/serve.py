"""``wmh serve``: every built world model over HTTP and MCP, with durable sessions and an OTLP receiver."""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from wmh.cli.common import (
    EngineOption,
    ModelOption,
    ProviderOption,
    RootOption,
    console,
    one_line_errors,
    store_for,
)
from wmh.config.store import check_name
from wmh.core.errors import NotFoundError, UserInputError


@one_line_errors
def serve(
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; non-loopback needs a token.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 8000,
    name: Annotated[
        list[str] | None, typer.Option("--name", "-n", help="Serve only this model (repeatable).")
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="WMH_API_TOKEN", help="Bearer token clients must send.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="WMH_STORE",
            help="Sessions: sqlite:///PATH (default ROOT/sessions.db), redis://HOST:PORT/DB or memory:.",
        ),
    ] = None,
    max_body: Annotated[int, typer.Option("--max-body", help="Largest request body in bytes.")] = 8
    * 1024
    * 1024,
    engine: EngineOption = None,
    provider: ProviderOption = None,
    model: ModelOption = None,
    root: RootOption = None,
) -> None:
    """Serve world models over HTTP (OpenAPI at /docs), MCP (/world_models/NAME/mcp) and OTLP (/v1/traces)."""
    from wmh.engine.choice import resolve_choice
    from wmh.serve.app import ServeConfig
    from wmh.serve.app import serve as run

    check_port(port)
    check_names(name or (), root)
    config = ServeConfig(
        root=store_for(root).root,
        host=host,
        port=port,
        names=tuple(name or ()),
        token=token,
        store=store,
        max_body=max_body,
        engine=resolve_choice(engine, provider, model) if (engine or provider or model) else None,
    )

    def ready(url: str) -> None:
        check_bindable(host, port)
        console.print(f"wmh serving on [bold]{url}[/] (docs at {url}/docs, OTLP at {url}/v1/traces)")

    run(config, on_ready=ready)


def check_port(port: int) -> None:
    if not 0 <= port <= 65535:
        raise UserInputError(f"--port must be in [0, 65535], got {port}; e.g. --port 8000")


def check_names(names: Sequence[str], root: Path | None) -> None:
    """Every ``--name`` must be a model in the store: a server that serves none of them is no use."""
    store = store_for(root)
    built = set(store.names())
    missing = [n for n in dict.fromkeys(names) if check_name(n) not in built]
    if missing:
        listed = ", ".join(repr(n) for n in missing)
        there = f"wmh list --root {root}" if root is not None else "wmh list"
        models = "model" if len(missing) == 1 else "models"
        raise NotFoundError(
            f"no world {models} named {listed} under {store.root}; `{there}` shows the ones there"
        )


def check_bindable(host: str, port: int) -> None:
    """Bind and let go, as uvicorn will (SO_REUSEADDR), so a taken port is one line, not a traceback."""
    bare = host.strip("[]")
    try:
        family = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((bare, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UserInputError(f"port {port} is in use; pass --port N (another free port)") from None
        raise UserInputError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); check --host and --port"
        ) from None
