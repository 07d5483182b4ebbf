from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from wmh.cli.cli_test import write_traces
from wmh.cli.demo import agent_plan, demo
from wmh.cli.main import app as wmh_app
from wmh.engine.llm_test import make_episodes

runner = CliRunner()
demo_app = typer.Typer()
demo_app.command()(demo)


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("demo")
    traces = write_traces(tmp / "t.jsonl")
    result = runner.invoke(wmh_app, ["build", "--name", "m", "--file", str(traces), "--root", str(tmp / "r")])
    assert result.exit_code == 0, result.output
    return tmp / "r"


def test_agent_plan_is_seeded() -> None:
    episodes = make_episodes(5)
    assert agent_plan(episodes, 7, seed=3) == agent_plan(episodes, 7, seed=3)
    task, actions = agent_plan(episodes, 7, seed=3)
    assert len(actions) == 7 and task.startswith("check order")


def test_demo_offline_prints_action_prompt_and_observation(root: Path) -> None:
    result = runner.invoke(demo_app, ["--name", "m", "--steps", "3", "--seed", "1", "--root", str(root)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "step 3" in out and "agent calls" in out and "environment prompt" in out
    assert "Recorded calls of" in out and "observation (" in out
    again = runner.invoke(demo_app, ["--name", "m", "--steps", "3", "--seed", "1", "--root", str(root)])
    assert again.output == out


def test_demo_llm_engine_with_the_scripted_provider(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "script.json"
    reply = {"content": "simulated", "is_error": False, "state_note": ""}
    script.write_bytes(orjson.dumps([orjson.dumps(reply).decode()] * 2))
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(script))
    args = ["--name", "m", "--steps", "2", "--engine", "llm", "--provider", "scripted", "--root", str(root)]
    result = runner.invoke(demo_app, args)
    assert result.exit_code == 0, result.output
    assert "(llm engine)" in result.output and result.output.count("── observation (llm)\nsimulated") == 2
    bad = runner.invoke(demo_app, ["--name", "m", "--engine", "llm", "--root", str(root)])
    assert bad.exit_code == 2 and "--provider" in bad.output
