"""Trace files → normalized spans. The only module of ``wmh.ingest`` that touches the disk.

Shapes, detected from the bytes (gzip first, by its magic number):

- JSON lines: each line an OTLP ``ExportTraceServiceRequest``/``TracesData`` object, a flat span
  object, or a JSON array of either (one trace may span many lines: spans are grouped later);
- one JSON document (pretty-printed or not): an OTLP object, ``{"spans": [...]}`` (any-agent),
  ``{"traces": [{"spans": [...]}]}`` (OpenAI Agents SDK export), a span list (Phoenix), or a dict
  of name → span list;
- OTLP protobuf: one message, or length-prefixed records (4-byte big-endian length, then the
  message), as the collector's file exporter writes with ``format: proto``.

A line or span that cannot be read becomes a ``Problem`` (file, 1-based line, message) and the
rest of the file is kept. Only a file that cannot be opened raises (``TraceFileError``).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from wmh.core.errors import TraceFileError
from wmh.core.types import Problem
from wmh.ingest.flat import flat_span, looks_like_span
from wmh.ingest.otlp import describe, is_otlp, pb_request_spans, request_spans
from wmh.ingest.spans import InexactIdError, Span

Progress = Callable[[int], None]
_TEXT_BYTES = bytes(range(0x20, 0x100)) + b"\t\n\r\f\b"
_PROGRESS_EVERY = 1 << 20  # report after about every MiB
_MAX_PROBLEMS_WITHOUT_SPANS = 20
_HASH_IN_THREAD_FROM = 1 << 20  # smaller files hash in less time than a thread takes to start


@dataclass(slots=True)
class ReadResult:
    """What one file yielded."""

    path: str
    sha256: str
    size: int
    spans: list[Span] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_file(path: str | Path, on_progress: Progress | None = None) -> ReadResult:
    """Read one trace file. ``on_progress(n)`` gets the bytes of this file consumed so far."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise TraceFileError(f"{name}: no such file; check the path") from None
    except OSError as err:
        if Path(path).is_dir():  # IsADirectoryError, or PermissionError on Windows
            raise TraceFileError(
                f"{name} is a directory; pass the trace files in it instead (e.g. {Path(name, '*.jsonl')})"
            ) from None
        raise TraceFileError(
            f"{name}: cannot read it ({err.strerror or err}); check its permissions"
        ) from None
    digest = _sha256_soon(raw)
    result = ReadResult(path=name, sha256="", size=len(raw))
    data = _gunzip(raw, result)
    scale = len(raw) / max(1, len(data))
    report = (lambda n: on_progress(int(n * scale))) if on_progress else None
    parse_bytes(data, result, report)
    result.sha256 = digest.result()
    if on_progress:
        on_progress(len(raw))
    return result


def _sha256_soon(raw: bytes) -> Future[str]:
    """The SHA-256 of ``raw``; for a big file on another thread, where it overlaps parsing (it drops the GIL)."""
    if len(raw) < _HASH_IN_THREAD_FROM:
        done: Future[str] = Future()
        done.set_result(hashlib.sha256(raw).hexdigest())
        return done
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wmh-sha256")
    future = pool.submit(lambda: hashlib.sha256(raw).hexdigest())
    pool.shutdown(wait=False)  # the thread ends when the hash is done
    return future


def _gunzip(raw: bytes, result: ReadResult) -> bytes:
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:
        result.problems.append(
            Problem(file=result.path, message=f"broken gzip data ({err}); kept what came before")
        )
        return _gunzip_partial(raw)


def _gunzip_partial(raw: bytes) -> bytes:
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return d.decompress(raw)
    except zlib.error:
        return b""


def parse_bytes(data: bytes, result: ReadResult, on_progress: Progress | None = None) -> None:
    """Detect the shape of ``data`` and append its spans and problems to ``result``."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    head = data[:4096]
    if head.translate(None, _TEXT_BYTES) and not _utf8(head):
        _parse_protobuf(data, result)
        return
    start = _skip_space(data)
    if start >= len(data):
        return
    if data[start : start + 1] not in (b"{", b"["):
        result.problems.append(
            Problem(file=result.path, line=1, message="not JSON or OTLP protobuf; skipped")
        )
        return
    end = data.find(b"\n", start)
    one_line = end < 0 or _skip_space(data, end) == len(data)
    document = one_line or not _parses(data[start:end])
    if document and (_parse_document(data, result, report=one_line) or one_line):
        return
    if document and _parse_stream(data, start, result):
        return
    _parse_lines(data, result, on_progress)


def _skip_space(data: bytes, pos: int = 0) -> int:
    """Index of the first non-whitespace byte at or after ``pos`` (len(data) if none), copying little."""
    while pos < len(data):
        head = data[pos : pos + 65536]
        rest = head.lstrip()
        if rest:
            return pos + len(head) - len(rest)
        pos += len(head)
    return len(data)


def _utf8(head: bytes) -> bool:
    """True if ``head`` is UTF-8 text whose only control characters are whitespace."""
    try:
        text = head.decode("utf-8", errors="strict")
    except UnicodeDecodeError as err:
        if err.start < len(head) - 4:
            return False
        text = head[: err.start].decode()
    return not any(ord(c) < 0x20 and c not in "\t\n\r" for c in text)


def _parses(line: bytes) -> bool:
    try:
        orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return True


def _parse_lines(data: bytes, result: ReadResult, on_progress: Progress | None) -> None:
    before = len(result.problems)
    _each_line(data, result, on_progress)
    bad = len(result.problems) - before
    if not result.spans and bad > _MAX_PROBLEMS_WITHOUT_SPANS:  # not JSON lines at all: say it once
        first = result.problems[before]
        del result.problems[before:]
        message = f"{first.message} (and {bad - 1} more lines like it; is this a trace file?)"
        result.problems.append(Problem(file=result.path, line=first.line, message=message))


def _each_line(data: bytes, result: ReadResult, on_progress: Progress | None) -> None:
    done = next_report = 0
    for number, line in enumerate(io.BytesIO(data), start=1):  # no list of all lines in memory
        done += len(line)
        if on_progress and done >= next_report:
            on_progress(done)
            next_report = done + _PROGRESS_EVERY
        if not line or line.isspace():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            result.problems.append(Problem(file=result.path, line=number, message=f"not JSON: {err}"))
            continue
        _collect(line, value, number, result)


def _parse_document(data: bytes, result: ReadResult, report: bool) -> bool:
    """Read ``data`` as one JSON value; False (a problem noted if ``report``) if it is not JSON."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as err:
        if report:
            line = getattr(err, "lineno", 1) or 1
            result.problems.append(Problem(file=result.path, line=line, message=f"not JSON: {err}"))
        return False
    _collect(data, value, 1, result)
    return True


def _parse_stream(data: bytes, start: int, result: ReadResult) -> bool:
    """Concatenated pretty-printed JSON values (the OTel SDK's ConsoleSpanExporter); False if not that."""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return False
    decoder, pos, line, values = json.JSONDecoder(), start, 1, []
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return False
        line += text.count("\n", values[-1][2] if values else 0, pos)
        values.append((line, value, pos))
        pos = _skip_space_text(text, end)
    for number, value, _ in values:
        _collect(b"", value, number, result)
    return True


def _skip_space_text(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _collect(raw: bytes, value: object, line: int, result: ReadResult) -> None:
    """Append the spans found in one parsed JSON value; unreadable pieces become problems."""
    before, problems = len(result.spans), len(result.problems)
    try:
        _walk(value, line, result, depth=0)
    except InexactIdError:  # decimal ids over 64 bits (any-agent): orjson made them floats
        del result.spans[before:], result.problems[problems:]
        _walk(json.loads(raw), line, result, depth=0)
    if len(result.spans) == before and not _has_problem_at(result, line):
        result.problems.append(Problem(file=result.path, line=line, message="no spans found in this JSON"))


def _has_problem_at(result: ReadResult, line: int) -> bool:
    return bool(result.problems) and result.problems[-1].line == line


def _walk(value: object, line: int, result: ReadResult, depth: int) -> None:
    if depth > 4:
        return
    if isinstance(value, list):
        for item in value:
            _walk(item, line, result, depth + 1)
        return
    if not isinstance(value, dict):
        return
    try:
        if is_otlp(value):
            errors: list[str] = []
            request_spans(value, line, result.spans, errors)
            for error in errors:
                result.problems.append(Problem(file=result.path, line=line, message=f"bad span: {error}"))
        elif looks_like_span(value):
            result.spans.append(flat_span(value, line))
        else:
            _walk_container(value, line, result, depth)
    except InexactIdError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        result.problems.append(
            Problem(file=result.path, line=line, message=f"bad span data: {describe(err)}")
        )


def _walk_container(value: dict, line: int, result: ReadResult, depth: int) -> None:
    """``{"spans": [...]}``, ``{"traces": [...]}``, ``{"data": [...]}`` or a dict of name → span list."""
    for key in ("spans", "traces", "data"):
        if isinstance(value.get(key), list):
            _walk(value[key], line, result, depth + 1)
            return
    for item in value.values():
        if isinstance(item, (list, dict)):
            _walk(item, line, result, depth + 1)


def _parse_protobuf(data: bytes, result: ReadResult) -> None:
    records = _length_prefixed(data)
    if records is None:
        records = [data]
    for number, record in enumerate(records, start=1):
        try:
            pb_request_spans(record, number, result.spans)
        except Exception as err:  # protobuf raises its own DecodeError and friends
            result.problems.append(
                Problem(
                    file=result.path, line=number, message=f"not an OTLP protobuf message ({describe(err)})"
                )
            )
            continue


def _length_prefixed(data: bytes) -> list[bytes] | None:
    """Split 4-byte big-endian length-prefixed records, or None if ``data`` is not exactly that."""
    records, pos = [], 0
    while pos < len(data):
        if pos + 4 > len(data):
            return None
        n = int.from_bytes(data[pos : pos + 4], "big")
        if pos + 4 + n > len(data):
            return None
        records.append(data[pos + 4 : pos + 4 + n])
        pos += 4 + n
    return records or None
