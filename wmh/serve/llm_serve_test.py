"""A model built with an LLM engine, served from the store: the model answers, its failure is a 502."""

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from wmh.build.pipeline import BuildRequest, build_world_model
from wmh.config.store import WorldModelStore
from wmh.engine.choice import EngineChoice
from wmh.serve.app import ServeConfig, create_app


def _script(path: Path, n: int) -> Path:
    reply = orjson.dumps({"content": "from the model", "is_error": False, "state_note": ""}).decode()
    path.write_text("".join(orjson.dumps(reply).decode() + "\n" for _ in range(n)))
    return path


def _traces(tmp_path: Path) -> Path:
    from wmh.cli.cli_test import write_traces

    return write_traces(tmp_path / "t.jsonl")


def test_llm_model_served_and_provider_failure_is_502(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(_script(tmp_path / "build.jsonl", 100)))
    store = WorldModelStore(tmp_path / "root")
    choice = EngineChoice(kind="llm", provider="scripted")
    build_world_model(BuildRequest(name="m", files=(str(_traces(tmp_path)),), budget=0, engine=choice), store)
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(_script(tmp_path / "serve.jsonl", 1)))
    client = TestClient(create_app(ServeConfig(root=store.root, store="memory:")))
    assert client.get("/world_models").json()["models"][0]["engine"] == "llm"
    sid = client.post("/world_models/m/sessions", json={"task": "t"}).json()["id"]
    step = {"kind": "tool_call", "name": "get_item", "arguments": {"id": "fresh-1"}}
    ok = client.post(f"/world_models/m/sessions/{sid}/step", json=step)
    assert ok.status_code == 200 and ok.json()["observation"]["content"] == "from the model"
    step["arguments"] = {"id": "fresh-2"}
    failed = client.post(f"/world_models/m/sessions/{sid}/step", json=step)
    assert failed.status_code == 502 and failed.json()["error"] == "engine_failed"
    assert len(client.get(f"/world_models/m/sessions/{sid}").json()["history"]) == 1
