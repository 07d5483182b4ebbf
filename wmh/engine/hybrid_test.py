from __future__ import annotations

import pytest

from wmh.core.types import Action, ActionKind, SessionState
from wmh.engine.hybrid import HybridConfig, HybridEngine, build_engine
from wmh.engine.llm import LLMEngine
from wmh.engine.llm_test import TOOLS, act, make_episodes, reply
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.providers import LLM, ScriptedProvider

STATE = SessionState(id="h1", task="check order o1", seed=1)


@pytest.fixture(scope="module")
def offline() -> OfflineEngine:
    return fit_offline(make_episodes())


def hybrid(offline: OfflineEngine, config: HybridConfig | None = None) -> HybridEngine:
    provider = ScriptedProvider(script=[reply("from the model")], cycle=True)
    return HybridEngine(offline, LLMEngine(LLM(provider), TOOLS, retriever=offline), config)


def test_replays_stay_local_and_the_rest_goes_to_the_model(offline: OfflineEngine) -> None:
    engine = hybrid(offline)
    seen = engine.answer(STATE, act("get_order", order_id="o1"))
    message = engine.answer(STATE, Action(kind=ActionKind.MESSAGE, content="hi"))
    unseen = engine.answer(STATE, act("search", q="something never recorded at all"))
    engine.close()
    assert seen.source == "replay" and '"o1"' in seen.content
    assert message.source == "message"
    assert unseen.source == "llm" and unseen.content == "from the model"
    report = engine.report()
    assert (report.steps, report.local_steps, report.model_steps) == (3, 2, 1)
    assert report.local_by_source == {"message": 1, "replay": 1}
    assert report.usage.provider_calls == 1 and report.usage.total.calls == 1
    assert report.cost_usd == report.usage.total.cost_usd


def test_the_local_set_is_configurable(offline: OfflineEngine) -> None:
    engine = hybrid(offline, HybridConfig(local_sources=frozenset()))
    obs = engine.answer(STATE, act("get_order", order_id="o1"))
    engine.close()
    assert obs.source == "llm" and engine.report().model_steps == 1 and engine.report().local_steps == 0


def test_build_engine_kinds(offline: OfflineEngine) -> None:
    llm = LLM(ScriptedProvider(script=[]))
    assert build_engine("offline", offline) is offline
    assert isinstance(build_engine("llm", offline, TOOLS, llm), LLMEngine)
    assert isinstance(build_engine("hybrid", offline, TOOLS, llm), HybridEngine)
    with pytest.raises(ValueError, match="needs an LLM"):
        build_engine("hybrid", offline)
