"""The HTTP routes: thin over ``ModelRegistry`` and ``WorldModel``."""

from __future__ import annotations

import logging
import time
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Request, Response
from pydantic import JsonValue

import wmh
from wmh.core.errors import NotFoundError, WmhError
from wmh.core.types import Action
from wmh.serve.errors import MediaTypeError
from wmh.serve.otlp import TraceSink, decode_body, export_reply, keep_valid_spans, session_to_otlp, span_count
from wmh.serve.registry import ModelRegistry, check_session_id
from wmh.serve.schemas import (
    CreateSession,
    ErrorBody,
    Health,
    ModelInfo,
    ModelList,
    ModelSummary,
    SessionInfo,
    SessionList,
    SessionSummary,
    StepResult,
    ToolList,
    Usage,
)
from wmh.serve.steps import take_step

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "Invalid name, id or body"),
        (401, "Missing or wrong bearer token"),
        (404, "No such model or session"),
        (413, "Body too large"),
        (415, "Body not sent as application/json"),
        (422, "Body does not validate"),
        (500, "Our failure"),
        (502, "The engine's provider failed; the session is unchanged"),
    )
}

router = APIRouter(responses=_ERRORS)
log = logging.getLogger("wmh.serve")


def _registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


Registry = Annotated[ModelRegistry, Depends(_registry)]


async def _json_only(request: Request) -> None:
    """A body, where there is one, must be JSON: anything else is a 415, not a validation error."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))
    if not is_json and await request.body():
        raise MediaTypeError(
            f"body sent as {kind or 'no content type'!r}; send JSON with Content-Type: application/json"
        )


JSON_ONLY = [Depends(_json_only)]


@router.get("/healthz", tags=["server"])
async def healthz(request: Request) -> Health:
    return Health(version=wmh.__version__, sessions=request.app.state.backend.description)


@router.get("/world_models", tags=["models"])
def list_models(reg: Registry) -> ModelList:
    out = []
    for name in reg.names():
        try:
            info = reg.get(name).info
            out.append(ModelSummary(name=name, engine=info.engine, tools=len(info.tools)))
        except (WmhError, OSError, ValueError) as exc:  # a damaged model is listed, not fatal to the listing
            log.warning("world model %s does not load: %s", name, exc)
            out.append(ModelSummary(name=name))
    return ModelList(models=tuple(out))


@router.get("/world_models/{name}", tags=["models"])
def get_model(name: str, reg: Registry) -> ModelInfo:
    return reg.get(name).info


@router.get("/world_models/{name}/tools", tags=["models"])
def get_tools(name: str, reg: Registry) -> ToolList:
    return ToolList(tools=reg.get(name).tools)


@router.post("/world_models/{name}/sessions", status_code=201, tags=["sessions"], dependencies=JSON_ONLY)
async def create_session(name: str, reg: Registry, body: CreateSession | None = None) -> SessionInfo:
    """Open a session; with no body, one with no task, seed 0 and no faults."""
    wm = reg.model(name)
    body = body or CreateSession()
    state = await anyio.to_thread.run_sync(
        lambda: wm.new_session(body.task, body.seed, faults=body.faults, tools=body.tools)
    )
    return SessionInfo.of(state)


@router.get("/world_models/{name}/sessions", tags=["sessions"])
async def list_sessions(name: str, reg: Registry) -> SessionList:
    wm = reg.model(name)

    def summaries() -> list[SessionSummary]:
        out = []
        for sid in wm.sessions.ids():
            try:
                s = wm.sessions.get(sid)
            except NotFoundError:  # deleted meanwhile
                continue
            except ValueError as exc:  # one unreadable session is logged, not fatal to the listing
                log.warning("session %s of %s does not load: %s", sid, name, str(exc).splitlines()[0])
                continue
            out.append(SessionSummary(id=s.id, model=s.model, task=s.task, steps=len(s.history)))
        return out

    return SessionList(sessions=tuple(await anyio.to_thread.run_sync(summaries)))


@router.get("/world_models/{name}/sessions/{session_id}", tags=["sessions"])
async def get_session(name: str, session_id: str, reg: Registry) -> SessionInfo:
    wm = reg.model(name)
    state = await anyio.to_thread.run_sync(wm.session, check_session_id(session_id))
    return SessionInfo.of(state)


@router.post("/world_models/{name}/sessions/{session_id}/step", tags=["sessions"], dependencies=JSON_ONLY)
async def step(name: str, session_id: str, action: Action, reg: Registry) -> StepResult:
    """Answer one action. Acknowledged only after the turn is committed to the session store."""
    wm = reg.model(name)
    check_session_id(session_id)
    t0 = time.perf_counter()
    after = await take_step(wm, session_id, action)
    elapsed = (time.perf_counter() - t0) * 1000
    turn = after.history[-1]
    return StepResult(
        observation=turn.observation,
        step=len(after.history),
        elapsed_ms=round(elapsed, 3),
        usage=Usage.of([turn]),
    )


@router.get("/world_models/{name}/sessions/{session_id}/usage", tags=["sessions"])
async def session_usage(name: str, session_id: str, reg: Registry) -> Usage:
    wm = reg.model(name)
    state = await anyio.to_thread.run_sync(wm.session, check_session_id(session_id))
    return Usage.of(state.history)


@router.get("/world_models/{name}/sessions/{session_id}/trace", tags=["sessions"])
async def session_trace(name: str, session_id: str, reg: Registry) -> dict[str, JsonValue]:
    """The session as an OTLP JSON ``ExportTraceServiceRequest``: save it as a line of a file for ``wmh build``."""
    wm = reg.model(name)
    state = await anyio.to_thread.run_sync(wm.session, check_session_id(session_id))
    return session_to_otlp(state)


@router.delete("/world_models/{name}/sessions/{session_id}", status_code=204, tags=["sessions"])
async def delete_session(name: str, session_id: str, reg: Registry) -> Response:
    wm = reg.model(name)
    await anyio.to_thread.run_sync(wm.delete, check_session_id(session_id))
    return Response(status_code=204)


@router.post("/v1/traces", tags=["otlp"])
async def receive_traces(request: Request) -> Response:
    """OTLP/HTTP trace export (protobuf or JSON); its valid spans are appended to the collected trace
    files, and the others counted back as a partial success."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    encoding = request.headers.get("content-encoding", "")
    data = decode_body(body, content_type, encoding, request.app.state.config.max_body)
    rejected, why = keep_valid_spans(data)
    sink: TraceSink = request.app.state.sink
    if span_count(data):
        await anyio.to_thread.run_sync(sink.append, data)
    reply, media_type = export_reply(content_type, rejected, why)
    return Response(reply, media_type=media_type)
