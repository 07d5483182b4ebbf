"""``wmh show`` and ``wmh rm`` through typer's runner."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from wmh.cli.cli_test import write_traces
from wmh.cli.main import app

runner = CliRunner()


@pytest.fixture
def root(tmp_path: Path) -> str:
    root = str(tmp_path / "r")
    traces = write_traces(tmp_path / "t.jsonl")
    assert (
        runner.invoke(app, ["build", "-n", "m", "-f", str(traces), "--root", root, "--budget", "0"]).exit_code
        == 0
    )
    return root


def test_show_prints_the_model_and_each_tools_rules(root: str) -> None:
    result = runner.invoke(app, ["show", "m", "--root", root])
    assert result.exit_code == 0, result.output
    assert "train / held-out" in result.output and "10 / 2 traces" in result.output
    assert (
        "add:" in result.output and "function: answers the value" not in result.output
    )  # add is a + b, not an expression
    assert "get_item:" in result.output
    assert "other tools: a tool no train call used fails as an unknown tool" in result.output


def test_show_one_tool_as_json(root: str) -> None:
    result = runner.invoke(app, ["show", "m", "--tool", "get_item", "--json", "--root", root])
    assert result.exit_code == 0, result.output
    body = orjson.loads(result.stdout)
    assert body["manifest"]["name"] == "m"
    assert list(body["tools"]) == ["get_item"]
    assert body["tools"]["get_item"]["summary"].startswith("20 recorded calls, 50% failed")
    assert all(isinstance(line, str) for line in body["tools"]["get_item"]["rules"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "m", "--tool", "nope"], "has no tool 'nope'; its tools: add, get_item"),
        (["show", "missing"], "no world model named 'missing'"),
        (["rm", "missing", "--yes"], "no world model named 'missing'"),
        (["rm", "m"], "needs confirmation: rerun with --yes"),
    ],
)
def test_user_errors_are_one_line(root: str, args: list[str], expected: str) -> None:
    result = runner.invoke(app, [*args, "--root", root])
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output


def test_rm_deletes_the_model(root: str) -> None:
    result = runner.invoke(app, ["rm", "m", "--yes", "--root", root])
    assert result.exit_code == 0, result.output
    assert "deleted world model 'm'" in result.output
    assert "no world models" in runner.invoke(app, ["list", "--root", root]).output
    assert not (Path(root) / "models" / "m").exists()


@pytest.mark.parametrize("damage", ["manifest.json", "CURRENT"])
def test_a_damaged_model_is_listed_and_removable(root: str, damage: str) -> None:
    base = Path(root) / "models" / "m"
    (base / "CURRENT" if damage == "CURRENT" else next(base.glob("v-*")) / damage).unlink()
    listing = runner.invoke(app, ["list", "--root", root])
    assert listing.exit_code == 0, listing.output
    assert "damaged" in listing.output and "m" in listing.output
    assert "unreadable" not in listing.output and "rebuild it" not in listing.output
    result = runner.invoke(app, ["rm", "m", "--yes", "--root", root])
    assert result.exit_code == 0, result.output
    assert not base.exists()


def test_rm_refuses_unsafe_names(root: str) -> None:
    result = runner.invoke(app, ["rm", "..", "--yes", "--root", root])
    assert result.exit_code == 2 and "invalid world-model name" in result.output
    assert (Path(root) / "models" / "m").is_dir()
