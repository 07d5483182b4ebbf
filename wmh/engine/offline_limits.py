"""Limits: a call fails when a number it asks exceeds what the session read on the object it names.

Paying 300 from a gift card the session read with a balance of 182 fails ("not enough balance in
payment method gift_card_1"); paying 150 from it succeeds. The same shape covers stock, quotas and
seats. A limit is learned per tool from train: failures whose text names an argument value, where
the number beside that value in the call (the same list item's, or a top-level one) exceeded a
number of the object the session last read under that value, against the calls where it did not.
Pure functions; no IO.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from pydantic import Field

from wmh.core.types import Episode, Frozen, Step
from wmh.engine.offline_json import Json, earlier_objects

LIMIT_MIN_ACCURACY = 0.85  # of the calls a candidate limit applies to, those whose outcome it foretells
LOOKBACK = 64  # steps searched back for the object a call names (keeps learning linear)
TOLERANCE = 1e-6


class LimitRule(Frozen):
    """The call fails with ``template`` when its number ``amount`` exceeds the ``field`` of the object
    the session last read with ``key`` equal to the value of ``name``."""

    name: str = Field(description="The argument naming the object, or ``list[].field`` of a list argument")
    amount: str = Field(description="The number asked: a top-level argument, or a field of the same item")
    key: str = Field(description="The object's field holding the name")
    field: str = Field(description="The object's number the amount may not exceed")
    template: str = Field(description="The error text, with {value} where the name goes")
    fails: int = Field(description="Train failures the rule explains")
    accuracy: float = Field(description="Share of the train calls it applied to whose outcome it foretold")


def asks(args: dict[str, Json], name: str, amount: str) -> Iterator[tuple[str, float]]:
    """(named value, number asked) pairs of a call for a rule's ``name`` and ``amount``."""
    base, _, field = name.partition("[].")
    if not field:
        value, number = args.get(name), _number(args.get(amount))
        if isinstance(value, str) and number is not None:
            yield value, number
        return
    items = args.get(base)
    number_field = amount.partition("[].")[2]
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(v := item.get(field), str):
            number = _number(item.get(number_field))
            if number is not None:
                yield v, number


def limit_of(objects: Iterable[dict[str, Json]], key: str, value: str, field: str) -> float | None:
    """The ``field`` number of the first of ``objects`` (latest first) with ``key == value``."""
    for obj in objects:
        if obj.get(key) == value:
            return _number(obj.get(field))
    return None


def check(rule: LimitRule, args: dict[str, Json], objects: Sequence[dict[str, Json]]) -> tuple[bool, str]:
    """(applies, the first value whose number exceeds its limit, or "" when none does)."""
    applies = False
    for value, number in asks(args, rule.name, rule.amount):
        limit = limit_of(objects, rule.key, value, rule.field)
        if limit is None:
            continue
        applies = True
        if number > limit + TOLERANCE * max(1.0, abs(limit)):
            return True, value
    return applies, ""


def learn_limits(
    episodes: Sequence[Episode], calls: Iterable[tuple[int, int, Step]]
) -> tuple[LimitRule, ...]:
    """The limits a tool's calls obey (module doc). ``calls`` are (episode, position, step)."""
    asking = [(e, pos, step) for e, pos, step in calls if any(_specs(step.action.arguments))]
    candidates: Counter[tuple[str, str, str, str, str]] = Counter()
    for e, pos, step in asking:
        if step.observation.is_error:
            candidates.update(_explanations(step, earlier_objects(episodes[e], pos, LOOKBACK)))
    if not candidates:
        return ()
    seen = [(step, earlier_objects(episodes[e], pos, LOOKBACK)) for e, pos, step in asking]
    rules = []
    for (name, amount, key, field, template), _ in candidates.most_common(16):
        rule = LimitRule(
            name=name, amount=amount, key=key, field=field, template=template, fails=0, accuracy=0
        )
        outcomes = (
            (
                *check(rule, step.action.arguments, objects),
                step.observation.is_error,
                step.observation.content,
            )
            for step, objects in seen
        )
        fails, accuracy = judged(template, outcomes)
        if fails >= 2 and accuracy >= LIMIT_MIN_ACCURACY:
            rules.append(rule.model_copy(update={"fails": fails, "accuracy": accuracy}))
    return tuple(sorted(rules, key=lambda r: (-r.accuracy, -r.fails, r.template))[:2])


def judged(template: str, outcomes: Iterable[tuple[bool, str, bool, str]]) -> tuple[int, float]:
    """(distinct names its failures named, accuracy) of a limit failing with ``template``, from each
    train call's (whether the limit applies, the name over it or "", whether it failed, its answer)."""
    right = wrong = 0
    named: set[str] = set()
    for applies, over, failed, text in outcomes:
        if not applies or (failed and not fits(template, text)):
            continue  # another failure may have come first: it says nothing of the limit
        if over and failed and text == template.replace("{value}", over):
            right += 1
            named.add(over)
        elif not over and not failed:
            right += 1
        else:
            wrong += 1
    return len(named), right / (right + wrong + 1)


def eased(
    failed: dict[str, Json], text: str, args: dict[str, Json], objects: Sequence[dict[str, Json]]
) -> bool:
    """Whether a call asks less of a value an earlier failure named, no more than a number of an object
    the session read holding that value, which the failed call's ask exceeded: the failure may have been
    that limit, which this call stays within, though no train failure taught it."""
    for name, amount in _specs(failed):
        for value, number in asks(failed, name, amount):
            now = [n for v, n in asks(args, name, amount) if v == value]
            if len(value) < 3 or value not in text or not now or max(now) >= number:
                continue
            for obj in objects:
                if value in obj.values() and any(
                    (limit := _number(leaf)) is not None and max(now) <= limit < number
                    for leaf in obj.values()
                ):
                    return True
    return False


def _explanations(step: Step, objects: Sequence[dict[str, Json]]) -> set[tuple[str, str, str, str, str]]:
    """Every (name, amount, key, field, template) by which this failure is a limit exceeded: the latest
    object holding the named value under each key, a number of it below the number asked."""
    out = set()
    text = step.observation.content
    for name, amount in _specs(step.action.arguments):
        for value, number in asks(step.action.arguments, name, amount):
            if len(value) < 3 or value not in text:
                continue
            keys: set[str] = set()
            for obj in objects:
                for key in [k for k, v in obj.items() if v == value and k not in keys]:
                    keys.add(key)
                    for field, leaf in obj.items():
                        limit = _number(leaf)
                        if limit is not None and number > limit:
                            out.add((name, amount, key, field, text.replace(value, "{value}")))
    return out


def _specs(args: dict[str, Json]) -> Iterator[tuple[str, str]]:
    """(name, amount) argument pairs: a string beside a number, top-level or in one list item."""
    tops = [k for k, v in args.items() if isinstance(v, str)]
    numbers = [k for k, v in args.items() if _number(v) is not None]
    yield from ((t, n) for t in tops for n in numbers)
    item_pairs: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
    for k, v in args.items():
        for item in v if isinstance(v, list) else ():
            if isinstance(item, dict):
                strs = [f for f, x in item.items() if isinstance(x, str)]
                nums = [f for f, x in item.items() if _number(x) is not None]
                item_pairs[k].update((s, n) for s in strs for n in nums)
    for k, pairs in item_pairs.items():
        yield from ((f"{k}[].{s}", f"{k}[].{n}") for s, n in sorted(pairs))


def fits(template: str, text: str) -> bool:
    """Whether ``text`` is ``template`` with some value in place of {value}."""
    head, _, tail = template.partition("{value}")
    return text.startswith(head) and text.endswith(tail) and len(text) >= len(head) + len(tail)


def _number(value: Json) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class ChargeRule(Frozen):
    """The call fails with ``template`` when the item its answer would append to ``list_key`` asks,
    in ``amount_field``, more than the ``field`` of the object the item names (by ``name_field``) holds,
    as the session last read the object whose ``key`` is that name.

    A limit on a number the call never passes: changing a booking's flights charges the fare
    difference to the card it names, and fails when the card's balance is below it."""

    list_key: str = Field(description="The answer's list the write appends an item to")
    name_field: str = Field(description="The appended item's field naming the object charged")
    amount_field: str = Field(description="The appended item's number: the amount charged")
    key: str = Field(description="The object's field holding the name")
    field: str = Field(description="The object's number the amount may not exceed")
    template: str = Field(description="The error text, with {value} where the name goes")
    where: dict[str, str] = Field(default_factory=dict, description="String fields the object must have")
    fails: int = Field(description="Train failures the rule explains")
    accuracy: float = Field(description="Share of the train calls it applied to whose outcome it foretold")
    source: str = Field(default="", description="The write whose failures taught the rule, when another")


class ChargeSample(NamedTuple):
    """A train call of a write: the answer the engine makes for it (success assumed), the object that
    answer patches, what the session read before (latest first), and what the call really got."""

    answer: dict[str, Json]
    base: dict[str, Json]
    objects: Sequence[dict[str, Json]]
    failed: bool
    text: str


def appended(answer: dict[str, Json], base: dict[str, Json]) -> Iterator[tuple[str, dict[str, Json]]]:
    """(list key, item) of each list the answer made longer than the object's: its last item."""
    for key, value in answer.items():
        old = base.get(key)
        if isinstance(value, list) and isinstance(old, list) and len(value) > len(old):
            item = value[-1]
            if isinstance(item, dict):
                yield key, item


def check_charge(
    rule: ChargeRule, answer: dict[str, Json], base: dict[str, Json], objects: Sequence[dict[str, Json]]
) -> tuple[bool, str]:
    """(applies, the name of the object charged beyond its ``field``, or "" when it stays within)."""
    found = _charged(rule, answer, base, objects)
    if found is None:
        return False, ""
    name, amount, obj = found
    limit = _number(obj.get(rule.field))
    if limit is None or any(obj.get(k) != v for k, v in rule.where.items()):
        return False, ""
    return True, name if amount > limit + TOLERANCE * max(1.0, abs(limit)) else ""


def _charged(
    rule: ChargeRule, answer: dict[str, Json], base: dict[str, Json], objects: Sequence[dict[str, Json]]
) -> tuple[str, float, dict[str, Json]] | None:
    """(name, amount, the object the session last read under that name) of the item the answer appends."""
    for key, item in appended(answer, base):
        name, amount = item.get(rule.name_field), _number(item.get(rule.amount_field))
        if key == rule.list_key and isinstance(name, str) and amount is not None:
            obj = next((o for o in objects if o.get(rule.key) == name), None)
            return (name, amount, obj) if obj is not None else None
    return None


def learn_charges(samples: Sequence[ChargeSample]) -> tuple[ChargeRule, ...]:
    """The charge limits a write's calls obey: explanations of its failures (an appended item asking more
    than the object it names held) kept when they foretell the outcome of the calls they apply to. A
    rule holds only for objects with the string fields all the failures' objects shared (a gift card's
    balance is no limit on a certificate)."""
    candidates: Counter[tuple[str, str, str, str, str, str]] = Counter()
    for s in samples:
        if s.failed:
            candidates.update(_charge_explanations(s))
    rules = []
    for (list_key, name_field, amount_field, key, field, template), _ in candidates.most_common(16):
        rule = ChargeRule(
            list_key=list_key,
            name_field=name_field,
            amount_field=amount_field,
            key=key,
            field=field,
            template=template,
            fails=0,
            accuracy=0,
        )
        rule = rule.model_copy(update={"where": _shared_fields(rule, samples)})
        outcomes = ((*check_charge(rule, s.answer, s.base, s.objects), s.failed, s.text) for s in samples)
        fails, accuracy = judged(template, outcomes)
        if fails >= 2 and accuracy >= LIMIT_MIN_ACCURACY:
            rules.append(rule.model_copy(update={"fails": fails, "accuracy": accuracy}))
    return tuple(sorted(rules, key=lambda r: (-r.accuracy, -r.fails, r.template))[:2])


def carried_charges(rules: Sequence[ChargeRule], samples: Sequence[ChargeSample]) -> tuple[ChargeRule, ...]:
    """Of charge limits another write learned, those no sample of this write contradicts: a charge the
    rule finds beyond the limit that succeeded, or the rule's failure with the charge within it."""
    kept = []
    for rule in rules:
        for s in samples:
            applies, over = check_charge(rule, s.answer, s.base, s.objects)
            if applies and (not s.failed if over else s.failed and fits(rule.template, s.text)):
                break
        else:
            kept.append(rule)
    return tuple(kept[:2])


def _shared_fields(rule: ChargeRule, samples: Sequence[ChargeSample]) -> dict[str, str]:
    """The string fields (but the name's) every object charged beyond the limit in a failure the rule's
    text names held alike."""
    shared: dict[str, str] | None = None
    for s in samples:
        over = check_charge(rule, s.answer, s.base, s.objects)[1] if s.failed else ""
        found = _charged(rule, s.answer, s.base, s.objects) if over else None
        if found is None or s.text != rule.template.replace("{value}", over):
            continue
        strings = {k: v for k, v in found[2].items() if isinstance(v, str) and k != rule.key}
        shared = strings if shared is None else {k: v for k, v in shared.items() if strings.get(k) == v}
    return shared or {}


def _charge_explanations(s: ChargeSample) -> set[tuple[str, str, str, str, str, str]]:
    """Every (list key, name field, amount field, key, field, template) by which this failure is a charge
    beyond what the named object held: the latest object holding the name, a number of it below the amount."""
    out = set()
    for list_key, item in appended(s.answer, s.base):
        for name_field, name in item.items():
            if not isinstance(name, str) or len(name) < 3:
                continue
            amounts = [(f, n) for f, v in item.items() if (n := _number(v)) is not None]
            keys: set[str] = set()
            for obj in s.objects:
                for key in [k for k, v in obj.items() if v == name and k not in keys]:
                    keys.add(key)
                    for field, leaf in obj.items():
                        limit = _number(leaf)
                        for amount_field, number in amounts:
                            if limit is not None and number > limit:
                                template = s.text.replace(name, "{value}")
                                out.add((list_key, name_field, amount_field, key, field, template))
    return out
