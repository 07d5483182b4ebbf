"""Reflectors: read graded outcomes of a minibatch and propose the next candidate text.

- ``DeterministicReflector`` (no model): turns the failures of the offline engine into one
  configuration edit. Each failed step names the strategy that answered it (``Observation.source``);
  the reflector lists the edits those failures argue for (demote a strategy for a tool whose answers
  from it were mostly wrong, raise the threshold of a rule whose answers were wrong, change ``k``,
  the context weight or the similarity floor when analogies were wrong, the error vote when their
  error flags were, the analogy margin when the most common answer was wrong, ...), weighs each by
  the fidelity lost on the steps it addresses, and returns the heaviest one not tried before. The
  same outcomes and history give the same proposal; there is no randomness. With ``screen=True``
  (``OptimizeSettings.screen``, with train answered leak-free by group, ``folds`` > 1) it
  ignores the minibatch and proposes the edits ``wmh.optimize.screen`` finds by leave-group-out
  gain over the whole search split: per-tool strategy orders and knob values, few and
  well-evidenced. Thorough, and several times slower: the screening runs outside the budget.
- ``LLMReflector``: shows the configured model the current candidate and the graded failures
  (predicted vs recorded, with the grader's feedback) and parses its answer as the new candidate.
  An answer that is not a valid candidate is reported (``Proposal.text`` is None, ``note`` says
  why) and the search goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections import defaultdict
from collections.abc import Callable, Coroutine, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Protocol, TypeVar

from wmh.core.types import Frozen
from wmh.engine.offline_config import OfflineConfig
from wmh.optimize.screen import (
    MIN_GAIN,
    Decision,
    Screened,
    bundle,
    knob_decisions,
    per_tool_decisions,
)
from wmh.optimize.target import InvalidCandidate, Target, config_text, parse_config
from wmh.optimize.types import StepOutcome
from wmh.providers import LLM, CompletionRequest, Message, ProviderError

SOURCE_STRATEGIES: dict[str, tuple[str, ...]] = {
    "derived": ("derive",),
    "session": ("session",),
    "replay": ("replay",),
    "function": ("function",),
    "constant": ("constant",),
    "sticky-error": ("sticky_error",),
    "limit": ("limit",),
    "cutoff": ("cutoff",),
    "error": ("novel_error", "shape_error", "state_error"),  # both answer with the tool's learned error
    "patch": ("template",),
    "template": ("template",),
    "collect": ("collect",),
    "chain": ("chain",),
    "analogy": ("analogy",),
}
THRESHOLD = {
    "derive": "derive_min_precision",
    "session": "repeat_min_consistency",
    "function": "function_min_accuracy",
    "constant": "constant_min_share",
    "sticky_error": "sticky_min_precision",
    "novel_error": "novel_error_min_rate",
    "shape_error": "shape_error_min_rate",
    "state_error": "state_error_min_rate",
    "template": "template_min_accuracy",
}
DEMOTE_WRONG = (
    0.5  # demote a strategy (for a tool, or everywhere) when at least this share of its answers is wrong
)
RAISE_WRONG = 0.25  # raise a rule's threshold when at least this share of its answers is wrong
MIN_WRONG = 2  # fewest wrong answers behind a demotion or a threshold move (one miss is no pattern)
MAX_FAILURES_SHOWN = 12
T = TypeVar("T")


class Runner(Protocol):
    """Runs a coroutine to completion from sync code (``run_sync``, or a target's own event loop)."""

    def __call__(self, make: Callable[[], Coroutine[object, object, T]]) -> T: ...


class Proposal(Frozen):
    """A reflector's answer: the new candidate text (None: nothing valid) and what it did or why not."""

    text: str | None
    note: str


class Reflector:
    """Base of reflectors: ``propose(target, current, outcomes, tried)``."""

    name = "reflector"
    minibatch_gate = True  # False: its proposals carry their own evidence; accept them on a tied minibatch

    def propose(
        self, target: Target, current: str, outcomes: Sequence[StepOutcome], tried: Set[str]
    ) -> Proposal:
        raise NotImplementedError


# ---- the deterministic reflector ------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """One configuration change, with the fidelity lost on the steps that argue for it."""

    weight: float
    key: str
    note: str
    update: Mapping[str, object]


class _Group:
    def __init__(self) -> None:
        self.steps: list[StepOutcome] = []

    @property
    def loss(self) -> float:
        return sum(1.0 - s.fidelity for s in self.steps)

    @property
    def mean(self) -> float:
        return sum(s.fidelity for s in self.steps) / len(self.steps) if self.steps else 1.0

    @property
    def wrong(self) -> int:
        return sum(1 for s in self.steps if s.failed)

    def wrong_share(self) -> float:
        return self.wrong / len(self.steps) if self.steps else 0.0


class DeterministicReflector(Reflector):
    """Failure-driven edits of an ``OfflineConfig`` (see the module docstring).

    ``screen``: where the target can screen (``OfflineTarget.screen``: the search split answered
    leak-free by group), choose edits by their leave-group-out gain there (``wmh.optimize.screen``)
    instead of by the minibatch's failures; the search then need not gate them on a minibatch.
    """

    name = "deterministic"

    def __init__(self, *, screen: bool = False) -> None:
        self.screen = screen
        self.minibatch_gate = not screen
        self._decided: dict[str, list[Decision]] = {}
        self.screened = 0  # configs screened on the whole search split (outside the metric-call budget)

    def propose(
        self, target: Target, current: str, outcomes: Sequence[StepOutcome], tried: Set[str]
    ) -> Proposal:
        try:
            cfg = parse_config(current)
        except InvalidCandidate as e:
            return Proposal(text=None, note=f"current candidate is not an OfflineConfig: {e}")
        screen = getattr(target, "screen", None) if self.screen else None
        if callable(screen) and screen(current):
            return self._screened(cfg, current, screen, tried)
        if not any(s.failed for s in outcomes):
            return Proposal(text=None, note="no failed step to learn from")
        for edit in sorted(edits(cfg, outcomes), key=lambda e: (-e.weight, e.key)):
            text = _apply(cfg, edit.update)
            if text is not None and text != current and text not in tried:
                return Proposal(text=text, note=edit.note)
        return Proposal(text=None, note="every edit these failures argue for was tried already")

    def _screened(
        self, cfg: OfflineConfig, current: str, screen: Callable[[str], Screened], tried: Set[str]
    ) -> Proposal:
        if current not in self._decided:
            screened: set[str] = set()

            def counted(c: OfflineConfig) -> Screened:
                screened.add(config_text(c))
                return screen(config_text(c))

            self._decided[current] = decide(cfg, counted)
            self.screened += len(screened)
        decisions = self._decided[current]
        if not decisions:
            return Proposal(text=None, note=f"no edit gains {MIN_GAIN} steps or more left out by group")
        for d in decisions:
            text = _apply(cfg, d.update)
            if text is not None and text != current and text not in tried:
                return Proposal(text=text, note=d.note)
        return Proposal(text=None, note="every edit that gains left out by group was tried already")


def decide(cfg: OfflineConfig, screen: Callable[[OfflineConfig], Screened]) -> list[Decision]:
    """The screened decisions for ``cfg``, best first: every tool's order at once, then each alone."""
    current = screen(cfg)
    found = per_tool_decisions(cfg, screen, current) + knob_decisions(cfg, screen, current)
    together = bundle(cfg, found)
    return ([together] if together else []) + sorted(found, key=lambda d: (-d.gain, d.key))


def edits(cfg: OfflineConfig, outcomes: Sequence[StepOutcome]) -> list[Edit]:
    """Every edit the failures in ``outcomes`` argue for, weighted by the fidelity they lost."""
    by_tool: dict[tuple[str, str], _Group] = defaultdict(_Group)
    by_source: dict[str, _Group] = defaultdict(_Group)
    for s in outcomes:
        by_tool[(s.tool, s.source)].steps.append(s)
        by_source[s.source].steps.append(s)
    found = _demotions(cfg, by_tool) + _global_demotions(cfg, by_source) + _thresholds(cfg, by_source)
    found += _analogy_edits(cfg, by_source.get("analogy"))
    found += _fallback_edits(cfg, by_source.get("most-common"))
    found += _error_edits(cfg, outcomes)
    found += _replay_edits(cfg, by_source.get("replay"))
    found += _template_edits(cfg, by_source.get("template"), by_source.get("patch"))
    return [e for e in found if e.weight > 0]


def _demotions(cfg: OfflineConfig, by_tool: dict[tuple[str, str], _Group]) -> list[Edit]:
    out = []
    for (tool, source), g in sorted(by_tool.items()):
        order = list(cfg.order_for(tool))
        names = [n for n in SOURCE_STRATEGIES.get(source, ()) if n in order]
        if not names or g.wrong < MIN_WRONG or g.wrong_share() < DEMOTE_WRONG:
            continue
        new, how = _demoted(order, names)
        tools = {**{t: list(o) for t, o in cfg.tool_strategies.items()}, tool: new}
        out.append(
            Edit(
                g.loss,
                f"demote:{tool}:{source}",
                f"{tool}: {g.wrong} of {len(g.steps)} answers from {source} were wrong "
                f"(fidelity {g.mean:.2f}); {how} for this tool",
                {"tool_strategies": dict(tools)},
            )
        )
    return out


def _global_demotions(cfg: OfflineConfig, by_source: dict[str, _Group]) -> list[Edit]:
    out = []
    for source, g in sorted(by_source.items()):
        order = list(cfg.strategy_order)
        names = [n for n in SOURCE_STRATEGIES.get(source, ()) if n in order]
        if not names or g.wrong < MIN_WRONG or g.wrong_share() < DEMOTE_WRONG:
            continue
        new, how = _demoted(order, names)
        out.append(
            Edit(
                g.loss * 0.85,
                f"demote:*:{source}",
                f"{g.wrong} of {len(g.steps)} answers from {source} were wrong across tools "
                f"(fidelity {g.mean:.2f}); {how}",
                {"strategy_order": new},
            )
        )
    return out


def _demoted(order: list[str], names: list[str]) -> tuple[list[str], str]:
    """The order with ``names`` moved last, or dropped when they are last already (the most common
    answer then answers what they answered)."""
    rest = [s for s in order if s not in names]
    moved = [s for s in order if s in names]
    label = "/".join(moved)
    if order[-len(moved) :] == moved:
        return rest, f"drop {label}"
    return [*rest, *moved], f"try {label} last"


def _thresholds(cfg: OfflineConfig, by_source: dict[str, _Group]) -> list[Edit]:
    out = []
    for source, g in sorted(by_source.items()):
        fields = [
            THRESHOLD[n]
            for n in SOURCE_STRATEGIES.get(source, ())
            if THRESHOLD.get(n) in OfflineConfig.model_fields
        ]
        if not fields or g.wrong < MIN_WRONG or g.wrong_share() < RAISE_WRONG:
            continue
        update = {f: round(float(getattr(cfg, f)) + (1.0 - float(getattr(cfg, f))) / 2, 3) for f in fields}
        update = {f: v for f, v in update.items() if v > float(getattr(cfg, f))}
        if not update:
            continue
        change = ", ".join(f"{f} {getattr(cfg, f)} -> {v}" for f, v in update.items())
        out.append(
            Edit(
                g.loss * 0.9,
                f"raise:{source}",
                f"{g.wrong} of {len(g.steps)} {source} answers were wrong (fidelity {g.mean:.2f}); {change}",
                update,
            )
        )
    return out


def _analogy_edits(cfg: OfflineConfig, g: _Group | None) -> list[Edit]:
    if g is None or not g.wrong:
        return []
    content = _Group()
    content.steps = [s for s in g.steps if s.failed and s.predicted_error == s.recorded_error]
    loss, why = content.loss, f"{content.wrong} analogies answered with the wrong content"
    out = [
        Edit(
            loss * 0.8,
            "k:up",
            f"{why}; look at more neighbors: k {cfg.k} -> {min(256, cfg.k * 2)}",
            {"k": min(256, cfg.k * 2)},
        ),
        Edit(
            loss * 0.7,
            "k:down",
            f"{why}; fewer neighbors: k {cfg.k} -> {max(1, cfg.k // 2)}",
            {"k": max(1, cfg.k // 2)},
        ),
        Edit(
            loss * 0.6,
            "context:up",
            f"{why}; weigh the session context more: context_weight {cfg.context_weight} -> {round(cfg.context_weight * 2 + 0.1, 3)}",
            {"context_weight": round(cfg.context_weight * 2 + 0.1, 3)},
        ),
        Edit(
            loss * 0.5,
            "context:down",
            f"{why}; weigh the session context less: context_weight {cfg.context_weight} -> {round(cfg.context_weight / 2, 3)}",
            {"context_weight": round(cfg.context_weight / 2, 3)},
        ),
    ]
    if cfg.analogy_min_similarity < 0.9:
        new = round(cfg.analogy_min_similarity + 0.2, 3)
        out.append(
            Edit(
                loss * 0.45,
                "similarity:up",
                f"{why}; answer the most common answer below similarity {new}",
                {"analogy_min_similarity": new},
            )
        )
    out.append(
        Edit(
            loss * 0.4,
            "margin:down",
            f"{why}; prefer the most common answer sooner: analogy_margin {cfg.analogy_margin} -> {round(cfg.analogy_margin - 0.1, 3)}",
            {"analogy_margin": round(cfg.analogy_margin - 0.1, 3)},
        )
    )
    flags = [s for s in g.steps if s.predicted_error != s.recorded_error]
    if flags:
        lost = sum(1.0 - s.fidelity for s in flags)
        up, down = min(256, cfg.error_vote_k * 2 + 1), max(1, cfg.error_vote_k // 2)
        out.append(
            Edit(
                lost,
                "vote:up",
                f"{len(flags)} analogies had the wrong error flag; error_vote_k {cfg.error_vote_k} -> {up}",
                {"error_vote_k": up},
            )
        )
        if down != cfg.error_vote_k:
            out.append(
                Edit(
                    lost * 0.6,
                    "vote:down",
                    f"{len(flags)} analogies had the wrong error flag; error_vote_k {cfg.error_vote_k} -> {down}",
                    {"error_vote_k": down},
                )
            )
    return out


def _fallback_edits(cfg: OfflineConfig, g: _Group | None) -> list[Edit]:
    if g is None or not g.wrong:
        return []
    new = round(cfg.analogy_margin + 0.25, 3)
    note = f"{g.wrong} of {len(g.steps)} most-common answers were wrong; let analogies answer more: analogy_margin {cfg.analogy_margin} -> {new}"
    out = [Edit(g.loss * 0.8, "margin:up", note, {"analogy_margin": new})]
    if cfg.analogy_min_similarity > -1.0:
        low = round(max(-1.0, cfg.analogy_min_similarity - 0.2), 3)
        out.append(
            Edit(
                g.loss * 0.5,
                "similarity:down",
                f"{g.wrong} most-common answers were wrong; analogy_min_similarity -> {low}",
                {"analogy_min_similarity": low},
            )
        )
    return out


def _error_edits(cfg: OfflineConfig, outcomes: Sequence[StepOutcome]) -> list[Edit]:
    """Errors the engine missed: let the error rules fire more readily."""
    missed = [s for s in outcomes if s.recorded_error and not s.predicted_error]
    if not missed:
        return []
    lost = sum(1.0 - s.fidelity for s in missed)
    out = []
    for field in (
        "novel_error_min_rate",
        "shape_error_min_rate",
        "state_error_min_rate",
        "sticky_min_precision",
    ):
        if field not in OfflineConfig.model_fields:
            continue
        old = float(getattr(cfg, field))
        new = round(max(0.0, old - 0.15), 3)
        if new < old:
            out.append(
                Edit(
                    lost * 0.7,
                    f"lower:{field}",
                    f"{len(missed)} recorded errors were answered as successes; {field} {old} -> {new}",
                    {field: new},
                )
            )
    return out


def _replay_edits(cfg: OfflineConfig, g: _Group | None) -> list[Edit]:
    if g is None or not g.wrong:
        return []
    up, down = min(50, cfg.context_turns * 2), max(0, cfg.context_turns - 2)
    why = f"{g.wrong} replays of a recorded call had another answer"
    out = [
        Edit(
            g.loss * 0.5,
            "turns:up",
            f"{why}; match more context: context_turns {cfg.context_turns} -> {up}",
            {"context_turns": up},
        )
    ]
    if down != cfg.context_turns:
        out.append(
            Edit(
                g.loss * 0.4,
                "turns:down",
                f"{why}; context_turns {cfg.context_turns} -> {down}",
                {"context_turns": down},
            )
        )
    return out


def _template_edits(cfg: OfflineConfig, *groups: _Group | None) -> list[Edit]:
    steps = [s for g in groups if g is not None for s in g.steps if s.failed]
    if not steps:
        return []
    lost = sum(1.0 - s.fidelity for s in steps)
    fill = "omit" if cfg.template_fill == "neighbor" else "neighbor"
    new = round(cfg.template_key_min_accuracy + (1.0 - cfg.template_key_min_accuracy) / 2, 3)
    return [
        Edit(
            lost * 0.6,
            "template:key",
            f"{len(steps)} built answers were wrong; template_key_min_accuracy -> {new}",
            {"template_key_min_accuracy": new},
        ),
        Edit(
            lost * 0.5,
            "template:fill",
            f"{len(steps)} built answers were wrong; template_fill -> {fill}",
            {"template_fill": fill},
        ),
    ]


def _apply(cfg: OfflineConfig, update: Mapping[str, object]) -> str | None:
    try:
        return config_text(OfflineConfig.model_validate({**cfg.model_dump(mode="json"), **update}))
    except ValueError:
        return None


# ---- the LLM reflector ----------------------------------------------------------------------

SYSTEM = """You improve one component of a simulator of a tool environment. The simulator answers an \
agent's tool calls; each answer is graded against the answer recorded in real traces. You are shown \
the component's current text and the graded steps it got wrong: the call, the answer the simulator \
gave (and which mechanism produced it), the recorded answer, and the grader's feedback.

Propose a better version of the component. Reply with the complete new text of the component and \
nothing else{json_hint}."""


class LLMReflector(Reflector):
    """Asks a model for the next candidate; an invalid answer becomes a rejection note."""

    def __init__(
        self,
        llm: LLM,
        *,
        describe: str = "",
        temperature: float = 0.0,
        max_tokens: int = 4096,
        runner: Runner | None = None,
    ) -> None:
        self.llm = llm
        self.runner: Runner = runner or run_sync
        self.describe = describe
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.name = f"llm:{llm.provider.name}"
        self.calls = 0

    def propose(
        self, target: Target, current: str, outcomes: Sequence[StepOutcome], tried: Set[str]
    ) -> Proposal:
        failures = [s for s in outcomes if s.failed]
        if not failures:
            return Proposal(text=None, note="no failed step to learn from")
        request = self.request(target, current, failures)
        self.calls += 1
        try:
            answer = self.runner(lambda: self.llm.complete(request, session="optimize")).text
        except ProviderError as e:
            return Proposal(text=None, note=f"{self.name}: the reflection call failed: {e}")
        return parse_answer(target, answer, current, tried, self.name)

    def request(self, target: Target, current: str, failures: Sequence[StepOutcome]) -> CompletionRequest:
        is_json = current.lstrip().startswith("{")
        hint = ": one JSON object, no prose, no code fence" if is_json else ""
        shown = sorted(failures, key=lambda s: (s.fidelity, s.tool))[:MAX_FAILURES_SHOWN]
        body = "\n\n".join(_failure_text(i + 1, s) for i, s in enumerate(shown))
        about = f"\n\nAbout this component:\n{self.describe}" if self.describe else ""
        user = (
            f"Component `{target.component}`, current text:\n{current}{about}\n\n"
            f"{len(failures)} graded steps were wrong; the worst {len(shown)}:\n\n{body}\n\n"
            f"Reply with the complete new text of `{target.component}`."
        )
        return CompletionRequest(
            stable_prefix=SYSTEM.format(json_hint=hint),
            messages=(Message(role="user", content=user),),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            json_output=is_json,
        )


def _failure_text(n: int, s: StepOutcome) -> str:
    flags = f"predicted is_error={s.predicted_error}, recorded is_error={s.recorded_error}"
    return (
        f"[{n}] tool {s.tool}({s.arguments}) answered by {s.source}; fidelity {s.fidelity:.2f}; {flags}\n"
        f"  predicted: {s.predicted}\n  recorded:  {s.recorded}\n  feedback:  {s.feedback}"
    )


_FENCE = re.compile(r"```[a-zA-Z]*\n(.*?)```", re.S)


def parse_answer(target: Target, answer: str, current: str, tried: Set[str], who: str) -> Proposal:
    """The candidate in a model's answer: the whole text, a fenced block, or the outermost {...}."""
    attempts = [answer.strip()]
    attempts += [m.strip() for m in _FENCE.findall(answer)]
    if "{" in answer and "}" in answer:
        attempts.append(answer[answer.index("{") : answer.rindex("}") + 1])
    first_error = ""
    for text in attempts:
        try:
            valid = target.validate(text)
        except InvalidCandidate as e:
            first_error = first_error or str(e)
            continue
        if valid == current:
            return Proposal(text=None, note=f"{who}: proposed the current candidate unchanged")
        if valid in tried:
            return Proposal(text=None, note=f"{who}: proposed a candidate tried before")
        return Proposal(text=valid, note=f"{who}: proposed a new candidate")
    snippet = answer.strip().replace("\n", " ")[:80]
    return Proposal(
        text=None, note=f"{who}: answer is not a valid candidate ({first_error}); answer began {snippet!r}"
    )


def run_sync(make: Callable[[], Coroutine[object, object, T]]) -> T:
    """Run a coroutine to completion from sync code, also when an event loop is already running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
