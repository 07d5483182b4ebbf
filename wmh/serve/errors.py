"""Errors as JSON ``{error, detail}``: the caller's mistakes are 4xx, ours 5xx, internals never leak.

InvalidNameError     400 invalid_name        NotFoundError       404 not_found
InvalidActionError   422 invalid_action      RequestValidation   422 invalid_request
InvalidToolsError    422 invalid_tools
other UserInputError 400 bad_request         body not JSON       400 invalid_json
MediaTypeError       415 unsupported_media_type
TooLargeError        413 body_too_large      SimulatorError      502 engine_failed
ModelFormatError     500 model_unreadable    anything else       500 internal (logged)
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from wmh.core.errors import (
    InvalidActionError,
    InvalidNameError,
    InvalidToolsError,
    ModelFormatError,
    NotFoundError,
    SimulatorError,
    UserInputError,
    WmhError,
)

log = logging.getLogger("wmh.serve")


class MediaTypeError(UserInputError):
    """A body in a content type the route does not read."""


class TooLargeError(UserInputError):
    """A body over the server's limit (after decompression, where it was compressed)."""


_WMH: tuple[tuple[type[WmhError], int, str], ...] = (
    (InvalidNameError, 400, "invalid_name"),
    (InvalidActionError, 422, "invalid_action"),
    (InvalidToolsError, 422, "invalid_tools"),
    (MediaTypeError, 415, "unsupported_media_type"),
    (TooLargeError, 413, "body_too_large"),
    (UserInputError, 400, "bad_request"),
    (NotFoundError, 404, "not_found"),
    (ModelFormatError, 500, "model_unreadable"),
    (SimulatorError, 502, "engine_failed"),
)
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)


def wmh_status(exc: WmhError) -> tuple[int, str]:
    for cls, status, code in _WMH:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal"


async def _wmh_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WmhError)
    status, code = wmh_status(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(status, code, str(exc))


MAX_WHERE = 80


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if errors and errors[0].get("type") == "json_invalid":
        return _json_error(errors[0])
    parts = []
    for err in errors[:3]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        if len(where) > MAX_WHERE:
            where = "..." + where[-MAX_WHERE:]
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return error_response(422, "invalid_request", "; ".join(parts) or "invalid request")


def _json_error(err: dict) -> JSONResponse:
    """A body that is not JSON: 400, saying where the parser stopped."""
    loc = err.get("loc", ())
    why = (err.get("ctx") or {}).get("error", "invalid JSON")
    at = f" at character {loc[-1]}" if loc and isinstance(loc[-1], int) else ""
    return error_response(400, "invalid_json", f"request body is not valid JSON: {why}{at}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "client_error" if exc.status_code < 500 else "server_error")
    return error_response(exc.status_code, code, str(exc.detail), dict(exc.headers or {}))


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal", "internal server error; see the server log")


def install(app: FastAPI) -> None:
    app.add_exception_handler(WmhError, _wmh_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _internal_error)
