"""Which held-out answers any engine could reproduce from the data at all.

An answer is *knowable* when every text in it (the string values of a JSON answer, else its words
but numbers) appears somewhere in train (a task, an argument, an answer) or in its own episode
before it (the task, the arguments of this call and of earlier ones, earlier answers). Numbers are
not checked, since they may be computed, so the share of knowable answers is roughly a ceiling on
exact agreement: what lies above it needs facts the traces never showed (a record first read in a
held-out task, a price on a date nobody searched), not a better engine. Roughly: an engine may
also derive a text from others (a name spelled from an id), which this check does not credit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import JsonValue

from wmh.core.jsonutil import parse_json
from wmh.core.types import Episode, Step
from wmh.eval.grade import leaves

_WORD = re.compile(r"[A-Za-z0-9_@.:-]+")
_NUMBER = re.compile(r"-?[0-9][0-9.]*")


def texts_of(content: str) -> set[str]:
    """The strings of a JSON answer, or the words but numbers of any other text."""
    ok, value = parse_json(content)
    if ok and isinstance(value, dict | list):
        return _strings(value)
    return {w for w in _WORD.findall(content) if not _NUMBER.fullmatch(w)}


def _strings(value: JsonValue) -> set[str]:
    return {v for _, v in leaves(value) if isinstance(v, str)}


def _step_texts(step: Step) -> set[str]:
    return _strings(dict(step.action.arguments)) | texts_of(step.observation.content)


def train_texts(train: Iterable[Episode]) -> set[str]:
    """Every text train shows: its tasks' words, its arguments' and its answers' texts."""
    out: set[str] = set()
    for ep in train:
        out.update(_WORD.findall(ep.task))
        for step in ep.steps:
            out |= _step_texts(step)
    return out


def knowable(train: Iterable[Episode], heldout: Sequence[Episode]) -> list[bool]:
    """Per held-out step, in episode order: whether its recorded answer is knowable (module doc)."""
    seen = train_texts(train)
    out = []
    for ep in heldout:
        mine = set(_WORD.findall(ep.task))
        for step in ep.steps:
            mine |= _strings(dict(step.action.arguments))
            out.append(texts_of(step.observation.content) <= seen | mine)
            mine |= _step_texts(step)
    return out


def knowable_share(train: Iterable[Episode], heldout: Sequence[Episode]) -> float:
    """The share of held-out steps whose answer is knowable (1.0 when there are none)."""
    flags = knowable(train, heldout)
    return sum(flags) / len(flags) if flags else 1.0
