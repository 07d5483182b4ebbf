"""Chain searches: answers that list chains of known objects (connecting flights, multi-hop routes).

A tool whose successful answers are lists of equally long lists of objects, the first object agreeing
with the call on some fields, the last on others, and each with the next on a pair of fields (one's
``destination`` is the next one's ``origin``), is a search over chains. Its answer for a call never
recorded is composed from the objects the traces showed anywhere (any tool's answers, and the
session's): every chain of them that meets what each recorded chain met. A field an object lacks
(a per-call field, like the date a search object was listed for) is filled from the call or the link.

Learning (``chain_rule``) and composing (``compose``) are pure; the engine supplies the objects.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

from pydantic import Field

from wmh.core.jsonutil import canonical
from wmh.core.types import Frozen
from wmh.engine.offline_json import Json, scalar

CHAIN_MIN_SHARE = 0.9  # of recorded chains that must meet a constraint for the rule to require it
CHAIN_MIN_CHAINS = 4  # fewer recorded chains prove no constraint
MAX_CHAIN = 3


class ChainRule(Frozen):
    """The answer lists chains of ``length`` objects composed from known objects."""

    length: int
    item_keys: tuple[str, ...] = Field(description="Fields of a chained object, in order")
    at: tuple[tuple[int, str, str], ...] = Field(
        description="(position, argument, field): the object at that position has the argument's value there"
    )
    links: tuple[tuple[str, str], ...] = Field(
        description="(field, next field): an object's field equals the next object's other field"
    )
    before: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="(field, next field): an object's field sorts before the next one's other field",
    )
    ties: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="Of ``before``, the pairs a recorded chain showed equal (a connection leaving the "
        "minute the first leg lands): equal values meet them",
    )
    id_key: str = Field(default="", description="Field naming an object (empty: the whole object)")
    sort: bool = Field(default=False, description="Chains are listed in the order of their ids")
    most: int = Field(default=0, description="Most chains one recorded answer listed")
    support: int = Field(default=0, description="Recorded chains behind the rule")
    gain: float = Field(
        default=0.0,
        description="Exact + fidelity over the most common answer per calibration call it listed chains "
        "for (fitted)",
    )
    empty_gain: float = Field(
        default=0.0,
        description="The same, per calibration call it found no chain for and answered an empty list",
    )
    tested: int = Field(
        default=0,
        description="Calibration calls it found chains for (none: chains that meet every constraint the "
        "recorded ones met are listed untested)",
    )

    def fillable(self) -> set[str]:
        """Fields an object may lack: the call or the link supplies them."""
        return {f for _, _, f in self.at} | {f for _, f in self.links}

    def chains_object(self, obj: dict[str, Json]) -> bool:
        fill = self.fillable()
        return all(k in obj or k in fill for k in self.item_keys)


def chain_rule(answers: Iterable[tuple[dict[str, Json], Json]]) -> ChainRule | None:
    """The rule behind a tool's successful (arguments, parsed answer) pairs, or None when the answers are
    not lists of linked chains anchored on the call at both ends."""
    lists: list[tuple[dict[str, Json], list[list[dict[str, Json]]]]] = []
    for args, value in answers:
        if not isinstance(value, list) or not value:
            continue
        if not all(isinstance(c, list) and c and all(isinstance(o, dict) for o in c) for c in value):
            return None
        lists.append((args, [[o for o in c if isinstance(o, dict)] for c in value if isinstance(c, list)]))
    lengths = Counter(len(c) for _, v in lists for c in v)
    if len(lists) < 2 or not lengths:
        return None
    length, n = lengths.most_common(1)[0]
    if not 2 <= length <= MAX_CHAIN or n < CHAIN_MIN_SHARE * sum(lengths.values()):
        return None
    chains = [(args, c) for args, v in lists for c in v if len(c) == length]
    keys = Counter(tuple(o) for _, c in chains for o in c).most_common(1)[0][0]
    if len(chains) < CHAIN_MIN_CHAINS:
        return None
    at = _anchors(chains, keys, length)
    links = _pairs(chains, keys, lambda a, b: a == b)
    if not any(p == 0 for p, _, _ in at) or not any(p == length - 1 for p, _, _ in at):
        return None
    if not any(f1 != f2 for f1, f2 in links):
        return None
    orders = _orders(chains, keys)
    id_key = _id_key(chains, keys, {f for _, _, f in at} | {f for pair in links for f in pair})
    ids = [[_ident(c, id_key) for c in v] for _, v in lists if len(v) > 1]
    return ChainRule(
        length=length,
        item_keys=keys,
        at=at,
        links=links,
        before=tuple(p for p in orders if p not in links),
        ties=tuple(p for p in orders if p not in links and _tied(chains, p)),
        id_key=id_key,
        sort=bool(ids) and all(x == sorted(x) for x in ids),
        most=max(len(v) for _, v in lists),
        support=len(chains),
    )


def _anchors(
    chains: Sequence[tuple[dict[str, Json], list[dict[str, Json]]]], keys: tuple[str, ...], length: int
) -> tuple[tuple[int, str, str], ...]:
    """(position, argument, field) that held in nearly every chain."""
    counts: Counter[tuple[int, str, str]] = Counter()
    for args, chain in chains:
        for a, v in args.items():
            if isinstance(v, bool) or not isinstance(v, str | int):
                continue
            for p in range(length):
                counts.update((p, a, f) for f in keys if chain[p].get(f) == v)
    need = CHAIN_MIN_SHARE * len(chains)
    return tuple(sorted(k for k, c in counts.items() if c >= need))


def _pairs(chains, keys: tuple[str, ...], holds) -> tuple[tuple[str, str], ...]:
    """(field, next field) pairs for which ``holds(value, next value)`` in nearly every chain."""
    counts: Counter[tuple[str, str]] = Counter()
    for _, chain in chains:
        for f1 in keys:
            for f2 in keys:
                if all(
                    f1 in a and f2 in b and scalar(a[f1]) and holds(a[f1], b[f2]) for a, b in pairwise(chain)
                ):
                    counts[(f1, f2)] += 1
    need = CHAIN_MIN_SHARE * len(chains)
    return tuple(sorted(k for k, c in counts.items() if c >= need))


def _orders(chains, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(field, next field) of two different fields whose values, where they have one form, sorted first
    then second in nearly every chain (and had one form in most)."""
    comparable: Counter[tuple[str, str]] = Counter()
    held: Counter[tuple[str, str]] = Counter()
    for _, chain in chains:
        for f1 in keys:
            for f2 in keys:
                pairs = [(a.get(f1), b.get(f2)) for a, b in pairwise(chain)]
                if f1 != f2 and all(_one_form(x, y) for x, y in pairs):
                    comparable[(f1, f2)] += 1
                    held[(f1, f2)] += all(str(x) <= str(y) for x, y in pairs)
    return tuple(
        sorted(k for k, n in comparable.items() if n >= len(chains) / 2 and held[k] >= CHAIN_MIN_SHARE * n)
    )


def _tied(chains, pair: tuple[str, str]) -> bool:
    """Whether some recorded chain has an object's ``pair[0]`` equal to the next one's ``pair[1]``."""
    f1, f2 = pair
    return any(a.get(f1) == b.get(f2) for _, chain in chains for a, b in pairwise(chain))


def _one_form(a: Json, b: Json) -> bool:
    """Both are strings of one form with digits: the same text but for the digits (``09:30`` and
    ``22:00``: the order of two such is the order of their numbers; of codes, nothing)."""
    return (
        isinstance(a, str)
        and isinstance(b, str)
        and len(a) == len(b)
        and any(x.isdigit() for x in a)
        and all(x == y or (x.isdigit() and y.isdigit()) for x, y in zip(a, b, strict=True))
    )


def _id_key(chains, keys: tuple[str, ...], taken: set[str]) -> str:
    """A field (not one the rule matches or links) whose scalar value differs between a chain's objects."""
    for k in keys:
        if k in taken:
            continue
        if all(
            all(isinstance(o.get(k), str | int) for o in c)
            and len({canonical(o.get(k)) for o in c}) == len(c)
            for _, c in chains
        ):
            return k
    return ""


def _ident(chain: Sequence[dict[str, Json]], id_key: str) -> str:
    return canonical([o.get(id_key) for o in chain] if id_key else list(chain))


class ChainObjects:
    """Objects a chain may be made of (each once, with the traces that showed it: none for the
    session's), indexed by the field the rule links each to the one before."""

    def __init__(self, rule: ChainRule, objects: Iterable[tuple[dict[str, Json], int]]) -> None:
        self.link = next((p for p in rule.links if p[0] != p[1]), rule.links[0])
        self.objects: list[dict[str, Json]] = []
        self.traces: list[set[int]] = []
        self.by_link: dict[str, list[int]] = {}
        self.unlinked: list[int] = []  # objects the link fills
        seen: dict[str, int] = {}
        for o, trace in objects:
            key = canonical(o)
            if key in seen:
                self.traces[seen[key]].add(trace)
                continue
            if not rule.chains_object(o):
                continue
            i = seen[key] = len(self.objects)
            self.objects.append(o)
            self.traces.append({trace} if trace >= 0 else set())
            if self.link[1] in o:
                self.by_link.setdefault(canonical(o[self.link[1]]), []).append(i)
            else:
                self.unlinked.append(i)

    def usable(self, indices: Iterable[int], excluded: set[int]) -> Iterable[dict[str, Json]]:
        """The objects at ``indices`` that some trace outside ``excluded`` showed (or the session)."""
        for i in indices:
            traces = self.traces[i]
            if not traces or not traces <= excluded:
                yield self.objects[i]

    def after(self, prev: dict[str, Json], excluded: set[int]) -> Iterable[dict[str, Json]]:
        linked = self.by_link.get(canonical(prev.get(self.link[0])), [])
        return self.usable([*linked, *self.unlinked], excluded)


def compose(
    rule: ChainRule, args: dict[str, Json], known: Sequence[ChainObjects], excluded: set[int]
) -> list[Json] | None:
    """Every chain of the ``known`` objects (best first: the session's, then the recorded; none shown
    only by an ``excluded`` trace) that meets the rule for this call, one per id sequence, as the rule
    lists them; None when the call lacks an argument the rule anchors on."""
    if any(a not in args for _, a, _ in rule.at):
        return None
    found: dict[str, list[dict[str, Json]]] = {}
    for objects in known:
        for first in objects.usable(range(len(objects.objects)), excluded):
            item = _fit(rule, args, first, 0, None)
            if item is not None:
                _extend(rule, args, [item], (known, excluded), found)
    chains = sorted(found.items()) if rule.sort else list(found.items())
    out: list[Json] = [list(chain) for _, chain in chains]
    return out[: rule.most or None]


def _extend(
    rule: ChainRule,
    args: dict[str, Json],
    chain: list[dict[str, Json]],
    source: tuple[Sequence[ChainObjects], set[int]],
    found: dict[str, list[dict[str, Json]]],
) -> None:
    if len(chain) == rule.length:
        found.setdefault(_ident(chain, rule.id_key), chain)
        return
    prev = chain[-1]
    ids = {canonical(c.get(rule.id_key)) for c in chain} if rule.id_key else set()
    known, excluded = source
    for objects in known:
        for obj in objects.after(prev, excluded):
            item = _fit(rule, args, obj, len(chain), prev)
            if item is not None and (not ids or canonical(item.get(rule.id_key)) not in ids):
                _extend(rule, args, [*chain, item], source, found)


def _fit(
    rule: ChainRule, args: dict[str, Json], obj: dict[str, Json], pos: int, prev: dict[str, Json] | None
) -> dict[str, Json] | None:
    """``obj`` as the chain's object at ``pos`` after ``prev``: it agrees where it has the field, takes
    the call's or the link's value where it lacks it (else the object before's); None when it
    disagrees or a field stays unknown."""
    fills: dict[str, Json] = {}
    wanted = [(f, args[a]) for p, a, f in rule.at if p == pos]
    if prev is not None:
        wanted += [(f2, prev[f1]) for f1, f2 in rule.links if f1 in prev]
    for f, v in wanted:
        have = obj.get(f, fills.get(f, v))
        if have != v:
            return None
        if f not in obj:
            fills[f] = v
    full = {**obj, **fills}
    for f1, f2 in rule.before:
        a, b = (prev or {}).get(f1), full.get(f2)
        if _one_form(a, b) and not (str(a) < str(b) or (a == b and (f1, f2) in rule.ties)):
            return None
    for k in rule.item_keys:  # a per-call field no rule fills here: the one before's value, else no object
        if k not in full:
            if prev is None or k not in prev:
                return None
            full[k] = prev[k]
    return {k: full[k] for k in rule.item_keys}
