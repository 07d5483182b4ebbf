import pytest
from typer.testing import CliRunner

from wmh.cli.main import app
from wmh.serve.app import ServeConfig

runner = CliRunner()


def test_serve_refuses_open_bind_without_token(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WMH_API_TOKEN", raising=False)
    r = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--root", str(tmp_path)])
    assert r.exit_code == 2 and "WMH_API_TOKEN" in r.output and "Traceback" not in r.output


def _models(root, *names: str) -> None:
    """What the store lists as built models (``models/NAME/CURRENT``), without building them."""
    for name in names:
        (root / "models" / name).mkdir(parents=True)
        (root / "models" / name / "CURRENT").write_text("v-1")


def test_serve_passes_its_options(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ServeConfig] = []
    monkeypatch.setattr("wmh.serve.app.serve", lambda config, on_ready=None: seen.append(config))
    _models(tmp_path, "a", "b")
    args = ["serve", "--root", str(tmp_path), "--port", "9", "-n", "a", "-n", "b", "--store", "memory:"]
    assert runner.invoke(app, args).exit_code == 0
    assert seen[0].port == 9 and tuple(seen[0].names) == ("a", "b") and seen[0].store == "memory:"


def test_serve_refuses_a_name_not_built(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[ServeConfig] = []
    monkeypatch.setattr("wmh.serve.app.serve", lambda config, on_ready=None: started.append(config))
    _models(tmp_path, "a")
    args = ["serve", "--root", str(tmp_path), "--store", "memory:"]
    r = runner.invoke(app, [*args, "-n", "nosuch"])
    assert r.exit_code == 2, r.output
    assert r.output == (
        f"error: no world model named 'nosuch' under {tmp_path}; `wmh list --root {tmp_path}` shows the ones there\n"
    )
    several = runner.invoke(app, [*args, "-n", "a", "-n", "x", "-n", "y", "-n", "x"])
    assert several.exit_code == 2 and "no world models named 'x', 'y' under" in several.output
    bad = runner.invoke(app, [*args, "-n", "../a"])
    assert bad.exit_code == 2 and "invalid world-model name '../a'" in bad.output
    assert started == []


def test_mcp_unknown_model_is_one_line(tmp_path) -> None:
    r = runner.invoke(app, ["mcp", "--name", "nope", "--root", str(tmp_path), "--store", "memory:"])
    assert r.exit_code == 2 and "no world model named 'nope'" in r.output and "wmh list" in r.output


def test_wmh_serve_in_a_subprocess(tmp_path) -> None:
    """The README path: ``wmh serve`` answers /healthz and stops cleanly on SIGTERM."""
    import subprocess
    import sys
    import time

    import httpx

    from wmh.serve.conftest import free_port

    port = free_port()
    cmd = [sys.executable, "-m", "wmh.cli", "serve", "--root", str(tmp_path), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, (
                    proc.stderr.read() if proc.stderr else ""
                )
                time.sleep(0.1)
        assert r.json()["sessions"].startswith("sqlite")
        assert httpx.get(f"http://127.0.0.1:{port}/world_models").json() == {"models": []}
    finally:
        proc.terminate()
        assert proc.wait(15) in (0, -15)  # uvicorn re-raises SIGTERM after its graceful shutdown


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_serve_port_out_of_range_is_one_line(tmp_path, port: str) -> None:
    r = runner.invoke(app, ["serve", "--root", str(tmp_path), "--store", "memory:", "--port", port])
    assert r.exit_code == 2, r.output
    assert r.output.strip() == f"error: --port must be in [0, 65535], got {port}; e.g. --port 8000"


def test_serve_port_in_use_is_one_line_before_serving_on(tmp_path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        r = runner.invoke(app, ["serve", "--root", str(tmp_path), "--store", "memory:", "--port", str(port)])
    assert r.exit_code == 2, r.output
    assert r.output.strip() == f"error: port {port} is in use; pass --port N (another free port)"
