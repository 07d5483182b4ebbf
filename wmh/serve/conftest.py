"""Serve fixtures: a small static world model, apps over memory or SQLite sessions, a real uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from wmh.core.types import Episode, ToolDef
from wmh.engine.baseline import ReplayBaseline
from wmh.serve.app import DEFAULT_MAX_BODY, ServeConfig, create_app
from wmh.serve.registry import StaticModel, StaticSource


@pytest.fixture
def source(tiny_episodes: list[Episode]) -> StaticSource:
    tools = (
        ToolDef(name="get_user", description="Look up a user"),
        ToolDef(
            name="ping",
            description="Ping",
            parameters={"type": "object", "properties": {}},
        ),
    )
    return StaticSource({"m": StaticModel(ReplayBaseline(tiny_episodes), tools, tuple(tiny_episodes))})


def make_app(
    root: Path, source: StaticSource, host: str = "127.0.0.1", max_body: int = DEFAULT_MAX_BODY
) -> FastAPI:
    return create_app(ServeConfig(root=root, host=host, max_body=max_body), source=source)


@pytest.fixture
def client(tmp_path: Path, source: StaticSource) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, source), base_url="http://127.0.0.1:8000") as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn on 127.0.0.1 in a thread, for clients that need a real socket (OTel exporter, MCP)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(tmp_path: Path, source: StaticSource) -> Iterator[LiveServer]:
    with LiveServer(make_app(tmp_path, source)) as server:
        yield server
