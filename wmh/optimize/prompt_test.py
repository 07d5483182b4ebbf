from __future__ import annotations

import re

import orjson
import pytest

from wmh.build.split import split_episodes
from wmh.core.types import Episode, ToolDef
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.engine.offline_config import OfflineConfig
from wmh.engine.prompt import DEFAULT_ENV_PROMPT
from wmh.optimize import (
    PROMPT_COMPONENT,
    PROMPT_MAX_CHARS,
    InvalidCandidate,
    OptimizeResult,
    OptimizeSettings,
    PromptTarget,
    optimize_prompt,
)
from wmh.providers import LLM, Completion, CompletionRequest, LLMConfig, ScriptedProvider, Usage

GROUP = "task_id"
MAGIC = "Copy the most similar recorded answer."
GOOD = f"You play every tool of the environment. {MAGIC}"
_EXAMPLE = re.compile(r"\n→( \(error\))? (.*)")


class FakeModel(ScriptedProvider):
    """Plays the environment and the reflector. As the environment it copies the first recorded
    example when its prompt says ``MAGIC``, else answers something wrong; as the reflector (a
    request with the reflector's system text) it answers from its script."""

    def __init__(self, reflections: list[str]) -> None:
        super().__init__(script=reflections, cycle=True)
        self.engine_requests: list[CompletionRequest] = []

    async def complete(self, request: CompletionRequest) -> Completion:
        if request.stable_prefix.startswith("You improve one component"):
            return await super().complete(request)
        self.engine_requests.append(request)
        found = _EXAMPLE.search(request.messages[-1].content)
        reply = {"content": "no idea", "is_error": False, "state_note": ""}
        if found is not None and MAGIC in request.stable_prefix:
            reply = {"content": found.group(2), "is_error": bool(found.group(1)), "state_note": ""}
        return Completion(
            text=orjson.dumps(reply).decode(),
            model=self.model,
            finish_reason="stop",
            usage=Usage(input_tokens=10, output_tokens=10),
        )


def llm(provider: ScriptedProvider) -> LLM:
    return LLM(provider, LLMConfig(cache_mode="off"))


@pytest.fixture(scope="module")
def parts(corpus: list[Episode]) -> tuple[list[Episode], list[Episode], OfflineEngine]:
    split = split_episodes(corpus, 0.25, GROUP)
    return list(split.train), list(split.heldout), fit_offline(split.train, OfflineConfig(group_by=GROUP))


def search(
    parts: tuple[list[Episode], list[Episode], OfflineEngine],
    model: ScriptedProvider,
    budget: int = 60,
    reflect: ScriptedProvider | None = None,
) -> OptimizeResult:
    train, heldout, engine = parts
    return optimize_prompt(
        train,
        llm=llm(model),
        offline_engine=engine,
        tools=[ToolDef(name=t) for t in engine.tools],
        heldout=heldout,
        group_by=GROUP,
        settings=OptimizeSettings(budget=budget, minibatch=4, patience=6),
        reflect_llm=llm(reflect) if reflect is not None else None,
        workers=2,
    )


def test_a_better_prompt_is_found_with_one_model_for_both_roles(
    parts: tuple[list[Episode], list[Episode], OfflineEngine],
) -> None:
    model = FakeModel([GOOD])
    result = search(parts, model)
    assert result.component == PROMPT_COMPONENT and result.reflector == "llm:scripted"
    assert result.base_candidate == {PROMPT_COMPONENT: DEFAULT_ENV_PROMPT.strip()}
    assert result.best_candidate == {PROMPT_COMPONENT: GOOD}
    assert result.val_score_best > result.val_score_base and "accepted" in result.guard
    assert result.heldout_score_base is not None and result.heldout_score_best is not None
    assert result.heldout_score_best > result.heldout_score_base
    assert result.rollouts <= 60 + 2 * 4 + result.val_examples  # GEPA ends its last iteration
    assert any(r.stable_prefix.startswith(GOOD) for r in model.engine_requests)  # the candidate was sent
    assert all("Reply with one JSON object" in r.stable_prefix for r in model.engine_requests)


def test_invalid_reflector_answers_are_rejected_and_recorded(
    parts: tuple[list[Episode], list[Episode], OfflineEngine],
) -> None:
    reflect = ScriptedProvider(script=["   ", "x" * (PROMPT_MAX_CHARS + 1), f"```\n{GOOD}\n```"])
    result = search(parts, FakeModel([]), budget=80, reflect=reflect)
    messages = [r.message for r in result.rejections]
    assert "empty" in messages[0] and "not a valid candidate" in messages[0]
    assert f"at most {PROMPT_MAX_CHARS}" in messages[1]
    assert result.best_candidate[PROMPT_COMPONENT] == GOOD  # the fenced answer was read from its fence
    assert len(reflect.requests) >= 3


def test_prompt_blind_model_keeps_the_base_within_budget(
    parts: tuple[list[Episode], list[Episode], OfflineEngine],
) -> None:
    wrong = orjson.dumps({"content": "no idea", "is_error": False, "state_note": ""}).decode()
    model = ScriptedProvider(script=[wrong], cycle=True)
    reflect = ScriptedProvider(script=[GOOD, GOOD + " Be brief."], cycle=True)
    result = search(parts, model, budget=40, reflect=reflect)
    assert result.best_index == 0 and result.best_candidate == result.base_candidate
    assert result.guard.startswith("base kept")
    assert result.rollouts <= 40 + 2 * 4 + result.val_examples


def test_validate(parts: tuple[list[Episode], list[Episode], OfflineEngine]) -> None:
    target = PromptTarget(llm(FakeModel([])), parts[2])
    assert target.seed() == DEFAULT_ENV_PROMPT.strip()
    assert target.validate(f"  {GOOD}\n") == GOOD
    for bad, why in (("", "empty"), ("x" * (PROMPT_MAX_CHARS + 1), "at most"), ("```\nx\n```", "code fence")):
        with pytest.raises(InvalidCandidate, match=why):
            target.validate(bad)
    target.close()
