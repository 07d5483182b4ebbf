"""Labeled lines a text answer carries from the session: the state a tool reports, not one it sets.

Many text tools print part of a shared state as ``Label: value`` lines (a device's status bar, a
connection's mode). A tool that only reads that state prints the value the session last showed,
whichever tool showed it; an answer guessed from another task prints that task's value. A carried
label is learned per tool from train: among calls whose episode showed the label before, the share
whose answer repeats the latest value shown. Pure functions; no IO.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from wmh.core.types import Episode, Step

LINE = re.compile(r"^([A-Z][A-Za-z0-9 ()/_-]{0,48}):[ \t]*(\S[^\n]*?)[ \t]*$", re.MULTILINE)
CARRY_MIN_SHARE = 0.7  # of calls (after a pseudo-count) whose answer repeats the label's latest value
LOOKBACK = 64  # steps searched back for a label's latest value (keeps learning linear)


def labeled(text: str) -> dict[str, str]:
    """The ``Label: value`` lines of a text answer (the first of each label); none for JSON."""
    if text[:1] in "{[":
        return {}
    out: dict[str, str] = {}
    for label, value in LINE.findall(text):
        out.setdefault(label, value)
    return out


def latest(contents: Iterable[str], labels: Iterable[str]) -> dict[str, str]:
    """Each label's value in the latest of ``contents`` (newest first) that shows it."""
    wanted, out = set(labels), {}
    for content in contents:
        for label, value in labeled(content).items():
            if label in wanted and label not in out:
                out[label] = value
        if len(out) == len(wanted):
            break
    return out


def learn_carried(
    episodes: Sequence[Episode], calls: Iterable[tuple[int, int, Step]]
) -> tuple[tuple[str, int], ...]:
    """(label, calls behind it) for the labels a tool's successful text answers carry from the session
    (module doc). ``calls`` are (episode, position, step) of the tool's recorded calls."""
    shown, same = Counter[str](), Counter[str]()
    for e, pos, step in calls:
        if step.observation.is_error:
            continue
        mine = labeled(step.observation.content)
        if not mine:
            continue
        before = (s.observation.content for s in reversed(episodes[e].steps[max(0, pos - LOOKBACK) : pos]))
        for label, value in latest(before, mine).items():
            shown[label] += 1
            same[label] += mine[label] == value
    return tuple(sorted((label, n) for label, n in shown.items() if same[label] / (n + 1) >= CARRY_MIN_SHARE))


def carry(text: str, labels: Sequence[str], session: Iterable[str]) -> str:
    """``text`` with each carried label's line showing the value the session (newest first) last showed."""
    if not labels:
        return text
    mine = labeled(text)
    values = latest(session, [label for label in labels if label in mine])
    if not values:
        return text

    def line(m: re.Match[str]) -> str:
        label = m.group(1)
        if label not in values or m.group(2) != mine[label]:
            return m.group(0)
        return m.group(0)[: m.start(2) - m.start(0)] + values[label] + m.group(0)[m.end(2) - m.start(0) :]

    return LINE.sub(line, text)
