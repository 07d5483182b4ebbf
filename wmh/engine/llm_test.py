from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import orjson
import pytest

from wmh.core.types import Action, ActionKind, Episode, Observation, SessionState, Step, ToolDef, Turn
from wmh.engine.llm import FAILURE_SOURCE, LLMEngine, LLMEngineConfig, recorded_examples
from wmh.engine.offline import OfflineEngine, fit_offline
from wmh.engine.prompt import CORRECTIVE, DEFAULT_ENV_PROMPT
from wmh.eval.run import replay, seen_pairs
from wmh.providers import LLM, LLMConfig, ProviderError, ScriptedProvider, create_provider
from wmh.providers.conftest import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    MockServer,
    anthropic_message,
    json_response,
    openai_completion,
)

TOOLS = (
    ToolDef(name="get_order", description="Look up an order by id.", parameters={"type": "object"}),
    ToolDef(name="search", description="Full-text search."),
)


def act(name: str, **arguments: str) -> Action:
    return Action(kind=ActionKind.TOOL_CALL, name=name, arguments=dict(arguments))


def step(name: str, content: str, is_error: bool = False, **arguments: str) -> Step:
    return Step(action=act(name, **arguments), observation=Observation(content=content, is_error=is_error))


def order(oid: str, status: str = "open") -> str:
    return orjson.dumps({"order_id": oid, "status": status}).decode()


def make_episodes(n: int = 8, prefix: str = "t") -> list[Episode]:
    return [
        Episode(
            trace_id=f"{prefix}{i}",
            task=f"check order o{i}",
            steps=(
                step("get_order", order(f"o{i}"), order_id=f"o{i}"),
                step("search", f"result {i * 7919 % 97} for q{i}", q=f"words {i}"),
                step("get_order", "Error: order not found", True, order_id=f"x{i}"),
            ),
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def offline() -> OfflineEngine:
    return fit_offline(make_episodes())


def reply(content: str, is_error: bool = False, note: str = "") -> str:
    return orjson.dumps({"content": content, "is_error": is_error, "state_note": note}).decode()


def engine_with(
    *script: str, config: LLMEngineConfig | None = None, cycle: bool = False, sleep_s: float = 0.0
) -> LLMEngine:
    provider = ScriptedProvider(script=list(script), cycle=cycle, sleep_s=sleep_s)
    return LLMEngine(LLM(provider, LLMConfig(max_concurrency=64)), TOOLS, config=config)


def provider_of(engine: LLMEngine) -> ScriptedProvider:
    assert isinstance(engine.llm.provider, ScriptedProvider)
    return engine.llm.provider


STATE = SessionState(id="s1", task="check order o1", seed=42)


def test_valid_json_reply() -> None:
    with engine_with(reply('{"order_id":"o1"}')) as engine:
        obs = engine.answer(STATE, act("get_order", order_id="o1"))
    assert obs == Observation(content='{"order_id":"o1"}', is_error=False, source="llm")
    assert engine.stats().model_steps == 1 and engine.stats().retried == 0


def test_fenced_json_is_repaired() -> None:
    with engine_with("```json\n" + reply("Error: nope", True) + "\n```") as engine:
        obs = engine.answer(STATE, act("get_order", order_id="zz"))
    assert obs.content == "Error: nope" and obs.is_error and obs.source == "llm"
    assert engine.stats().repaired == 1 and len(provider_of(engine).requests) == 1


def test_garbage_then_valid_is_retried_with_a_corrective_message() -> None:
    with engine_with("The order exists, I think.", reply("ok")) as engine:
        obs = engine.answer(STATE, act("get_order", order_id="o1"))
    assert obs.content == "ok" and obs.source == "llm"
    retry = provider_of(engine).requests[1]
    assert [m.role for m in retry.messages] == ["user", "assistant", "user"]
    assert (
        retry.messages[1].content == "The order exists, I think." and retry.messages[2].content == CORRECTIVE
    )
    assert engine.stats().retried == 1


def test_garbage_twice_is_a_simulator_failure_never_silent() -> None:
    with engine_with("nope", "still nope") as engine:
        obs = engine.answer(STATE, act("get_order", order_id="o1"))
    assert obs.is_error and obs.source == FAILURE_SOURCE and "simulator failed" in obs.content
    assert "still nope" in obs.content and engine.stats().failures == 1


def test_provider_error_is_observed_or_raised() -> None:
    with engine_with() as engine:  # an empty script fails loudly
        obs = engine.answer(STATE, act("get_order", order_id="o1"))
    assert obs.source == FAILURE_SOURCE and "script" in obs.content and engine.stats().provider_errors == 1
    with engine_with(config=LLMEngineConfig(provider_errors="raise")) as engine, pytest.raises(ProviderError):
        engine.answer(STATE, act("get_order", order_id="o1"))


def test_seed_temperature_and_stable_prefix_forwarded(offline: OfflineEngine) -> None:
    config = LLMEngineConfig(temperature=0.3, max_tokens=300)
    provider = ScriptedProvider(script=[reply("a"), reply("b")])
    with LLMEngine(LLM(provider), TOOLS, retriever=offline, config=config) as engine:
        engine.answer(STATE, act("get_order", order_id="o1"))
        other = SessionState(id="s2", task="another task", seed=7, history=(Turn(action=act("search", q="w"), observation=Observation(content="r")),))  # fmt: skip
        engine.answer(other, act("search", q="words 3"))
    first, second = provider.requests
    assert (first.seed, first.temperature, first.max_tokens, first.json_output) == (42, 0.3, 300, True)
    assert second.seed == 7
    assert first.stable_prefix == second.stable_prefix and first.stable_prefix.startswith(DEFAULT_ENV_PROMPT)
    assert first.system != second.system
    assert '"order_id":"o1"' in first.messages[0].content  # the exact recorded call is an example


def test_tools_the_session_declares_beyond_the_catalog_are_in_its_prompt(offline: OfflineEngine) -> None:
    refund = ToolDef(name="refund_order", description="Refund an order.", parameters={"type": "object"})
    declared = STATE.model_copy(update={"tools": (*TOOLS, refund)})
    with LLMEngine(LLM(ScriptedProvider(script=[reply("a")])), TOOLS, retriever=offline) as engine:
        system = engine.prompt_for(declared, act("refund_order", order_id="o1")).system
        assert "# Tools this session offers beyond the catalog" in system
        assert "## refund_order\nRefund an order." in system and "## get_order" not in system
        assert "beyond the catalog" not in engine.prompt_for(STATE, act("get_order", order_id="o1")).system


def test_retrieved_examples_are_the_same_tools(offline: OfflineEngine) -> None:
    examples = recorded_examples(offline, STATE, act("get_order", order_id="o3"), k=4)
    assert examples and examples[0].arguments == '{"order_id":"o3"}'
    assert all("order_id" in ex.arguments for ex in examples) and len(examples) <= 4
    leak_free = recorded_examples(offline, STATE, act("get_order", order_id="o3"), k=4, exclude_trace="t3")
    assert all(ex.arguments != '{"order_id":"o3"}' for ex in leak_free)
    assert recorded_examples(offline, STATE, act("unknown_tool"), k=4) == []


def test_state_notes_follow_the_turn_they_belong_to() -> None:
    with engine_with(reply("done", note="order o1 is now cancelled"), reply("x"), reply("y")) as engine:
        a = act("get_order", order_id="o1")
        obs = engine.answer(STATE, a)
        after = STATE.with_turn(Turn(action=a, observation=obs))
        engine.answer(after, act("get_order", order_id="o2"))
        forced = STATE.with_turn(Turn(action=a, observation=Observation(content="recorded")))
        engine.answer(forced, act("get_order", order_id="o2"))
        assert engine.notes_for(after) == ["order o1 is now cancelled"]
        assert engine.notes_for(after.model_copy(update={"id": "other"})) == [""]
        assert engine.notes_for(STATE) == []
    _, with_note, without = provider_of(engine).requests
    assert "state note: order o1 is now cancelled" in with_note.messages[0].content
    assert "state note" not in without.messages[0].content


def test_a_second_eval_run_makes_no_provider_calls(tmp_path: Path, offline: OfflineEngine) -> None:
    heldout = make_episodes(3, prefix="h")
    pairs = seen_pairs(make_episodes())
    config = LLMConfig(cache_dir=tmp_path / "cache")
    first = LLMEngine(
        LLM(ScriptedProvider(script=[reply("a")], cycle=True), config), TOOLS, retriever=offline
    )
    with first:
        one = replay(first, heldout, pairs)
    assert first.report().provider_calls == 9
    second = LLMEngine(LLM(ScriptedProvider(script=[]), config), TOOLS, retriever=offline)
    with second:
        two = replay(second, heldout, pairs)
    assert second.report().provider_calls == 0 and second.report().cache_hits == 9
    assert [r.predicted for r in one] == [r.predicted for r in two]


def test_many_threads_at_once_are_not_serialized() -> None:
    engine = engine_with(reply("ok"), cycle=True, sleep_s=0.2)
    results: list[Observation] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(engine.answer(STATE, act("search", q=str(i)))))
        for i in range(24)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    engine.close()
    assert len(results) == 24 and all(r.content == "ok" for r in results)
    assert provider_of(engine).max_in_flight > 1
    assert elapsed < 24 * 0.2 / 2


def test_answer_async_from_another_event_loop() -> None:
    with engine_with(reply("a"), reply("b"), sleep_s=0.05) as engine:

        async def both() -> list[Observation]:
            return list(
                await asyncio.gather(
                    engine.answer_async(STATE, act("search", q="1")),
                    engine.answer_async(STATE, act("search", q="2")),
                )
            )

        got = asyncio.run(both())
    assert sorted(o.content for o in got) == ["a", "b"] and provider_of(engine).max_in_flight == 2


def test_through_the_openai_sdk(monkeypatch: pytest.MonkeyPatch, offline: OfflineEngine) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    server = MockServer([json_response(200, openai_completion(reply('{"order_id":"o9"}', note="seen o9")))])
    provider = create_provider("openai", "gpt-4.1", http_client=server.client())
    with LLMEngine(LLM(provider), TOOLS, retriever=offline) as engine:
        obs = engine.answer(STATE, act("get_order", order_id="o9"))
        report = engine.report()
    assert obs == Observation(content='{"order_id":"o9"}', source="llm")
    body = server.body()
    assert body["model"] == "gpt-4.1" and body["seed"] == 42 and body["temperature"] == 0.0
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0]["role"] == "system"
    assert body["messages"][0]["content"].startswith(DEFAULT_ENV_PROMPT)
    assert body["messages"][-1]["content"].rstrip().endswith('get_order {"order_id":"o9"}')
    assert (
        report.provider_calls == 1
        and report.total.input_tokens == 1117
        and report.by_session["s1"].calls == 1
    )


def test_through_the_anthropic_sdk_the_stable_prefix_is_cached(
    monkeypatch: pytest.MonkeyPatch, offline: OfflineEngine
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
    answer = "```json\n" + reply("Error: order not found", True) + "\n```"
    server = MockServer([json_response(200, anthropic_message(answer, cache_read=380))])
    with LLMEngine(
        LLM(create_provider("anthropic", http_client=server.client())), TOOLS, retriever=offline
    ) as engine:
        obs = engine.answer(STATE, act("get_order", order_id="x1"))
        report = engine.report()
    assert obs == Observation(content="Error: order not found", is_error=True, source="llm")
    body = server.body()
    assert body["system"][0]["text"].startswith(DEFAULT_ENV_PROMPT)
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "Task of this session" in body["system"][1]["text"] and "cache_control" not in body["system"][1]
    assert body["messages"][0]["role"] == "user" and body["temperature"] == 0.0
    assert report.total.cached_input_tokens == 380 and report.total.cost_usd > 0


def test_a_closed_engine_says_so() -> None:
    engine = engine_with(reply("a"))
    engine.answer(STATE, act("search", q="1"))
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        engine.answer(STATE, act("search", q="2"))
