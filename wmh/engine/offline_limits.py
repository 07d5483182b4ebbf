"""Limits: a call fails when a number it asks exceeds what the session read on the object it names.

Paying 300 from a gift card the session read with a balance of 182 fails ("not enough balance in
payment method gift_card_1"); paying 150 from it succeeds. The same shape covers stock, quotas and
seats. A limit is learned per tool from train: failures whose text names an argument value, where
the number the call asks of that value exceeded a number of the object the session last read under
it, against the calls where it did not.

The number asked is one beside the value in the call (the same list item's, or a top-level one), or
a count: booking three passengers on a flight asks three seats of it (``len(passengers)``), and
moving a booking to another flight asks as many as the booking the call names holds. The number
held is a field of the object, or one entry of it picked by an argument (the flight's
``available_seats[cabin]``, with the call's ``cabin``).

A limit needs failures naming two values. One explained failure is enough when no call the limit
applies to contradicts it and either the same failure text names another value elsewhere in train
(any tool's, where nothing read could check it) or the limit let several successful calls through
(``ONE_FAILURE_MIN_PASSED``: tested on both sides, it is no coincidence of one call). A tool whose own failures teach no limit takes another
tool's when its calls ask the same count of the same kind of object and none contradicts it.
Pure functions; no IO.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import NamedTuple

from pydantic import Field

from wmh.core.types import Episode, Frozen, Step
from wmh.engine.offline_json import Json, earlier_objects

LIMIT_MIN_ACCURACY = 0.85  # of the calls a candidate limit applies to, those whose outcome it foretells
ONE_FAILURE_MIN_PASSED = 5  # successful calls a limit explaining one failed value must have let through
LOOKBACK = 64  # steps searched back for the object a call names (keeps learning linear)
TOLERANCE = 1e-6


class LimitRule(Frozen):
    """The call fails with ``template`` when its number ``amount`` exceeds the ``field`` of the object
    the session last read with ``key`` equal to the value of ``name``."""

    name: str = Field(description="The argument naming the object, or ``list[].field`` of a list argument")
    amount: str = Field(
        description="The number asked: a top-level argument, a field of the same item, or ``len(list)``: "
        "the count of the call's list argument, else of that list in the object the call names"
    )
    key: str = Field(description="The object's field holding the name")
    field: str = Field(
        description="The object's number the amount may not exceed, or ``field[arg]``: the entry of the "
        "object's field under the call's ``arg``"
    )
    template: str = Field(description="The error text, with {value} where the name goes")
    fails: int = Field(description="Values train failures of the rule's text named, explained or unchecked")
    accuracy: float = Field(description="Share of the train calls it applied to whose outcome it foretold")
    explained: int = Field(default=0, description="Values named by train failures the rule explains")
    passed: int = Field(default=0, description="Successful train calls the rule applied to and let through")
    source: str = Field(default="", description="The tool whose failures taught the rule, when another")

    @property
    def support(self) -> int:
        """Train examples behind the rule: the values its failures named, and the calls it let through."""
        return self.fails + self.passed


def asks(
    args: dict[str, Json], name: str, amount: str, objects: Sequence[dict[str, Json]] = ()
) -> Iterator[tuple[str, float]]:
    """(named value, number asked) pairs of a call for a rule's ``name`` and ``amount``; a count amount
    is looked up in ``objects`` (latest first) when the call does not carry the list itself."""
    count = _count(args, amount, objects) if counts(amount) else None
    base, _, field = name.partition("[].")
    if not field:
        value, number = args.get(name), count if counts(amount) else _number(args.get(amount))
        if isinstance(value, str) and number is not None:
            yield value, number
        return
    items = args.get(base)
    number_field = amount.partition("[].")[2]
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(v := item.get(field), str):
            number = count if counts(amount) else _number(item.get(number_field))
            if number is not None:
                yield v, number


def counts(amount: str) -> bool:
    """Whether a rule's amount is a count (``len(list)``)."""
    return amount.startswith("len(") and amount.endswith(")")


def _count(args: dict[str, Json], amount: str, objects: Sequence[dict[str, Json]]) -> float | None:
    """The length of the call's list argument ``amount`` counts, else of that list in the latest object
    holding one of the call's string values (the booking a call changes holds its passengers)."""
    key = amount[4:-1]
    own = args.get(key)
    if isinstance(own, list):
        return float(len(own))
    items = (named_record(args, objects, key) or {}).get(key)
    return float(len(items)) if isinstance(items, list) else None


def named_record(
    args: dict[str, Json], objects: Sequence[dict[str, Json]], key: str = ""
) -> dict[str, Json] | None:
    """The record the call names: of the objects with a list (``key``, when given), the one holding
    most of the call's string arguments under the argument's own name (``reservation_id``), then under
    any; the latest of equals. None when none holds any."""
    named = {k: v for k, v in args.items() if isinstance(v, str) and len(v) >= 3}
    values = set(named.values())

    def held_values(obj: dict[str, Json]) -> tuple[int, int]:
        same_key = sum(obj.get(k) == v for k, v in named.items())
        return same_key, sum(isinstance(v, str) and v in values for v in obj.values())

    lists = [obj for obj in objects if named and _has_list(obj, key)]
    best = max(lists, key=held_values, default=None)
    return best if best is not None and held_values(best) != (0, 0) else None


def _has_list(obj: dict[str, Json], key: str) -> bool:
    return isinstance(obj.get(key), list) if key else any(isinstance(v, list) for v in obj.values())


def limit_of(
    objects: Iterable[dict[str, Json]], key: str, value: str, field: str, args: dict[str, Json]
) -> float | None:
    """The ``field`` number of the first of ``objects`` (latest first) with ``key == value`` that has one."""
    for obj in objects:
        if obj.get(key) == value and (limit := held(obj, field, args)) is not None:
            return limit
    return None


def held(obj: dict[str, Json], field: str, args: dict[str, Json]) -> float | None:
    """The object's number ``field``: a field, or ``field[arg]``, the entry under the call's ``arg``."""
    name, _, arg = field.partition("[")
    leaf = obj.get(name)
    if arg:
        pick = args.get(arg[:-1])
        leaf = leaf.get(pick) if isinstance(leaf, dict) and isinstance(pick, str) else None
    return _number(leaf)


def check(rule: LimitRule, args: dict[str, Json], objects: Sequence[dict[str, Json]]) -> tuple[bool, str]:
    """(applies, the first value whose number exceeds its limit, or "" when none does)."""
    applies = False
    for value, number in asks(args, rule.name, rule.amount, objects):
        limit = limit_of(objects, rule.key, value, rule.field, args)
        if limit is None:
            continue
        applies = True
        if number > limit + TOLERANCE * max(1.0, abs(limit)):
            return True, value
    return applies, ""


def learn_limits(
    episodes: Sequence[Episode], calls: Iterable[tuple[int, int, Step]], failures: Collection[str] = ()
) -> tuple[LimitRule, ...]:
    """The limits a tool's calls obey (module doc). ``calls`` are (episode, position, step);
    ``failures`` every failure text in train, of any tool."""
    calls = list(calls)
    candidates: Counter[tuple[str, str, str, str, str]] = Counter()
    for e, pos, step in calls:
        if step.observation.is_error:
            candidates.update(_explanations(step, earlier_objects(episodes[e], pos, LOOKBACK)))
    if not candidates:
        return ()
    seen = [(step, earlier_objects(episodes[e], pos, LOOKBACK)) for e, pos, step in calls]
    rules = []
    for (name, amount, key, field, template), _ in candidates.most_common(16):
        rule = LimitRule(
            name=name, amount=amount, key=key, field=field, template=template, fails=0, accuracy=0
        )
        verdict = judged(template, _outcomes(rule, seen))
        fails = max(verdict.named, len(named_values(template, failures)))
        one_enough = fails >= 2 or verdict.passed >= ONE_FAILURE_MIN_PASSED
        if verdict.accuracy >= LIMIT_MIN_ACCURACY and (
            verdict.named >= 2 or (verdict.named == 1 and one_enough and not verdict.wrong)
        ):
            update = {
                "fails": fails,
                "accuracy": verdict.accuracy,
                "explained": verdict.named,
                "passed": verdict.passed,
            }
            rules.append(rule.model_copy(update=update))
    return _distinct(sorted(rules, key=lambda r: (-r.accuracy, -r.explained, r.template, r.amount)))[:2]


def _distinct(rules: Iterable[LimitRule]) -> tuple[LimitRule, ...]:
    """The first of the rules alike but for the amount: two counts explaining the same failures equally
    well (passengers, payment methods) are one limit guessed two ways, and either would fail a call."""
    seen: set[tuple[str, str, str, str]] = set()
    out = []
    for rule in rules:
        if (alike := (rule.name, rule.key, rule.field, rule.template)) not in seen:
            seen.add(alike)
            out.append(rule)
    return tuple(out)


def carried_limits(
    rules: Sequence[LimitRule], episodes: Sequence[Episode], calls: Iterable[tuple[int, int, Step]]
) -> tuple[LimitRule, ...]:
    """Of limits other tools learned, those this tool's calls put to the test and never contradicted."""
    seen = [(step, earlier_objects(episodes[e], pos, LOOKBACK)) for e, pos, step in calls]
    kept = []
    for rule in rules:
        outcomes = list(_outcomes(rule, seen))
        if any(applies for applies, *_ in outcomes) and not judged(rule.template, outcomes).wrong:
            kept.append(rule)
    return _distinct(kept)[:2]


def _outcomes(
    rule: LimitRule, seen: Sequence[tuple[Step, Sequence[dict[str, Json]]]]
) -> Iterator[tuple[bool, str, bool, str]]:
    for step, objects in seen:
        applies, over = check(rule, step.action.arguments, objects)
        yield applies, over, step.observation.is_error, step.observation.content


def named_values(template: str, failures: Collection[str]) -> set[str]:
    """The values ``failures`` name in place of the template's {value}."""
    head, _, tail = template.partition("{value}")
    return {text[len(head) : len(text) - len(tail)] for text in failures if fits(template, text)}


class Verdict(NamedTuple):
    named: int  # distinct values named by the failures the rule explains
    accuracy: float  # share of the calls it applied to whose outcome it foretold (after a pseudo-count)
    wrong: int  # calls it applied to whose outcome it got wrong
    passed: int = 0  # successful calls it applied to and let through


def judged(template: str, outcomes: Iterable[tuple[bool, str, bool, str]]) -> Verdict:
    """How a limit failing with ``template`` did on train, from each call's (whether the limit applies,
    the name over it or "", whether it failed, its answer)."""
    right = wrong = passed = 0
    named: set[str] = set()
    for applies, over, failed, text in outcomes:
        if not applies or (failed and not fits(template, text)):
            continue  # another failure may have come first: it says nothing of the limit
        if over and failed and text == template.replace("{value}", over):
            right += 1
            named.add(over)
        elif not over and not failed:
            right += 1
            passed += 1
        else:
            wrong += 1
    return Verdict(len(named), right / (right + wrong + 1), wrong, passed)


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
    args, text = step.action.arguments, step.observation.content
    for name, amount in _specs(args, objects):
        for value, number in asks(args, name, amount, objects):
            if len(value) < 3 or value not in text:
                continue
            keys: set[str] = set()
            for obj in objects:
                for key in [k for k, v in obj.items() if v == value and k not in keys]:
                    keys.add(key)
                    for field, limit in _numbers(obj, args):
                        if number > limit:
                            out.add((name, amount, key, field, text.replace(value, "{value}")))
    return out


def _numbers(obj: dict[str, Json], args: dict[str, Json]) -> Iterator[tuple[str, float]]:
    """(field, number) of an object: its number fields, and ``field[arg]`` for each entry of a field
    that a string argument of the call picks."""
    picks = [(k, v) for k, v in args.items() if isinstance(v, str)]
    for field, leaf in obj.items():
        if (number := _number(leaf)) is not None:
            yield field, number
        elif isinstance(leaf, dict):
            for arg, pick in picks:
                if (number := _number(leaf.get(pick))) is not None:
                    yield f"{field}[{arg}]", number


def _specs(args: dict[str, Json], objects: Sequence[dict[str, Json]] = ()) -> Iterator[tuple[str, str]]:
    """(name, amount) argument pairs: a string beside a number, top-level or in one list item; and each
    string (top-level or an item's) against each count: of a list of objects the call passes, or holds
    in the object it names (``len(list)``)."""
    tops = [k for k, v in args.items() if isinstance(v, str)]
    numbers = [k for k, v in args.items() if _number(v) is not None]
    yield from ((t, n) for t in tops for n in numbers)
    item_pairs: defaultdict[str, set[tuple[str, str]]] = defaultdict(set)
    item_names: set[str] = set()
    for k, v in args.items():
        for item in v if isinstance(v, list) else ():
            if isinstance(item, dict):
                strs = [f for f, x in item.items() if isinstance(x, str)]
                nums = [f for f, x in item.items() if _number(x) is not None]
                item_pairs[k].update((s, n) for s in strs for n in nums)
                item_names.update(f"{k}[].{s}" for s in strs)
    for k, pairs in item_pairs.items():
        yield from ((f"{k}[].{s}", f"{k}[].{n}") for s, n in sorted(pairs))
    counted = {k for k, v in args.items() if isinstance(v, list) and all(isinstance(x, dict) for x in v)}
    record = named_record(args, objects)
    counted |= {k for k, v in (record or {}).items() if isinstance(v, list) and k not in args}
    names = [*tops, *sorted(item_names)]
    yield from (
        (name, f"len({k})") for k in sorted(counted) for name in names if not name.startswith(f"{k}[]")
    )


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
    than the object it names held) kept when they foretell the outcome of the calls they apply to, with
    failures on two objects, or on one and ``ONE_FAILURE_MIN_PASSED`` charges let through. A
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
        verdict = judged(template, outcomes)
        trusted = verdict.named >= 2 or (
            verdict.named == 1 and not verdict.wrong and verdict.passed >= ONE_FAILURE_MIN_PASSED
        )
        if trusted and verdict.accuracy >= LIMIT_MIN_ACCURACY:
            rules.append(rule.model_copy(update={"fails": verdict.named, "accuracy": verdict.accuracy}))
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
