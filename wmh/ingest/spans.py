"""The normalized span every reader produces, and the small value helpers the readers share.

A ``Span`` is a plain slotted dataclass, not a pydantic model: ingest builds one per span in the
hot path, where validation would cost more than parsing the JSON. Attribute values are already
plain JSON values (AnyValue flattened), keys are flat and dotted.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field

from pydantic import JsonValue

Attributes = dict[str, JsonValue]

# SpanKind names as producers write them, lower-cased, without the SPAN_KIND_ / SpanKind. prefix.
_KINDS = {"unspecified": 0, "internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS = {"unset": 0, "ok": 1, "error": 2}


class InexactIdError(ValueError):
    """An id that orjson read as a float (a decimal int over 64 bits): re-read the JSON exactly."""


@dataclass(slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: Attributes


@dataclass(slots=True)
class Span:
    """One span, whatever file shape it came from. ``line`` is 1-based (record number for protobuf)."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: int
    start_ns: int
    end_ns: int
    attributes: Attributes
    events: list[SpanEvent] = field(default_factory=list)
    status_code: int = 0
    status_message: str = ""
    resource: Attributes = field(default_factory=dict)
    line: int = 0


def hex_id(value: object) -> str:
    """A trace/span id as lower-case hex where it can be: hex kept, base64 and decimal ints converted."""
    if isinstance(value, int) and not isinstance(value, bool):
        return format(value, "032x" if value >= 1 << 64 else "016x")
    if not isinstance(value, str) or not value:
        if isinstance(value, float):
            raise InexactIdError(str(value))
        return ""
    if len(value) in (32, 16):
        return value.lower()
    if value.startswith(("0x", "0X")):
        return value[2:].lower()
    if len(value) in (24, 12) and not _is_hex(value):
        raw = _b64(value)
        if raw is not None and len(raw) in (16, 8):
            return raw.hex()
    return value


def _is_hex(value: str) -> bool:
    try:
        bytes.fromhex(value)
    except ValueError:
        return False
    return True


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(value)
        except (binascii.Error, ValueError):
            return None


def kind_code(value: object) -> int:
    """SpanKind from an int, ``"SPAN_KIND_CLIENT"``, ``"SpanKind.CLIENT"`` or ``"client"``."""
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return 0
    name = value.rsplit(".", 1)[-1].lower().removeprefix("span_kind_")
    return _KINDS.get(name, 0)


def status_code(value: object) -> int:
    """StatusCode from an int, ``"STATUS_CODE_ERROR"``, ``"StatusCode.ERROR"``, ``"ERROR"`` or ``"error"``."""
    if isinstance(value, int):
        return value if value in (0, 1, 2) else 0
    if not isinstance(value, str):
        return 0
    name = value.rsplit(".", 1)[-1].lower().removeprefix("status_code_")
    return _STATUS.get(name, 0)


def time_ns(value: object) -> int:
    """Nanoseconds since the epoch from ns/us/ms/s numbers, decimal strings or ISO 8601 text."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return _scale(value)
    if isinstance(value, float):
        return _scale(int(value)) if value > 1e11 else int(value * 1e9)
    if isinstance(value, str) and value:
        if value.isdigit():
            return _scale(int(value))
        return _iso_ns(value)
    return 0


def _scale(n: int) -> int:
    if n < 10**11:  # seconds
        return n * 1_000_000_000
    if n < 10**14:  # milliseconds
        return n * 1_000_000
    if n < 10**17:  # microseconds
        return n * 1_000
    return n


def _iso_ns(text: str) -> int:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return int(float(text) * 1e9)
        except ValueError:
            return 0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def flatten_nested(attrs: Attributes) -> None:
    """Add dotted keys for every nested dict value (``{"a": {"b": 1}}`` gains ``"a.b": 1``), in place.

    The nested value stays under its own key; a dotted key already present wins.
    """
    for key, value in list(attrs.items()):
        if isinstance(value, dict):
            _flatten_into(attrs, key, value)


def _flatten_into(attrs: Attributes, prefix: str, value: dict[str, JsonValue]) -> None:
    for key, inner in value.items():
        dotted = f"{prefix}.{key}"
        attrs.setdefault(dotted, inner)
        if isinstance(inner, dict):
            _flatten_into(attrs, dotted, inner)
