"""Calls checked against the tools' recorded parameters, alone and inside a WorldModel."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from pydantic import JsonValue

from wmh.core.errors import InvalidToolsError
from wmh.core.types import Action, ActionKind, Episode, ToolDef
from wmh.engine.arguments import ArgumentCheck, declared_tools, fits
from wmh.engine.baseline import ReplayBaseline
from wmh.engine.world_model import WorldModel
from wmh.ingest import ingest_files

GET_USER = ToolDef(
    name="get_user",
    parameters={
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "fields": {"type": "array", "items": {"enum": ["name", "email"]}},
            "limit": {"type": "integer"},
        },
        "required": ["id"],
    },
)


def call(name: str, **arguments: JsonValue) -> Action:
    return Action(kind=ActionKind.TOOL_CALL, name=name, arguments=arguments)


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ({}, "'id' is a required property"),
        ({"id": 7}, "id: 7 is not of type 'string'"),
        ({"id": "u1", "fields": ["name", "phone"]}, "fields.1: 'phone' is not one of ['name', 'email']"),
        ({"id": "u1", "limit": 2.5}, "limit: 2.5 is not of type 'integer'"),
    ],
)
def test_a_call_that_does_not_fit_fails_with_the_schemas_complaint(arguments: dict, complaint: str) -> None:
    refusal = ArgumentCheck([GET_USER]).refusal(call("get_user", **arguments))
    assert refusal is not None
    assert (refusal.content, refusal.is_error, refusal.source) == (
        f"Error: invalid arguments for get_user: {complaint}",
        True,
        "schema",
    )


def test_fitting_calls_messages_and_tools_without_a_usable_schema_pass() -> None:
    broken = ToolDef(name="ping", parameters={"type": "no-such-type"})
    check = ArgumentCheck([GET_USER, broken, ToolDef(name="free")])
    assert check.refusal(call("get_user", id="u1", fields=["email"], limit=3)) is None
    assert check.refusal(call("ping", anything=1)) is None
    assert check.refusal(call("free", x=[1])) is None
    assert check.refusal(call("unlisted", x=1)) is None
    assert check.refusal(Action(kind=ActionKind.MESSAGE, content="hi")) is None


def test_the_world_model_refuses_before_the_engine_answers(tiny_episodes: list[Episode]) -> None:
    wm = WorldModel("m", ReplayBaseline(tiny_episodes), [GET_USER])
    s = wm.new_session()
    refused = wm.step(s.id, call("get_user", id=2))
    assert refused.is_error and refused.source == "schema"
    assert wm.step(s.id, call("get_user", id="u2")).content == '{"id": "u2", "name": "Bob"}'
    assert [t.observation.source for t in wm.session(s.id).history] == ["schema", "replay"]


PYDANTIC_STYLE: dict[str, JsonValue] = {
    "$defs": {
        "Seat": {
            "type": "object",
            "properties": {
                "row": {"type": "integer", "minimum": 1},
                "cabin": {"enum": ["economy", "business"]},
            },
            "required": ["row"],
            "additionalProperties": False,
        }
    },
    "type": "object",
    "properties": {
        "seats": {"type": "array", "items": {"$ref": "#/$defs/Seat"}, "minItems": 1},
        "note": {"anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}]},
        "flag": {"const": True},
    },
    "required": ["seats"],
}
VALUES: list[JsonValue] = [
    {"seats": [{"row": 1}]},
    {"seats": [{"row": 1.0, "cabin": "business"}], "note": None, "flag": True},
    {"seats": []},
    {"seats": [{"row": 0}]},
    {"seats": [{"row": True}]},
    {"seats": [{"row": 2, "cabin": "first"}]},
    {"seats": [{"row": 2, "aisle": True}]},
    {"seats": [{"cabin": "economy"}]},
    {"seats": [{"row": 3}], "note": "too long"},
    {"seats": [{"row": 3}], "note": 5},
    {"seats": [{"row": 3}], "flag": 1},
    {"seats": "all"},
    {"note": "x"},
]


def test_the_fast_check_refuses_only_what_jsonschema_refuses() -> None:
    validator = jsonschema.Draft202012Validator(PYDANTIC_STYLE)
    for value in VALUES:
        assert fits(PYDANTIC_STYLE, value) == validator.is_valid(value), value


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tau-bench" / "traces.otel.jsonl"


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="example traces not generated")
def test_recorded_calls_fit_and_broken_ones_are_refused_as_jsonschema_would() -> None:
    episodes = ingest_files([EXAMPLE]).episodes
    tools = {t.name: t for ep in episodes for t in ep.tools if t.parameters}
    check = ArgumentCheck(list(tools.values()))
    calls = [s.action for ep in episodes for s in ep.steps if s.action.name in tools]
    assert len(calls) > 500 and all(check.refusal(a) is None for a in calls)
    for a in calls[:200]:
        schema = tools[a.name].parameters or {}
        validator = jsonschema.Draft202012Validator(schema)
        for broken in _broken(dict(a.arguments)):
            assert fits(schema, broken) == validator.is_valid(broken), (a.name, broken)


def _broken(args: dict[str, JsonValue]) -> list[dict[str, JsonValue]]:
    """The call with each argument dropped, and with each given the wrong kind of value."""
    out = [{k: v for k, v in args.items() if k != drop} for drop in args]
    out += [{**args, k: ("x" if not isinstance(v, str) else 7)} for k, v in args.items()]
    return out


def test_declared_tools_take_the_recorded_parameters_where_they_give_none() -> None:
    ping = {"type": "object", "properties": {}, "additionalProperties": False}
    tools = declared_tools(
        [{"type": "function", "function": {"name": "get_user"}}, {"name": "ping", "input_schema": ping}],
        [GET_USER, ToolDef(name="other")],
    )
    assert tools == (GET_USER, ToolDef(name="ping", parameters=ping))


SHAPE = '{"name": ..., "description": ..., "parameters": {JSON Schema}}'


@pytest.mark.parametrize(
    ("item", "complaint", "advice"),
    [
        ({"description": "no name"}, "tools[0] has no name", SHAPE),
        ("get_user", "tools[0] is not an object", SHAPE),
        (
            {"name": "x", "parameters": "not a schema"},
            "tool 'x': parameters are not a JSON Schema object",
            SHAPE,
        ),
        (
            {"name": "x", "parameters": {"type": "nonsense"}},
            "tool 'x': parameters are not valid",
            "leave them out",
        ),
    ],
)
def test_declared_tools_that_cannot_be_used_are_refused_with_what_to_do(
    item: JsonValue, complaint: str, advice: str
) -> None:
    with pytest.raises(InvalidToolsError) as err:
        declared_tools([item], [GET_USER])
    assert str(err.value).startswith(complaint) and advice in str(err.value)


def test_a_session_that_declares_its_tools_has_those_tools_only(tiny_episodes: list[Episode]) -> None:
    wm = WorldModel("m", ReplayBaseline(tiny_episodes), [GET_USER])
    s = wm.new_session(tools=[{"name": "get_user"}])
    assert s.tools == (GET_USER,)  # the recorded parameters, for a tool declared without
    undeclared = wm.step(s.id, call("ping"))
    assert undeclared.is_error and undeclared.source == "unknown-tool"
    assert undeclared.content == "Error: unknown tool 'ping'; this session's tools: get_user"
    assert wm.step(s.id, call("get_user", id=2)).source == "schema"
    assert wm.step(s.id, call("get_user", id="u2")).content == '{"id": "u2", "name": "Bob"}'
    assert wm.reset(s.id).tools == s.tools
    assert wm.step(wm.new_session().id, call("ping")).content == "pong"  # a session declaring none: all


def test_a_declared_schema_replaces_the_recorded_one_for_its_session(tiny_episodes: list[Episode]) -> None:
    wm = WorldModel("m", ReplayBaseline(tiny_episodes), [GET_USER])
    numeric = {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
    s = wm.new_session(tools=[{"name": "get_user", "parameters": numeric}, {"name": "ping"}])
    refused = wm.step(s.id, call("get_user", id="u2"))
    assert refused.source == "schema" and "'u2' is not of type 'integer'" in refused.content
    assert wm.step(s.id, call("ping")).content == "pong"
    assert wm.step(wm.new_session().id, call("get_user", id="u2")).source == "replay"
    stringly = wm.new_session(
        tools=[{"name": "get_user", "parameters": GET_USER.parameters}, {"name": "ping"}]
    )
    assert wm.step(stringly.id, call("get_user", id="u2")).source == "replay"  # same names, its own schema
