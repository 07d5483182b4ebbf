import pytest

from wmh.cli.repl import Command, parse_line
from wmh.core.errors import InvalidActionError
from wmh.core.types import Action, ActionKind

TOOLS = ["get_user", "list_all"]


def test_json_arguments() -> None:
    a = parse_line('get_user {"user_id": "u1", "n": 2}', TOOLS)
    assert a == Action(kind=ActionKind.TOOL_CALL, name="get_user", arguments={"user_id": "u1", "n": 2})


def test_key_value_arguments_parse_json_scalars() -> None:
    a = parse_line('get_user user_id=u1 n=2 ok=true name="Mia Li"', TOOLS)
    assert isinstance(a, Action)
    assert a.arguments == {"user_id": "u1", "n": 2, "ok": True, "name": "Mia Li"}


def test_bare_known_tool_and_free_text() -> None:
    assert parse_line("list_all", TOOLS) == Action(kind=ActionKind.TOOL_CALL, name="list_all")
    msg = parse_line("hello there, I need help", TOOLS)
    assert msg == Action(kind=ActionKind.MESSAGE, content="hello there, I need help")


def test_commands_and_blank() -> None:
    assert parse_line(":tools", TOOLS) == Command(name=":tools")
    assert parse_line(":q", TOOLS) == Command(name=":quit")
    assert parse_line("   ", TOOLS) is None
    with pytest.raises(InvalidActionError, match="unknown command"):
        parse_line(":nope", TOOLS)


def test_bad_json_arguments_are_a_clear_error() -> None:
    with pytest.raises(InvalidActionError, match="JSON object"):
        parse_line("get_user {not json}", TOOLS)
    with pytest.raises(InvalidActionError, match="quotes"):
        parse_line('get_user a="unclosed', TOOLS)
