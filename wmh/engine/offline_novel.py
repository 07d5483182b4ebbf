"""Calls to a tool no train call used: does the tool exist, and what does it answer?

A world model meets tools its traces never exercised: one the agent was offered but never called,
one added since, or a name the agent made up. Which is likelier is learned from the tools train
called in one trace only, the tools seen for the first time (Good-Turing's estimate of the unseen
from the seen-once): when most of their first calls succeeded, a new tool is taken to exist; when
most failed, it is taken not to, and fails as they did (their shared failure, its name carried in).
A tool train's tool definitions offered, or the session declares, exists whatever the estimate.

A tool taken to exist answers as the known tool whose name shares the most words with it
(``toggle_wifi`` as ``toggle_data``, the same verb first), that tool's most common successful answer
with the lines it carries set from the session (``offline_lines``); with no such tool, an empty
success. Pure functions; no IO.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from pydantic import Field

from wmh.core.types import Episode, Frozen, Observation, Step
from wmh.engine.offline_knowledge import ToolKnowledge
from wmh.engine.offline_lines import carry

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
SOURCE = "novel-tool"


class NovelToolRule(Frozen):
    """What the train says of tools it never called (module doc)."""

    declared: tuple[str, ...] = Field(
        default=(), description="Tools train's tool definitions offered that no train call used"
    )
    rare: int = Field(default=0, description="Tools train called in one trace only")
    rare_ok: int = Field(default=0, description="Of those, the ones whose first call succeeded")
    error_template: str = Field(
        default="",
        description="The failure most failed first calls of those tools showed, the name as {value}",
    )
    error_support: int = Field(
        default=0, description="Rare tools whose first call failed with error_template"
    )

    def exists(self, tool: str, min_support: int) -> bool:
        """Whether a call to ``tool``, which no train call used, reaches a real tool."""
        return tool in self.declared or self.new_tools_exist(min_support)

    def new_tools_exist(self, min_support: int) -> bool:
        """Whether a tool nothing in train named is taken to exist: most rare tools' first calls succeeded."""
        return self.rare >= min_support and 2 * self.rare_ok > self.rare


def learn_novel_tools(episodes: Sequence[Episode]) -> NovelToolRule:
    """The rule for tools no train call used, from the tools train called in one trace only."""
    traces: dict[str, set[int]] = {}
    first: dict[str, Step] = {}
    offered: set[str] = set()
    for i, ep in enumerate(episodes):
        offered.update(t.name for t in ep.tools)
        for step in ep.steps:
            name = step.action.name
            if name:
                traces.setdefault(name, set()).add(i)
                first.setdefault(name, step)
    rare = [t for t, seen in traces.items() if len(seen) == 1]
    failed = [t for t in rare if first[t].observation.is_error]
    templates = Counter(
        text for t in failed if "{value}" in (text := first[t].observation.content.replace(t, "{value}"))
    )
    template, support = min(templates.items(), key=lambda kv: (-kv[1], kv[0]), default=("", 0))
    return NovelToolRule(
        declared=tuple(sorted(offered - set(traces))),
        rare=len(rare),
        rare_ok=len(rare) - len(failed),
        error_template=template,
        error_support=support,
    )


def novel_answer(
    rule: NovelToolRule,
    tool: str,
    knowledge: Mapping[str, ToolKnowledge],
    session: Iterable[str],
    min_support: int,
    *,
    offered: bool = False,
) -> Observation | None:
    """The answer to a call of ``tool``, which no train call used; None where the tool is taken not to
    exist and no failure was learned for that (the caller says the tool is unknown).
    ``session``: the session's answers so far, newest first; ``offered``: the session declared the tool."""
    if not offered and not rule.exists(tool, min_support):
        if rule.error_support < min_support:
            return None
        return Observation(content=rule.error_template.replace("{value}", tool), is_error=True, source=SOURCE)
    near = nearest_tool(tool, [t for t, k in knowledge.items() if k.common_ok])
    if near is None:
        return Observation(content="", source=SOURCE)
    k = knowledge[near]
    labels = [label for label, n in k.carried if n >= min_support]
    return Observation(content=carry(k.common_ok, labels, session), source=SOURCE)


def nearest_tool(tool: str, known: Iterable[str]) -> str | None:
    """The known tool whose name shares the most words with ``tool``'s (then: the same first word, the
    fewest other words, the name); None when none shares a word."""
    mine = name_words(tool)
    best: tuple[tuple[int, bool, int, str], str] | None = None
    for other in known:
        theirs = name_words(other)
        shared = len(set(mine) & set(theirs))
        if not shared:
            continue
        key = (-shared, theirs[:1] != mine[:1], len(set(theirs) - set(mine)), other)
        if best is None or key < best[0]:
            best = (key, other)
    return best[1] if best else None


def name_words(tool: str) -> list[str]:
    """The words of a tool name, lower-cased: ``get_userDetails`` → get, user, details."""
    return [w.lower() for w in _WORD.findall(tool)]
