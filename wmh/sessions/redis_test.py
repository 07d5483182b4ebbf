"""Against a real redis-server started here on a free port; skips where the binary or client is missing."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from wmh.core.errors import NotFoundError
from wmh.core.types import Action, ActionKind, Observation, SessionState, Turn
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.world_model import WorldModel
from wmh.serve.app import ServeConfig, create_app
from wmh.serve.registry import StaticModel, StaticSource

redis = pytest.importorskip("redis", reason="the redis client is not installed (uv add redis)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(workdir),
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.skip("redis-server did not start")
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


def _store(url: str, model: str):
    from wmh.sessions.redis import RedisSessionStore, connect

    return RedisSessionStore(connect(url), model, prefix=f"wmh-test-{uuid.uuid4().hex[:8]}")


def test_store_round_trip(redis_url: str) -> None:
    store = _store(redis_url, "a")
    state = SessionState(id="s1", model="a", task="t", seed=2)
    store.put(state)
    for i in range(3):
        state = state.with_turn(
            Turn(
                action=Action(kind=ActionKind.TOOL_CALL, name=f"t{i}"),
                observation=Observation(content=str(i)),
            )
        )
        store.put(state)
    assert store.get("s1") == state and store.ids() == ["s1"]
    store.put(state.model_copy(update={"history": ()}))
    assert store.get("s1").history == ()
    store.delete("s1")
    with pytest.raises(NotFoundError):
        store.get("s1")


def test_two_processes_share_and_serialize(redis_url: str, tiny_episodes) -> None:
    """Two WorldModels (as two servers would) over one Redis: steps on one session never interleave."""
    from wmh.sessions.redis import RedisSessionStore, connect

    store_a = _store(redis_url, "m")
    store_b = RedisSessionStore(connect(redis_url), "m", prefix=store_a.base.split(":")[0])
    a = WorldModel("m", ReplayBaseline(tiny_episodes), sessions=store_a)
    b = WorldModel("m", ReplayBaseline(tiny_episodes), sessions=store_b)
    sid = a.new_session(task="shared").id
    ping = Action(kind=ActionKind.TOOL_CALL, name="ping")
    threads = [
        threading.Thread(target=lambda wm=wm: [wm.step(sid, ping) for _ in range(10)]) for wm in (a, b, a, b)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(b.session(sid).history) == 40


def test_server_on_redis_store(redis_url: str, tmp_path: Path, tiny_episodes) -> None:
    source = StaticSource({"m": StaticModel(ReplayBaseline(tiny_episodes), episodes=tuple(tiny_episodes))})
    config = ServeConfig(root=tmp_path, store=redis_url)
    with TestClient(create_app(config, source=source), base_url="http://127.0.0.1:8000") as c:
        assert c.get("/healthz").json()["sessions"].startswith("redis")
        sid = c.post("/world_models/m/sessions", json={"task": "r"}).json()["id"]
        c.post(f"/world_models/m/sessions/{sid}/step", json={"kind": "tool_call", "name": "ping"})
    with TestClient(create_app(config, source=source), base_url="http://127.0.0.1:8000") as c:
        assert len(c.get(f"/world_models/m/sessions/{sid}").json()["history"]) == 1
