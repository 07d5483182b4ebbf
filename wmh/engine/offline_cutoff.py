"""Cutoffs: calls about a day before the environment's "now" all answer alike.

A search for flights on a day already past finds nothing; changing a booking to a flight on that day
fails ("flight HAT271 not available on date 2024-05-10"). The environment's clock is in no trace,
but its effect is: every train call of a tool whose date (an argument, or a field of an argument's
list items, the earliest of them) fell on or before some day got the same answer, with the values
of that item (or of the arguments) in their places, and the calls after that day mostly did not.
Learned per tool and date path; pure functions, no IO.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from pydantic import Field

from wmh.core.types import Frozen, Step
from wmh.engine.offline_json import Json

CUTOFF_MIN_CALLS = (
    2  # train calls on or before the day answered alike, and after it (the engine asks min_support)
)
CUTOFF_MAX_LATER_SHARE = 0.5  # of the calls after the day, at most this share may answer the same
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MIN_FILL = 2  # shorter values are not put back into an answer: they would match by chance


class CutoffRule(Frozen):
    """Calls whose ``path`` date is on or before ``last`` answer ``template`` (the values of the item
    holding the date, or of the arguments, where ``{field}`` stands)."""

    path: str = Field(description="The date: an argument, or ``list[].field`` of a list argument's items")
    last: str = Field(description="The latest day (YYYY-MM-DD) a train call answered so")
    first_other: str = Field(description="The earliest day a train call answered otherwise")
    template: str = Field(description="The answer, with {field} where the item's values go")
    is_error: bool
    calls: int = Field(description="Train calls on or before ``last`` (all answered so)")
    later_share: float = Field(description="Share of the calls after ``last`` that answered so too")


def dated(args: dict[str, Json], path: str) -> tuple[str, dict[str, Json]] | None:
    """(day, the object holding it) of ``path`` in ``args``: for a list path, its earliest item's."""
    base, _, field = path.partition("[].")
    if not field:
        day = _day(args.get(base))
        return (day, args) if day else None
    items = args.get(base)
    found = (
        [(d, item) for item in items if isinstance(item, dict) and (d := _day(item.get(field)))]
        if (isinstance(items, list))
        else []
    )
    return min(found, key=lambda x: x[0]) if found else None


def render(rule: CutoffRule, holder: dict[str, Json]) -> str:
    """The rule's answer for a call whose dated object is ``holder``."""
    text = rule.template
    for field, value in holder.items():
        if isinstance(value, str):
            text = text.replace("{" + field + "}", value)
    return text


def clock(rules: Iterable[CutoffRule]) -> str:
    """The last day of the past, as the rules (of all tools) agree on it: the earliest of their last
    days ("" when there are none). The clock is one: a tool whose calls were never dated between its
    last day and the others' does not stretch the past, and a spurious late cutoff stays within it."""
    return min((r.last for r in rules), default="")


def applies(rule: CutoffRule, args: dict[str, Json], now: str) -> dict[str, Json] | None:
    """The dated object of a call the rule answers (its day on or before ``now``), else None."""
    found = dated(args, rule.path)
    return found[1] if found is not None and found[0] <= now else None


def learn_cutoffs(steps: Iterable[Step]) -> tuple[CutoffRule, ...]:
    """The cutoffs a tool's calls obey (module doc): one at most per date path, the best supported first."""
    steps = list(steps)
    rules = [r for path in sorted(_paths(steps)) if (r := _cutoff(path, steps)) is not None]
    return tuple(sorted(rules, key=lambda r: (-r.calls, r.path)))


def _cutoff(path: str, steps: Sequence[Step]) -> CutoffRule | None:
    calls = sorted(
        (found[0], _template(step, found[1]), step.observation.is_error)
        for step in steps
        if (found := dated(step.action.arguments, path)) is not None
    )
    if not calls:
        return None
    answer = calls[0][1:]
    n = next((i for i, c in enumerate(calls) if c[1:] != answer), len(calls))
    if n == len(calls):
        return None  # no call answered otherwise: nothing marks a cutoff
    first_other = calls[n][0]
    n = sum(1 for c in calls[:n] if c[0] < first_other)  # a day that answered both ways is no evidence
    later = calls[n:]
    if n < CUTOFF_MIN_CALLS or len(later) < CUTOFF_MIN_CALLS or len({c[0] for c in calls[:n]}) < 2:
        return None  # one day alone says nothing of a cutoff (one task's trials share their dates)
    share = sum(c[1:] == answer for c in later) / len(later)
    if share > CUTOFF_MAX_LATER_SHARE:
        return None
    return CutoffRule(
        path=path,
        last=calls[n - 1][0],
        first_other=first_other,
        template=answer[0],
        is_error=answer[1],
        calls=n,
        later_share=share,
    )


def _template(step: Step, holder: dict[str, Json]) -> str:
    """The call's answer with the dated object's string values (longest first) turned into ``{field}``."""
    text = step.observation.content
    values = sorted(
        ((f, v) for f, v in holder.items() if isinstance(v, str) and len(v) >= _MIN_FILL),
        key=lambda fv: (-len(fv[1]), fv[0]),
    )
    for field, value in values:
        text = text.replace(value, "{" + field + "}")
    return text


def _paths(steps: Sequence[Step]) -> set[str]:
    """The date paths of the calls: top-level date arguments, and date fields of list arguments' items."""
    out: set[str] = set()
    for step in steps:
        out.update(_date_paths(step.action.arguments))
    return out


def _date_paths(args: dict[str, Json]) -> Iterator[str]:
    for key, value in args.items():
        if _day(value):
            yield key
        for item in value if isinstance(value, list) else ():
            if isinstance(item, dict):
                yield from (f"{key}[].{f}" for f, v in item.items() if _day(v))


def _day(value: Json) -> str:
    """The day (YYYY-MM-DD) an ISO 8601 date or date-time text starts with, else ""."""
    if isinstance(value, str) and _DAY.match(value) and (len(value) == 10 or value[10:11] in ("T", " ")):
        return value[:10]
    return ""
