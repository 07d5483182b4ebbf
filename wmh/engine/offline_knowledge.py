"""What the offline engine learns about each tool from the recorded traces, and how.

Every rule is found in the data and carries its own evidence (support, precision, rate); the
engine's ``OfflineConfig`` decides at answer time which evidence is enough. Per tool:

- answer statistics: calls, error rate, the most common answer (overall, successful, failed);
- arg_weights: how much each argument decides the answer (answers of calls sharing it are alike);
- repeat: the same call within one session gets the same answer;
- function: the answer is a pure function of one argument (an arithmetic expression, formatted as
  recorded), and what the tool answers when the argument is not an expression;
- derive: the answer equals the latest object the session already read (from given tools) whose
  field ``key`` equals argument ``arg`` (a read reflecting earlier reads and mutations);
- template: the answer is an object built key by key from such a base object (``src``; lists it
  extends: ``append``), from the arguments (``arg``; lists of argument objects completed with
  fields joined from objects the session read: ``enrich``), from constants, or, where nothing is
  consistent, from the nearest recorded answer (``neighbor``);
- novel_error: a value for ``arg`` that no other task's successful calls showed fails, with this text;
- shape_error: an identifier of this form (digits masked) fails, with this text;
- sticky_error: after a failure, a related call of the tool fails the same way; retry: after a
  failure, a changed call succeeds this often;
- calibration (filled by ``offline_fit``): analogies against the most common answer.

Novelty and calibration leave out the episodes of the same task (same task text), which is how a
held-out task meets the engine. Large corpora learn rules from an even sample of episodes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, JsonValue

from wmh.core.jsonutil import canonical
from wmh.core.types import Episode, Frozen, Observation, Step
from wmh.engine.offline_chain import ChainRule, chain_rule
from wmh.engine.offline_cutoff import CutoffRule, learn_cutoffs
from wmh.engine.offline_effects import EffectRule, learn_effects, same_after_effects
from wmh.engine.offline_json import (
    FORMAT_RANK,
    FORMATTERS,
    Json,
    as_dict,
    earlier_objects,
    leaves,
    objects_in,
    parsed,
    safe_eval,
    scalar,
    strings,
)
from wmh.engine.offline_limits import ChargeRule, LimitRule, carried_limits, learn_limits
from wmh.engine.offline_lines import learn_carried

SHARE_PRIOR = 1  # pseudo-count pulling rates of rarely-seen rules toward "unproven"


class FunctionRule(Frozen):
    arg: str = Field(description="Argument holding the expression")
    fmt: str = Field(description="How the value is written (a key of FORMATTERS)")
    accuracy: float = Field(description="Share of evaluating calls answered the formatted value")
    support: int = Field(description="Calls whose argument evaluated")
    fail_text: str = Field(default="", description="The error answered when the argument does not evaluate")
    fail_rate: float = Field(default=0.0, description="Share of non-evaluating calls answered that error")
    unevaluated: int | None = Field(
        default=None,
        description="Recorded calls whose argument did not evaluate (None: a model saved before this was "
        "counted)",
    )


class DeriveRule(Frozen):
    arg: str = Field(description="Argument whose value identifies the object")
    key: str = Field(description="Field of the earlier answer holding that value")
    sources: tuple[str, ...] = Field(description="Tools whose answers serve as the object")
    precision: float
    support: int


class KeyOp(Frozen):
    key: str
    op: Literal["src", "arg", "const", "enrich", "append", "neighbor"]
    arg: str = ""
    value: JsonValue = None
    item_keys: tuple[str, ...] = Field(default=(), description="For enrich: fields added to each item")
    item_fields: dict[str, str] = Field(
        default_factory=dict,
        description="For append: fields of the appended item, ``@arg`` (an argument's value) or ``=json``",
    )
    when_arg: str = Field(
        default="", description="For append: appends only when this numeric argument is positive (else keeps)"
    )
    when_increase: bool = Field(
        default=False,
        description="For append with when_arg: only when the argument exceeds the object's field of that "
        "name (a count raised), rather than when it is positive",
    )
    item_order: tuple[str, ...] = Field(
        default=(), description="For enrich: the usual order of a completed item's fields"
    )
    item_paths: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="For enrich: where each added field sits in the matching object the session read "
        "(``@arg`` = the value of that argument)",
    )
    accuracy: float = 0.0


class TemplateRule(Frozen):
    base_arg: str = Field(default="", description="Empty: built from the arguments alone")
    base_key: str = ""
    sources: tuple[str, ...] = ()
    keys: tuple[KeyOp, ...] = ()
    accuracy: float = 0.0
    support: int = 0


class NovelErrorRule(Frozen):
    arg: str = Field(description="The argument, or ``list[].field`` for a field of a list argument's objects")
    template: str = Field(description="The error text, with {value} where the unknown value goes")
    rate: float = Field(description="Share of calls with a never-seen value that failed")
    support: int
    near_rate: float = Field(
        default=0.0,
        description="Share of calls whose never-seen value is a near miss of a value shown elsewhere (the "
        "same characters in another order: an id mistyped) that failed",
    )
    near_support: int = Field(default=0, description="Failures behind near_rate")


class ShapeErrorRule(Frozen):
    """Calls whose argument has a given form (each digit written #) fail with this text."""

    arg: str
    shape: str = Field(
        description="The argument's value with each digit written # (a short id differs from a long one)"
    )
    template: str = Field(description="The error text, with {value} where the value goes")
    rate: float = Field(description="Share of calls with a value of this form that failed so")
    support: int


class StateErrorRule(Frozen):
    """Calls on an object the session read whose field has a given value fail with this text: a
    precondition (e.g. cancelling what is already cancelled)."""

    arg: str = Field(description="The argument naming the object")
    key: str = Field(description="The object's field holding that name")
    field: str = Field(description="The object's field the outcome depends on")
    value: JsonValue = Field(description="The field's value on which calls failed")
    template: str = Field(description="The error text, with {value} where the argument's value goes")
    rate: float = Field(description="Share of calls on objects with this value that failed so")
    support: int


class StickyErrorRule(Frozen):
    """After a failed call, a related call of the same tool fails with the same text."""

    arg: str = Field(
        description="Argument whose value is shared with the earlier failed call; empty: the "
        "earlier error text names one of this call's argument values"
    )
    hits: int = Field(description="Related calls that failed the same way")
    opportunities: int = Field(description="Related calls after a failure")


class CollectRule(Frozen):
    """The answer lists every known object (recorded anywhere, or read in the session) that agrees with
    the arguments on some fields: a search over objects the traces showed elsewhere."""

    item_keys: tuple[str, ...] = Field(description="Fields of a listed object, in order")
    match: tuple[tuple[str, str], ...] = Field(
        description="(argument, field) pairs every listed object agrees on"
    )
    id_key: str = Field(default="", description="Field naming an object once per list (empty: whole object)")
    sort: bool = Field(default=False, description="Lists are ordered by id_key")
    support: int = Field(default=0, description="Non-empty lists behind the rule")
    gain: float = Field(
        default=0.0, description="Exact + fidelity over the most common answer per calibration call (fitted)"
    )
    filler: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Per item field, its most common value: what a listed object known only in part "
        "(its id and the matched fields, e.g. from another tool's answer) shows for the fields it lacks",
    )

    def lists(self, obj: dict[str, JsonValue]) -> bool:
        """Whether ``obj`` can be listed: it has every item field, or the id and the matched fields and
        the rule knows what to fill in for the rest."""
        if all(k in obj for k in self.item_keys):
            return True
        needed = [self.id_key, *(f for _, f in self.match)] if self.id_key and self.filler else None
        return needed is not None and all(k in obj for k in needed)

    def item(self, obj: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """``obj`` as a listed item: its item fields in order, the missing ones filled in."""
        return {k: obj[k] if k in obj else self.filler.get(k) for k in self.item_keys}


class OwnerRule(Frozen):
    """Fields of an answer copied from the object the session read that lists the call's argument value
    (an owner: ``owner[list_key]`` contains ``args[arg]``), e.g. whose record this is."""

    arg: str
    list_key: str
    fields: tuple[tuple[tuple[str | int, ...], tuple[str | int, ...]], ...] = Field(
        description="(answer path, owner path) pairs that agreed on most calls"
    )
    support: int = Field(description="Calls with an owner in the session")


class NumericCheckRule(Frozen):
    """The tool fails with ``template`` when the number ``paid`` (of the arguments) differs from the
    total the rule computes (a linear sum of ``terms`` over ``check_features``); a call whose numbers
    agree succeeds. Learned from the failures whose text shows both numbers and the successes."""

    paid: str = Field(description="Feature of the arguments the call pays (see check_features)")
    terms: tuple[tuple[str, float], ...] = Field(description="(feature, coefficient) summed into the total")
    template: str = Field(description="The error text, with {total} and {paid} where the numbers go")
    fixed: tuple[tuple[str, float], ...] = Field(
        default=(), description="Argument numbers the same on every train call: another value is untested"
    )
    accuracy: float = Field(description="Share of the rule's train calls whose total it computed exactly")
    support: int = Field(description="Train calls behind the rule")
    other_error_rate: float | None = Field(
        default=None,
        description="Share of the tool's calls that failed with another text (None: not measured, as in "
        "models saved before it was)",
    )
    carried: tuple[tuple[str, str], ...] = Field(
        default=(),
        description="(term, tool): terms priced at the rate another tool charges per unit of a count of "
        "that name, the count being 0 on every train call of this one",
    )

    def explains(self, text: str) -> bool:
        """Whether ``text`` is this rule's failure (with whatever numbers)."""
        shape = self.template.replace("{total}", "#").replace("{paid}", "#")
        return _NUMBER.sub("#", text) == shape

    def shown_total(self, text: str) -> float | None:
        """The total this rule's failure ``text`` showed (None if ``text`` is not that failure)."""
        if not self.explains(text):
            return None
        numbers = _NUMBER.findall(text)
        return float(numbers[0 if self.template.index("{total}") < self.template.index("{paid}") else 1])

    def paid_arg(self) -> str:
        """The argument the paid number comes from."""
        return self.paid.split(":", 1)[-1].removeprefix("arg.").split(".", 1)[0]


class Calibration(Frozen):
    """Train calls answered as if unseen (their task left out): how analogies fared against the most
    common answer, by how similar the nearest recorded call was."""

    similarity: tuple[float, ...] = Field(description="Argument similarity of the nearest call")
    analogy: tuple[float, ...] = Field(description="Exact + fidelity of the analogy")
    common: tuple[float, ...] = Field(description="Exact + fidelity of the most common answer")

    def min_similarity(self, margin: float, min_calls: int) -> float:
        """The similarity from which analogies, credited ``margin`` per call, beat the most common answer on
        these calls; +inf when they never do. Fewer than ``min_calls`` calls only tell all from nothing."""
        if len(self.similarity) < min_calls:
            wins = sum(self.analogy) + margin * len(self.analogy) >= sum(self.common)
            return float("-inf") if wins else float("inf")
        best_t, best = float("inf"), sum(self.common)
        for t in [float("-inf"), *sorted(set(self.similarity))]:
            total = sum(
                a + margin if s >= t else c
                for s, a, c in zip(self.similarity, self.analogy, self.common, strict=True)
            )
            if total > best + 1e-9:
                best_t, best = t, total
        return best_t


class ToolKnowledge(Frozen):
    name: str
    calls: int
    error_rate: float
    common: str = Field(description="The most common answer")
    common_is_error: bool = False
    common_share: float = 0.0
    repeat_consistency: float = Field(default=1.0, description="Same call, same session: same answer")
    repeat_support: int = 0
    function: FunctionRule | None = None
    derive: tuple[DeriveRule, ...] = ()
    templates: tuple[TemplateRule, ...] = ()
    novel_errors: tuple[NovelErrorRule, ...] = ()
    sticky_errors: tuple[StickyErrorRule, ...] = ()
    shape_errors: tuple[ShapeErrorRule, ...] = ()
    state_errors: tuple[StateErrorRule, ...] = ()
    numeric_check: NumericCheckRule | None = None
    limits: tuple[LimitRule, ...] = Field(
        default=(), description="Numbers a call may not ask beyond what the object it names holds"
    )
    charges: tuple[ChargeRule, ...] = Field(
        default=(),
        description="Amounts a write's answer may not charge beyond what the object it names holds",
    )
    cutoffs: tuple[CutoffRule, ...] = Field(
        default=(), description="Days (of a date argument) on or before which every call answered alike"
    )
    retry_success: float = Field(
        default=0.0, description="Share of changed calls after a failure that succeeded"
    )
    retry_support: int = 0
    arg_weights: dict[str, float] = Field(
        default_factory=dict,
        description="How much each argument decides the answer (1 = most; retrieval weighs arguments so)",
    )
    common_ok: str = Field(default="", description="The most common successful answer")
    common_ok_args: str = Field(default="", description="Arguments of a call answered common_ok (JSON)")
    common_error: str = Field(default="", description="The most common error answer (empty: never failed)")
    common_error_args: str = Field(default="", description="Arguments of a call answered common_error (JSON)")
    collect: CollectRule | None = None
    chain: ChainRule | None = None
    owner: OwnerRule | None = None
    spelled: tuple[tuple[tuple[str | int, ...], str, str], ...] = Field(
        default=(),
        description="(answer path, argument, template): answer text spelled from the argument's words "
        "({i}, {i:c} capitalized, {i:u} upper case)",
    )
    effects: tuple[EffectRule, ...] = Field(
        default=(), description="What other tools' successful calls add to this tool's answers"
    )
    carried: tuple[tuple[str, int], ...] = Field(
        default=(),
        description="(label, calls behind it): 'Label: value' lines of text answers that repeat the value "
        "the session last showed",
    )
    vote_hits: int = Field(
        default=-1,
        description="Calibration calls whose failure the nearest calls' vote foretold (-1: untested)",
    )
    prior_hits: int = Field(
        default=-1, description="Calibration calls whose failure the tool's error rate foretold"
    )
    calibration: dict[str, Calibration] = Field(
        default_factory=dict,
        description="Analogy against most-common answer on train calls (each without its own task), "
        "by predicted outcome: ok / error",
    )


@dataclass(frozen=True)
class _Ex:
    """One recorded call in its episode."""

    ep: int
    pos: int
    step: Step


MAX_LEARN_EPISODES = 3000  # rules are statistics: an even sample of a large corpus finds the same ones


def task_group(ep: Episode, group_by: str | None) -> str:
    """Which task an episode ran: its ``group_by`` attribute when it has one, else its task text."""
    return ep.attributes[group_by] if group_by and group_by in ep.attributes else ep.task


def learn(episodes: Sequence[Episode], group_by: str | None = None) -> dict[str, ToolKnowledge]:
    """Per tool: its answer statistics over all ``episodes``, its rules from (a sample of) them."""
    everything = _by_tool(episodes)
    if len(episodes) > MAX_LEARN_EPISODES:
        picks = np.linspace(0, len(episodes) - 1, MAX_LEARN_EPISODES).astype(np.int64)
        episodes = [episodes[i] for i in sorted(set(picks.tolist()))]
    by_tool = _by_tool(episodes)
    links = _entity_links(episodes)
    novelty = _Novelty(episodes, group_by)
    kinds = _kinds(by_tool)
    failures = frozenset(
        x.step.observation.content for xs in by_tool.values() for x in xs if x.step.observation.is_error
    )
    out = {}
    for tool in sorted(everything):
        all_exs, exs = everything[tool], by_tool.get(tool, [])
        common, is_err, share = _most_common(all_exs)
        common_ok, common_ok_args = _common_of([x for x in all_exs if not x.step.observation.is_error])
        common_error, common_error_args = _common_of([x for x in all_exs if x.step.observation.is_error])
        out[tool] = ToolKnowledge(
            name=tool,
            common_ok=common_ok,
            common_ok_args=common_ok_args,
            common_error=common_error,
            common_error_args=common_error_args,
            calls=len(all_exs),
            error_rate=sum(x.step.observation.is_error for x in all_exs) / len(all_exs),
            common=common,
            common_is_error=is_err,
            common_share=share,
        )
        if exs:
            out[tool] = out[tool].model_copy(
                update=_rules(tool, episodes, exs, links, novelty, kinds, failures)
            )
    out = _carry_limits(out, episodes, by_tool)
    rates = unit_rates(out)
    for tool, k in out.items():
        if k.numeric_check is not None and rates:
            out[tool] = k.model_copy(update={"numeric_check": priced(k.numeric_check, rates)})
    return out


KIND_MIN_SIMILARITY = 0.8  # Jaccard of two tools' answer key sets for their objects to be of one kind


def _kinds(by_tool: dict[str, list[_Ex]]) -> dict[str, frozenset[str]]:
    """Per tool, the fields of the object it answers with: the most common key set of its successful JSON
    object answers, when at least half of them have it."""
    out = {}
    for tool, exs in by_tool.items():
        sets = Counter(
            frozenset(obj)
            for x in exs
            if not x.step.observation.is_error and (obj := as_dict(x.step.observation.content))
        )
        if sets:
            fields, n = sets.most_common(1)[0]
            if n * 2 >= sum(sets.values()):
                out[tool] = fields
    return out


def _alike(sources: Sequence[str], key: str, kinds: dict[str, frozenset[str]]) -> list[str]:
    """``sources`` and every other tool answering objects of the same kind as one of them, ``key`` among
    their fields: a write that answers the whole object it made or changed (a booking, a passenger
    change) is a source for later reads even where train never read after it."""
    mine = [kinds[t] for t in sources if t in kinds]
    alike = [
        t
        for t, fields in kinds.items()
        if t not in sources
        and key in fields
        and any(len(fields & m) >= KIND_MIN_SIMILARITY * len(fields | m) for m in mine)
    ]
    return sorted([*sources, *alike])


def _by_tool(episodes: Sequence[Episode]) -> dict[str, list[_Ex]]:
    by_tool: dict[str, list[_Ex]] = defaultdict(list)
    for e, ep in enumerate(episodes):
        for i, step in enumerate(ep.steps):
            if step.action.name:
                by_tool[step.action.name].append(_Ex(e, i, step))
    return by_tool


def _rules(
    tool: str,
    episodes: Sequence[Episode],
    exs: Sequence[_Ex],
    links: dict[str, list[_Link | _Ex]],
    novelty: _Novelty,
    kinds: dict[str, frozenset[str]],
    failures: frozenset[str],
) -> dict[str, object]:
    effects = learn_effects(episodes, ((x.ep, x.pos, x.step) for x in exs))
    consistency, support = _repeats(episodes, tool, effects)
    fails = any(x.step.observation.is_error for x in exs)
    check = _numeric_check_rule(episodes, exs) if fails else None
    return {
        **_unexplained(
            check,
            novel_errors=novelty.rules(exs),
            shape_errors=_shape_rules(exs) if fails else (),
            state_errors=_state_rules(episodes, exs) if fails else (),
        ),
        "effects": effects,
        "arg_weights": _arg_weights(exs),
        "repeat_consistency": consistency,
        "repeat_support": support,
        "function": _function_rule(exs),
        "derive": _derive_rules(links.get(tool, []), kinds),
        "templates": _templates(episodes, exs, links.get(tool, [])),
        "sticky_errors": _sticky_rules(episodes, tool) if fails else (),
        "numeric_check": check,
        "limits": learn_limits(episodes, ((x.ep, x.pos, x.step) for x in exs), failures) if fails else (),
        "cutoffs": learn_cutoffs(x.step for x in exs),
        "collect": _collect_rule(exs),
        "chain": _chain_rule(exs),
        "owner": _owner_rule(episodes, exs),
        "spelled": _spelled(exs),
        "carried": learn_carried(episodes, ((x.ep, x.pos, x.step) for x in exs)),
        **(_retries(episodes, tool) if fails else {}),
    }


def _carry_limits(
    out: dict[str, ToolKnowledge], episodes: Sequence[Episode], by_tool: dict[str, list[_Ex]]
) -> dict[str, ToolKnowledge]:
    """A tool that fails but whose failures teach no limit takes the limits other tools learned that its
    own calls put to the test and never contradict (``offline_limits.carried_limits``)."""
    learned = [(tool, rule) for tool, k in out.items() for rule in k.limits]
    for tool, k in out.items() if learned else ():
        if k.limits or not k.error_rate or tool not in by_tool:
            continue
        others = [rule.model_copy(update={"source": other}) for other, rule in learned if other != tool]
        rules = carried_limits(others, episodes, ((x.ep, x.pos, x.step) for x in by_tool[tool]))
        if rules:
            out[tool] = k.model_copy(update={"limits": rules})
    return out


def _unexplained(check: NumericCheckRule | None, **rules: tuple) -> dict[str, tuple]:
    """The error rules whose failure is not the numeric check's: a payment that did not add up says
    nothing of the value or state the call named (each such failure shows its own numbers)."""
    if check is None:
        return rules
    return {kind: tuple(r for r in found if not check.explains(r.template)) for kind, found in rules.items()}


COLLECT_MIN_SHARE = 0.95  # of lists whose every object agrees with an argument on a field


def _collect_rule(exs: Sequence[_Ex]) -> CollectRule | None:
    """A search answer: successful answers that are lists of objects of one shape, every object agreeing
    with some arguments on some fields (learned from the lists that are not empty)."""
    lists: list[tuple[dict[str, Json], list[dict[str, Json]]]] = []
    shapes: Counter[tuple[str, ...]] = Counter()
    for x in exs:
        if x.step.observation.is_error:
            continue
        ok, value = parsed(x.step.observation.content)
        if not ok or not isinstance(value, list) or not value:
            continue
        if not all(isinstance(v, dict) for v in value):
            return None
        items = [v for v in value if isinstance(v, dict)]
        lists.append((dict(x.step.action.arguments), items))
        shapes.update(tuple(v) for v in items)
    if len(lists) < 2 or not shapes:
        return None
    keys, n = shapes.most_common(1)[0]
    if n < COLLECT_MIN_SHARE * sum(shapes.values()):
        return None
    agree: Counter[tuple[str, str]] = Counter()
    for args, items in lists:
        for a, v in args.items():
            if isinstance(v, str | int) and not isinstance(v, bool):
                for f in keys:
                    if all(it.get(f) == v and type(it.get(f)) is type(v) for it in items):
                        agree[(a, f)] += 1
    match = tuple(sorted(p for p, c in agree.items() if c >= COLLECT_MIN_SHARE * len(lists)))
    if not match:
        return None
    matched = {f for _, f in match}
    id_key = next(
        (
            k
            for k in keys
            if k not in matched
            and all(scalar(it.get(k)) for _, items in lists for it in items)
            and all(len({canonical(it.get(k)) for it in items}) == len(items) for _, items in lists)
        ),
        "",
    )
    ordered = [[str(it.get(id_key)) for it in items] for _, items in lists if len(items) > 1]
    return CollectRule(
        item_keys=keys,
        match=match,
        id_key=id_key,
        sort=bool(id_key) and bool(ordered) and all(ids == sorted(ids) for ids in ordered),
        support=len(lists),
        filler=_modes([it for _, items in lists for it in items], keys),
    )


def _chain_rule(exs: Sequence[_Ex]) -> ChainRule | None:
    """A search over chains of objects (see ``wmh.engine.offline_chain``), from the successful answers."""
    answers = (
        (dict(x.step.action.arguments), parsed(x.step.observation.content)[1])
        for x in exs
        if not x.step.observation.is_error and x.step.observation.content.startswith("[[")
    )
    return chain_rule(answers)


def _modes(items: Sequence[dict[str, Json]], keys: Sequence[str]) -> dict[str, Json]:
    """Per key, the value most items have (the first seen among equals)."""
    out: dict[str, Json] = {}
    for k in keys:
        counts = Counter(canonical(it[k]) for it in items if k in it)
        if counts:
            best = counts.most_common(1)[0][0]
            out[k] = next(it[k] for it in items if k in it and canonical(it[k]) == best)
    return out


OWNER_MIN_SHARE = 0.6
OWNER_CALLS = 200


def _object_answers(exs: Sequence[_Ex]) -> Iterator[tuple[_Ex, dict[str, Json]]]:
    """The calls among ``exs`` that succeeded with a JSON object, with that object."""
    for x in exs:
        answer = None if x.step.observation.is_error else as_dict(x.step.observation.content)
        if answer is not None:
            yield x, answer


def _owner_rule(episodes: Sequence[Episode], exs: Sequence[_Ex]) -> OwnerRule | None:
    """For object answers: fields equal to a field of the session's object listing an argument value."""
    opportunities: Counter[tuple[str, str]] = Counter()
    hits: Counter[tuple[str, str, tuple[str | int, ...], tuple[str | int, ...]]] = Counter()
    for x, answer in _object_answers(exs[:OWNER_CALLS]):
        scalars = {a: v for a, v in x.step.action.arguments.items() if isinstance(v, str) and v}
        if not scalars:
            continue
        mine = dict(path_leaves(answer))
        seen: set[tuple[str, str]] = set()
        before = episodes[x.ep].steps[: x.pos]
        for obj, call_args in owners_before([(s.action.arguments, s.observation) for s in before]):
            for a, v in scalars.items():
                for key, listed in obj.items():
                    if (a, key) in seen or not isinstance(listed, list) or v not in listed:
                        continue
                    seen.add((a, key))
                    opportunities[(a, key)] += 1
                    theirs: dict[str, tuple[str | int, ...]] = {}
                    for path, leaf in owner_leaves(obj, call_args):
                        if isinstance(leaf, str) and leaf and leaf != v:
                            theirs.setdefault(leaf, path)
                    for path, leaf in mine.items():
                        if isinstance(leaf, str) and leaf in theirs:
                            hits[(a, key, path, theirs[leaf])] += 1
    best: OwnerRule | None = None
    for (a, key), n in sorted(opportunities.items()):
        if n < 2:
            continue
        fields = tuple(
            (path, source)
            for (ha, hk, path, source), c in sorted(hits.items(), key=lambda kv: str(kv[0]))
            if (ha, hk) == (a, key) and c >= OWNER_MIN_SHARE * n
        )
        if fields and (best is None or len(fields) * n > len(best.fields) * best.support):
            best = OwnerRule(arg=a, list_key=key, fields=fields, support=n)
    return best


_WORD = re.compile(r"[A-Za-z0-9]+")
SPELL_MIN_SHARE = 0.6


def arg_words(value: str) -> list[str]:
    return _WORD.findall(value)


def spell(template: str, words: Sequence[str]) -> str | None:
    """A ``_spelled`` template filled with an argument's words; None when it needs a missing word."""
    out = template
    for i in range(len(words) - 1, -1, -1):
        w = words[i]
        out = (
            out.replace(f"{{{i}:c}}", w.capitalize()).replace(f"{{{i}:u}}", w.upper()).replace(f"{{{i}}}", w)
        )
    return None if re.search(r"\{\d+(:[cu])?\}", out) else out


def _spelled(exs: Sequence[_Ex]) -> tuple[tuple[tuple[str | int, ...], str, str], ...]:
    """Answer texts that spell an argument's words the same way on most calls (names, addresses)."""
    counts: Counter[tuple[tuple[str | int, ...], str, str]] = Counter()
    present: Counter[tuple[str | int, ...]] = Counter()
    for x, answer in _object_answers(exs[:OWNER_CALLS]):
        for path, leaf in path_leaves(answer):
            if not isinstance(leaf, str) or not leaf:
                continue
            present[path] += 1
            for a, v in x.step.action.arguments.items():
                if not isinstance(v, str) or leaf == v:
                    continue
                words = arg_words(v)
                template = leaf
                for i in sorted(range(len(words)), key=lambda i: -len(words[i])):
                    w = words[i]
                    if len(w) < 2:
                        continue
                    for variant, mark in ((w.capitalize(), ":c"), (w.upper(), ":u"), (w, "")):
                        # whole words only: a word inside a longer one is a coincidence
                        pattern = rf"(?<![A-Za-z0-9]){re.escape(variant)}(?![A-Za-z0-9])"
                        template = re.sub(pattern, f"{{{i}{mark}}}", template)
                if template != leaf and spell(template, words) == leaf:
                    counts[(path, a, template)] += 1
    out = [
        rule
        for rule, n in sorted(counts.items(), key=lambda kv: str(kv[0]))
        if n >= 2 and n >= SPELL_MIN_SHARE * present[rule[0]]
    ]
    return tuple(out)


def owners_before(
    calls: Sequence[tuple[dict[str, Json], Observation]],
) -> Iterator[tuple[dict[str, Json], dict[str, Json]]]:
    """(object, arguments of the call that answered it) for the objects of successful answers, latest
    first."""
    for args, observation in reversed(calls):
        if observation.is_error:
            continue
        ok, value = parsed(observation.content)
        if ok:
            for obj in objects_in(value):
                yield obj, args


def owner_leaves(obj: dict[str, Json], args: dict[str, Json]) -> Iterator[tuple[tuple[str | int, ...], Json]]:
    """The object's leaves, and its call's scalar arguments as ``@name`` paths."""
    yield from path_leaves(obj)
    for a, v in args.items():
        if scalar(v):
            yield (f"@{a}",), v


def path_leaves(
    value: Json, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Json]]:
    """(path, scalar) pairs, a path being the keys and list indices leading to the scalar."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from path_leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from path_leaves(v, (*path, i))
    else:
        yield path, value


def _common_of(exs: Sequence[_Ex]) -> tuple[str, str]:
    """The most common answer among ``exs`` and the arguments of a call that got it ("" if none)."""
    if not exs:
        return "", ""
    content = _most_common(exs)[0]
    return content, _args_of(exs, content)


def _args_of(exs: Sequence[_Ex], content: str) -> str:
    """The arguments of the first call answered ``content`` (canonical JSON)."""
    return next(canonical(x.step.action.arguments) for x in exs if x.step.observation.content == content)


MAX_WEIGHT_CALLS = 200


def _arg_weights(exs: Sequence[_Ex]) -> dict[str, float]:
    """Per argument: how much less alike two answers are when the argument differs, scaled so the most
    deciding argument weighs 1. Measured on pairs of calls that differ in that argument alone when
    every argument has enough of them, else on all pairs (two empty answers say nothing)."""
    picks = np.linspace(0, len(exs) - 1, min(len(exs), MAX_WEIGHT_CALLS)).astype(np.int64)
    calls = [exs[i].step for i in sorted(set(picks.tolist()))]
    tokens = [_answer_tokens(s) for s in calls]
    names = sorted({a for s in calls for a in s.action.arguments})
    same: dict[str, list[float]] = defaultdict(list)
    diff: dict[str, list[float]] = defaultdict(list)
    alone: dict[str, list[float]] = defaultdict(list)
    for i in range(len(calls)):
        for j in range(i + 1, len(calls)):
            a, b = calls[i].action.arguments, calls[j].action.arguments
            if a == b or not (tokens[i] or tokens[j]):
                continue
            sim = _jaccard(tokens[i], tokens[j])
            differing = [n for n in names if canonical(a.get(n)) != canonical(b.get(n))]
            if len(differing) == 1:
                alone[differing[0]].append(sim)
            for name in names:
                (diff if name in differing else same)[name].append(sim)
    if all(len(alone[n]) >= 3 for n in names):
        lift = {n: 1 - sum(alone[n]) / len(alone[n]) for n in names}
    else:
        lift = {
            n: sum(same[n]) / len(same[n]) - sum(diff[n]) / len(diff[n]) for n in names if same[n] and diff[n]
        }
    top = max(lift.values(), default=0.0)
    if top <= 0:
        return {}
    return {n: round(max(v / top, 0.05), 4) for n, v in sorted(lift.items())}


def _answer_tokens(step: Step) -> frozenset[str]:
    """An answer as a set of ``field=value`` (list positions dropped) or of words."""
    ok, value = parsed(step.observation.content)
    if ok and isinstance(value, dict | list):
        return frozenset(f"{re.sub(r'(^|[.])[0-9]+', '', p)}={v}" for p, v in leaves(value))
    return frozenset(step.observation.content.split())


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _most_common(exs: Sequence[_Ex]) -> tuple[str, bool, float]:
    counts = Counter((x.step.observation.content, x.step.observation.is_error) for x in exs)
    best = max(counts.values())
    content, is_err = min(k for k, v in counts.items() if v == best)
    return content, is_err, best / len(exs)


def _repeats(episodes: Sequence[Episode], tool: str, effects: Sequence[EffectRule]) -> tuple[float, int]:
    """How often a repeated call got the earlier answer (with what writes in between added), of how many."""
    same = total = 0
    for ep in episodes:
        last: dict[str, tuple[str, int]] = {}
        for pos, step in enumerate(ep.steps):
            if step.action.name != tool:
                continue
            key = canonical(step.action.arguments)
            if key in last:
                earlier, at = last[key]
                writes = [(s.action.name, dict(s.action.arguments), s.observation) for s in ep.steps[at:pos]]
                total += 1
                same += same_after_effects(
                    earlier, step.observation.content, step.action.arguments, effects, writes
                )
            last[key] = step.observation.content, pos
    return (same + SHARE_PRIOR) / (total + SHARE_PRIOR), total


def _function_rule(exs: Sequence[_Ex]) -> FunctionRule | None:
    best: FunctionRule | None = None
    arg_names = {k for x in exs for k, v in x.step.action.arguments.items() if isinstance(v, str)}
    for arg in sorted(arg_names):
        hits: Counter[str] = Counter()
        evaluated = 0
        for i, x in enumerate(exs):
            v = x.step.action.arguments.get(arg)
            value = safe_eval(v) if isinstance(v, str) and _ARITH.search(v) else None
            if value is None:
                if i >= 20 and not evaluated:
                    break  # not an expression argument
                continue
            evaluated += 1
            content = x.step.observation.content.strip()
            for name, fmt in FORMATTERS.items():
                if _try_format(fmt, value) == content:
                    hits[name] += 1
        if not hits:
            continue
        fmt, n = min(hits.items(), key=lambda kv: (-kv[1], FORMAT_RANK[kv[0]]))
        fail_text, fail_rate, unevaluated = _fails(exs, arg)
        rule = FunctionRule(
            arg=arg,
            fmt=fmt,
            accuracy=n / evaluated,
            support=evaluated,
            fail_text=fail_text,
            fail_rate=fail_rate,
            unevaluated=unevaluated,
        )
        if best is None or rule.accuracy > best.accuracy:
            best = rule
    return best


def _fails(exs: Sequence[_Ex], arg: str) -> tuple[str, float, int]:
    """The error a function tool answers when its argument is not an expression, how reliably, and on
    how many calls that was seen."""
    errors: Counter[str] = Counter()
    n = 0
    for x in exs:
        v = x.step.action.arguments.get(arg)
        if isinstance(v, str) and safe_eval(v) is None:
            n += 1
            if x.step.observation.is_error:
                errors[x.step.observation.content] += 1
    if not errors:
        return "", 0.0, n
    text, count = min(errors.items(), key=lambda kv: (-kv[1], kv[0]))
    return text, count / (n + SHARE_PRIOR), n


_ARITH = re.compile(r"\d\s*[-+*/%)]|[(]")


def _try_format(fmt, value: float | int) -> str | None:
    try:
        return fmt(value)
    except (ValueError, OverflowError):
        return None


# ---- links between a call and the objects its session read before -----------------------------


@dataclass(frozen=True)
class _Link:
    """Call ``ex`` has argument ``arg`` equal to field ``key`` of the latest earlier object ``base``."""

    ex: _Ex
    arg: str
    key: str
    source_tool: str
    base: dict[str, Json]
    same: bool


def _entity_links(episodes: Sequence[Episode]) -> dict[str, list[_Link | _Ex]]:
    """Per tool, every call (as ``_Ex``) followed by its links to earlier objects of its episode."""
    out: dict[str, list[_Link | _Ex]] = defaultdict(list)
    for e, ep in enumerate(episodes):
        seen: dict[str, list[tuple[int, str, str, dict[str, Json]]]] = defaultdict(list)
        for i, step in enumerate(ep.steps):
            tool = step.action.name
            ex = _Ex(e, i, step)
            out[tool].append(ex)
            answer = canonical_answer(step)
            for arg, v in step.action.arguments.items():
                if not isinstance(v, str | int) or isinstance(v, bool):
                    continue
                latest: dict[str, tuple[int, str, dict[str, Json]]] = {}
                for j, key, src_tool, obj in seen.get(canonical(v), ()):
                    latest[key] = (j, src_tool, obj)
                for key, (_, src_tool, obj) in sorted(latest.items()):
                    same = answer is not None and canonical(obj) == answer
                    out[tool].append(_Link(ex, arg, key, src_tool, obj, same))
            obj = as_dict(step.observation.content) if not step.observation.is_error else None
            if obj is not None:
                for key, v in obj.items():
                    if isinstance(v, str | int) and not isinstance(v, bool):
                        seen[canonical(v)].append((i, key, tool, obj))
    return out


def canonical_answer(step: Step) -> str | None:
    if step.observation.is_error:
        return None
    obj = as_dict(step.observation.content)
    return canonical(obj) if obj is not None else None


def _derive_rules(items: Sequence[_Link | _Ex], kinds: dict[str, frozenset[str]]) -> tuple[DeriveRule, ...]:
    opp: Counter[tuple[str, str, str]] = Counter()
    hit: Counter[tuple[str, str, str]] = Counter()
    for link in items:
        if isinstance(link, _Link):
            opp[(link.arg, link.key, link.source_tool)] += 1
            hit[(link.arg, link.key, link.source_tool)] += link.same
    rules = []
    for arg, key in sorted({(a, k) for a, k, _ in opp}):
        sources = sorted(
            t for a, k, t in opp if (a, k) == (arg, key) and hit[(a, k, t)] * 2 >= opp[(a, k, t)]
        )
        n = sum(opp[(arg, key, t)] for t in sources)
        h = sum(hit[(arg, key, t)] for t in sources)
        if h:
            precision = h / (n + SHARE_PRIOR)
            sources = _alike(sources, key, kinds)
            rules.append(DeriveRule(arg=arg, key=key, sources=tuple(sources), precision=precision, support=h))
    rules.sort(key=lambda r: (-r.precision, -r.support, r.arg, r.key))
    return tuple(rules[:3])


# ---- templates --------------------------------------------------------------------------------


def _templates(
    episodes: Sequence[Episode], exs: Sequence[_Ex], items: Sequence[_Link | _Ex]
) -> tuple[TemplateRule, ...]:
    answers = [x for x in exs if canonical_answer(x.step) is not None]
    if not answers:
        return ()
    options: dict[tuple[str, str], list[tuple[_Ex, dict[str, Json] | None]]] = {("", ""): []}
    sources: dict[tuple[str, str], set[str]] = defaultdict(set)
    for x in answers:
        options[("", "")].append((x, None))
    for link in items:
        if isinstance(link, _Link) and canonical_answer(link.ex.step) is not None:
            options.setdefault((link.arg, link.key), []).append((link.ex, link.base))
            sources[(link.arg, link.key)].add(link.source_tool)
    rules = []
    for (arg, key), examples in sorted(options.items()):
        rule = _fit_template(episodes, examples, len(answers))
        if rule is not None:
            rules.append(
                rule.model_copy(
                    update={"base_arg": arg, "base_key": key, "sources": tuple(sorted(sources[(arg, key)]))}
                )
            )
    rules.sort(key=lambda r: (-r.accuracy, -r.support, r.base_arg, r.base_key))
    based = [r for r in rules if r.base_arg][:2]
    plain = [r for r in rules if not r.base_arg][:1]
    return tuple(sorted(based + plain, key=lambda r: (-r.accuracy, r.base_arg == "")))


def _fit_template(
    episodes: Sequence[Episode], examples: Sequence[tuple[_Ex, dict[str, Json] | None]], n_answers: int
) -> TemplateRule | None:
    present: Counter[str] = Counter()
    parsed_answers = []
    for x, base in examples:
        ans = as_dict(x.step.observation.content)
        if ans is None:
            continue
        parsed_answers.append((x.step.action.arguments, ans, base, x))
        present.update(ans.keys())
    if not parsed_answers:
        return None
    n = len(parsed_answers)
    ops = [_key_op(episodes, k, parsed_answers) for k in sorted(present) if present[k] * 2 >= n]
    right = sum(op.accuracy * present[op.key] for op in ops)
    total = sum(present.values())
    coverage = n / n_answers
    return TemplateRule(keys=tuple(ops), accuracy=right / total * coverage if total else 0.0, support=n)


_Example = tuple[dict[str, Json], dict[str, Json], dict[str, Json] | None, _Ex]


def _key_op(episodes: Sequence[Episode], key: str, examples: Sequence[_Example]) -> KeyOp:
    votes: Counter[tuple[str, str]] = Counter()
    consts: Counter[str] = Counter()
    const_values: dict[str, Json] = {}
    enriched: dict[str, list[_Example]] = defaultdict(list)
    appended: list[tuple[dict[str, Json], list[Json], dict[str, Json], dict[str, Json]]] = []
    n = 0
    for example in examples:
        args, ans, base, _ = example
        if key not in ans:
            continue
        n += 1
        value = ans[key]
        cv = canonical(value)
        consts[cv] += 1
        const_values[cv] = value
        if base is not None and key in base and canonical(base[key]) == cv:
            votes[("src", "")] += 1
        elif base is not None and isinstance(value, list) and _appends(value, old := base.get(key)):
            votes[("append", "")] += 1
            appended.append((args, value[len(old) if isinstance(old, list) else 0 :], ans, base))
        for a, av in args.items():
            if canonical(av) == cv:
                votes[("arg", a)] += 1
            elif _enriches(value, av):
                votes[("enrich", a)] += 1
                enriched[a].append(example)
    rank = {"src": 0, "arg": 1, "enrich": 2, "append": 3}
    when_arg, when_increase = (
        _append_condition(key, examples) if votes[("append", "")] and votes[("src", "")] else ("", False)
    )
    if when_arg:
        votes[("append", "")] += votes.pop(("src", ""))
    best = min(votes.items(), key=lambda kv: (-kv[1], rank[kv[0][0]], kv[0][1])) if votes else None
    cv, cn = min(consts.items(), key=lambda kv: (-kv[1], kv[0]))
    if best is not None and best[1] >= cn:
        (op, arg), count = best
        if op == "enrich":
            keys, paths, order = _join_paths(episodes, key, arg, enriched[arg])
            return KeyOp(
                key=key,
                op="enrich",
                arg=arg,
                item_keys=keys,
                item_paths=paths,
                item_order=order,
                accuracy=count / n,
            )
        if op == "append":
            return KeyOp(
                key=key,
                op="append",
                item_fields=_append_fields(key, appended, when_arg),
                when_arg=when_arg,
                when_increase=when_increase,
                accuracy=count / n,
            )
        return KeyOp(key=key, op="src" if op == "src" else "arg", arg=arg, accuracy=count / n)
    if cn >= 2 and cn * 2 > n:
        return KeyOp(key=key, op="const", value=const_values[cv], accuracy=cn / n)
    return KeyOp(key=key, op="neighbor", accuracy=0.0)


def _append_condition(key: str, examples: Sequence[_Example]) -> tuple[str, bool]:
    """(a numeric argument, whether it is measured against the object's field of that name) such that the
    mutation appended to ``key`` exactly when the argument was positive, or else exactly when it exceeded
    that field (and kept the list as it was otherwise), on all such calls; ("", False) when none."""
    outcomes: list[tuple[dict[str, Json], dict[str, Json], bool]] = []
    for args, ans, base, _ in examples:
        if base is None or key not in ans or key not in base:
            continue
        if _appends(ans[key], base[key]):
            outcomes.append((args, base, True))
        elif canonical(ans[key]) == canonical(base[key]):
            outcomes.append((args, base, False))
    if len(outcomes) < 2:
        return "", False
    names = sorted({a for args, _, _ in outcomes for a in args})
    for increase in (False, True):
        for a in names:
            if all(raised(args, base, a, increase) == ok for args, base, ok in outcomes):
                return a, increase
    return "", False


def raised(args: dict[str, Json], base: dict[str, Json] | None, arg: str, increase: bool) -> bool | None:
    """Whether numeric argument ``arg`` is positive, or (``increase``) above the object's field of that
    name; None when a number is missing."""
    given = args.get(arg)
    floor = (base or {}).get(arg) if increase else 0
    numbers = isinstance(given, int | float) and isinstance(floor, int | float)
    if not numbers or isinstance(given, bool) or isinstance(floor, bool):
        return None
    return given > floor


def _appends(value: Json, old: Json) -> bool:
    """``value`` is the list ``old`` with items added at the end."""
    return (
        isinstance(value, list)
        and isinstance(old, list)
        and len(value) > len(old)
        and value[: len(old)] == old
    )


def _append_fields(
    key: str,
    appended: Sequence[tuple[dict[str, Json], list[Json], dict[str, Json], dict[str, Json]]],
    when_arg: str = "",
) -> dict[str, str]:
    """Fields of the item a mutation appends that are known in advance: ``@arg`` (that argument's value),
    ``=json`` (a constant), ``^first`` / ``^last`` (the field of the list's first / last item before) or
    ``#formula`` (arithmetic over numbers of the arguments, the answer and the object before, see
    ``numeric_features``); other fields are left out. Of formulas that agree as often, one reading the
    argument that decides whether the item is appended (``when_arg``) is preferred."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    n = 0
    for args, items, ans, base in appended[:100]:
        if not items or not isinstance(items[0], dict):
            continue
        n += 1
        features = numeric_features(args, {k: v for k, v in ans.items() if k != key}, base)
        before = base.get(key) if base else None
        ends = [("^first", before[0]), ("^last", before[-1])] if isinstance(before, list) and before else []
        for field, value in items[0].items():
            votes[field][f"={canonical(value)}"] += 1
            for how, item in ends:
                if isinstance(item, dict) and field in item and canonical(item[field]) == canonical(value):
                    votes[field][how] += 1
            for a, av in args.items():
                if canonical(av) == canonical(value):
                    votes[field][f"@{a}"] += 1
            if isinstance(value, int | float) and not isinstance(value, bool):
                votes[field].update(f"#{f}" for f in formulas_giving(features, value))
    fields = {}
    for field, c in sorted(votes.items()):
        how, count = min(
            c.items(),
            key=lambda kv: (
                -kv[1],
                kv[0][0] != "@",
                kv[0][0] != "=",
                not when_arg or f".{when_arg}|" not in kv[0],
                len(kv[0]),
                kv[0],
            ),
        )
        if count * 2 > n and count >= 2:
            fields[field] = how
    return fields


def numeric_features(
    args: dict[str, Json], answer: dict[str, Json], base: dict[str, Json] | None
) -> dict[str, float]:
    """Named numbers a derived field may be computed from: numeric top-level fields, list lengths and
    sums of a numeric field over a list of objects, of the arguments, the answer, the object before."""
    out: dict[str, float] = {}
    for src, obj in (("arg", args), ("ans", answer), ("base", base or {})):
        for k, v in obj.items():
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[f"{src}.{k}"] = v
            elif isinstance(v, list):
                out[f"len:{src}.{k}"] = len(v)
                fields = set.intersection(*(set(i) for i in v if isinstance(i, dict))) if v else set()
                for f in sorted(fields):
                    nums = [x for i in v if isinstance(i, dict) and isinstance(x := i[f], int | float)]
                    if len(nums) == len(v) and not any(isinstance(x, bool) for x in nums):
                        out[f"sum:{src}.{k}.{f}"] = sum(nums)
    return out


def formulas_giving(features: dict[str, float], value: float) -> list[str]:
    """The formulas that compute ``value`` from ``features``: ``id|x``, ``neg|x``, ``diff|x|y``,
    ``mul|x|z`` and ``diffmul|x|y|z`` (``(x - y) * z``), z being a list length, or a constant rate
    ``=c`` when x and y are one field after and before the call (a fee per unit added; c in whole
    cents, not -1, 0 or 1)."""
    names = sorted(features)
    counts = [n for n in names if n.startswith("len:")]
    found = []
    for x in names:
        fx = features[x]
        if _same(fx, value):
            found.append(f"id|{x}")
        if _same(-fx, value):
            found.append(f"neg|{x}")
        found += [f"mul|{x}|{z}" for z in counts if _same(fx * features[z], value)]
        for y in names:
            if y == x:
                continue
            d = fx - features[y]
            if _same(d, value):
                found.append(f"diff|{x}|{y}")
            found += [f"diffmul|{x}|{y}|{z}" for z in counts if _same(d * features[z], value)]
            rate = value / d if d and _raise_of(x, y) else 0.0
            if abs(rate) > 1 and _same(round(rate, 2), rate):
                found.append(f"diffmul|{x}|{y}|={round(rate, 2):g}")
    return found


def _raise_of(x: str, y: str) -> bool:
    """Whether features ``x`` and ``y`` are one field, as the call sets it and as the object had it."""
    source, _, field = x.partition(".")
    return source in ("arg", "ans") and y == f"base.{field}"


def evaluate_formula(formula: str, features: dict[str, float]) -> float | None:
    """The value of a formula from ``formulas_giving``; None when a number it needs is missing."""
    op, *names = formula.split("|")
    if any(n not in features and not n.startswith("=") for n in names):
        return None
    v = [float(n[1:]) if n.startswith("=") else features[n] for n in names]
    ops = {
        "id": lambda: v[0],
        "neg": lambda: -v[0],
        "mul": lambda: v[0] * v[1],
        "diff": lambda: v[0] - v[1],
        "diffmul": lambda: (v[0] - v[1]) * v[2],
    }
    return (
        ops[op]()
        if op in ops and len(v) == {"id": 1, "neg": 1}.get(op, 3 if op == "diffmul" else 2)
        else None
    )


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


def _join_paths(
    episodes: Sequence[Episode], key: str, arg: str, examples: Sequence[_Example]
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], tuple[str, ...]]:
    """The fields an enrich op adds to each argument item, where each is found most often in the
    objects the session read before (an object agreeing with the item on its given fields), and the
    most common order of a completed item's fields."""
    votes: dict[str, Counter[tuple[str, ...]]] = defaultdict(Counter)
    orders: Counter[tuple[str, ...]] = Counter()
    for args, ans, base, x in examples[:200]:
        old = base.get(key) if base else None
        objects = [o for o in old if isinstance(o, dict)] if isinstance(old, list) else []
        objects += list(earlier_objects(episodes[x.ep], x.pos))
        given_items, items = args[arg], ans[key]
        if not isinstance(given_items, list) or not isinstance(items, list):
            continue
        for given, item in zip(given_items, items, strict=False):
            if not isinstance(given, dict) or not isinstance(item, dict):
                continue
            orders[tuple(item)] += 1
            for field, value in item.items():
                if field in given:
                    continue
                votes[field][(field,)] += 0  # the field exists even when no source is found
                path = _find_path(given, field, value, objects, args)
                if path is not None:
                    votes[field][path] += 1
    keys = tuple(sorted(votes))
    paths = {f: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for f, c in votes.items()}
    order = min(orders.items(), key=lambda kv: (-kv[1], kv[0]))[0] if orders else ()
    return keys, paths, order


def _find_path(
    given: dict[str, Json], field: str, value: Json, objects: Sequence[dict[str, Json]], args: dict[str, Json]
) -> tuple[str, ...] | None:
    arg_of = {str(v): a for a, v in args.items() if scalar(v)}
    for obj in objects:
        shared = [k for k in given if k in obj]
        if not shared or any(obj[k] != given[k] for k in shared):
            continue
        if field in obj and obj[field] == value:
            return (field,)
        for k1, sub in obj.items():
            if not isinstance(sub, dict):
                continue
            for k2, v2 in sub.items():
                if v2 == value and type(v2) is type(value):
                    return (k1, f"@{arg_of[k2]}" if k2 in arg_of else k2)
    return None


def _enriches(value: Json, arg_value: Json) -> bool:
    """``value`` is the list ``arg_value`` of objects, each with more fields added."""
    if (
        not isinstance(value, list)
        or not isinstance(arg_value, list)
        or not value
        or len(value) != len(arg_value)
    ):
        return False
    for item, given in zip(value, arg_value, strict=True):
        if not isinstance(item, dict) or not isinstance(given, dict) or not given:
            return False
        if any(k not in item or item[k] != v for k, v in given.items()):
            return False
    return True


# ---- errors tied to the form of an argument -----------------------------------------------------

_DIGITS = re.compile(r"\d+")


def value_shape(value: str) -> str:
    """``value`` with each digit written ``#``: ``card_4242`` and ``card_1234567`` differ in form."""
    return _DIGITS.sub(lambda m: "#" * len(m.group()), value)


def _shape_rules(exs: Sequence[_Ex]) -> tuple[ShapeErrorRule, ...]:
    """Forms of an argument whose calls failed with one text, seen failing in at least two episodes
    (one value is enough: a form keeps the letters and the digit counts of the values)."""
    calls: Counter[tuple[str, str]] = Counter()
    failed_in: dict[tuple[str, str], set[int]] = defaultdict(set)
    errors: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for x in exs:
        for arg, v in x.step.action.arguments.items():
            if not isinstance(v, str) or not v or value_shape(v) == v:
                continue  # a form is an identifier with digits, not a plain word
            key = (arg, value_shape(v))
            calls[key] += 1
            if x.step.observation.is_error:
                errors[key][x.step.observation.content.replace(v, "{value}")] += 1
                failed_in[key].add(x.ep)
    rules = []
    for (arg, shape), texts in errors.items():
        template, count = min(texts.items(), key=lambda kv: (-kv[1], kv[0]))
        if count >= 2 and len(failed_in[(arg, shape)]) >= 2:
            rate = count / (calls[(arg, shape)] + SHARE_PRIOR)
            rules.append(ShapeErrorRule(arg=arg, shape=shape, template=template, rate=rate, support=count))
    return tuple(sorted(rules, key=lambda r: (-r.rate, r.arg, r.shape))[:8])


# ---- errors that depend on the state of the object a call names ------------------------------


def named_object(
    steps: Sequence[tuple[dict[str, Json], Observation]], arg_value: Json
) -> tuple[str, dict[str, Json]] | None:
    """The latest successful object answer among ``steps`` (arguments, observation; oldest first) with
    a top-level field equal to ``arg_value``, and that field's name."""
    if not isinstance(arg_value, str) or not arg_value:
        return None
    for _, obs in reversed(steps):
        obj = None if obs.is_error else as_dict(obs.content)  # cached: a session's answers parse once
        for key, v in (obj or {}).items():
            if v == arg_value and isinstance(v, str):
                return key, obj or {}
    return None


STATE_LOOKBACK = 64  # steps searched back for the object a call names (keeps learning linear)


def _state_rules(episodes: Sequence[Episode], exs: Sequence[_Ex]) -> tuple[StateErrorRule, ...]:
    """(argument, field = value) of the named object behind failures with one text, on two objects or
    more (trials of one task on one object prove nothing about the value), and how often calls on
    objects with that value failed so."""
    calls: Counter[tuple[str, str, str, str]] = Counter()
    errors: dict[tuple[str, str, str, str], Counter[str]] = defaultdict(Counter)
    failed_on: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    values: dict[tuple[str, str, str, str], Json] = {}
    for x in exs:
        steps = episodes[x.ep].steps[max(0, x.pos - STATE_LOOKBACK) : x.pos]
        before = [(s.action.arguments, s.observation) for s in steps]
        for arg, v in x.step.action.arguments.items():
            found = named_object(before, v)
            if found is None:
                continue
            key, obj = found
            for field, leaf in obj.items():
                if field == key or not scalar(leaf):
                    continue
                rule_key = (arg, key, field, canonical(leaf))
                values[rule_key] = leaf
                calls[rule_key] += 1
                if x.step.observation.is_error:
                    errors[rule_key][x.step.observation.content.replace(str(v), "{value}")] += 1
                    failed_on[rule_key].add(str(v))
    rules = []
    for rule_key, texts in errors.items():
        template, count = min(texts.items(), key=lambda kv: (-kv[1], kv[0]))
        if count >= 2 and len(failed_on[rule_key]) >= 2:
            arg, key, field, _ = rule_key
            rate = count / (calls[rule_key] + SHARE_PRIOR)
            rules.append(
                StateErrorRule(
                    arg=arg,
                    key=key,
                    field=field,
                    value=values[rule_key],
                    template=template,
                    rate=rate,
                    support=count,
                )
            )
    return tuple(sorted(rules, key=lambda r: (-r.rate, r.arg, r.field))[:8])


# ---- errors that persist within a session -----------------------------------------------------


def sticky_match(arg: str, args: dict[str, Json], earlier_args: dict[str, Json], earlier_text: str) -> bool:
    """Whether a call relates to an earlier failed call of its tool the way rule ``arg`` asks."""
    if arg:
        return arg in args and scalar_key(args[arg]) == scalar_key(earlier_args.get(arg))
    # the values the error named are all still there, and no setting both calls made changed
    named = {v for v in strings(earlier_args) if len(v) >= 3 and v in earlier_text}
    return (
        bool(named)
        and named <= set(strings(args))
        and not any(_changed_setting(v, earlier_args.get(k, v)) for k, v in args.items())
    )


def _changed_setting(value: Json, earlier: Json) -> bool:
    return not isinstance(value, dict | list) and not isinstance(earlier, dict | list) and value != earlier


def scalar_key(value: Json) -> str:
    return canonical(value)


def _sticky_rules(episodes: Sequence[Episode], tool: str) -> tuple[StickyErrorRule, ...]:
    opp: Counter[str] = Counter()
    hit: Counter[str] = Counter()
    for ep in episodes:
        errors: list[Step] = []
        for step in ep.steps:
            if step.action.name != tool:
                continue
            args = step.action.arguments
            conditions = ["", *sorted(args)]
            for arg in conditions:
                match = next(
                    (
                        e
                        for e in reversed(errors)
                        if e.action.arguments != args
                        and sticky_match(arg, args, e.action.arguments, e.observation.content)
                    ),
                    None,
                )
                if match is not None:
                    opp[arg] += 1
                    hit[arg] += match.observation.content == step.observation.content
            if step.observation.is_error:
                errors.append(step)
    rules = [StickyErrorRule(arg=a, hits=hit[a], opportunities=opp[a]) for a in set(opp) | {""}]
    return tuple(sorted(rules, key=lambda r: (-(r.hits + 1) / (r.opportunities + 2), r.arg))[:4])


def _retries(episodes: Sequence[Episode], tool: str) -> dict[str, float | int]:
    """How often a changed call after a failed one of the same tool succeeded."""
    ok = total = 0
    for ep in episodes:
        failed: Step | None = None
        for step in ep.steps:
            if step.action.name != tool:
                continue
            if failed is not None and step.action.arguments != failed.action.arguments:
                total += 1
                ok += not step.observation.is_error
            if step.observation.is_error:
                failed = step
    return {"retry_success": ok / (total + SHARE_PRIOR), "retry_support": total}


# ---- calls that fail on values nobody has shown ------------------------------------------------


def value_hash(value: str) -> int:
    return int.from_bytes(hashlib.blake2b(value.encode(), digest_size=8).digest(), "little")


class _Novelty:
    """Which values each task's episodes have shown, to ask: was this value new to the agent?

    Built on first use: only tools that ever failed ask.
    """

    def __init__(self, episodes: Sequence[Episode], group_by: str | None) -> None:
        self.episodes = episodes
        self.group_by = group_by
        self._tasks: dict[str, set[str]] | None = None
        self._first_seen: list[dict[str, int]] = []
        self._anagrams: dict[str, set[str]] = defaultdict(set)  # near-miss key -> values shown

    def _build(self) -> dict[str, set[str]]:
        if self._tasks is None:
            self._tasks = defaultdict(set)
            for ep in self.episodes:
                first: dict[str, int] = {}
                for i, step in enumerate(ep.steps):
                    for v in _step_strings(step):
                        self._tasks[v].add(self.group(ep))
                    for v in _answer_strings(step):
                        first.setdefault(v, i)
                self._first_seen.append(first)
            for v in self._tasks:
                if key := near_key(v):
                    self._anagrams[key].add(v)
        return self._tasks

    def near_miss(self, x: _Ex, value: str) -> bool:
        """Whether another value with ``value``'s characters, in another order, was shown by another task."""
        key = near_key(value)
        tasks = self._build()
        own = self.group(self.episodes[x.ep])
        return bool(key) and any(w != value and tasks[w] - {own} for w in self._anagrams.get(key, ()))

    def group(self, ep: Episode) -> str:
        return task_group(ep, self.group_by)

    def novel(self, x: _Ex, value: str) -> bool:
        tasks = self._build()
        ep = self.episodes[x.ep]
        if tasks.get(value, set()) - {self.group(ep)}:
            return False
        return self._first_seen[x.ep].get(value, x.pos) >= x.pos

    def rules(self, exs: Sequence[_Ex]) -> tuple[NovelErrorRule, ...]:
        if not any(x.step.observation.is_error for x in exs):
            return ()
        out = []
        arg_names = {k for x in exs for k in arg_specs(x.step.action.arguments)}
        for arg in sorted(arg_names):
            n = near = 0
            errors: Counter[str] = Counter()
            near_errors: Counter[str] = Counter()
            for x in exs:
                v = next((v for v in arg_values(x.step.action.arguments, arg) if self.novel(x, v)), None)
                if v is None:
                    continue
                n += 1
                is_near = self.near_miss(x, v)
                near += is_near
                if x.step.observation.is_error:
                    errors[x.step.observation.content.replace(v, "{value}")] += 1
                    near_errors[x.step.observation.content.replace(v, "{value}")] += is_near
            if errors:
                template, count = min(errors.items(), key=lambda kv: (-kv[1], kv[0]))
                rate = sum(errors.values()) / (n + SHARE_PRIOR)
                near_count = near_errors[template]
                out.append(
                    NovelErrorRule(
                        arg=arg,
                        template=template,
                        rate=rate,
                        support=count,
                        near_rate=near_count / (near + SHARE_PRIOR),
                        near_support=near_count,
                    )
                )
        return tuple(sorted(out, key=lambda r: (-r.rate, r.arg)))


NEAR_KEY = "\x00near:"  # prefix of a near-miss key among the known values' hashes


def near_key(value: str) -> str:
    """What a mistyped id shares with the real one: its characters, sorted (two digits swapped, or the
    digits reversed, give the same key). Empty for a value with fewer than 2 digits (no id to mistype)."""
    if sum(c.isdigit() for c in value) < 2:
        return ""
    return NEAR_KEY + "".join(sorted(value))


def arg_specs(args: dict[str, Json]) -> Iterable[str]:
    """Names of the string-valued arguments, and ``list[].field`` for string fields of list arguments'
    objects."""
    for k, v in args.items():
        if isinstance(v, str):
            yield k
        elif isinstance(v, list):
            for item in v:
                if isinstance(item, dict):
                    yield from (f"{k}[].{f}" for f, fv in item.items() if isinstance(fv, str))


def arg_values(args: dict[str, Json], spec: str) -> list[str]:
    """The non-empty strings an ``arg_specs`` name points at in ``args``."""
    name, _, field = spec.partition("[].")
    value = args.get(name)
    if not field:
        return [value] if isinstance(value, str) and value else []
    items = value if isinstance(value, list) else []
    return [v for i in items if isinstance(i, dict) and isinstance(v := i.get(field), str) and v]


def _step_strings(step: Step) -> Iterable[str]:
    """Values a successful call shows to exist (a failed call's arguments prove nothing)."""
    if not step.observation.is_error:
        yield from strings(step.action.arguments)
        yield from _answer_strings(step)


def _answer_strings(step: Step) -> set[str]:
    if step.observation.is_error:
        return set()
    ok, value = parsed(step.observation.content)
    if ok:
        return set(strings(value))
    return set(step.observation.content.split())


# ---- numeric checks: a call fails when the numbers it pays do not add up to what it costs -------------

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
CHECK_MIN_ACCURACY = 0.75  # rules this good are kept; the config decides which answer
CHECK_MAX_TERMS = 4
CHECK_CALLS_PER_TERM = 5  # fewer calls behind each term of a total: the terms fit those calls, not a rule


def check_features(args: dict[str, Json], objects: Sequence[dict[str, Json]]) -> dict[str, float]:
    """Numbers a call's total may be computed from: the arguments' numbers (``numeric_features``), one
    indicator per string argument value, and for a list argument of objects the sums over its items of
    the numbers of the objects read earlier that agree with each item (``join:arg.field``, a nested
    field keyed by an argument's value written ``@arg``); each also times each list's length."""
    out = numeric_features(args, {}, None)
    for k, v in args.items():
        if isinstance(v, str) and len(v) <= 40:
            out[f"is:{k}={v}"] = 1.0
        items = [i for i in v if isinstance(i, dict)] if isinstance(v, list) else []
        if not isinstance(v, list) or not items or len(items) != len(v):
            continue
        sums: dict[str, float] | None = None
        for item in items:
            leaves = _joined_leaves(item, objects, args)
            sums = (
                dict(leaves) if sums is None else {n: s + leaves[n] for n, s in sums.items() if n in leaves}
            )
        out.update({f"join:{k}.{n}": s for n, s in (sums or {}).items()})
    counts = [(n, c) for n, c in out.items() if n.startswith("len:")]
    for n, x in list(out.items()):
        if not n.startswith("len:"):
            for z, c in counts:
                out[f"{n}*{z}"] = x * c
    return out


def _joined_leaves(
    item: dict[str, Json], objects: Sequence[dict[str, Json]], args: dict[str, Json]
) -> dict[str, float]:
    """The numbers of the objects agreeing with ``item`` on at least one shared field (none disagreeing),
    each taken from the object sharing the most fields (the latest among equals)."""
    agreeing: list[tuple[int, int, dict[str, Json]]] = []
    for i, obj in enumerate(objects):
        shared = [k for k in item if k in obj]
        if shared and obj is not item and all(obj[k] == item[k] for k in shared):
            agreeing.append((-len(shared), i, obj))
    out: dict[str, float] = {}
    for _, _, obj in sorted(agreeing, key=lambda t: (t[0], t[1])):
        for name, value in _number_leaves(obj, args).items():
            out.setdefault(name, value)
    return out


def _number_leaves(obj: dict[str, Json], args: dict[str, Json]) -> dict[str, float]:
    by_value = {v: k for k, v in args.items() if isinstance(v, str)}
    out: dict[str, float] = {}
    for k, v in obj.items():
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[k] = v
        elif isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, int | float) and not isinstance(v2, bool) and k2 in by_value:
                    out[f"{k}.@{by_value[k2]}"] = v2
    return out


def check_total(rule: NumericCheckRule, features: dict[str, float]) -> float | None:
    """The total the rule computes; None when a number it needs is missing or a number every train
    call had the same differs (the rule never saw what that changes)."""
    if any(n not in features for n, _ in rule.terms):
        return None
    if any(n in features and not _same(features[n], v) for n, v in rule.fixed):
        return None
    return sum(c * features[n] for n, c in rule.terms)


def format_number(value: float) -> str:
    return str(round(value)) if abs(value - round(value)) < 1e-6 else str(round(value, 2))


def _numeric_check_rule(episodes: Sequence[Episode], exs: Sequence[_Ex]) -> NumericCheckRule | None:
    """The failure shown with two numbers, one of them a number of the arguments, whose other number
    (the total) a linear sum of ``check_features`` computes on its calls and equals the paid number on
    the tool's successes."""
    texts: Counter[str] = Counter()
    for x in exs:
        o = x.step.observation
        if o.is_error and len(_NUMBER.findall(o.content)) == 2:
            texts[_NUMBER.sub("#", o.content)] += 1
    if not texts:
        return None
    shape, n = texts.most_common(1)[0]
    if n < 2:
        return None
    failed = [
        x
        for x in exs
        if x.step.observation.is_error and _NUMBER.sub("#", x.step.observation.content) == shape
    ]
    # which argument number the text shows, and in which place
    votes: Counter[tuple[str, int]] = Counter()
    for x in failed:
        nums = [float(v) for v in _NUMBER.findall(x.step.observation.content)]
        for name, value in numeric_features(dict(x.step.action.arguments), {}, None).items():
            votes.update((name, i) for i, v in enumerate(nums) if _same(v, value))
    if not votes:
        return None
    (paid, place), hits = votes.most_common(1)[0]
    if hits < CHECK_MIN_ACCURACY * len(failed):
        return None
    rows: list[tuple[dict[str, float], float]] = []
    for x in exs:
        o, args = x.step.observation, dict(x.step.action.arguments)
        if o.is_error and _NUMBER.sub("#", o.content) != shape:
            continue
        features = check_features(args, earlier_objects(episodes[x.ep], x.pos))
        if paid not in features:
            continue
        total = float(_NUMBER.findall(o.content)[1 - place]) if o.is_error else features[paid]
        rows.append((features, total))
    if len(rows) < 4:
        return None
    terms, accuracy, support = _fit_terms(rows, exclude=paid)
    if not terms or accuracy < CHECK_MIN_ACCURACY or support < CHECK_CALLS_PER_TERM * len(terms):
        return None
    parts = _NUMBER.split(failed[0].step.observation.content)
    holes = ["{paid}", "{total}"] if place == 0 else ["{total}", "{paid}"]
    template = parts[0] + holes[0] + parts[1] + holes[1] + parts[2]
    values: dict[str, set[float]] = defaultdict(set)
    for features, _ in rows:
        for name, value in features.items():
            if name.startswith("arg."):
                values[name].add(value)
    fixed = tuple((n, next(iter(v))) for n, v in sorted(values.items()) if len(v) == 1)
    others = sum(
        x.step.observation.is_error and _NUMBER.sub("#", x.step.observation.content) != shape for x in exs
    )
    return NumericCheckRule(
        paid=paid,
        terms=terms,
        template=template,
        fixed=fixed,
        accuracy=accuracy,
        support=support,
        other_error_rate=others / len(exs),
    )


_RATE = re.compile(r"#diffmul\|(?:arg|ans)\.([^|]+)\|base\.\1\|=(-?[\d.]+)")


def unit_rates(knowledge: dict[str, ToolKnowledge]) -> dict[str, tuple[float, str]]:
    """Per count name: the fee per unit a write charges when it raises that count (an appended item's
    ``diffmul|x|base.x|=c`` formula), and the tool charging it (the first by name, when several do)."""
    rates: dict[str, tuple[float, str]] = {}
    for tool, k in sorted(knowledge.items()):
        for rule in k.templates:
            for op in rule.keys:
                if op.op != "append" or op.accuracy < CHECK_MIN_ACCURACY:
                    continue
                for how in op.item_fields.values():
                    if m := _RATE.fullmatch(how):
                        rates.setdefault(m[1], (float(m[2]), tool))
    return rates


def priced(rule: NumericCheckRule, rates: dict[str, tuple[float, str]]) -> NumericCheckRule:
    """``rule`` with each argument count that was 0 on all its train calls priced at the rate another
    tool charges per unit of a count of that name (``unit_rates``): the fee train could not show here
    (no call added one) is the fee shown there. The count is then no longer untested."""
    add = [
        (name, rates[name[4:]])
        for name, value in rule.fixed
        if name.startswith("arg.") and "*" not in name and value == 0 and name[4:] in rates
    ]
    if not add:
        return rule
    names = {name for name, _ in add}
    return rule.model_copy(
        update={
            "terms": rule.terms + tuple((name, rate) for name, (rate, _) in add),
            "fixed": tuple((n, v) for n, v in rule.fixed if n.split("*")[0] not in names),
            "carried": tuple((name, tool) for name, (_, tool) in add),
        }
    )


def _robust_fit(a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, int]:
    """Coefficients computing the most of ``y`` exactly from ``a``: least squares refitted on the calls
    it fits best (a few totals may follow another rule), each also tried rounded to whole numbers."""
    keep = np.ones(len(y), dtype=bool)
    best: tuple[np.ndarray, int] = (np.zeros(a.shape[1]), -1)
    for _ in range(4):
        if keep.sum() < a.shape[1]:
            break
        coef = np.linalg.lstsq(a[keep], y[keep], rcond=None)[0]
        for c in (np.round(coef, 4), np.round(coef)):
            exact = int(np.sum(np.abs(a @ c - y) <= 1e-3 * np.maximum(1.0, np.abs(y))))
            if exact > best[1]:
                best = (c, exact)
        residual = np.abs(a @ coef - y)
        keep = residual <= np.quantile(residual, 0.75)
    return best


def _fit_terms(
    rows: Sequence[tuple[dict[str, float], float]], exclude: str
) -> tuple[tuple[tuple[str, float], ...], float, int]:
    """Greedily chosen features (at most CHECK_MAX_TERMS, each known on at least half the calls) whose
    least-squares sum computes the most totals exactly; with its share of exact totals among the calls
    it applies to, and their number."""
    present: Counter[str] = Counter(n for f, _ in rows for n in f)
    candidates = sorted(
        n for n, c in present.items() if 2 * c >= len(rows) and n != exclude and exclude not in n
    )
    chosen: list[str] = []
    best: tuple[int, float, int, tuple[tuple[str, float], ...]] = (0, 0.0, 0, ())
    for _ in range(CHECK_MAX_TERMS):
        round_best = best
        for c in candidates:
            if c in chosen:
                continue
            names = [*chosen, c]
            usable = [(f, y) for f, y in rows if all(n in f for n in names)]
            if 2 * len(usable) < len(rows):
                continue
            a = np.asarray([[f[n] for n in names] for f, _ in usable], dtype=np.float64)
            y = np.asarray([t for _, t in usable], dtype=np.float64)
            coef, exact = _robust_fit(a, y)
            if exact > round_best[0]:
                terms = tuple(zip(names, coef.tolist(), strict=True))
                round_best = (exact, exact / len(usable), len(usable), terms)
        if round_best is best:
            break
        best = round_best
        chosen = [n for n, _ in best[3]]
        if best[1] >= 0.999:
            break
    return best[3], best[1], best[2]
