"""Each world model as an MCP server: its tools with recorded or inferred input schemas; a call is a step.

The same handlers serve streamable HTTP (``/world_models/{name}/mcp``, see ``mcp_http``) and stdio
(``wmh mcp --name N``). Which model and which wmh session a call goes to is decided per request by a
``Target`` function, so one MCP server object serves every model of ``wmh serve``. Over stdio a relay sits
between the SDK's transport and its server (``serve_answering_all``) so that every request read is answered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import Counter
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, Protocol

import anyio
import anyio.to_thread
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.message import ServerMessageMetadata, SessionMessage
from pydantic import ValidationError

import wmh
from wmh.core.errors import NotFoundError, WmhError
from wmh.core.types import Action, ActionKind, ToolDef
from wmh.serve.registry import LoadedModel
from wmh.serve.schemas import ToolInfo
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
        model, session_id = await target(ctx)
        tools = [
            types.Tool(name=t.name, description=t.description or None, input_schema=dict(t.input_schema))
            for t in await anyio.to_thread.run_sync(session_tools, model, session_id)
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


def session_tools(model: LoadedModel, session_id: str) -> tuple[ToolInfo, ...]:
    """The tools the session declared (where it declared them), else the model's."""
    try:
        declared = model.wm.session(session_id).tools
    except NotFoundError:  # opened on its first call
        return model.tools
    known = {t.name: t for t in model.tools}
    return tuple(_declared_info(t, known.get(t.name)) for t in declared) or model.tools


def _declared_info(tool: ToolDef, known: ToolInfo | None) -> ToolInfo:
    if tool.parameters is None and known is not None:  # the schema the model inferred for it
        return known.model_copy(update={"description": tool.description or known.description})
    schema = tool.parameters if tool.parameters is not None else {"type": "object"}
    return ToolInfo(
        name=tool.name, description=tool.description, input_schema=schema, schema_source="declared"
    )


async def run_stdio(model: LoadedModel, session_id: str) -> None:
    """Serve one model over stdin/stdout; every call of this process is a step in ``session_id``."""
    from mcp.server.stdio import stdio_server

    async def target(ctx: ServerRequestContext[Any, Any]) -> tuple[LoadedModel, str]:
        return model, session_id

    server = build_server(target, name=f"wmh-{model.wm.name}")
    try:
        async with stdio_server() as (read, write):
            await serve_answering_all(server, read, write)
    except* (BrokenPipeError, anyio.BrokenResourceError, anyio.ClosedResourceError):
        _quiet_stdout()  # the client closed our stdout: no one is left to answer


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that flushing it at exit raises no second broken pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class _Sink(Protocol):
    """The write side of an MCP transport."""

    async def send(self, item: SessionMessage, /) -> None: ...
    async def aclose(self) -> None: ...


async def serve_answering_all(
    server: Server[Any], read: AsyncIterable[SessionMessage | Exception], write: _Sink
) -> None:
    """Run ``server`` over a transport's streams, passing on the transport's EOF only once every request is answered.

    At EOF the SDK's loop stops and cancels the calls still running (answering "Connection closed"), so a
    client that pipes its requests and closes stdin would lose their answers. Lines that are no JSON-RPC
    message, which the SDK drops, get JSON-RPC's error reply here.
    """
    to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception]()
    server_out, from_server = anyio.create_memory_object_stream[SessionMessage]()
    unanswered = _Unanswered()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_relay_in, read, to_server, write, unanswered)
        tg.start_soon(_relay_out, from_server, write, unanswered)
        await server.run(server_in, server_out, server.create_initialization_options())


class _Unanswered:
    """The requests given to the server that have no response written yet, by id (a client may reuse one)."""

    def __init__(self) -> None:
        self._ids: Counter[types.RequestId] = Counter()
        self._none_left = anyio.Event()
        self._none_left.set()

    def ask(self, request_id: types.RequestId) -> Callable[[], Awaitable[None]]:
        """Count a request; returns the SDK's hook for one that ends with no response (the client cancelled it)."""
        self._ids[request_id] += 1
        if self._none_left.is_set():
            self._none_left = anyio.Event()

        async def settled() -> None:
            self._settle(request_id)

        return settled

    def answer(self, message: types.JSONRPCMessage) -> None:
        if isinstance(message, types.JSONRPCResponse | types.JSONRPCError) and message.id is not None:
            self._settle(message.id)

    def _settle(self, request_id: types.RequestId) -> None:
        self._ids[request_id] -= 1
        if self._ids[request_id] <= 0:
            del self._ids[request_id]
        if not self._ids:
            self._none_left.set()

    async def wait_none_left(self) -> None:
        await self._none_left.wait()


async def _relay_in(
    read: AsyncIterable[SessionMessage | Exception],
    to_server: MemoryObjectSendStream[SessionMessage | Exception],
    write: _Sink,
    unanswered: _Unanswered,
) -> None:
    """Pass the client's messages to the server and answer bad lines; close the server's input once all is answered."""
    async with to_server:
        async for item in read:
            if isinstance(item, Exception):
                if (reply := _bad_line_reply(item)) is not None:
                    await write.send(reply)
            elif isinstance(item.message, types.JSONRPCRequest):
                # stdio messages carry no metadata; this public transport hook is all the SDK reads from it here
                hook = unanswered.ask(item.message.id)
                await to_server.send(
                    SessionMessage(item.message, ServerMessageMetadata(on_request_unanswered=hook))
                )
            else:
                await to_server.send(item)
        await unanswered.wait_none_left()


async def _relay_out(
    from_server: MemoryObjectReceiveStream[SessionMessage], write: _Sink, unanswered: _Unanswered
) -> None:
    """Pass the server's messages to the client, counting the answers; close the output after the last."""
    async with from_server:
        try:
            async for item in from_server:
                await write.send(item)
                unanswered.answer(item.message)
        finally:
            await write.aclose()


def _bad_line_reply(exc: Exception) -> SessionMessage | None:
    """JSON-RPC 2.0's reply to a line that is no message: Parse error if not JSON, else Invalid Request.

    A blank line holds no message and gets none.
    """
    errors = exc.errors() if isinstance(exc, ValidationError) else []
    if errors and errors[0]["type"] == "json_invalid":
        if not str(errors[0]["input"]).strip():
            return None
        error = types.ErrorData(code=types.PARSE_ERROR, message="Parse error")
    else:
        error = types.ErrorData(code=types.INVALID_REQUEST, message="Invalid Request")
    return SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=None, error=error))
