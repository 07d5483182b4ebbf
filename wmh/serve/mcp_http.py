"""MCP over streamable HTTP at ``/world_models/{name}/mcp``: one session manager for every model.

The MCP session (``mcp-session-id``) maps to the wmh session ``mcp-<id>``. A client can instead name a
wmh session it created over the HTTP API (with a task and faults) in the ``X-Wmh-Session`` header
(a session that does not exist is a 404, never a new one); a request with neither (the stateless 2026
protocol) steps the model's ``mcp-default`` session.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from mcp.server.context import ServerRequestContext
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from wmh.core.errors import NotFoundError, WmhError
from wmh.serve.errors import error_response, wmh_status
from wmh.serve.mcp import build_server
from wmh.serve.registry import LoadedModel, ModelRegistry, check_session_id

PATH = "/world_models/{name}/mcp"
MODEL_KEY = "wmh.model"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass
class McpMount:
    route: Route
    manager: StreamableHTTPSessionManager

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[None]:
        async with self.manager.run():
            yield


def wmh_session_for(request: Request | None) -> str:
    if request is None:
        return "mcp-default"
    named = request.headers.get("x-wmh-session")
    if named:
        return check_session_id(named)
    mcp_id = request.headers.get("mcp-session-id")
    return f"mcp-{_UNSAFE.sub('_', mcp_id)[:120]}" if mcp_id else "mcp-default"


async def check_named_session(model: LoadedModel, request: Request) -> None:
    """A session named in ``X-Wmh-Session`` must exist: a typo must not step a fresh, empty session."""
    named = request.headers.get("x-wmh-session")
    if not named:
        return
    try:
        await anyio.to_thread.run_sync(model.wm.session, check_session_id(named))
    except NotFoundError:
        raise NotFoundError(
            f"no session {named!r} in world model {model.wm.name!r}: create it with POST "
            f"/world_models/{model.wm.name}/sessions, or omit X-Wmh-Session to get a new one"
        ) from None


def mount_mcp(registry: ModelRegistry, loopback: bool) -> McpMount:
    async def target(ctx: ServerRequestContext[Any, Any]) -> tuple[LoadedModel, str]:
        request = ctx.request if isinstance(ctx.request, Request) else None
        if request is None or MODEL_KEY not in request.scope:
            raise RuntimeError("MCP request without a model")
        return registry.get(request.scope[MODEL_KEY]), wmh_session_for(request)

    security = (
        TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=["127.0.0.1", "127.0.0.1:*", "localhost", "localhost:*", "[::1]", "[::1]:*"],
            allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
        )
        if loopback
        else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    manager = StreamableHTTPSessionManager(app=build_server(target), security_settings=security)

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path_params"]["name"]
        try:
            await check_named_session(registry.get(name), Request(scope))
        except WmhError as exc:
            status, code = wmh_status(exc)
            return await error_response(status, code, str(exc))(scope, receive, send)
        scope[MODEL_KEY] = name
        await manager.handle_request(scope, receive, send)

    route = Route(PATH, endpoint=_Asgi(endpoint), methods=["GET", "POST", "DELETE"], include_in_schema=False)
    return McpMount(route, manager)


class _Asgi:
    """Marks a coroutine as a raw ASGI app for Starlette's Route."""

    def __init__(self, fn: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.fn = fn

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.fn(scope, receive, send)
