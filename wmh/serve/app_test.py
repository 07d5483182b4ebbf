from pathlib import Path

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient

from wmh.core.errors import SimulatorError, UserInputError
from wmh.core.types import Action, ActionKind, Episode, Observation, SessionState, Turn
from wmh.serve.app import ServeConfig, create_app
from wmh.serve.conftest import make_app
from wmh.serve.registry import StaticModel, StaticSource
from wmh.sessions.sqlite import SqliteDatabase

BASE = "http://127.0.0.1:8000"


def call(name: str, **arguments: object) -> dict:
    return {"kind": "tool_call", "name": name, "arguments": arguments}


def test_models_and_tools(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/docs").status_code == 200
    assert client.get("/world_models").json() == {
        "models": [{"name": "m", "engine": "replay-baseline", "tools": 2}]
    }
    info = client.get("/world_models/m").json()
    assert info["engine"] == "replay-baseline" and info["tools"] == ["get_user", "ping"]
    tools = {t["name"]: t for t in client.get("/world_models/m/tools").json()["tools"]}
    assert tools["get_user"]["schema_source"] == "inferred"
    assert tools["get_user"]["input_schema"] == {
        "type": "object",
        "properties": {"id": {"type": "string"}},
        "required": ["id"],
    }
    assert tools["ping"]["schema_source"] == "recorded"


def test_session_lifecycle(client: TestClient) -> None:
    r = client.post("/world_models/m/sessions", json={"task": "find Bob"})
    assert r.status_code == 201
    sid = r.json()["id"]
    step = client.post(f"/world_models/m/sessions/{sid}/step", json=call("get_user", id="u2")).json()
    assert step["observation"]["content"] == '{"id": "u2", "name": "Bob"}'
    assert step["step"] == 1 and step["usage"]["tool_calls"] == 1
    client.post(f"/world_models/m/sessions/{sid}/step", json={"kind": "message", "content": "hello"})
    state = client.get(f"/world_models/m/sessions/{sid}").json()
    assert state["task"] == "find Bob" and len(state["history"]) == 2
    usage = client.get(f"/world_models/m/sessions/{sid}/usage").json()
    assert usage["steps"] == 2 and usage["messages"] == 1 and usage["errors"] == 1  # the message has no tool
    assert [s["id"] for s in client.get("/world_models/m/sessions").json()["sessions"]] == [sid]
    assert client.delete(f"/world_models/m/sessions/{sid}").status_code == 204
    assert client.get(f"/world_models/m/sessions/{sid}").status_code == 404


def test_a_session_declares_the_tools_its_agent_offers(client: TestClient) -> None:
    schema = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
    openai_tool = {"type": "function", "function": {"name": "get_user", "parameters": schema}}
    r = client.post("/world_models/m/sessions", json={"task": "find Bob", "tools": [openai_tool]})
    assert r.status_code == 201
    sid = r.json()["id"]
    assert r.json()["tools"] == [{"name": "get_user", "description": "Look up a user", "parameters": schema}]
    steps = [call("get_user", id="u2"), call("get_user", id=2), call("ping")]
    answers = [
        client.post(f"/world_models/m/sessions/{sid}/step", json=body).json()["observation"] for body in steps
    ]
    assert [(a["source"], a["is_error"]) for a in answers] == [
        ("replay", False),
        ("schema", True),
        ("unknown-tool", True),
    ]
    assert client.get(f"/world_models/m/sessions/{sid}").json()["tools"] == r.json()["tools"]


@pytest.mark.parametrize(
    ("tools", "detail"),
    [
        ([{"description": "no name"}], "tools[0] has no name"),
        ([{"name": "x", "input_schema": {"type": 5}}], "tool 'x': parameters are not valid JSON Schema"),
    ],
)
def test_tools_a_session_cannot_use_are_refused_with_what_to_do(
    client: TestClient, tools: list, detail: str
) -> None:
    r = client.post("/world_models/m/sessions", json={"tools": tools})
    assert r.status_code == 422 and r.json()["error"] == "invalid_tools"
    assert r.json()["detail"].startswith(detail)
    assert client.get("/world_models/m/sessions").json()["sessions"] == []


def test_trace_is_otlp_json(client: TestClient) -> None:
    sid = client.post("/world_models/m/sessions", json={"task": "t"}).json()["id"]
    client.post(f"/world_models/m/sessions/{sid}/step", json=call("get_user", id="zz"))
    trace = client.get(f"/world_models/m/sessions/{sid}/trace").json()
    spans = trace["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert [s["name"] for s in spans] == ["invoke_agent m", "chat", "execute_tool get_user"]
    assert len(spans[0]["traceId"]) == 32 and len(spans[2]["spanId"]) == 16
    attrs = {a["key"]: a["value"]["stringValue"] for a in spans[2]["attributes"]}
    assert attrs["gen_ai.tool.call.arguments"] == '{"id":"zz"}'
    assert attrs["gen_ai.tool.call.result"] == "Error: user not found" and spans[2]["status"]["code"] == 2


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("get", "/world_models/nope", None, 404, "not_found"),
        ("get", "/world_models/.hidden", None, 400, "invalid_name"),
        ("get", "/world_models/m/sessions/bad%20id", None, 400, "invalid_name"),
        ("get", "/world_models/m/sessions/missing", None, 404, "not_found"),
        ("post", "/world_models/m/sessions/missing/step", call("ping"), 404, "not_found"),
        ("post", "/world_models/m/sessions", {"seed": "x"}, 422, "invalid_request"),
        (
            "post",
            "/world_models/m/sessions",
            {"faults": {"rules": [{"error_rate": 2}]}},
            422,
            "invalid_request",
        ),
        (
            "post",
            "/world_models/m/sessions",
            {"faults": {"rules": [{"latency_ms": 60_001}]}},
            422,
            "invalid_request",
        ),
        (
            "post",
            "/world_models/m/sessions",
            {"faults": {"rules": [{"latency_ms": 40_000}, {"latency_ms": 40_000}]}},
            422,
            "invalid_request",
        ),
        ("get", "/nowhere", None, 404, "not_found"),
        ("put", "/world_models", None, 405, "method_not_allowed"),
    ],
)
def test_errors_are_json(
    client: TestClient, method: str, path: str, body: object, status: int, error: str
) -> None:
    r = client.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and r.json()["detail"]


def test_bad_actions(client: TestClient) -> None:
    sid = client.post("/world_models/m/sessions", json={}).json()["id"]
    r = client.post(f"/world_models/m/sessions/{sid}/step", json=call(" "))
    assert (r.status_code, r.json()["error"]) == (422, "invalid_action")
    r = client.post(
        f"/world_models/m/sessions/{sid}/step",
        content=b'{"kind": ',
        headers={"content-type": "application/json"},
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_json")
    assert (
        r.json()["detail"].startswith("request body is not valid JSON")
        and "character 9" in r.json()["detail"]
    )
    r = client.post(f"/world_models/m/sessions/{sid}/step", json={"kind": "dance"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"kind": "message", "content": "\\ud800"}',
        b'{"kind": "tool_call", "name": "get\\udfff"}',
        b'{"kind": "tool_call", "name": "get_user", "arguments": {"\\ud800": 1}}',
        b'{"kind": "tool_call", "name": "get_user", "arguments": {"id": ["\\ud800"]}}',
        b'{"kind": "tool_call", "name": "get_user", "arguments": ' + b'{"a": ' * 65 + b"1" + b"}" * 66,
    ],
)
def test_actions_the_store_cannot_keep_are_refused(client: TestClient, body: bytes) -> None:
    sid = client.post("/world_models/m/sessions", json={}).json()["id"]
    r = client.post(
        f"/world_models/m/sessions/{sid}/step", content=body, headers={"content-type": "application/json"}
    )
    assert (r.status_code, r.json()["error"]) == (422, "invalid_action"), r.text
    assert len(r.json()["detail"]) < 200
    assert client.get(f"/world_models/m/sessions/{sid}").json()["history"] == []


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_deepest_arguments_read_back_after_restart(tmp_path: Path, source: StaticSource) -> None:
    with TestClient(make_app(tmp_path, source), base_url=BASE) as c:
        sid = c.post("/world_models/m/sessions", json={}).json()["id"]
        r = c.post(f"/world_models/m/sessions/{sid}/step", json=call("get_user", **nested(64)))
        assert r.status_code == 200, r.text
    with TestClient(make_app(tmp_path, source), base_url=BASE) as c:  # a new server reads the store
        assert c.get(f"/world_models/m/sessions/{sid}").json()["usage"]["steps"] == 1


def test_an_unreadable_session_is_left_out_of_the_listing(tmp_path: Path, source: StaticSource) -> None:
    db = SqliteDatabase(tmp_path / "sessions.db")
    action = Action(kind=ActionKind.TOOL_CALL, name="get_user", arguments=nested(200))
    turn = Turn(action=action, observation=Observation(content="x"))
    db.store("m").put(SessionState(id="deep", model="m", history=(turn,)))
    db.store("m").put(SessionState(id="fine", model="m"))
    db.close()
    with TestClient(make_app(tmp_path, source), base_url=BASE, raise_server_exceptions=False) as c:
        r = c.get("/world_models/m/sessions")
        assert r.status_code == 200 and [s["id"] for s in r.json()["sessions"]] == ["fine"]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"task": "t"}', {"content-type": "text/plain"}),
        (b"task=t", {"content-type": "application/x-www-form-urlencoded"}),
        (b'{"task": "t"}', {}),
    ],
)
def test_bodies_must_be_json(client: TestClient, content: bytes, headers: dict[str, str]) -> None:
    r = client.post("/world_models/m/sessions", content=content, headers=headers)
    assert (r.status_code, r.json()["error"]) == (415, "unsupported_media_type"), r.text
    assert "application/json" in r.json()["detail"]
    sid = client.post("/world_models/m/sessions").json()["id"]
    r = client.post(f"/world_models/m/sessions/{sid}/step", content=content, headers=headers)
    assert r.status_code == 415
    headers = {"content-type": "application/json; charset=utf-8"}
    r = client.post("/world_models/m/sessions", content=b'{"task": "t"}', headers=headers)
    assert r.status_code == 201


def test_no_body_creates_a_default_session(client: TestClient) -> None:
    r = client.post("/world_models/m/sessions")
    assert r.status_code == 201, r.text
    assert (r.json()["task"], r.json()["seed"], r.json()["faults"]["rules"]) == ("", 0, [])


def test_body_limit(tmp_path: Path, source: StaticSource) -> None:
    with TestClient(make_app(tmp_path, source, max_body=1000), base_url=BASE) as c:
        r = c.post("/world_models/m/sessions", json={"task": "x" * 2000})
        assert (r.status_code, r.json()["error"]) == (413, "body_too_large")

        def chunks():
            yield b'{"task": "'
            yield b"x" * 2000
            yield b'"}'

        r = c.post("/world_models/m/sessions", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_token_required_off_loopback(
    tmp_path: Path, source: StaticSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WMH_API_TOKEN", raising=False)
    with pytest.raises(UserInputError, match="token"):
        create_app(ServeConfig(root=tmp_path, host="0.0.0.0"), source=source)
    monkeypatch.setenv("WMH_API_TOKEN", "s3cret")
    with TestClient(make_app(tmp_path, source, host="0.0.0.0"), base_url=BASE) as c:
        assert c.get("/healthz").status_code == 200
        r = c.get("/world_models")
        assert (r.status_code, r.json()["error"]) == (401, "unauthorized")
        assert c.get("/world_models", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/world_models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/world_models", headers={"Authorization": "bearer s3cret"}).status_code == 200
        assert c.get("/world_models", headers={"Authorization": "Basic s3cret"}).status_code == 401
        assert c.get("/world_models", headers={"Authorization": "s3cret"}).status_code == 401
        assert c.post("/world_models/m/mcp", json={}).status_code == 401


class Failing:
    name = "failing"

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def answer(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Observation:
        raise self.exc


def test_engine_failures(tmp_path: Path, tiny_episodes: list[Episode]) -> None:
    source = StaticSource(
        {
            "prov": StaticModel(Failing(SimulatorError("provider timed out; retry later"))),
            "bug": StaticModel(Failing(RuntimeError("secret internals"))),
        }
    )
    with TestClient(make_app(tmp_path, source), base_url=BASE, raise_server_exceptions=False) as c:
        sid = c.post("/world_models/prov/sessions", json={}).json()["id"]
        r = c.post(f"/world_models/prov/sessions/{sid}/step", json=call("ping"))
        assert (r.status_code, r.json()["error"]) == (502, "engine_failed")
        assert c.get(f"/world_models/prov/sessions/{sid}").json()["history"] == []
        sid = c.post("/world_models/bug/sessions", json={}).json()["id"]
        r = c.post(f"/world_models/bug/sessions/{sid}/step", json=call("ping"))
        assert r.status_code == 500 and "secret" not in r.text and r.json()["error"] == "internal"


def test_faults_are_deterministic(client: TestClient) -> None:
    plan = {
        "seed": 7,
        "rules": [{"tool": "ping", "error_on_calls": [2]}, {"tool": "get_user", "error_rate": 0.5}],
    }

    def run() -> list[bool]:
        sid = client.post("/world_models/m/sessions", json={"faults": plan}).json()["id"]
        out = []
        for i in range(12):
            action = call("ping") if i % 3 == 0 else call("get_user", id="u1")
            obs = client.post(f"/world_models/m/sessions/{sid}/step", json=action).json()["observation"]
            out.append(obs["source"] == "fault")
        return out

    first = run()
    assert first == run()
    assert first[3] is True and first[0] is False and first[6] is False  # the 2nd ping fails, only it
    assert 0 < sum(first[i] for i in range(12) if i % 3) < 8


def test_sessions_survive_restart(tmp_path: Path, source: StaticSource) -> None:
    with TestClient(make_app(tmp_path, source), base_url=BASE) as c:
        sid = c.post("/world_models/m/sessions", json={"task": "keep me", "faults": {"seed": 3}}).json()["id"]
        c.post(f"/world_models/m/sessions/{sid}/step", json=call("get_user", id="u1"))
    assert (tmp_path / "sessions.db").is_file()
    with TestClient(make_app(tmp_path, source), base_url=BASE) as c:
        state = c.get(f"/world_models/m/sessions/{sid}").json()
        assert state["task"] == "keep me" and state["faults"]["seed"] == 3 and len(state["history"]) == 1
        assert c.post(f"/world_models/m/sessions/{sid}/step", json=call("ping")).json()["step"] == 2


def test_fault_latency_holds_no_lock_and_no_thread(tmp_path: Path, source: StaticSource) -> None:
    """A step asleep on injected latency blocks neither /healthz nor the next step of its session, even
    with one worker thread in all."""
    app = make_app(tmp_path, source)
    plan = {"rules": [{"tool": "ping", "latency_ms": 5000}]}

    async def main() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
            sid = (await c.post("/world_models/m/sessions", json={"faults": plan})).json()["id"]
            slow: list[httpx.Response] = []

            async def sleepy() -> None:
                slow.append(await c.post(f"/world_models/m/sessions/{sid}/step", json=call("ping")))

            async with anyio.create_task_group() as tg:
                tg.start_soon(sleepy)
                await anyio.sleep(0.2)
                assert (await c.get("/healthz")).status_code == 200
                r = await c.post(f"/world_models/m/sessions/{sid}/step", json=call("get_user", id="u1"))
                assert r.status_code == 200 and r.json()["step"] == 1
                assert not slow  # the ping still sleeps
                tg.cancel_scope.cancel()

    try:
        anyio.run(main)
    finally:
        app.state.backend.close()


def test_elapsed_time_counts_injected_latency(client: TestClient) -> None:
    plan = {"rules": [{"tool": "ping", "latency_ms": 50}]}
    sid = client.post("/world_models/m/sessions", json={"faults": plan}).json()["id"]
    assert client.post(f"/world_models/m/sessions/{sid}/step", json=call("ping")).json()["elapsed_ms"] >= 50
