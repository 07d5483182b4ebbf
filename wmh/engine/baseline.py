"""The reference baseline: replay a recorded (tool, arguments) answer, else the tool's most common answer.

It is what the offline engine is measured against, computed in the same run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from wmh.core.jsonutil import canonical
from wmh.core.types import Action, Episode, Observation, SessionState


class ReplayBaseline:
    name = "replay-baseline"

    def __init__(self, episodes: Iterable[Episode]) -> None:
        self._exact: dict[tuple[str, str], list[tuple[str, Observation]]] = defaultdict(list)
        counts: dict[str, Counter[tuple[str, bool]]] = defaultdict(Counter)
        for ep in episodes:
            for step in ep.steps:
                key = (step.action.name, canonical(step.action.arguments))
                self._exact[key].append((ep.trace_id, step.observation))
                counts[step.action.name][(step.observation.content, step.observation.is_error)] += 1
        self._common = {tool: _most_common(c) for tool, c in counts.items()}

    def answer(self, state: SessionState, action: Action, *, exclude_trace: str = "") -> Observation:
        for trace_id, obs in self._exact.get((action.name, canonical(action.arguments)), ()):
            if trace_id != exclude_trace:
                return obs.model_copy(update={"source": "replay"})
        if action.name in self._common:
            content, is_error = self._common[action.name]
            return Observation(content=content, is_error=is_error, source="most-common")
        return Observation(
            content=f"Error: unknown tool {action.name!r}", is_error=True, source="unknown-tool"
        )


def _most_common(counter: Counter[tuple[str, bool]]) -> tuple[str, bool]:
    best = max(counter.values())
    return min(k for k, v in counter.items() if v == best)
