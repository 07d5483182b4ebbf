import pytest
from typer.testing import CliRunner

from wmh.cli.main import app
from wmh.serve.app import ServeConfig

runner = CliRunner()


def test_serve_refuses_open_bind_without_token(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WMH_API_TOKEN", raising=False)
    r = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--root", str(tmp_path)])
    assert r.exit_code == 2 and "WMH_API_TOKEN" in r.output and "Traceback" not in r.output


def test_serve_passes_its_options(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[ServeConfig] = []
    monkeypatch.setattr("wmh.serve.app.serve", lambda config, on_ready=None: seen.append(config))
    args = ["serve", "--root", str(tmp_path), "--port", "9", "-n", "a", "-n", "b", "--store", "memory:"]
    assert runner.invoke(app, args).exit_code == 0
    assert seen[0].port == 9 and tuple(seen[0].names) == ("a", "b") and seen[0].store == "memory:"


def test_mcp_unknown_model_is_one_line(tmp_path) -> None:
    r = runner.invoke(app, ["mcp", "--name", "nope", "--root", str(tmp_path), "--store", "memory:"])
    assert r.exit_code == 2 and "no world model named 'nope'" in r.output


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
