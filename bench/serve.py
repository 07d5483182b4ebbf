"""Serving: step throughput against a bare FastAPI endpoint, 200 sessions x 50 steps, kill -9 durability.

    uv run python -m bench serve [--sessions 200] [--steps 50] [--concurrency 64] [--requests 4000]

Each server is a real process on 127.0.0.1 (``wmh serve`` on a model built from synthetic traces, and
a bare FastAPI app that parses the same body and answers a constant), driven by one httpx client.
- throughput: steps/s of ``POST .../step`` over bare-endpoint req/s, same load (target >= 0.7x);
- sessions: every session steps concurrently; errors (target 0) and p50/p99 step latency;
- durability: ``kill -9`` mid-load, restart on the same root, and check every acknowledged step is there.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from bench import synth
from wmh.core.types import Action

WMH = "from wmh.cli.main import main; main()"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
    raise RuntimeError("server did not start")


def _stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    proc.send_signal(sig)
    proc.wait(20)


def _wmh(root: Path, port: int) -> subprocess.Popen[bytes]:
    return _start(["-c", WMH, "serve", "--root", str(root), "--port", str(port)], port)


def _bare(root: Path, port: int) -> subprocess.Popen[bytes]:
    return _start(["-m", "bench.serve", "--bare-server", str(port), "--root", str(root)], port)


def bare_server(port: int, root: str) -> None:
    """The baseline: bare FastAPI endpoints, one answering a constant, one calling the same engine's
    step on in-memory sessions (so the ratio prices wmh's serving layer: routing, store, schemas)."""
    import uvicorn
    from fastapi import FastAPI

    from wmh.config.store import WorldModelStore
    from wmh.engine.loader import load_world_model

    wm, _ = load_world_model(WorldModelStore(root).resolve("bench"))
    app = FastAPI()
    app.get("/healthz")(lambda: {"status": "ok"})

    def const(action: Action) -> dict[str, object]:
        return {"observation": {"content": "{}", "is_error": False, "source": "const"}}

    def step(sid: str, action: Action) -> dict[str, object]:
        if sid not in wm.sessions.ids():
            wm.new_session(session_id=sid)
        return {"observation": wm.step(sid, action).model_dump()}

    app.post("/const")(const)
    app.post("/step/{sid}")(step)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _action(i: int) -> dict[str, object]:
    tool = synth.TOOLS[i % len(synth.TOOLS)]
    return {"kind": "tool_call", "name": tool, "arguments": {"id": f"id_{(i * 7) % 5000}", "n": i % 8}}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


class Conn:
    """One keep-alive HTTP/1.1 connection with a minimal client: httpx's pool, not the server, is the
    bottleneck at these rates on 2 cores, so the load generator speaks HTTP itself."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: object) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = orjson.dumps(body)
        head = f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        self.writer.write(f"{head}content-length: {len(data)}\r\n\r\n".encode() + data)
        await self.writer.drain()
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _hammer(port: int, path_of, n: int, concurrency: int) -> tuple[float, int]:
    """``n`` POSTs from ``concurrency`` connections; (seconds, errors)."""
    errors = 0
    counter = iter(range(n))

    async def worker(w: int) -> None:
        nonlocal errors
        conn = Conn(port)
        try:
            for i in counter:
                status, _ = await conn.post(path_of(w), _action(i))
                errors += status != 200
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return time.perf_counter() - t0, errors


async def _sessions(port: int, n_sessions: int, n_steps: int, acked: dict[str, int] | None = None):
    """Every session steps ``n_steps`` times, all at once, one connection each; (latencies ms, errors, s)."""
    lat: list[float] = []
    errors = 0
    base = "/world_models/bench/sessions"
    conns = [Conn(port) for _ in range(n_sessions)]
    sids = [orjson.loads((await c.post(base, {"task": "bench"}))[1])["id"] for c in conns]
    started = asyncio.get_running_loop().create_future()

    async def run(conn: Conn, sid: str) -> None:
        nonlocal errors
        await started
        for i in range(n_steps):
            t = time.perf_counter()
            try:
                status, body = await conn.post(f"{base}/{sid}/step", _action(i))
            except (OSError, asyncio.IncompleteReadError):
                errors += 1
                return
            lat.append((time.perf_counter() - t) * 1000)
            if status != 200:
                errors += 1
            elif acked is not None:
                acked[sid] = orjson.loads(body)["step"]

    tasks = [asyncio.create_task(run(c, s)) for c, s in zip(conns, sids, strict=True)]
    t0 = time.perf_counter()
    started.set_result(None)
    await asyncio.gather(*tasks)
    secs = time.perf_counter() - t0
    for c in conns:
        c.close()
    return lat, errors, secs


def build_model(root: Path) -> None:
    from wmh.build.pipeline import BuildRequest, build_world_model
    from wmh.config.store import WorldModelStore

    traces = synth.write(root / "bench.otel.jsonl", 20_000)
    build_world_model(BuildRequest(name="bench", files=(str(traces),)), WorldModelStore(root))


def _create(base: str) -> str:
    r = httpx.post(f"{base}/sessions", json={}, timeout=60)
    if r.status_code != 201:
        raise RuntimeError(f"creating a session failed: {r.status_code} {r.text}")
    return r.json()["id"]


def _rate(port: int, path_of, n: int, concurrency: int) -> tuple[float, int]:
    asyncio.run(_hammer(port, path_of, min(200, n), concurrency))  # warm up
    secs, errors = asyncio.run(_hammer(port, path_of, n, concurrency))
    return n / secs, errors


def bench_throughput(root: Path, n: int, concurrency: int) -> None:
    port = _port()
    proc = _bare(root, port)
    try:
        const, e1 = _rate(port, lambda w: "/const", n, concurrency)
        bare, e2 = _rate(port, lambda w: f"/step/s{w}", n, concurrency)
    finally:
        _stop(proc)
    port = _port()
    proc = _wmh(root, port)
    try:
        base = f"http://127.0.0.1:{port}/world_models/bench"
        sids = [_create(base) for _ in range(concurrency)]
        ours, e3 = _rate(port, lambda w: f"/world_models/bench/sessions/{sids[w]}/step", n, concurrency)
    finally:
        _stop(proc)
    print(
        f"throughput  bare FastAPI: constant {const:,.0f} req/s, same engine step {bare:,.0f} req/s;   "
        f"wmh serve (SQLite) {ours:,.0f} steps/s = {ours / bare:.2f}x the bare step (target >= 0.7x), "
        f"{ours / const:.2f}x the constant;   errors {e1 + e2 + e3}"
    )


def bench_sessions(root: Path, n_sessions: int, n_steps: int) -> None:
    port = _port()
    proc = _wmh(root, port)
    try:
        lat, errors, secs = asyncio.run(_sessions(port, n_sessions, n_steps))
    finally:
        _stop(proc)
    print(
        f"sessions    {n_sessions} x {n_steps} steps in {secs:.1f}s ({len(lat) / secs:,.0f} steps/s)   "
        f"errors {errors} (target 0)   p50 {_pct(lat, 0.5):.1f} ms   p99 {_pct(lat, 0.99):.1f} ms"
    )


def bench_kill(root: Path, n_sessions: int, n_steps: int, after_s: float) -> None:
    port = _port()
    proc = _wmh(root, port)
    base = f"http://127.0.0.1:{port}/world_models/bench"
    acked: dict[str, int] = {}

    async def load_then_kill() -> None:
        task = asyncio.create_task(_sessions(port, n_sessions, n_steps, acked))
        while not acked:
            await asyncio.sleep(0.01)
        await asyncio.sleep(after_s)
        os.kill(proc.pid, signal.SIGKILL)
        await task

    asyncio.run(load_then_kill())
    proc.wait(10)
    proc = _wmh(root, port)
    try:
        missing = 0
        for sid, n in acked.items():
            got = len(httpx.get(f"{base}/sessions/{sid}").json()["history"])
            missing += max(0, n - got)
    finally:
        _stop(proc)
    total = sum(acked.values())
    print(
        f"kill -9     after {after_s:.1f}s of stepping: {total:,} steps acknowledged in {len(acked)} sessions; "
        f"after restart {total - missing:,} present, {missing} missing (target 0)"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--concurrency", type=int, default=32, help="clients for the throughput comparison")
    p.add_argument("--requests", type=int, default=4000, help="requests per server in the throughput run")
    p.add_argument("--kill-after", type=float, default=3.0, help="seconds of load before kill -9")
    p.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    p.add_argument("--root", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.bare_server:
        bare_server(args.bare_server, args.root)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        build_model(root)
        print(f"model       built from synthetic traces in {time.perf_counter() - t0:.1f}s")
        bench_throughput(root, args.requests, args.concurrency)
        bench_sessions(root, args.sessions, args.steps)
        bench_kill(root, args.sessions, args.steps, args.kill_after)


if __name__ == "__main__":
    main()
