"""Deterministic grading of a predicted observation against the recorded one.

Four measures per step, each in 0..1:

- ``exact``: the two texts are equal after trimming whitespace, or both are JSON with the same
  canonical form (key order and spacing do not count).
- ``structural``: for two JSON values, the Dice overlap of their leaf (path, value) sets, numbers
  agreeing within a relative tolerance of 1e-6; otherwise token-level F1 of the two texts.
  Exact answers score 1.
- ``error_flag``: 1 when both agree on whether the tool errored.
- ``fidelity``, the one composite: ``structural`` when the error flags agree, half of it when they
  do not (an answer that succeeds where the tool failed misleads the agent however close its text).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence

from pydantic import JsonValue

from wmh.core.jsonutil import canonical, parse_json
from wmh.core.types import Frozen, Observation

REL_TOL = 1e-6
_TOKEN = re.compile(r"\w+|[^\w\s]")


class Grade(Frozen):
    exact: float
    structural: float
    error_flag: float
    fidelity: float
    feedback: str = ""


def grade(predicted: Observation, recorded: Observation) -> Grade:
    """Grade one step. Pure and deterministic."""
    flag = 1.0 if predicted.is_error == recorded.is_error else 0.0
    exact, structural, feedback = _content_agreement(predicted.content, recorded.content)
    if not flag:
        feedback = f"error flag differs (predicted is_error={predicted.is_error}); {feedback}"
    return Grade(
        exact=exact,
        structural=structural,
        error_flag=flag,
        fidelity=structural if flag else structural / 2,
        feedback=feedback,
    )


def _content_agreement(pred: str, rec: str) -> tuple[float, float, str]:
    a, b = pred.strip(), rec.strip()
    if a == b:
        return 1.0, 1.0, "exact"
    pa, va = parse_json(a)
    pb, vb = parse_json(b)
    if pa and pb and isinstance(va, dict | list) and isinstance(vb, dict | list):
        if canonical(va) == canonical(vb):
            return 1.0, 1.0, "exact (same JSON)"
        score, diff = json_overlap(va, vb)
        return 0.0, score, diff
    score = token_f1(a, b)
    return 0.0, score, f"text similarity {score:.2f}"


def leaves(value: JsonValue, path: str = "$") -> Iterator[tuple[str, JsonValue]]:
    """Every (path, scalar) in a JSON value; empty containers count as leaves."""
    if isinstance(value, dict) and value:
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}")
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def _same_leaf(a: JsonValue, b: JsonValue) -> bool:
    num = (int, float)
    if isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def json_overlap(pred: JsonValue, rec: JsonValue) -> tuple[float, str]:
    """Dice overlap of leaf sets, and a short note on the first differences (reflection feedback)."""
    lp, lr = dict(leaves(pred)), dict(leaves(rec))
    same = sum(1 for p, v in lp.items() if p in lr and _same_leaf(v, lr[p]))
    score = 2 * same / (len(lp) + len(lr)) if (lp or lr) else 1.0
    wrong = [p for p, v in lr.items() if p not in lp or not _same_leaf(lp[p], v)][:3]
    extra = [p for p in lp if p not in lr][:3]
    notes = [f"{p}: expected {_short(lr[p])}, got {_short(lp.get(p, '<missing>'))}" for p in wrong]
    notes += [f"{p}: not expected" for p in extra]
    return score, f"structural {score:.2f}; " + "; ".join(notes)


def _short(v: JsonValue) -> str:
    text = canonical(v)
    return text if len(text) <= 60 else text[:57] + "..."


def token_f1(a: str, b: str) -> float:
    """F1 of the token multisets of two texts (1.0 for two empty texts)."""
    ta, tb = Counter(_TOKEN.findall(a)), Counter(_TOKEN.findall(b))
    if not ta and not tb:
        return 1.0
    common = sum((ta & tb).values())
    if not common:
        return 0.0
    precision, recall = common / sum(ta.values()), common / sum(tb.values())
    return 2 * precision * recall / (precision + recall)


class Score(Frozen):
    """Mean grades over ``n`` steps."""

    n: int = 0
    exact: float = 0.0
    structural: float = 0.0
    error_flag: float = 0.0
    fidelity: float = 0.0


def summarize(grades: Sequence[Grade]) -> Score:
    n = len(grades)
    if not n:
        return Score()
    return Score(
        n=n,
        exact=sum(g.exact for g in grades) / n,
        structural=sum(g.structural for g in grades) / n,
        error_flag=sum(g.error_flag for g in grades) / n,
        fidelity=sum(g.fidelity for g in grades) / n,
    )
