"""Each world model as an MCP server: its tools with recorded or inferred input schemas; a call is a step.

The same handlers serve streamable HTTP (``/world_models/{name}/mcp``, see ``mcp_http``) and stdio
(``wmh mcp --name N``). Which model and which wmh session a call goes to is decided per request by a
``Target`` function, so one MCP server object serves every model of ``wmh serve``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread
import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext

import wmh
from wmh.core.errors import NotFoundError, WmhError
from wmh.core.types import Action, ActionKind
from wmh.serve.registry import LoadedModel
from wmh.serve.steps import take_step

log = logging.getLogger("wmh.serve.mcp")

# (ctx) -> (the model, the wmh session id for this MCP session)
Target = Callable[[ServerRequestContext[Any, Any]], Awaitable[tuple[LoadedModel, str]]]


def build_server(target: Target, name: str = "wmh") -> Server[Any]:
    opened: set[tuple[str, str]] = set()
    guard = threading.Lock()

    def ensure_session(model: LoadedModel, session_id: str) -> None:
        """Open the wmh session behind an MCP session on its first call (once, even under concurrency)."""
        key = (model.wm.name, session_id)
        with guard:
            if key in opened:
                return
            try:
                model.wm.session(session_id)
            except NotFoundError:
                model.wm.new_session(task="", session_id=session_id)
            opened.add(key)

    async def list_tools(ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None):
        model, _ = await target(ctx)
        tools = [
            types.Tool(name=t.name, description=t.description or None, input_schema=dict(t.input_schema))
            for t in model.tools
        ]
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams):
        model, session_id = await target(ctx)
        action = Action(kind=ActionKind.TOOL_CALL, name=params.name, arguments=params.arguments or {})

        try:
            await anyio.to_thread.run_sync(ensure_session, model, session_id)
            obs = (await take_step(model.wm, session_id, action)).history[-1].observation
        except WmhError as exc:  # a bad call or a failed engine is the tool's error, for the agent to read
            return types.CallToolResult(content=[types.TextContent(text=str(exc))], is_error=True)
        except Exception:
            log.exception("MCP tools/call %s on %s failed", params.name, model.wm.name)
            text = "internal error in the world model; see the server log"
            return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)
        return types.CallToolResult(content=[types.TextContent(text=obs.content)], is_error=obs.is_error)

    return Server(
        name,
        version=wmh.__version__,
        instructions="Tools of a wmh world model: each call is answered by the model and recorded as a step.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


async def run_stdio(model: LoadedModel, session_id: str) -> None:
    """Serve one model over stdin/stdout; every call of this process is a step in ``session_id``."""
    from mcp.server.stdio import stdio_server

    async def target(ctx: ServerRequestContext[Any, Any]) -> tuple[LoadedModel, str]:
        return model, session_id

    server = build_server(target, name=f"wmh-{model.wm.name}")
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
