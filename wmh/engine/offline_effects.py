"""What one tool's success adds to the object another tool reads: a booking joins its user's list.

A mutation rarely shows only in its own answer. Booking for a user adds the new booking's id to the
user's list of bookings, and a later read of that user shows it, whether the session read the user
before or not. An effect is learned per reading tool from train: after a successful call of the
writer whose argument names the same object as the read's argument, the read's list holds a field
of the writer's answer. Pure functions; no IO.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import orjson
from pydantic import Field

from wmh.core.jsonutil import canonical
from wmh.core.types import Episode, Frozen, Observation, Step
from wmh.engine.offline_json import Json, as_dict

EFFECT_MIN_PRECISION = 0.7  # of reads after such a write whose list held the written value
LOOKBACK = 64  # steps searched back for writes (keeps learning linear)


class EffectRule(Frozen):
    """A read's list ``path`` holds ``field`` of each earlier successful ``writer`` answer whose argument
    ``arg`` equals the read's argument ``key``."""

    writer: str = Field(description="The tool whose successful call adds the value")
    arg: str = Field(description="The writer's argument naming the object read")
    key: str = Field(description="The reading tool's argument naming that object")
    field: str = Field(description="Top-level field of the writer's answer holding the added value")
    path: str = Field(description="Top-level list of the read's answer the value joins")
    hits: int = Field(description="Reads after such a write whose list held the value")
    reads: int = Field(description="Reads after such a write")


Write = tuple[str, Mapping[str, Json], Observation]  # tool, arguments, observation


def learn_effects(
    episodes: Sequence[Episode], calls: Iterable[tuple[int, int, Step]]
) -> tuple[EffectRule, ...]:
    """The effects a reading tool shows (module doc). ``calls`` are (episode, position, step) of its calls."""
    hits, reads = Counter[tuple[str, str, str, str, str]](), Counter[tuple[str, str, str, str, str]]()
    for e, pos, step in calls:
        answer = None if step.observation.is_error else as_dict(step.observation.content)
        lists = {k: v for k, v in (answer or {}).items() if isinstance(v, list)}
        if not lists:
            continue
        steps = episodes[e].steps[max(0, pos - LOOKBACK) : pos]
        writes = [(s.action.name, dict(s.action.arguments), s.observation) for s in steps]
        for rule, held in _candidates(step.action.arguments, lists, writes):
            reads[rule] += 1
            hits[rule] += held
    rules = [
        EffectRule(writer=w, arg=a, key=k, field=f, path=p, hits=hits[r], reads=n)
        for r, n in reads.items()
        for w, a, k, f, p in [r]
        if hits[r] >= 2 and hits[r] / (n + 1) >= EFFECT_MIN_PRECISION
    ]
    return tuple(sorted(rules, key=lambda r: (-r.hits, r.writer, r.path, r.field))[:4])


def _candidates(
    read_args: dict[str, Json], lists: dict[str, list[Json]], writes: Sequence[Write]
) -> Iterable[tuple[tuple[str, str, str, str, str], bool]]:
    """Each (writer, arg, key, field, path) an earlier write could explain, once per read, and whether
    the read's list holds the written value."""
    seen: dict[tuple[str, str, str, str, str], bool] = {}
    for tool, args, obs in writes:
        written = None if obs.is_error else as_dict(obs.content)
        if not written:
            continue
        for arg, value in args.items():
            for key, mine in read_args.items():
                if not isinstance(value, str) or value != mine:
                    continue
                for field, v in written.items():
                    if isinstance(v, str) and v != value:
                        for path, items in lists.items():
                            rule = (tool, arg, key, field, path)
                            seen[rule] = seen.get(rule, True) and v in items
    return seen.items()


def same_after_effects(
    earlier: str, later: str, args: dict[str, Json], rules: Sequence[EffectRule], writes: Sequence[Write]
) -> bool:
    """Whether ``later`` is ``earlier`` (the same call's answer) with what ``writes`` in between added."""
    if earlier == later:
        return True
    answer = as_dict(earlier)
    if not rules or answer is None:
        return False
    answer = orjson.loads(earlier)  # a fresh copy: parsed answers are cached and shared
    return apply_effects(answer, args, rules, writes) and canonical(answer) == canonical(as_dict(later))


def apply_effects(
    answer: dict[str, Json], args: dict[str, Json], rules: Sequence[EffectRule], writes: Sequence[Write]
) -> bool:
    """Append to ``answer``'s lists what the session's ``writes`` (oldest first) added; whether it changed."""
    changed = False
    for rule in rules:
        items = answer.get(rule.path)
        named = args.get(rule.key)
        if not isinstance(items, list) or not isinstance(named, str):
            continue
        for tool, wargs, obs in writes:
            if tool != rule.writer or obs.is_error or wargs.get(rule.arg) != named:
                continue
            value = (as_dict(obs.content) or {}).get(rule.field)
            if isinstance(value, str) and value not in items:
                items.append(value)
                changed = True
    return changed
