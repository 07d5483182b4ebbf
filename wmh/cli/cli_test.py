"""The CLI through typer's runner, and the README's quick start through a real subprocess."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from wmh.cli.main import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "tau-bench" / "traces.otel.jsonl"
runner = CliRunner()


def _span(trace: str, sid: str, tool: str, args: dict, result: str, t: int, error: bool = False) -> dict:
    attrs = [
        {"key": "gen_ai.operation.name", "value": {"stringValue": "execute_tool"}},
        {"key": "gen_ai.tool.name", "value": {"stringValue": tool}},
        {"key": "gen_ai.tool.call.arguments", "value": {"stringValue": orjson.dumps(args).decode()}},
        {"key": "gen_ai.tool.call.result", "value": {"stringValue": result}},
        {"key": "task.id", "value": {"stringValue": f"task-{trace[-1]}"}},
    ]
    return {
        "traceId": trace.rjust(32, "0"),
        "spanId": sid.rjust(16, "0"),
        "name": f"execute_tool {tool}",
        "kind": 1,
        "startTimeUnixNano": str(t),
        "endTimeUnixNano": str(t + 5),
        "attributes": attrs,
        "status": {"code": 2} if error else {},
    }


def write_traces(path: Path, n: int = 12, bad_line: bool = False) -> Path:
    lines = []
    for i in range(n):
        trace = f"{i + 1:x}"
        spans = [
            _span(
                trace,
                f"{i}a",
                "get_item",
                {"id": f"i{i}"},
                orjson.dumps({"id": f"i{i}", "n": i}).decode(),
                10,
            ),
            _span(trace, f"{i}b", "get_item", {"id": "nope"}, "Error: item not found", 20, error=True),
            _span(trace, f"{i}c", "add", {"a": i, "b": 2}, str(i + 2), 30),
        ]
        lines.append(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
    if bad_line:
        lines.insert(3, b'{"resourceSpans": [ this is not json')
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_build_list_and_model_files(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl", bad_line=True)
    result = runner.invoke(
        app, ["build", "--name", "m1", "--file", str(traces), "--root", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "t.jsonl:4" in result.output  # the bad line, by file and line
    assert "bad lines/spans skipped" in result.output
    listing = runner.invoke(app, ["list", "--root", str(tmp_path / "r")])
    assert listing.exit_code == 0 and "m1" in listing.output
    model = next((tmp_path / "r" / "models" / "m1").glob("v-*"))
    manifest = orjson.loads((model / "manifest.json").read_bytes())
    assert manifest["schema_version"] == 1 and manifest["traces"] == 12 and manifest["steps"] == 36
    assert manifest["bad_items"] == 1 and len(manifest["sources"][0]["sha256"]) == 64
    assert manifest["split"]["heldout_traces"] + manifest["split"]["train_traces"] == 12


def test_build_group_by_and_gzip(tmp_path: Path) -> None:
    plain = write_traces(tmp_path / "t.jsonl")
    gz = tmp_path / "t.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    args = ["build", "-n", "g", "-f", str(gz), "--group-by", "task.id", "--holdout", "0.25"]
    result = runner.invoke(app, [*args, "--root", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert "by task.id" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build", "--name", "x"], "needs --name NAME and at least one --file"),
        (["build", "--name", "x", "--file", "/no/such/file.jsonl"], "file.jsonl"),
        (["build", "--name", "../evil", "--file", "README.md"], "invalid world-model name"),
        (["play", "--name", "missing"], "wmh build --name missing"),
        (["eval", "/no/such/file.jsonl"], "file.jsonl"),
        (["examples", "run", "nope"], "no example 'nope'"),
        (["build", "--name", "x", "--file", "{tmp}"], "is a directory; pass the trace files in it instead"),
        (["eval", "{tmp}"], "is a directory; pass the trace files in it instead"),
    ],
)
def test_user_errors_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = runner.invoke(app, [*args, *(["--root", str(tmp_path)] if args[0] in ("build", "play") else [])])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output  # no progress bars before it either
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["build", "--file", "x.jsonl", "--bogus"],
            "error: no such option: --bogus. Try 'wmh build --help'.",
        ),
        (
            ["build", "--budge", "3"],
            "error: no such option: --budge (Possible options: --budget, --prompt-budget)",
        ),
        (["build", "--holdout", "abc"], "error: invalid value for '--holdout': "),
        (["build", "--name"], "error: option '--name' requires an argument. Try 'wmh build --help'."),
        (["examples", "list", "--bogus"], "error: no such option: --bogus. Try 'wmh examples list --help'."),
        (["serve", "--port"], "error: option '--port' requires an argument. Try 'wmh serve --help'."),
        (["mcp"], "error: missing option '--name' / '-n'. Try 'wmh mcp --help'."),
        (["eval"], "error: missing argument 'files'. Try 'wmh eval --help'."),
        (["nosuch"], "error: no such command 'nosuch'. Try 'wmh --help'."),
        (["examples", "run"], "Try 'wmh examples run --help'."),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and expected in result.output, result.output


def test_help_is_still_typers() -> None:
    assert runner.invoke(app, ["build", "--help"]).exit_code == 0
    bare = runner.invoke(app, [])
    assert bare.exit_code == 2 and "build" in bare.output and "error" not in bare.output


def test_usage_error_one_line_in_a_subprocess() -> None:
    wmh = [sys.executable, "-m", "wmh.cli", "build", "--bogus", "x"]
    done = subprocess.run(wmh, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "error: no such option: --bogus. Try 'wmh build --help'.\n"


def test_file_with_no_steps_is_one_line_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"resourceSpans": []}\n')
    result = runner.invoke(app, ["build", "-n", "e", "-f", str(empty), "--root", str(tmp_path)])
    assert result.exit_code == 2 and "empty.jsonl" in result.output and "Traceback" not in result.output


def test_eval_empty_bucket_has_no_scores(tmp_path: Path) -> None:
    """Every held-out call is new (seen n = 0): its scores are ``-`` in the table, null in --json."""
    spans = [_span(f"{i + 1:x}", f"{i}a", "add", {"a": i, "b": 2}, str(i + 2), 10) for i in range(10)]
    lines = [orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [s]}]}]}) for s in spans]
    traces = tmp_path / "t.jsonl"
    traces.write_bytes(b"\n".join(lines) + b"\n")
    text = runner.invoke(app, ["eval", str(traces), "--holdout", "0.3"])
    assert text.exit_code == 0, text.output
    seen = next(line for line in text.output.splitlines() if "│ seen " in line)
    assert re.search(r"│ seen +│ 0 +│ - +│ - +│ - +│ - +│", seen), seen
    report = orjson.loads(runner.invoke(app, ["eval", str(traces), "--holdout", "0.3", "--json"]).stdout)
    assert report["seen"] == {"n": 0, "exact": None, "structural": None, "error_flag": None, "fidelity": None}
    assert report["unseen"]["n"] == 3 and isinstance(report["unseen"]["exact"], float)


def test_eval_json_shape(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    result = runner.invoke(app, ["eval", str(traces), "--holdout", "0.25", "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    for key in ("overall", "seen", "unseen"):
        assert set(report[key]) == {"n", "exact", "structural", "error_flag", "fidelity"}
    assert set(report["per_tool"]) == {"get_item", "add"}
    assert report["overall"]["n"] == 9
    assert 0.0 < report["knowable"] <= 1.0


def test_play_reads_stdin(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    root = str(tmp_path / "r")
    assert runner.invoke(app, ["build", "-n", "p", "-f", str(traces), "--root", root]).exit_code == 0
    session = 'get_item {"id": "i3"}\nget_item id=i3\n:history\n:tools\n:bogus\n:quit\n'
    result = runner.invoke(app, ["play", "--name", "p", "--root", root], input=session)
    assert result.exit_code == 0, result.output
    assert '"id": "i3"' in result.output or '"id":"i3"' in result.output
    assert "unknown command" in result.output and "add" in result.output


def test_play_with_the_tools_the_agent_offers(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    root = str(tmp_path / "r")
    assert runner.invoke(app, ["build", "-n", "p", "-f", str(traces), "--root", root]).exit_code == 0
    request = {"model": "gpt-4o", "tools": [{"type": "function", "function": {"name": "get_item"}}]}
    tools = tmp_path / "tools.json"
    tools.write_bytes(orjson.dumps(request))
    session = 'add {"a": 1, "b": 2}\n:tools\n:quit\n'
    result = runner.invoke(app, ["play", "-n", "p", "--root", root, "--tools", str(tools)], input=session)
    assert result.exit_code == 0, result.output
    assert "1 declared tools" in result.output
    assert "Error: unknown tool 'add'; this session's tools: get_item" in result.output
    for bad, complaint in (
        ("[1]", "tools[0] is not an object"),
        ("{}", "holds no list of tools"),
        ("{", "is not JSON"),
    ):
        tools.write_text(bad)
        failed = runner.invoke(
            app, ["play", "-n", "p", "--root", root, "--tools", str(tools)], input=":quit\n"
        )
        assert failed.exit_code == 2 and complaint in failed.output and "Traceback" not in failed.output


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="example traces not generated")
def test_readme_quick_start_in_a_subprocess(tmp_path: Path) -> None:
    env = {**os.environ, "WMH_HOME": str(tmp_path / "home")}
    wmh = [sys.executable, "-m", "wmh.cli"]
    build = subprocess.run(
        [*wmh, "build", "--name", "airline", "--file", str(EXAMPLE)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert build.returncode == 0, build.stderr
    assert "held-out fidelity" in build.stdout
    snippet = (REPO / "README.md").read_text().split("```python\n", 1)[1].split("```", 1)[0]
    snippet = snippet.replace('WorldModelStore(".wmh")', f"WorldModelStore({str(tmp_path / 'home')!r})")
    run = subprocess.run(
        [sys.executable, "-c", snippet], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith(("False", "True"))


def test_build_from_collected(tmp_path: Path) -> None:
    root = tmp_path / "r"
    (root / "collected").mkdir(parents=True)
    write_traces(root / "collected" / "traces-20260101.otel.jsonl")
    result = runner.invoke(app, ["build", "-n", "c", "--from-collected", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "36" in result.output
    missing = runner.invoke(app, ["build", "-n", "c", "--from-collected", "--root", str(tmp_path / "none")])
    assert missing.exit_code == 2 and "OTEL_EXPORTER_OTLP_ENDPOINT" in missing.output


def test_build_optimizes_and_list_shows_it(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl", n=40)
    root = str(tmp_path / "r")
    result = runner.invoke(app, ["build", "-n", "o", "-f", str(traces), "--budget", "300", "--root", root])
    assert result.exit_code == 0, result.output
    assert "optimization (GEPA)" in result.output
    model = next((tmp_path / "r" / "models" / "o").glob("v-*"))
    manifest = orjson.loads((model / "manifest.json").read_bytes())
    assert manifest["optimization"]["rollouts"] > 0 and manifest["optimization"]["frontier"] >= 1
    assert (model / "optimize.json").is_file()
    listing = runner.invoke(app, ["list", "--root", root])
    assert str(manifest["optimization"]["rollouts"]) in listing.output


def test_gepa_bar_ends_at_the_calls_made(tmp_path: Path) -> None:
    """GEPA stops early when nothing improves: the bar ends at the calls it made, not at the budget."""
    traces = write_traces(tmp_path / "t.jsonl", n=40)
    root = tmp_path / "r"
    result = runner.invoke(
        app, ["build", "-n", "o", "-f", str(traces), "--budget", "1500", "--root", str(root)]
    )
    assert result.exit_code == 0, result.output
    model = next((root / "models" / "o").glob("v-*"))
    calls = orjson.loads((model / "manifest.json").read_bytes())["optimization"]["rollouts"]
    assert 0 < calls < 1500
    bar = next(line for line in result.stderr.splitlines() if line.startswith("optimizing (GEPA)"))
    assert f" {calls}/1500 " in bar, bar
    assert f"{calls} of 1500 metric calls" in " ".join(result.stdout.replace("│", " ").split())


def test_budget_too_small_still_saves_the_base(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl", n=40)
    result = runner.invoke(
        app, ["build", "-n", "b", "-f", str(traces), "--budget", "1", "--root", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "optimization skipped" in result.output and "held-out fidelity" in result.output


def test_wizard_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wmh.cli.build as build_cmd

    monkeypatch.setattr(build_cmd, "is_tty", lambda: True)
    traces = write_traces(tmp_path / "t.jsonl")
    answers = f"/no/such.jsonl\n{traces}\n../bad\nwiz\ntask.id\n1.5\n0.25\n0\n"
    result = runner.invoke(app, ["build", "--root", str(tmp_path)], input=answers)
    assert result.exit_code == 0, result.output
    assert "not found" in result.output and "is not valid" in result.output
    assert "world model 'wiz'" in result.output and "by task.id" in result.output


def test_no_interactive_never_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import wmh.cli.build as build_cmd

    monkeypatch.setattr(build_cmd, "is_tty", lambda: True)
    result = runner.invoke(app, ["build", "--no-interactive", "--root", str(tmp_path)])
    assert result.exit_code == 2 and "needs --name" in result.output


def test_eval_with_an_llm_engine_and_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    script = tmp_path / "script.jsonl"
    reply = orjson.dumps({"content": "scripted answer", "is_error": False, "state_note": ""})
    script.write_bytes(b"\n".join([orjson.dumps(reply.decode())] * 50) + b"\n")
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(script))
    args = [
        "eval",
        str(traces),
        "--holdout",
        "0.25",
        "--engine",
        "llm",
        "--provider",
        "scripted",
        "--root",
        str(tmp_path / "r"),
        "--json",
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = orjson.loads(first.stdout)
    assert report["engine"] == "llm" and "9 provider calls" in report["usage"]
    second = orjson.loads(runner.invoke(app, args).stdout)
    assert "0 provider calls, 9 cache hits" in second["usage"]
    assert second["overall"] == report["overall"]


def test_build_with_a_provider_needs_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    traces = write_traces(tmp_path / "t.jsonl")
    result = runner.invoke(
        app, ["build", "-n", "a", "-f", str(traces), "--provider", "anthropic", "--root", str(tmp_path)]
    )
    assert result.exit_code == 2 and "ANTHROPIC_API_KEY" in result.output
    bad = runner.invoke(
        app, ["build", "-n", "a", "-f", str(traces), "--engine", "hybrid", "--root", str(tmp_path)]
    )
    assert bad.exit_code == 2 and "--provider" in bad.output


def test_build_records_the_engine_and_play_uses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    script = tmp_path / "script.jsonl"
    reply = orjson.dumps({"content": "from the model", "is_error": False, "state_note": "noted"}).decode()
    script.write_text("\n".join([orjson.dumps(reply).decode()] * 60) + "\n")
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(script))
    root = str(tmp_path / "r")
    built = runner.invoke(
        app,
        [
            "build",
            "-n",
            "h",
            "-f",
            str(traces),
            "--engine",
            "hybrid",
            "--provider",
            "scripted",
            "--budget",
            "0",
            "--root",
            root,
        ],
    )
    assert built.exit_code == 0, built.output
    model = next((tmp_path / "r" / "models" / "h").glob("v-*"))
    manifest = orjson.loads((model / "manifest.json").read_bytes())
    assert (manifest["engine"], manifest["provider"]) == ("hybrid", "scripted")
    played = runner.invoke(app, ["play", "-n", "h", "--root", root], input='get_item {"id": "zzz9"}\n:quit\n')
    assert played.exit_code == 0, played.output
    assert "hybrid engine" in played.output and "by the model" in played.output
    offline = runner.invoke(app, ["play", "-n", "h", "--engine", "offline", "--root", root], input=":quit\n")
    assert "offline engine" in offline.output


def test_llm_build_optimizes_and_saves_the_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    traces = write_traces(tmp_path / "t.jsonl", n=40)
    script = tmp_path / "script.jsonl"
    reply = orjson.dumps({"content": "from the model", "is_error": False, "state_note": ""}).decode()
    script.write_text("\n".join([orjson.dumps(reply).decode()] * 3000) + "\n")
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(script))
    root = tmp_path / "r"
    built = runner.invoke(
        app,
        [
            "build",
            "-n",
            "p",
            "-f",
            str(traces),
            "--provider",
            "scripted",
            "--budget",
            "0",
            "--prompt-budget",
            "30",
            "--root",
            str(root),
        ],
    )
    assert built.exit_code == 0, built.output
    model = next((root / "models" / "p").glob("v-*"))
    manifest = orjson.loads((model / "manifest.json").read_bytes())
    assert manifest["engine"] == "llm" and manifest["prompt_optimization"]["rollouts"] > 0
    assert (model / "env_prompt.txt").read_text().strip()
    assert (model / "optimize-prompt.json").is_file()


def test_eval_folds_json(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    result = runner.invoke(app, ["eval", str(traces), "--folds", "3", "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert len(report["folds"]) == 3 and report["overall"]["n"] == 36 and report["heldout_traces"] == 12
    for fold in report["folds"]:
        assert {"n", "exact", "structural", "error_flag", "fidelity"} <= set(fold)
        assert set(fold["baseline"]) == {"n", "exact", "structural", "error_flag", "fidelity"}
    assert sum(f["n"] for f in report["folds"]) == 36
    text = runner.invoke(app, ["eval", str(traces), "--folds", "3"])
    assert text.exit_code == 0 and "3-fold by trace: each group held out once" in text.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--folds", "1"], "--folds must be between 2"),
        (["--folds", "3", "--holdout", "0.3"], "replaces --holdout"),
    ],
)
def test_eval_bad_folds_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    result = runner.invoke(app, ["eval", str(traces), *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--holdout", "1"], "--holdout must be in [0, 1), got 1.0; e.g. --holdout 0.2"),
        (["--holdout", "-1"], "--holdout must be in [0, 1), got -1.0"),
        (["--holdout", "2"], "--holdout must be in [0, 1), got 2.0"),
        (["--holdout", "nan"], "--holdout must be in [0, 1), got nan"),
        (["--budget", "-1"], "--budget must be >= 0, got -1"),
        (["--prompt-budget", "-1"], "--prompt-budget must be >= 0, got -1"),
    ],
)
def test_build_bad_options_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    result = runner.invoke(app, ["build", "-n", "h", "-f", str(traces), *args, "--root", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert expected in result.output and len(result.output.strip().splitlines()) == 1


def test_eval_reports_skipped_lines(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl", bad_line=True)
    result = runner.invoke(app, ["eval", str(traces), "--holdout", "0.25"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output and "t.jsonl:4" in result.output
    as_json = runner.invoke(app, ["eval", str(traces), "--holdout", "0.25", "--json"])
    assert orjson.loads(as_json.stdout)["skipped_items"] == 1 and "t.jsonl:4" in as_json.stderr


@pytest.mark.parametrize("command", ["build", "eval"])
def test_group_by_no_trace_has_is_one_line(tmp_path: Path, command: str) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    args = ["-n", "g", "-f", str(traces), "--root", str(tmp_path)] if command == "build" else [str(traces)]
    result = runner.invoke(app, [command, *args, "--group-by", "nope"])
    assert result.exit_code == 2, result.output
    assert "no trace has attribute 'nope'; attributes seen: gen_ai.operation.name, task.id" in result.output


def test_build_with_one_group_warns_nothing_held_out(tmp_path: Path) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    traces.write_text(re.sub(r'"task-[0-9a-f]+"', '"task-all"', traces.read_text()))
    args = ["build", "-n", "one", "-f", str(traces), "--group-by", "task.id", "--root", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "warning: nothing was held out: --group-by task.id gives 1 group(s)" in result.output


@pytest.mark.parametrize("command", ["build", "eval"])
def test_a_file_given_twice_is_read_once(tmp_path: Path, command: str) -> None:
    traces = write_traces(tmp_path / "t.jsonl")
    packed = tmp_path / "t.jsonl.gz"
    packed.write_bytes(gzip.compress(traces.read_bytes()))
    if command == "build":
        args = ["build", "-n", "d", "-f", str(traces), "-f", str(packed), "--root", str(tmp_path)]
    else:
        args = ["eval", str(traces), str(traces), "--holdout", "0.25"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "warning: skipped 12 traces already read from an earlier file" in result.output
    if command == "eval":
        assert "9 train / 3 held-out traces" in result.output
