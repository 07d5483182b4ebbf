"""What the offline engine learned about each tool, in plain sentences (``wmh show``).

One line per rule the engine will act on under its configuration (rules below their thresholds are
left out: they never answer). Pure functions of the learned knowledge; no IO.
"""

from __future__ import annotations

from collections.abc import Iterator

from wmh.core.jsonutil import canonical
from wmh.engine.offline_config import OfflineConfig
from wmh.engine.offline_knowledge import KeyOp, TemplateRule, ToolKnowledge
from wmh.engine.offline_limits import counts
from wmh.engine.offline_novel import NovelToolRule

MAX_TEXT = 70
MAX_FIELDS = 12  # of a template's fields listed


def describe(k: ToolKnowledge, cfg: OfflineConfig) -> list[str]:
    """The rules of tool ``k`` the engine acts on, one sentence each, in the order it tries them."""
    return [line for part in _PARTS for line in part(k, cfg)]


def summary(k: ToolKnowledge) -> str:
    """Calls, failures and the most common answer, on one line."""
    return f"{k.calls} recorded calls, {k.error_rate:.0%} failed; most common answer ({k.common_share:.0%}): {short(k.common)}"


def unseen_tools(rule: NovelToolRule, cfg: OfflineConfig) -> str:
    """What a call to a tool no train call used gets, in one sentence."""
    seen = f"{rule.rare_ok} of {rule.rare} tools train called in one trace only succeeded on their first call"
    if rule.new_tools_exist(cfg.min_support):
        said = f"succeeds, answering as the known tool whose name shares most words with it ({seen})"
    elif rule.error_support >= cfg.min_support:
        said = f"fails with {short(rule.error_template)} ({seen}; {rule.error_support} failed so)"
    else:
        said = f"fails as an unknown tool ({seen})" if rule.rare else "fails as an unknown tool"
    offered = (
        f"; offered but never called, so taken to exist: {', '.join(rule.declared)}" if rule.declared else ""
    )
    return f"a tool no train call used {said}{offered}"


def short(text: str, limit: int = MAX_TEXT) -> str:
    one = " ".join(text.split())
    return repr(one if len(one) <= limit else one[: limit - 3] + "...")


def _answers(k: ToolKnowledge, cfg: OfflineConfig) -> Iterator[str]:
    for d in k.derive:
        if d.precision >= cfg.derive_min_precision and d.support >= cfg.min_support:
            yield (
                f"derive: answers with the object the session read from {'/'.join(d.sources)} whose "
                f"{d.key} is the call's {d.arg} ({d.precision:.0%} of {d.support} calls)"
            )
    if k.repeat_support and k.repeat_consistency >= cfg.repeat_min_consistency:
        yield (
            f"session: the same call again in a session gets the same answer "
            f"({k.repeat_consistency:.0%} of {k.repeat_support} repeats)"
        )
    f = k.function
    if f is not None and f.accuracy >= cfg.function_min_accuracy and f.support >= cfg.min_support:
        yield (
            f"function: answers the value of its {f.arg} argument (format {f.fmt!r}; "
            f"{f.accuracy:.0%} of {f.support} calls)"
        )
    if k.common_share >= cfg.constant_min_share and k.calls >= cfg.min_support:
        yield f"constant: always answers {short(k.common)} ({k.common_share:.0%} of calls)"
    for c in k.cutoffs:
        if c.calls >= cfg.min_support:
            yield (
                f"cutoff: a call whose {c.path} is in the past (on or before {c.last}, or the earliest "
                f"day another tool's cutoff allows) {'fails with' if c.is_error else 'answers'} "
                f"{short(c.template)} (all {c.calls} such calls; {c.later_share:.0%} of later ones)"
            )


def _asked(amount: str) -> str:
    """A limit's amount in words: ``len(passengers)`` is the count of passengers."""
    return f"count of {amount[4:-1]}" if counts(amount) else amount


def _held(field: str) -> str:
    """A limit's field in words: ``available_seats[cabin]`` is the entry the call's cabin picks."""
    name, _, arg = field.partition("[")
    return f"{name} entry the call's {arg[:-1]} picks" if arg else field


def _errors(k: ToolKnowledge, cfg: OfflineConfig) -> Iterator[str]:
    for s in k.shape_errors:
        if s.rate >= cfg.shape_error_min_rate and s.support >= cfg.min_support:
            yield f"error: a {s.arg} shaped {s.shape!r} fails with {short(s.template)} ({s.rate:.0%})"
    for e in k.state_errors:
        if e.rate >= cfg.state_error_min_rate and e.support >= cfg.min_support:
            yield (
                f"error: a call on an object whose {e.field} is {e.value!r} (named by {e.arg}) fails with "
                f"{short(e.template)} ({e.rate:.0%})"
            )
    for lim in k.limits:
        if lim.support >= cfg.min_support:
            taught = f"as {lim.source} failed" if lim.source else f"{lim.accuracy:.0%} of calls foretold"
            yield (
                f"limit: a {_asked(lim.amount)} above the {_held(lim.field)} of the object whose {lim.key} is "
                f"the call's {lim.name} fails with {short(lim.template)} ({taught})"
            )
    for ch in k.charges:
        if ch.fails >= cfg.min_support:
            like = "".join(f" with {key} {value!r}" for key, value in ch.where.items())
            taught = f"as {ch.source} failed" if ch.source else f"{ch.accuracy:.0%} of calls foretold"
            yield (
                f"charge limit: a write adding to {ch.list_key} an item whose {ch.amount_field} is above the "
                f"{ch.field} of the object{like} its {ch.name_field} names (by {ch.key}) fails with "
                f"{short(ch.template)} ({taught})"
            )
    for st in k.sticky_errors:
        precision = (st.hits + 2 * cfg.sticky_prior) / (st.opportunities + 2)
        if precision >= cfg.sticky_min_precision and (not st.arg or st.hits >= cfg.min_support):
            related = f"with the same {st.arg}" if st.arg else "still naming what the error named"
            tested = f"{st.hits} of {st.opportunities}" if st.opportunities else "untested in train: assumed"
            yield f"sticky error: after a failure, a call {related} fails the same way ({tested})"
    for n in k.novel_errors:
        if n.rate >= cfg.novel_error_min_rate and n.support >= cfg.min_support:
            yield f"error: a {n.arg} never seen before fails with {short(n.template)} ({n.rate:.0%})"
        elif n.near_rate >= cfg.novel_error_min_rate and n.near_support >= cfg.min_support:
            yield (
                f"error: a {n.arg} never seen before, with the characters of one seen in another order (a "
                f"mistyped id), fails with {short(n.template)} ({n.near_rate:.0%})"
            )
    c = k.numeric_check
    if c is not None and c.accuracy >= cfg.numeric_check_min_accuracy and c.support >= cfg.min_support:
        terms = " + ".join(f"{w:g} x {name}" for name, w in c.terms)
        carried = "".join(f"; {name} priced as {tool} charges it" for name, tool in c.carried)
        yield (
            f"numeric check: fails with {short(c.template)} unless {c.paid} = {terms} "
            f"({c.accuracy:.0%} of {c.support} calls{carried})"
        )


def _built(k: ToolKnowledge, cfg: OfflineConfig) -> Iterator[str]:
    for t in k.templates:
        if t.accuracy >= cfg.template_min_accuracy and t.support >= cfg.min_support:
            yield _template(t)
    c = k.collect
    if c is not None and c.gain > 0 and c.support >= cfg.min_support:
        on = ", ".join(f"{f} = {a}" for a, f in c.match)
        yield f"collect: lists every known object with {on} ({c.support} lists)"
    ch = k.chain
    if ch is not None and ch.support >= cfg.min_support:
        links = ", ".join(
            [f"{a} = next {b}" for a, b in ch.links]
            + [f"{a} {'at or ' if (a, b) in ch.ties else ''}before next {b}" for a, b in ch.before]
        )
        yield f"chain: lists chains of {ch.length} known objects linked by {links} ({ch.support} chains)"
    if k.owner is not None and k.owner.support >= cfg.min_support:
        yield (
            f"owner: {len(k.owner.fields)} fields copied from the object the session read whose "
            f"{k.owner.list_key} lists the call's {k.owner.arg}"
        )
    for path, arg, template in k.spelled:
        yield f"spelled: {'.'.join(map(str, path))} is spelled from the words of {arg} as {template!r}"


def _session(k: ToolKnowledge, _: OfflineConfig) -> Iterator[str]:
    for e in k.effects:
        yield f"effect: after {e.writer} for the same {e.arg}, its {e.field} joins {e.path} ({e.hits} of {e.reads} reads)"
    for label, support in k.carried:
        yield f"carried: the line {label!r} repeats the value the session last showed ({support} calls)"


def _template(t: TemplateRule) -> str:
    base = (
        f"a patch of the object the session read whose {t.base_key} is the call's {t.base_arg}"
        if t.base_arg
        else "built from the arguments"
    )
    ops = [_key_op(op) for op in t.keys if op.op != "src"]
    more = f"; ... ({len(ops) - MAX_FIELDS} more)" if len(ops) > MAX_FIELDS else ""
    fields = "; ".join(ops[:MAX_FIELDS]) + more
    return f"template: {base} ({t.accuracy:.0%} of {t.support} calls): {fields}"


def _key_op(op: KeyOp) -> str:
    match op.op:
        case "arg":
            return f"{op.key} = {op.arg}" if op.key != op.arg else op.key
        case "const":
            return f"{op.key} = {short(op.value if isinstance(op.value, str) else canonical(op.value), 24)}"
        case "enrich":
            return f"{op.key} from {op.arg}, each with {', '.join(op.item_keys)} looked up"
        case "append":
            when = f" when {op.when_arg} rises" if op.when_increase else ""
            return f"{op.key} gains an item{when or (f' when {op.when_arg} > 0' if op.when_arg else '')}"
        case _:
            return f"{op.key} from the nearest recorded answer"


_PARTS = (_answers, _errors, _built, _session)
