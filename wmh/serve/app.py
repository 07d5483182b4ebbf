"""The FastAPI app: ``create_app(ServeConfig(...))``. ``wmh serve`` runs it under uvicorn."""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI

import wmh
from wmh.config.store import WorldModelStore, default_root
from wmh.core.errors import UserInputError
from wmh.engine.choice import EngineChoice
from wmh.serve import errors
from wmh.serve.mcp_http import mount_mcp
from wmh.serve.middleware import BodyLimit, TokenAuth
from wmh.serve.otlp import TraceSink
from wmh.serve.registry import ModelRegistry, ModelSource, StoreSource
from wmh.serve.routes import router
from wmh.sessions.factory import SessionBackend, open_sessions

TOKEN_ENV = "WMH_API_TOKEN"
DEFAULT_MAX_BODY = 8 * 1024 * 1024


@dataclass(frozen=True)
class ServeConfig:
    root: Path = field(default_factory=default_root)
    host: str = "127.0.0.1"
    port: int = 8000
    names: Sequence[str] = ()
    token: str | None = None
    store: str | None = None
    max_body: int = DEFAULT_MAX_BODY
    engine: EngineChoice | None = None

    def checked(self) -> ServeConfig:
        """The config with the token from WMH_API_TOKEN filled in; refuses a non-loopback bind without one."""
        token = self.token or os.environ.get(TOKEN_ENV) or None
        if not is_loopback(self.host) and not token:
            raise UserInputError(
                f"binding {self.host} exposes the server beyond this machine; set --token or {TOKEN_ENV}"
            )
        return ServeConfig(
            Path(self.root),
            self.host,
            self.port,
            tuple(self.names),
            token,
            self.store,
            self.max_body,
            self.engine,
        )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def create_app(
    config: ServeConfig, source: ModelSource | None = None, backend: SessionBackend | None = None
) -> FastAPI:
    """The server for ``config``; ``source`` replaces the on-disk models (tests, embedding)."""
    config = config.checked()
    backend = backend or open_sessions(config.store, config.root)
    registry = ModelRegistry(
        source or StoreSource(WorldModelStore(config.root), config.engine), backend, config.names
    )
    mcp = mount_mcp(registry, loopback=is_loopback(config.host) and not config.token)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None]:
        try:
            async with mcp.running():
                yield
        finally:
            backend.close()

    app = FastAPI(
        title="wmh",
        version=wmh.__version__,
        summary="World models of an agent's environment, built from OpenTelemetry traces.",
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.backend = backend
    app.state.sink = TraceSink(config.root)
    app.state.config = config
    errors.install(app)
    app.include_router(router)
    app.router.routes.append(mcp.route)
    app.add_middleware(BodyLimit, limit=config.max_body)
    if config.token:
        app.add_middleware(TokenAuth, token=config.token)
    return app


def serve(config: ServeConfig, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the server under uvicorn until interrupted."""
    import uvicorn

    config = config.checked()
    app = create_app(config)
    if on_ready:
        shown = f"[{config.host}]" if ":" in config.host else config.host
        on_ready(f"http://{shown}:{config.port}")
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", timeout_graceful_shutdown=5)
