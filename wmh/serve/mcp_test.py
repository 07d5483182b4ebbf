"""MCP through the official SDK client: streamable HTTP against a real uvicorn, and stdio via ``wmh mcp``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import orjson
import pytest
from mcp import Client
from mcp.server import Server
from mcp.shared.message import SessionMessage
from mcp_types import CallToolResult, JSONRPCResponse, TextContent, jsonrpc_message_adapter

from wmh.core.types import Episode, SessionState, Turn
from wmh.serve.conftest import LiveServer
from wmh.serve.mcp import serve_answering_all
from wmh.serve.otlp import session_to_otlp


def sessions_of(episodes: list[Episode]) -> list[SessionState]:
    return [
        SessionState(
            id=ep.trace_id,
            model="m",
            task=ep.task,
            history=tuple(Turn(action=s.action, observation=s.observation) for s in ep.steps),
        )
        for ep in episodes
    ]


def _text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def _drive(client: Client) -> list[tuple[str, bool]]:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert tools["get_user"].input_schema["required"] == ["id"]
    assert tools["get_user"].description == "Look up a user"
    out = []
    for name, args in (("get_user", {"id": "u2"}), ("ping", {}), ("ping", {})):
        r = await client.call_tool(name, args)
        out.append((_text(r), r.is_error))
    return out


def test_streamable_http_session_is_a_wmh_session(live: LiveServer) -> None:
    async def main() -> list[tuple[str, bool]]:
        async with Client(f"{live.url}/world_models/m/mcp", mode="legacy") as client:
            return await _drive(client)

    assert anyio.run(main) == [('{"id": "u2", "name": "Bob"}', False), ("pong", False), ("pong", False)]
    sessions = httpx.get(f"{live.url}/world_models/m/sessions").json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["id"].startswith("mcp-") and sessions[0]["steps"] == 3


def test_named_session_carries_faults(live: LiveServer) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    plan = {"rules": [{"tool": "ping", "error_on_calls": [2], "error_message": "Error: down"}]}
    sid = httpx.post(f"{live.url}/world_models/m/sessions", json={"task": "t", "faults": plan}).json()["id"]

    async def main() -> list[tuple[str, bool]]:
        async with httpx2.AsyncClient(headers={"X-Wmh-Session": sid}) as http:
            transport = streamable_http_client(f"{live.url}/world_models/m/mcp", http_client=http)
            async with Client(transport) as client:
                return await _drive(client)

    assert anyio.run(main)[1:] == [("pong", False), ("Error: down", True)]
    assert httpx.get(f"{live.url}/world_models/m/sessions/{sid}/usage").json()["injected_faults"] == 1


def test_a_named_session_lists_the_tools_it_declared(live: LiveServer) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    declared = [
        {"name": "get_user", "description": "Find a user"},
        {"name": "notify", "inputSchema": {"type": "object"}},
    ]
    sid = httpx.post(f"{live.url}/world_models/m/sessions", json={"tools": declared}).json()["id"]

    async def main() -> tuple[dict, CallToolResult]:
        async with httpx2.AsyncClient(headers={"X-Wmh-Session": sid}) as http:
            transport = streamable_http_client(f"{live.url}/world_models/m/mcp", http_client=http)
            async with Client(transport) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                return tools, await client.call_tool("ping", {})

    tools, ping = anyio.run(main)
    assert sorted(tools) == ["get_user", "notify"]
    assert tools["get_user"].description == "Find a user" and tools["get_user"].input_schema["required"] == [
        "id"
    ]
    assert tools["notify"].input_schema == {"type": "object"}
    assert (
        ping.is_error and _text(ping) == "Error: unknown tool 'ping'; this session's tools: get_user, notify"
    )


def test_unknown_model_is_a_json_404(live: LiveServer) -> None:
    r = httpx.post(f"{live.url}/world_models/nope/mcp", json={})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


@pytest.fixture
def stdio_root(tmp_path: Path, tiny_episodes: list[Episode]) -> Path:
    """A root holding model ``m``, saved on disk by the build pipeline."""
    try:
        from wmh.build.pipeline import BuildRequest, build_world_model
    except ImportError as exc:
        pytest.skip(f"the build pipeline is not importable yet: {exc}")
    from wmh.config.store import WorldModelStore

    trace = tmp_path / "traces.otel.jsonl"
    trace.write_bytes(b"".join(orjson.dumps(session_to_otlp(s)) + b"\n" for s in sessions_of(tiny_episodes)))
    build_world_model(BuildRequest(name="m", files=(str(trace),), holdout=0.0), WorldModelStore(tmp_path))
    return tmp_path


def wmh_mcp_argv(root: Path) -> list[str]:
    cli = ["-c", "from wmh.cli.main import main; main()"]
    return [sys.executable, *cli, "mcp", "--name", "m", "--root", str(root), "--session", "agent-1"]


def test_stdio_server(stdio_root: Path) -> None:
    """``wmh mcp --name`` over stdio, against a model saved on disk by the build pipeline."""
    from mcp import StdioServerParameters

    argv = wmh_mcp_argv(stdio_root)
    params = StdioServerParameters(command=argv[0], args=argv[1:])

    async def main() -> list[tuple[str, bool]]:
        async with Client(params, mode="legacy") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert "get_user" in names
            r = await client.call_tool("ping", {})
            return [(_text(r), r.is_error)]

    assert anyio.run(main) == [("pong", False)]


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def tool_call(request_id: int | str, name: str, **arguments: str) -> dict:
    params = {"name": name, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def pipe_to_wmh_mcp(root: Path, lines: list[bytes]) -> list[dict]:
    """Write ``lines`` to ``wmh mcp``'s stdin and close it, as ``printf ... | wmh mcp`` does; its replies, in order."""
    proc = subprocess.run(
        wmh_mcp_argv(root), input=b"\n".join(lines) + b"\n", capture_output=True, timeout=60
    )
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr.decode()
    return [orjson.loads(line) for line in proc.stdout.splitlines()]


def test_stdio_answers_every_request_read_before_stdin_closes(stdio_root: Path) -> None:
    calls = [tool_call(2, "get_user", id="u2"), tool_call("3", "ping")]
    listing = {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}
    replies = pipe_to_wmh_mcp(
        stdio_root, [orjson.dumps(m) for m in (INITIALIZE, INITIALIZED, *calls, listing)]
    )
    by_id = {r["id"]: r for r in replies}
    assert len(replies) == 4 and set(by_id) == {1, 2, "3", 4}
    assert by_id[2]["result"]["content"][0]["text"] == '{"id": "u2", "name": "Bob"}'
    assert by_id["3"]["result"] == {"content": [{"type": "text", "text": "pong"}], "isError": False}
    assert {t["name"] for t in by_id[4]["result"]["tools"]} >= {"get_user", "ping"}


def test_stdio_answers_a_line_that_is_not_json_rpc_and_keeps_serving(stdio_root: Path) -> None:
    opening = [orjson.dumps(INITIALIZE), orjson.dumps(INITIALIZED)]
    replies = pipe_to_wmh_mcp(
        stdio_root, [*opening, b"not json {", b"", b'{"x": 1}', orjson.dumps(tool_call(2, "ping"))]
    )
    errors = [r for r in replies if r["id"] is None]
    assert errors == [
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}},
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "Invalid Request"}},
    ]
    assert [r["id"] for r in replies if r["id"] is not None] == [1, 2]
    assert replies[-1]["result"]["content"][0]["text"] == "pong"


def test_a_call_the_client_cancels_does_not_hold_the_end_of_input() -> None:
    """A cancelled call gets no response (MCP), so EOF must not wait for one."""
    started = anyio.Event()

    async def never_ends(ctx: object, params: object) -> CallToolResult:
        started.set()
        await anyio.sleep_forever()
        return CallToolResult(content=[])

    server = Server("t", on_call_tool=never_ends)
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}

    async def main() -> list[SessionMessage]:
        client_out, server_reads = anyio.create_memory_object_stream[SessionMessage | Exception](10)
        server_writes, client_in = anyio.create_memory_object_stream[SessionMessage](10)
        for message in (INITIALIZE, INITIALIZED, tool_call(2, "slow")):
            await client_out.send(SessionMessage(jsonrpc_message_adapter.validate_python(message)))
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(serve_answering_all, server, server_reads, server_writes)
                await started.wait()
                await client_out.send(SessionMessage(jsonrpc_message_adapter.validate_python(cancel)))
                await client_out.aclose()
        return [m async for m in client_in]

    assert [m.message.id for m in anyio.run(main) if isinstance(m.message, JSONRPCResponse)] == [1]


def test_a_named_session_that_does_not_exist_is_a_404(live: LiveServer) -> None:
    headers = {"X-Wmh-Session": "typo-session-id", "accept": "application/json, text/event-stream"}
    r = httpx.post(f"{live.url}/world_models/m/mcp", json=INITIALIZE, headers=headers)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert "typo-session-id" in r.json()["detail"] and "omit X-Wmh-Session" in r.json()["detail"]
    assert httpx.get(f"{live.url}/world_models/m/sessions").json()["sessions"] == []


def test_stdio_exits_quietly_when_the_client_stops_reading(stdio_root: Path) -> None:
    """A client gone (our stdout closed) is the end of the conversation, not an internal error."""
    proc = subprocess.Popen(
        wmh_mcp_argv(stdio_root), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    proc.stdin.write(
        b"".join(orjson.dumps(m) + b"\n" for m in (INITIALIZE, INITIALIZED, tool_call(2, "ping")))
    )
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    err = proc.stderr.read().decode()
    assert "error" not in err.lower() and "Traceback" not in err, err
