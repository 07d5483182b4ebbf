"""Edits chosen by leave-group-out score on the search split (what the deterministic reflector
proposes when its target can ``screen``).

Edits chosen by the fidelity a minibatch lost fit that minibatch: on the benchmark corpora they
raised validation and not held-out. Here every option is scored on the whole search split, each
episode answered by an engine that never saw its group (task), and a decision counts only by its
*leave-group-out* gain: each group is scored under the option the other groups choose, so an option
that wins on one task alone gains nothing. Two kinds of decision:

- per tool: its strategy order (as now, one strategy dropped, one moved last, or the default
  order). Answers are replayed with the recorded history before each step, so a tool's order
  changes that tool's answers only: one screened config per option (applied to every tool at once)
  scores it for every tool, and the tools' choices add up exactly;
- per knob: every other field (k, context, thresholds, margins, ...) at a few nearby values
  (``ladder``), against the current value on every step.

An option is taken only when its leave-group-out gain is at least ``MIN_GAIN`` steps of fidelity.
The proposals, best first: every tool's choice at once (one larger-evidence edit), then each
decision alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args, get_origin

from annotated_types import Ge, Le

from wmh.engine.offline_config import REFIT_FIELDS, STRATEGIES, OfflineConfig
from wmh.optimize.types import EpisodeOutcome, StepOutcome

MIN_GAIN = 1.0  # least leave-group-out gain behind an edit, in steps of fidelity (one step answered right)
EPS = 1e-9

KNOBS = tuple(
    n
    for n in OfflineConfig.model_fields
    if n not in {*REFIT_FIELDS, "schema_version", "strategy_order", "tool_strategies"}
)
Screened = Sequence[tuple[str, EpisodeOutcome]]
Screen = Callable[[OfflineConfig], Screened]


@dataclass(frozen=True)
class Decision:
    """One screened choice: the config update, its leave-group-out gain (steps), and why."""

    key: str
    gain: float
    note: str
    update: Mapping[str, object]
    tool: str = ""


def lgo(options: Mapping[str, Mapping[str, float]], current: str) -> tuple[str, float]:
    """(the option all groups choose, its leave-group-out gain over ``current``).

    ``options``: option → group → fidelity summed over the steps it decides (same steps for every
    option). Each group is scored under the option chosen on the other groups (ties keep
    ``current``); the gain is that total minus ``current``'s.
    """
    totals = {o: sum(u.values()) for o, u in options.items()}
    groups = sorted({g for u in options.values() for g in u})

    def pick(left_out: str | None) -> str:
        best, best_v = current, totals[current] - options[current].get(left_out or "", 0.0)
        for o in sorted(options):
            v = totals[o] - options[o].get(left_out or "", 0.0)
            if v > best_v + EPS:
                best, best_v = o, v
        return best

    gain = sum(options[pick(g)].get(g, 0.0) - options[current].get(g, 0.0) for g in groups)
    return pick(None), gain


def by_tool_group(screened: Screened) -> dict[str, dict[str, float]]:
    """tool → group → fidelity summed over the tool's steps in the group."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for group, o in screened:
        for s in o.steps:
            out[s.tool][group] += s.fidelity
    return out


def by_group(screened: Screened) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for group, o in screened:
        out[group] += sum(s.fidelity for s in o.steps)
    return out


def tool_options(cfg: OfflineConfig, tools: Sequence[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    """option → tool → its strategy order under the option (only tools whose order it changes)."""
    options: dict[str, dict[str, tuple[str, ...]]] = {}
    for s in STRATEGIES:
        dropped, last = {}, {}
        for t in tools:
            order = cfg.order_for(t)
            if s in order:
                dropped[t] = tuple(x for x in order if x != s)
                moved = (*dropped[t], s)
                if moved != order:
                    last[t] = moved
        options[f"without {s}"] = dropped
        options[f"{s} last"] = last
    options["the default order"] = {
        t: cfg.strategy_order for t in tools if cfg.order_for(t) != cfg.strategy_order
    }
    return {o: m for o, m in options.items() if m}


def per_tool_decisions(cfg: OfflineConfig, screen: Screen, current: Screened) -> list[Decision]:
    """Each tool's best strategy order by leave-group-out gain (only gains of ``MIN_GAIN`` or more)."""
    base = by_tool_group(current)
    tools = sorted(base)
    scored: dict[str, dict[str, dict[str, float]]] = {}
    orders = tool_options(cfg, tools)
    for option, changed in orders.items():
        screened = screen(
            cfg.model_copy(update={"tool_strategies": {t: cfg.order_for(t) for t in tools} | changed})
        )
        scored[option] = by_tool_group(screened)
    out = []
    for t in tools:
        options = {"current": base[t]} | {o: scored[o][t] for o in orders if t in orders[o]}
        chosen, gain = lgo(options, "current")
        if chosen != "current" and gain >= MIN_GAIN:
            out.append(
                Decision(
                    f"tool:{t}:{chosen}",
                    gain,
                    f"{t}: {chosen} (+{gain:.2f} steps left out by group)",
                    {"tool_strategies": {**cfg.tool_strategies, t: orders[chosen][t]}},
                    tool=t,
                )
            )
    return out


def ladder(cfg: OfflineConfig, name: str) -> list[object]:
    """The values a knob is screened at beside its own: a step either way, within its bounds."""
    field = OfflineConfig.model_fields[name]
    value = getattr(cfg, name)
    lo = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    hi = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if isinstance(value, bool):
        found: set[object] = {not value}
    elif get_origin(field.annotation) is Literal:
        found = set(get_args(field.annotation))
    elif isinstance(value, int):
        found = {value - 1, value + 1} if value <= 3 else {value // 2, value * 2}
    elif isinstance(value, float) and lo is not None and hi is not None:
        found = {round(value - 0.2, 3), round(value + 0.2, 3)}
    elif isinstance(value, float) and lo is not None:
        found = {round(value / 2, 3), round(value * 2, 3) or 0.1}
    elif isinstance(value, float):
        found = {round(value - 0.25, 3), round(value + 0.25, 3)}
    else:
        return []
    inside = [v for v in found if (lo is None or v >= lo) and (hi is None or v <= hi)]
    return sorted((v for v in inside if v != value), key=str)


def knob_decisions(cfg: OfflineConfig, screen: Screen, current: Screened) -> list[Decision]:
    """Each knob (every field but the refit ones and the orders) at its best value on its ladder by
    leave-group-out gain (only gains of ``MIN_GAIN`` or more)."""
    base = by_group(current)
    out = []
    for name in KNOBS:
        options: dict[str, Mapping[str, float]] = {"current": base}
        values: dict[str, object] = {}
        for v in ladder(cfg, name):
            values[repr(v)] = v
            options[repr(v)] = by_group(screen(cfg.model_copy(update={name: v})))
        chosen, gain = lgo(options, "current")
        if chosen != "current" and gain >= MIN_GAIN:
            note = f"{name} {getattr(cfg, name)!r} -> {chosen} (+{gain:.2f} steps left out by group)"
            out.append(Decision(f"knob:{name}", gain, note, {name: values[chosen]}))
    return out


def bundle(cfg: OfflineConfig, decisions: Sequence[Decision]) -> Decision | None:
    """Every per-tool decision at once (their gains add up: a tool's order changes its answers only)."""
    tools = [d for d in decisions if d.tool]
    if len(tools) < 2:
        return None
    orders = dict(cfg.tool_strategies)
    for d in tools:
        update = d.update["tool_strategies"]
        assert isinstance(update, dict)
        orders[d.tool] = update[d.tool]
    gain = sum(d.gain for d in tools)
    notes = "; ".join(d.note for d in sorted(tools, key=lambda d: -d.gain))
    return Decision(
        "tools", gain, f"{len(tools)} tools' strategy orders: {notes}", {"tool_strategies": orders}
    )


def steps_of(screened: Screened) -> list[StepOutcome]:
    return [s for _, o in screened for s in o.steps]
