"""Trace ingestion: trace files in, episodes (one per trace, its tool calls as steps) out.

    result = ingest_files(["run1.otel.jsonl", "run2.json.gz"], on_progress=bar.update_to)

Files may be OTLP JSON lines, flat-span JSON lines, one JSON document (OTLP, any-agent,
Phoenix, ...), OTLP protobuf (single or length-prefixed), each optionally gzip-compressed; see
``wmh.ingest.readers``. Which spans are tool calls, and where their arguments and results are, is
decided by ``wmh.ingest.conventions``. Secrets are redacted (``wmh.ingest.redact``) before return.

A malformed line or span is a ``Problem`` in the result; a missing or unreadable file, or one that
yields no tool step at all, raises ``TraceFileError``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from operator import attrgetter
from pathlib import Path

from pydantic import Field

from wmh.core.errors import TraceFileError
from wmh.core.types import Episode, Frozen, Problem
from wmh.ingest.conventions import build_episode, group_traces
from wmh.ingest.readers import ReadResult, read_file
from wmh.ingest.redact import redact, redact_episode

__all__ = ["IngestResult", "SourceFile", "ingest_files", "redact"]


class SourceFile(Frozen):
    """One ingested file: its content hash and what it yielded."""

    path: str
    sha256: str = Field(description="SHA-256 of the file's bytes as stored (compressed if it is)")
    spans: int = 0
    steps: int = 0
    problems: int = 0


class IngestResult(Frozen):
    """Episodes sorted by (source file, first span start, trace id); problems in file order."""

    episodes: tuple[Episode, ...] = ()
    problems: tuple[Problem, ...] = ()
    span_count: int = 0
    files: tuple[SourceFile, ...] = ()
    duplicate_traces: int = Field(
        default=0, description="Traces dropped: their id was read from an earlier file"
    )


def ingest_files(
    paths: Sequence[str | Path], *, on_progress: Callable[[int], None] | None = None
) -> IngestResult:
    """Read trace files into episodes: one per trace that has at least one tool step.

    Spans are grouped by trace id within each file (a trace may span many lines of a file); a trace
    whose id an earlier file already gave is dropped and counted (the same file given twice, or
    also gzipped, would otherwise double it). ``on_progress(n)`` is called now and then with ``n``, the bytes read so far over all files
    (cumulative, in on-disk bytes, so it reaches the sum of the files' sizes at the end): enough to
    drive a progress bar whose total is that sum.
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()  # ingest allocates millions of long-lived objects: collections would dominate
    try:
        return _ingest(paths, on_progress)
    finally:
        if gc_was_enabled:
            gc.enable()


def _ingest(paths: Sequence[str | Path], on_progress: Callable[[int], None] | None) -> IngestResult:
    episodes: list[Episode] = []
    problems: list[Problem] = []
    files: list[SourceFile] = []
    seen: set[str] = set()
    span_count = done = duplicates = 0
    for path in paths:
        offset = done
        report = (lambda n, offset=offset: on_progress(offset + n)) if on_progress else None
        read = read_file(path, report)
        done += read.size
        spans = len(read.spans)
        found = _episodes(read)
        _require_steps(read, spans, found)
        fresh = [ep for ep in found if ep.trace_id not in seen]
        duplicates += len(found) - len(fresh)
        seen.update(ep.trace_id for ep in fresh)
        episodes.extend(fresh)
        problems.extend(read.problems)
        span_count += spans
        files.append(_source(read, spans, found))
    episodes.sort(key=_source_file)  # stable: each file's own order (first start, trace id) stays
    return IngestResult(
        episodes=tuple(episodes),
        problems=tuple(problems),
        span_count=span_count,
        files=tuple(files),
        duplicate_traces=duplicates,
    )


def _source_file(episode: Episode) -> str:
    return episode.source_file


def _episodes(read: ReadResult) -> list[Episode]:
    """The file's traces that have at least one step, sorted by first start, then trace id.

    A span without a trace id cannot be placed in a trace: it is a problem. Takes the spans out of
    ``read``: each trace's spans are freed once its episode is built, and the memory they free
    serves the episodes built after (cheaper than fresh memory, and the peak stays lower).
    """
    found: list[tuple[int, str, Episode]] = []
    traces = group_traces(read.spans)
    read.spans.clear()
    for span in traces.pop("", ()):
        read.problems.append(
            Problem(file=read.path, line=span.line, message=f"span {span.name!r} has no trace id; skipped")
        )
    for trace_id in list(traces):
        spans = traces.pop(trace_id)
        try:
            episode = build_episode(trace_id, spans, read.path)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            message = f"trace {trace_id}: could not read it ({type(err).__name__}: {err}); skipped"
            read.problems.append(Problem(file=read.path, line=spans[0].line, message=message))
            continue
        if not episode.steps:
            continue
        episode = redact_episode(episode)
        found.append((min(map(_start, spans)), trace_id, episode))
    found.sort(key=lambda item: (item[0], item[1]))
    return [episode for _, _, episode in found]


_start = attrgetter("start_ns")


def _require_steps(read: ReadResult, spans: int, found: list[Episode]) -> None:
    if found:
        return
    if not spans:
        why = (
            f"no spans could be read ({len(read.problems)} bad lines)" if read.problems else "no spans in it"
        )
        raise TraceFileError(f"{read.path}: {why}; pass OTLP JSON/JSONL, flat-span JSONL or OTLP protobuf")
    raise TraceFileError(
        f"{read.path}: {spans} spans but no tool call with a result; "
        "record tool spans (e.g. gen_ai.operation.name=execute_tool) or tool messages, or drop this file"
    )


def _source(read: ReadResult, spans: int, found: list[Episode]) -> SourceFile:
    return SourceFile(
        path=read.path,
        sha256=read.sha256,
        spans=spans,
        steps=sum(len(ep.steps) for ep in found),
        problems=len(read.problems),
    )
