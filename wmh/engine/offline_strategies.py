"""The offline engine's strategies: each answers one call from what was learned, or passes (None).

A strategy reads a ``Query`` (the call, the session seen so far, the engine's learned store) and
returns an ``Observation`` whose ``source`` names it. The engine tries them in the configured
order; the first answer wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from wmh.core.jsonutil import canonical
from wmh.core.types import Observation
from wmh.engine.offline_chain import ChainObjects, ChainRule, compose
from wmh.engine.offline_config import OfflineConfig
from wmh.engine.offline_cutoff import applies, render
from wmh.engine.offline_json import (
    FORMATTERS,
    Json,
    as_dict,
    dumps,
    like_shape,
    parsed,
    safe_eval,
    substitute,
    substitution_pairs,
)
from wmh.engine.offline_knowledge import (
    CollectRule,
    KeyOp,
    NumericCheckRule,
    TemplateRule,
    ToolKnowledge,
    arg_values,
    arg_words,
    check_features,
    check_total,
    evaluate_formula,
    format_number,
    named_object,
    near_key,
    numeric_features,
    owner_leaves,
    owners_before,
    raised,
    spell,
    sticky_match,
    value_shape,
)
from wmh.engine.offline_limits import asks, check, check_charge, counts, eased, fits
from wmh.engine.offline_state import SessionView, with_call_args

if TYPE_CHECKING:
    from wmh.engine.offline import OfflineEngine


@dataclass
class Query:
    engine: OfflineEngine
    view: SessionView
    tool: str
    args: dict[str, Json]
    cargs: str
    knowledge: ToolKnowledge
    exclude: int
    cfg: OfflineConfig
    exclude_more: frozenset[int] = frozenset()
    skip_row: int = -1
    succeeds: bool = False  # a numeric check found the call's numbers add up: it does not fail
    within: set[str] = field(default_factory=set)  # templates of limits the call's numbers stay within
    _neighbors: list[tuple[float, float, int]] | None = field(default=None)
    _repeated_write: bool | None = field(default=None)
    _shown_names: frozenset[str] | None = field(default=None)

    def neighbors(self) -> list[tuple[float, float, int]]:
        """(score, argument similarity, record) of the nearest recorded calls of this tool, best first."""
        if self._neighbors is None:
            self._neighbors = self.engine.neighbors(self)
        return self._neighbors

    def best_neighbor(self) -> tuple[int, bool] | None:
        """The record an analogy copies and whether the answer is an error (similarity-weighted vote)."""
        found = self.neighbors()
        if not found or found[0][1] < self.cfg.analogy_min_similarity:
            return None
        votes, error_rate = self._outcome_evidence(found)
        prior = self.cfg.error_prior_weight
        err_weight = prior * error_rate
        ok_weight = prior * (1 - error_rate)
        err_weight += sum(max(s, 1e-6) for s, _, r in votes if self.engine.rec_err[r])
        ok_weight += sum(max(s, 1e-6) for s, _, r in votes if not self.engine.rec_err[r])
        if self.knowledge.prior_hits > self.knowledge.vote_hits >= 0:
            # on calibration calls the tool's error rate foretold failures better than its nearest calls
            err_weight, ok_weight = error_rate, 1 - error_rate
        is_error = err_weight > ok_weight and not self.succeeds and not self.retrying()
        for _, _, rec in found:
            if bool(self.engine.rec_err[rec]) == is_error:
                return rec, is_error
        return found[0][2], bool(self.engine.rec_err[found[0][2]])

    def _outcome_evidence(
        self, found: list[tuple[float, float, int]]
    ) -> tuple[list[tuple[float, float, int]], float]:
        """The nearest calls that vote on the outcome, and the tool's error rate. A failure the tool's
        numeric check explains was about that call's numbers: it says nothing about this call's (the
        check answered already if it could), so such failures neither vote nor count in the rate. Nor
        do the failures of a limit this call's numbers stay within. A failure naming as never seen a
        value this session showed does not vote either, though no farther call takes its place."""
        rec_err, content = self.engine.rec_err, self.engine.rec_content
        if self.within:
            found = [
                v for v in found if not (rec_err[v[2]] and any(fits(t, content[v[2]]) for t in self.within))
            ]
        rule = self.knowledge.numeric_check
        rate = self.knowledge.error_rate
        if (
            rule is not None
            and rule.accuracy >= self.cfg.numeric_check_min_accuracy
            and rule.other_error_rate is not None
        ):
            found, rate = (
                [v for v in found if not (rec_err[v[2]] and rule.explains(content[v[2]]))],
                rule.other_error_rate,
            )
        votes = found[: self.cfg.error_vote_k]
        shown = self.shown_names()
        if not shown:
            return votes, rate
        calls = max(1, self.knowledge.calls)
        gone = sum(r.support for r in self.knowledge.novel_errors if r.template in shown)
        rate = max(0.0, rate * calls - gone) / max(1, calls - gone)  # nor do they count in the rate
        return [v for v in votes if not (rec_err[v[2]] and any(fits(t, content[v[2]]) for t in shown))], rate

    def shown_names(self) -> frozenset[str]:
        """Templates of the tool's never-seen-value failures this call cannot meet: the session showed
        every value the call names there (a card the session read is no card "not found")."""
        if self._shown_names is None:
            shown = self.view.values()
            self._shown_names = frozenset(
                r.template
                for r in self.knowledge.novel_errors
                if (values := arg_values(self.args, r.arg)) and all(v in shown for v in values)
            )
        return self._shown_names

    def retrying(self) -> bool:
        """A changed call after this tool failed in the session, for a tool whose retries mostly succeed."""
        k = self.knowledge
        if k.retry_support < self.cfg.min_support or k.retry_success < self.cfg.retry_success_min:
            return False
        for c in reversed(self.view.calls):
            if c.tool == self.tool:
                return c.observation.is_error and c.args != self.args
        return False


Strategy = Callable[[Query], Observation | None]


def derive(q: Query) -> Observation | None:
    for rule in q.knowledge.derive:
        if rule.precision < q.cfg.derive_min_precision or rule.support < q.cfg.min_support:
            continue
        found = q.view.latest_entity(rule.key, q.args.get(rule.arg), rule.sources)
        if found is not None:
            return found[0].observation.model_copy(update={"source": "derived"})
    return None


def session(q: Query) -> Observation | None:
    if q.knowledge.repeat_consistency < q.cfg.repeat_min_consistency or _repeated_write(q):
        return None
    earlier = q.view.repeat(q.tool, q.cargs)
    return earlier.model_copy(update={"source": "session"}) if earlier is not None else None


def _repeated_write(q: Query) -> bool:
    """A write (a tool that patches the object it names) this session already made with success, for a
    tool whose repeats train never showed: the object has changed since, so neither that success nor a
    recorded one (made on the unchanged object) is the answer; a failure, though, repeats."""
    if q._repeated_write is None:  # asked by session and replay: the session is scanned once
        k, earlier = q.knowledge, None
        if k.repeat_support < q.cfg.min_support:
            earlier = q.view.repeat(q.tool, q.cargs)
        q._repeated_write = (
            earlier is not None
            and not earlier.is_error
            and any(
                t.base_arg and t.accuracy >= q.cfg.template_min_accuracy and t.support >= q.cfg.min_support
                for t in k.templates
            )
        )
    return q._repeated_write


def replay(q: Query) -> Observation | None:
    if _repeated_write(q):
        return None
    rec = q.engine.replay_record(q)
    if rec is None:
        return None
    return Observation(
        content=q.engine.rec_content[rec], is_error=bool(q.engine.rec_err[rec]), source="replay"
    )


def function(q: Query) -> Observation | None:
    rule = q.knowledge.function
    if rule is None or rule.accuracy < q.cfg.function_min_accuracy or rule.support < q.cfg.min_support:
        return None
    expression = q.args.get(rule.arg)
    value = safe_eval(expression) if isinstance(expression, str) else None
    if value is None:
        if rule.fail_text and rule.fail_rate >= q.cfg.function_min_accuracy:
            return Observation(content=rule.fail_text, is_error=True, source="function")
        if rule.unevaluated == 0:  # train never showed such a call: the function it computes fails
            text = f"Error: cannot evaluate {rule.arg} {orjson.dumps(expression).decode()}"
            return Observation(content=text, is_error=True, source="function")
        return None
    try:
        return Observation(content=FORMATTERS[rule.fmt](value), source="function")
    except (ValueError, OverflowError, KeyError):
        return None


def constant(q: Query) -> Observation | None:
    k = q.knowledge
    if k.common_share < q.cfg.constant_min_share or k.calls < q.cfg.min_support:
        return None
    if not q.engine.shown_elsewhere(q.tool, k.common, q.exclude):
        return None
    return Observation(content=k.common, is_error=k.common_is_error, source="constant")


def limit(q: Query) -> Observation | None:
    """The tool's failure when the call asks more than the object it names holds, as the session last
    read it; when every number stays within, that failure is ruled out (a sticky error does not repeat).
    A write's charge (the amount its answer appends) is held to the object it names the same way."""
    objects: list[dict[str, Json]] | None = None
    for rule in q.knowledge.limits:
        if rule.support < q.cfg.min_support or not (
            counts(rule.amount) or any(asks(q.args, rule.name, rule.amount))
        ):
            continue
        objects = objects if objects is not None else list(q.view.objects())
        applies, over = check(rule, q.args, objects)
        if over:
            return Observation(content=rule.template.replace("{value}", over), is_error=True, source="limit")
        if applies:
            q.within.add(rule.template)
    charges = [r for r in q.knowledge.charges if r.fails >= q.cfg.min_support]
    made = patched(q) if charges else None
    if made is None:
        return None
    answer, base = made
    for rule in charges:
        objects = objects if objects is not None else list(q.view.objects())
        applies, over = check_charge(rule, answer, base, objects)
        if over:
            return Observation(content=rule.template.replace("{value}", over), is_error=True, source="limit")
        if applies:
            q.within.add(rule.template)
    return None


def cutoff(q: Query) -> Observation | None:
    """The answer every train call dated in the past (``offline_cutoff.clock``) got, with this call's values."""
    for rule in q.knowledge.cutoffs:
        if rule.calls < q.cfg.min_support:
            continue
        holder = applies(rule, q.args, q.engine.clock(q.cfg.min_support))
        if holder is not None:
            return Observation(content=render(rule, holder), is_error=rule.is_error, source="cutoff")
    return None


def sticky_error(q: Query) -> Observation | None:
    for rule in q.knowledge.sticky_errors:
        # a rule never put to the test in train takes the configured prior (weight 2)
        precision = (rule.hits + 2 * q.cfg.sticky_prior) / (rule.opportunities + 2)
        if precision < q.cfg.sticky_min_precision or (rule.arg and rule.hits < q.cfg.min_support):
            continue
        for c in reversed(q.view.calls):
            if c.tool != q.tool or not c.observation.is_error or c.args == q.args:
                continue
            if any(fits(t, c.observation.content) for t in q.within | q.shown_names()):
                continue  # a failure this call cannot meet: a limit it now stays within, a value now shown
            if eased(c.args, c.observation.content, q.args, list(q.view.objects())):
                continue  # it asks less of what the failure named, within what the session read of it
            if sticky_match(rule.arg, q.args, c.args, c.observation.content):
                return c.observation.model_copy(update={"source": "sticky-error"})
    return None


def shape_error(q: Query) -> Observation | None:
    for rule in q.knowledge.shape_errors:
        if rule.rate < q.cfg.shape_error_min_rate or rule.support < q.cfg.min_support:
            continue
        value = q.args.get(rule.arg)
        if isinstance(value, str) and value_shape(value) == rule.shape:
            return Observation(content=rule.template.replace("{value}", value), is_error=True, source="error")
    return None


def state_error(q: Query) -> Observation | None:
    """The tool's failure on an object in the state it failed on (the session's latest read of it)."""
    history: list[tuple[dict[str, Json], Observation]] = []
    named: dict[str, tuple[str, dict[str, Json]] | None] = {}  # per argument: rules often share one
    for rule in q.knowledge.state_errors:
        if rule.rate < q.cfg.state_error_min_rate or rule.support < q.cfg.min_support:
            continue
        value = q.args.get(rule.arg)
        if rule.arg not in named:
            history = history or [(c.args, c.observation) for c in q.view.calls]
            named[rule.arg] = named_object(history, value)
        found = named[rule.arg]
        if found is not None and found[0] == rule.key and found[1].get(rule.field) == rule.value:
            text = rule.template.replace("{value}", str(value))
            return Observation(content=text, is_error=True, source="error")
    return None


def novel_error(q: Query) -> Observation | None:
    """The tool's failure for a value nobody showed; for a tool where only mistyped values fail (the same
    characters as a value shown, in another order), for such a value only."""
    for rule in q.knowledge.novel_errors:
        any_value = rule.rate >= q.cfg.novel_error_min_rate and rule.support >= q.cfg.min_support
        near = rule.near_rate >= q.cfg.novel_error_min_rate and rule.near_support >= q.cfg.min_support
        if not (any_value or near):
            continue
        for value in arg_values(q.args, rule.arg):
            if q.engine.known(value) or value in q.view.values():
                continue
            if any_value or _near_miss(q, value):
                return Observation(
                    content=rule.template.replace("{value}", value), is_error=True, source="error"
                )
    return None


def _near_miss(q: Query, value: str) -> bool:
    """Whether another value with ``value``'s characters, in another order, was recorded or shown."""
    key = near_key(value)
    return bool(key) and (q.engine.known(key) or any(near_key(v) == key for v in q.view.values()))


def numeric_check(q: Query) -> Observation | None:
    """The tool's numeric failure when the numbers the call pays do not add up to the total computed from
    what the session read; when they do, the call is marked to succeed (later strategies answer)."""
    rule = q.knowledge.numeric_check
    if rule is None or rule.accuracy < q.cfg.numeric_check_min_accuracy or rule.support < q.cfg.min_support:
        return None
    features = check_features(q.args, list(q.view.objects()))
    paid, total = features.get(rule.paid), _session_total(q, rule)
    if total is None:
        total = check_total(rule, features)
    if paid is None or total is None:
        return None
    if abs(paid - total) <= 1e-3 * max(1.0, abs(total)):
        q.succeeds = True
        return None
    text = rule.template.replace("{total}", format_number(total)).replace("{paid}", format_number(paid))
    return Observation(content=text, is_error=True, source="numeric-check")


def _session_total(q: Query, rule: NumericCheckRule) -> float | None:
    """The total an earlier failure of the same call (but for what it paid) showed in this session: the
    environment's own figure, which holds even where the rule's formula misses a term."""
    paid_arg = rule.paid_arg()
    mine = {k: v for k, v in q.args.items() if k != paid_arg}
    for c in reversed(q.view.calls):
        if c.tool != q.tool or not c.observation.is_error:
            continue
        total = rule.shown_total(c.observation.content)
        if total is not None and {k: v for k, v in c.args.items() if k != paid_arg} == mine:
            return total
    return None


def template(q: Query) -> Observation | None:
    found = template_base(q)
    if found is None:
        return None
    if q.knowledge.error_rate > 0:
        best = q.best_neighbor()
        if best is not None and best[1]:
            return None
    return _build(q, *found)


def template_base(q: Query) -> tuple[TemplateRule, dict[str, Json] | None] | None:
    """The first usable template rule and the object it patches (None for a rule built from the
    arguments alone); None when no rule can answer the call."""
    for rule in q.knowledge.templates:
        if rule.accuracy < q.cfg.template_min_accuracy or rule.support < q.cfg.min_support:
            continue
        if not rule.base_arg:
            return rule, None
        value = q.args.get(rule.base_arg)
        found = q.view.latest_entity(rule.base_key, value, rule.sources)
        if found is None and q.cfg.patch_any_source:
            found = q.view.latest_entity(rule.base_key, value, None)
        base = found[1] if found is not None else _recorded_base(q, rule.base_key, value, rule.sources)
        if base is not None:
            return rule, base
    return None


def patched(q: Query) -> tuple[dict[str, Json], dict[str, Json]] | None:
    """(the answer a patching template rule makes for the call, the object it patches), whatever the
    call's outcome; None when no such rule answers it."""
    found = template_base(q)
    if found is None or found[1] is None:
        return None
    answer = as_dict(_build(q, *found).content)
    return (answer, found[1]) if answer is not None else None


def _recorded_base(q: Query, key: str, value: Json, sources: Sequence[str]) -> dict[str, Json] | None:
    """The object a call names as the recorded world holds it, for a session that never read it (an
    agent may cancel what it never looked up); never one only the scored trace showed."""
    if value is None or isinstance(value, dict | list):
        return None
    return q.engine.recorded_entity(key, value, sources, frozenset({q.exclude, *q.exclude_more}))


def _build(q: Query, rule: TemplateRule, base: dict[str, Json] | None) -> Observation:
    best = q.best_neighbor()
    neighbor_text = _carried(q, best[0]) if best is not None else ""
    neighbor = as_dict(neighbor_text) or {}
    out: dict[str, Json] = {}
    # appended items may be computed from the rest of the answer: build them last
    for op in sorted(rule.keys, key=lambda op: op.op == "append"):
        found, value = _key_value(q, op, base, neighbor, out)
        if found:
            out[op.key] = value
    order = {k: i for i, k in enumerate(list(neighbor) + list(base or {}))}
    out = dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))
    like = neighbor_text or q.engine.rec_content[0]
    return Observation(content=dumps(out, like=like), source="patch" if base is not None else "template")


def _fresh(q: Query, op: KeyOp) -> Json:
    """A created object's constant field, unless an object of this session already holds that value
    under that key: then a new value of the same shape (two bookings never share an id)."""
    recorded = op.value
    if not isinstance(recorded, str) or not recorded:
        return recorded
    value, n = recorded, 0
    while n < 20 and q.view.latest_entity(op.key, value, None) is not None:  # a shape of no letter repeats
        n += 1
        value = like_shape(recorded, f"{q.cargs}|{len(q.view.calls)}|{n}")
    return value


def _key_value(
    q: Query, op: KeyOp, base: dict[str, Json] | None, neighbor: dict[str, Json], built: dict[str, Json]
) -> tuple[bool, Json]:
    """(found, value) of one key of a templated answer."""
    if op.accuracy >= q.cfg.template_key_min_accuracy:
        if op.op == "src" and base is not None and op.key in base:
            return True, base[op.key]
        if op.op == "arg" and op.arg in q.args:
            return True, q.args[op.arg]
        if op.op == "const":
            return True, _fresh(q, op) if base is None else op.value
        old = base.get(op.key) if base is not None else None
        if (
            op.op == "append"
            and isinstance(old, list)
            and op.when_arg
            and not raised(q.args, base, op.when_arg, op.when_increase)
        ):
            return True, old
        if op.op == "append" and isinstance(old, list):
            item = _appended_item(q, op, built, base)
            return True, [*old, item] if item else old
        given = q.args.get(op.arg)
        if op.op == "enrich" and isinstance(given, list):
            old = base.get(op.key) if base is not None else None
            return True, _enrich(q, given, op, old, base)
    if base is not None and op.key in base:
        return True, base[op.key]
    if op.key in neighbor and q.cfg.template_fill == "neighbor":
        return True, neighbor[op.key]
    return False, None


def _appended_item(
    q: Query, op: KeyOp, built: dict[str, Json], base: dict[str, Json] | None
) -> dict[str, Json]:
    item: dict[str, Json] = {}
    features: dict[str, float] | None = None
    for name, how in op.item_fields.items():
        if how.startswith("@") and how[1:] in q.args:
            item[name] = q.args[how[1:]]
        elif how.startswith("="):
            item[name] = orjson.loads(how[1:])
        elif how in ("^first", "^last") and base is not None:
            before = base.get(op.key)
            end = (
                (before[0] if how == "^first" else before[-1])
                if isinstance(before, list) and before
                else None
            )
            if isinstance(end, dict) and name in end:
                item[name] = end[name]
        elif how.startswith("#"):
            features = features if features is not None else numeric_features(q.args, built, base)
            value = evaluate_formula(how[1:], features)
            if value is not None:
                item[name] = int(value) if float(value).is_integer() else round(value, 6)
    return item


def _enrich(q: Query, given: list[Json], op: KeyOp, old: Json, base: dict[str, Json] | None) -> list[Json]:
    """Each given object completed with the op's item fields, joined from objects the session read.

    An item the object already held keeps its own field, unless the field's learned path is keyed by
    an argument whose value differs from the object's field of that name: a price kept per cabin is
    stale once the call changes the cabin."""
    pool = [o for o in old if isinstance(o, dict)] if isinstance(old, list) else []
    objects = pool + list(q.view.objects())
    out: list[Json] = []
    for item in given:
        if not isinstance(item, dict):
            out.append(item)
            continue
        full: dict[str, Json] = dict(item)
        for key in op.item_keys:
            path = op.item_paths.get(key, (key,))
            stale = _rekeyed(path, q.args, base)
            found, value = join(item, (key,), pool) if pool and not stale else (False, None)
            if not found:
                found, value = join(item, resolve_path(path, q.args), objects)
            if not found:
                found, value = _recorded_join(q, item, resolve_path(path, q.args))
            if not found and stale:  # the new value is unknown: the old one is the best guess
                found, value = join(item, (key,), pool)
            if found:
                full[key] = value
        if op.item_order:
            rank = {k: i for i, k in enumerate(op.item_order)}
            full = dict(sorted(full.items(), key=lambda kv: rank.get(kv[0], len(rank))))
        out.append(full)
    return out


def _recorded_join(q: Query, item: dict[str, Json], path: tuple[str, ...]) -> tuple[bool, Json]:
    """The value at ``path`` in an object another trace's answer showed agreeing with ``item`` on every
    one of its fields: the world as train read it, for an object this session has not read."""
    name = next((v for v in item.values() if isinstance(v, str)), None)  # the item's first string names it
    if not path or name is None:
        return False, None
    for trace, obj in q.engine.holders(path[0]).get(name, ()):
        if (
            trace != q.exclude
            and trace not in q.exclude_more
            and all(obj.get(k) == v for k, v in item.items())
        ):
            found, out = at_path(obj, path)
            if found:
                return True, out
    return False, None


def _rekeyed(path: tuple[str, ...], args: dict[str, Json], base: dict[str, Json] | None) -> bool:
    """Whether an ``@arg`` segment of ``path`` names an argument whose value the object had otherwise."""
    if base is None:
        return False
    return any(
        seg.startswith("@") and seg[1:] in base and seg[1:] in args and base[seg[1:]] != args[seg[1:]]
        for seg in path
    )


def resolve_path(path: tuple[str, ...], args: dict[str, Json]) -> tuple[str, ...]:
    """A learned path with ``@arg`` segments replaced by those arguments' values."""
    return tuple(str(args.get(seg[1:], "")) if seg.startswith("@") else seg for seg in path)


def join(item: dict[str, Json], path: tuple[str, ...], objects: list[dict[str, Json]]) -> tuple[bool, Json]:
    """The value at ``path`` in the object that agrees with ``item`` on the most shared fields."""
    best: tuple[bool, Json] = (False, None)
    best_n = 0
    for obj in objects:
        shared = [k for k in item if k in obj]
        if len(shared) <= best_n or any(obj[k] != item[k] for k in shared):
            continue
        found, value = at_path(obj, path)
        if found:
            best, best_n = (True, value), len(shared)
            if best_n == len(item):
                break
    return best


def at_path(obj: Json, path: tuple[str, ...]) -> tuple[bool, Json]:
    for seg in path:
        if not isinstance(obj, dict) or seg not in obj:
            return False, None
        obj = obj[seg]
    return True, obj


def collect(q: Query) -> Observation | None:
    rule = q.knowledge.collect
    if rule is None or rule.gain <= 0 or rule.support < q.cfg.min_support:
        return None
    return collected(q, rule)


def collected(q: Query, rule: CollectRule) -> Observation | None:
    """Every object the session or another recorded answer showed agreeing with the call on the rule's
    fields, one per id (preferring the one agreeing with more arguments, then the session's)."""
    if any(a not in q.args for a, _ in rule.match):
        return None
    wanted = [q.args[a] for a, _ in rule.match]
    candidates: list[tuple[int, dict[str, Json]]] = [
        (1, with_call_args(obj, args))
        for obj, args in q.view.call_objects()
        if rule.lists(obj) and [obj[f] for _, f in rule.match] == wanted
    ]
    for trace, obj in q.engine.collect_pool(q.tool).get(canonical(wanted), ()):
        if trace != q.exclude and trace not in q.exclude_more:
            candidates.append((0, obj))
    if not candidates:
        return None
    best: dict[str, tuple[tuple[bool, int, int], int, dict[str, Json]]] = {}
    for i, (mine, obj) in enumerate(candidates):
        ident = canonical(obj[rule.id_key]) if rule.id_key else canonical([obj[k] for k in rule.item_keys])
        agree = sum(
            1 if obj[k] == v else -1 for k, v in q.args.items() if k in obj and k not in rule.item_keys
        )
        rank = (all(k in obj for k in rule.item_keys), agree, mine)
        if ident not in best or rank > best[ident][0]:
            best[ident] = (rank, best[ident][1] if ident in best else i, obj)
    chosen = sorted(best.items(), key=lambda kv: kv[0] if rule.sort else kv[1][1])
    items: list[Json] = [rule.item(obj) for _, (_, _, obj) in chosen]
    return Observation(content=dumps(items, like=q.knowledge.common_ok), source="collect")


def chain(q: Query) -> Observation | None:
    rule = q.knowledge.chain
    if rule is None or rule.support < q.cfg.min_support:
        return None
    chains = chained(q, rule)
    if chains is None or (rule.gain <= 0 < rule.tested if chains else rule.empty_gain <= 0):
        return None
    return Observation(content=dumps(chains, like=q.knowledge.common_ok), source="chain")


def chained(q: Query, rule: ChainRule) -> list[Json] | None:
    """The chains of objects (the session's, then the recorded ones but this trace's) the rule makes for
    the call; None when the call lacks an argument the rule needs."""
    session = ChainObjects(rule, ((obj, -1) for obj in q.view.objects()))
    known = [session, q.engine.chain_objects(q.tool, rule)]
    return compose(rule, q.args, known, {q.exclude, *q.exclude_more})


def analogy(q: Query) -> Observation | None:
    best = q.best_neighbor()
    if best is None:
        return None
    rec, is_error = best
    outcome = "error" if is_error else "ok"
    calibration = q.knowledge.calibration.get(outcome)
    if calibration is not None and q.neighbors()[0][1] < q.engine.analogy_threshold(q.tool, outcome):
        return None  # calls this far from anything recorded did better with the most common answer
    content = _carried(q, rec)
    return Observation(
        content=content if is_error else owned(q, content), is_error=is_error, source="analogy"
    )


def _carried(q: Query, rec: int) -> str:
    """Recorded answer ``rec`` with the call's new argument values carried in where it echoed old ones."""
    return _carried_text(q, q.engine.rec_content[rec], q.engine.rec_cargs[rec])


def most_common(q: Query) -> Observation:
    """The tool's most common answer of the predicted outcome (the last resort)."""
    k = q.knowledge
    best = q.best_neighbor()
    if best is not None and best[1] and k.common_error:
        content, args, is_error = k.common_error, k.common_error_args, True
    elif best is not None and not best[1] and k.common_ok:
        content, args, is_error = k.common_ok, k.common_ok_args, False
    else:
        content, args, is_error = k.common, "", k.common_is_error
    if not q.engine.shown_elsewhere(q.tool, content, q.exclude):
        if best is None:
            return Observation(content="", is_error=is_error, source="most-common")
        content, args = q.engine.rec_content[best[0]], q.engine.rec_cargs[best[0]]
    content = _carried_text(q, content, args)
    return Observation(
        content=content if is_error else owned(q, spelled(q, content)),
        is_error=is_error,
        source="most-common",
    )


def spelled(q: Query, content: str) -> str:
    """``content`` with the texts the tool spells from its arguments' words spelled from this call's."""
    rules = q.knowledge.spelled
    if not rules or as_dict(content) is None:
        return content
    answer: Json = orjson.loads(content)  # a fresh copy: parsed answers are cached and shared
    changed = False
    for path, arg, template in rules:
        value = q.args.get(arg)
        text = spell(template, arg_words(value)) if isinstance(value, str) else None
        if text is not None and _set_existing(answer, path, text):
            changed = True
    return dumps(answer, like=content) if changed else content


def owned(q: Query, content: str) -> str:
    """``content`` with the fields the tool's owner rule copies from the session's object listing the
    call's argument value (a guessed answer made consistent with what the session read)."""
    rule = q.knowledge.owner
    if rule is None or rule.support < q.cfg.min_support:
        return content
    value = q.args.get(rule.arg)
    if value is None or as_dict(content) is None:
        return content
    answer: Json = orjson.loads(content)  # a fresh copy: parsed answers are cached and shared
    for obj, args in owners_before([(c.args, c.observation) for c in q.view.calls]):
        listed = obj.get(rule.list_key)
        if isinstance(listed, list) and value in listed:
            theirs = dict(owner_leaves(obj, args))
            changed = False
            for path, source in rule.fields:
                if source in theirs and _set_existing(answer, path, theirs[source]):
                    changed = True
            return dumps(answer, like=content) if changed else content
    return content


def _set_existing(value: Json, path: tuple[str | int, ...], new: Json) -> bool:
    """Set the leaf at ``path`` if the answer has it (a guessed answer keeps its shape)."""
    for seg in path[:-1]:
        found, value = _child(value, seg)
        if not found:
            return False
    last = path[-1]
    found, old = _child(value, last)
    if not found or isinstance(old, dict | list):
        return False
    if isinstance(value, dict) and isinstance(last, str):
        value[last] = new
        return True
    if isinstance(value, list) and isinstance(last, int):
        value[last] = new
        return True
    return False


def _child(value: Json, seg: str | int) -> tuple[bool, Json]:
    if isinstance(value, dict) and isinstance(seg, str):
        return seg in value, value.get(seg)
    if isinstance(value, list) and isinstance(seg, int) and 0 <= seg < len(value):
        return True, value[seg]
    return False, None


def _carried_text(q: Query, content: str, args_json: str) -> str:
    ok, args = parsed(args_json) if args_json else (False, None)
    if not ok or not isinstance(args, dict):
        return content
    return substitute(content, substitution_pairs(args, q.args), q.cfg.substitute_min_length)


STRATEGY_FUNCTIONS: dict[str, Strategy] = {
    "derive": derive,
    "session": session,
    "replay": replay,
    "function": function,
    "constant": constant,
    "sticky_error": sticky_error,
    "novel_error": novel_error,
    "shape_error": shape_error,
    "state_error": state_error,
    "limit": limit,
    "cutoff": cutoff,
    "numeric_check": numeric_check,
    "template": template,
    "collect": collect,
    "chain": chain,
    "analogy": analogy,
}
