from __future__ import annotations

import orjson

from wmh.core.types import Action, ActionKind, Observation, ToolDef, Turn
from wmh.engine.prompt import (
    DEFAULT_ENV_PROMPT,
    REPLY_FORMAT,
    Example,
    PromptConfig,
    build_prompt,
    parse_reply,
    stable_prefix,
)

TOOLS = (
    ToolDef(name="get_order", description="Look up an order.", parameters={"type": "object"}),
    ToolDef(name="calc", description="Evaluate arithmetic."),
)


def act(name: str, **arguments: object) -> Action:
    return Action(kind=ActionKind.TOOL_CALL, name=name, arguments=orjson.loads(orjson.dumps(arguments)))


def turn(i: int, content: str = "ok") -> Turn:
    return Turn(action=act("get_order", order_id=f"o{i}"), observation=Observation(content=content))


def test_order_of_the_parts() -> None:
    cfg = PromptConfig()
    prefix = stable_prefix(cfg, TOOLS)
    assert prefix.startswith(DEFAULT_ENV_PROMPT.strip())
    assert prefix.index(REPLY_FORMAT) < prefix.index("## get_order") < prefix.index("## calc")
    assert '{"type":"object"}' in prefix and "Look up an order." in prefix
    examples = [Example(arguments='{"order_id":"o1"}', content='{"id":"o1"}')]
    p = build_prompt(
        cfg, prefix, task="cancel o2", history=[turn(1)], notes=["o1 seen"], action=act("get_order", order_id="o2"),
        examples=examples,
    )  # fmt: skip
    req = p.request(temperature=0.0, seed=3, max_tokens=100)
    assert req.stable_prefix == prefix and "cancel o2" in req.system and req.json_output
    user = req.messages[0].content
    assert (
        user.index("Recorded calls of get_order")
        < user.index("This session so far")
        < user.index("call to answer")
    )
    assert "state note: o1 seen" in user
    assert user.rstrip().endswith('get_order {"order_id":"o2"}')


def test_caps_keep_the_most_recent_turns() -> None:
    cfg = PromptConfig(history_turns=5, example_chars=100, observation_chars=60)
    history = [turn(i, "x" * 500) for i in range(50)]
    examples = [Example(arguments="{}", content="y" * 5000)]
    user = build_prompt(
        cfg, "P", task="t", history=history, notes=[], action=act("calc"), examples=examples
    ).user
    assert "(45 earlier turns omitted)" in user
    assert '"o49"' in user and '"o44"' not in user and '"o45"' in user
    assert "y" * 100 + "… [4900 more chars]" in user and "y" * 101 not in user
    assert "x" * 60 + "… [440 more chars]" in user
    tight = PromptConfig(history_chars=300, observation_chars=60)
    user = build_prompt(tight, "P", task="t", history=history, notes=[], action=act("calc"), examples=[]).user
    assert '"o49"' in user and "earlier turns omitted" in user and len(user) < 800


def test_examples_cut_to_k() -> None:
    cfg = PromptConfig(examples=2)
    examples = [Example(arguments=f'{{"i":{i}}}', content=str(i)) for i in range(5)]
    user = build_prompt(cfg, "P", task="", history=[], notes=[], action=act("calc"), examples=examples).user
    assert "[2] calc" in user and "[3] calc" not in user


def test_parse_reply_plain_fenced_embedded_and_garbage() -> None:
    plain = parse_reply('{"content": "42", "is_error": false, "state_note": "n"}')
    assert plain is not None and (plain.content, plain.is_error, plain.state_note, plain.repaired) == (
        "42",
        False,
        "n",
        False,
    )
    fenced = parse_reply('Sure:\n```json\n{"content": "Error: no", "is_error": true}\n```')
    assert fenced is not None and fenced.is_error and fenced.repaired and fenced.content == "Error: no"
    embedded = parse_reply('Here you go {"a": 1} then {"content": {"id": "o1"}, "is_error": "false"} bye')
    assert embedded is not None and embedded.content == '{"id":"o1"}' and not embedded.is_error
    assert parse_reply("I think the order exists.") is None
    assert parse_reply('{"answer": 1}') is None
    assert parse_reply("") is None
