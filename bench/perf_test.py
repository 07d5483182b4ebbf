"""The ingest benchmark's report, on tiny files (the timings themselves are not checked)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import perf, synth


def test_ingest_report_has_a_line_per_file_and_skips_absent_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(perf, "TAU_AIRLINE", tmp_path / "absent.json")
    perf.bench_ingest(30, 30, tmp_path, repeat=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ingest   tau-bench airline: skipped")
    tiny, conversations, llm_only = (line for line in lines if "spans/s" in line)
    assert "tiny spans" in tiny and "conversations" in conversations and "no tool span" in llm_only
    for line in (tiny, conversations):
        assert "30 spans" in line and " MB " in line and "ratio" in line and "(target >= 0.5x; floor " in line
    assert "18 spans" in llm_only  # 3 traces of a root and 5 LLM calls
    assert sum("stages" in line for line in lines) == 3


def test_ingest_file_returns_the_ratio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = synth.write(tmp_path / "s.otel.jsonl", 20, conversation=True)
    assert perf.bench_ingest_file("x", path, repeat=1) > 0
    assert "20 spans" in capsys.readouterr().out


def test_floor_walk_keeps_every_span_and_attribute_by_trace(tmp_path: Path) -> None:
    path = synth.write(tmp_path / "s.otel.jsonl", 40)
    traces = perf.floor_walk(path)
    assert len(traces) == 4 and all(len(spans) == synth.SPANS_PER_TRACE for spans in traces.values())
    tool = next(s for s in next(iter(traces.values())) if s[2].startswith("execute_tool"))
    assert tool[4]["gen_ai.operation.name"] == "execute_tool" and "gen_ai.tool.call.result" in tool[4]
