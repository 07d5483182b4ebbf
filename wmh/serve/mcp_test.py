"""MCP through the official SDK client: streamable HTTP against a real uvicorn, and stdio via ``wmh mcp``."""

from __future__ import annotations

import sys

import anyio
import httpx
import orjson
import pytest
from mcp import Client
from mcp_types import CallToolResult, TextContent

from wmh.core.types import Episode, SessionState, Turn
from wmh.serve.conftest import LiveServer
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


def test_unknown_model_is_a_json_404(live: LiveServer) -> None:
    r = httpx.post(f"{live.url}/world_models/nope/mcp", json={})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_stdio_server(tmp_path, tiny_episodes) -> None:
    """``wmh mcp --name`` over stdio, against a model saved on disk by the build pipeline."""
    try:
        from wmh.build.pipeline import BuildRequest, build_world_model
    except ImportError as exc:
        pytest.skip(f"the build pipeline is not importable yet: {exc}")
    from mcp import StdioServerParameters

    from wmh.config.store import WorldModelStore

    trace = tmp_path / "traces.otel.jsonl"
    trace.write_bytes(b"".join(orjson.dumps(session_to_otlp(s)) + b"\n" for s in sessions_of(tiny_episodes)))
    build_world_model(BuildRequest(name="m", files=(str(trace),), holdout=0.0), WorldModelStore(tmp_path))
    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-c",
            "from wmh.cli.main import main; main()",
            "mcp",
            "--name",
            "m",
            "--root",
            str(tmp_path),
            "--session",
            "agent-1",
        ],
    )

    async def main() -> list[tuple[str, bool]]:
        async with Client(params, mode="legacy") as client:
            names = [t.name for t in (await client.list_tools()).tools]
            assert "get_user" in names
            r = await client.call_tool("ping", {})
            return [(_text(r), r.is_error)]

    assert anyio.run(main) == [("pong", False)]


def test_a_named_session_that_does_not_exist_is_a_404(live: LiveServer) -> None:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    headers = {"X-Wmh-Session": "typo-session-id", "accept": "application/json, text/event-stream"}
    r = httpx.post(f"{live.url}/world_models/m/mcp", json=initialize, headers=headers)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    assert "typo-session-id" in r.json()["detail"] and "omit X-Wmh-Session" in r.json()["detail"]
    assert httpx.get(f"{live.url}/world_models/m/sessions").json()["sessions"] == []
