from wmh.core.tools import schema_of, tool_defs
from wmh.core.types import ToolDef

SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def test_every_provider_shape_reads_as_the_same_tool() -> None:
    shapes = [
        {"type": "function", "function": {"name": "get", "description": "Get one", "parameters": SCHEMA}},
        {"name": "get", "description": "Get one", "input_schema": SCHEMA},  # Anthropic
        {"name": "get", "description": "Get one", "inputSchema": SCHEMA},  # MCP
        {
            "name": "get",
            "description": "Get one",
            "parameters": '{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}',
        },  # GenAI: the schema as JSON text
        ToolDef(name="get", description="Get one", parameters=SCHEMA),
    ]
    for shape in shapes:
        assert tool_defs([shape]) == (ToolDef(name="get", description="Get one", parameters=SCHEMA),)


def test_one_tool_per_name_first_definition_wins_later_ones_fill_gaps() -> None:
    tools = tool_defs(
        [
            {"name": "b"},
            {"name": "a", "description": "first"},
            {"name": "a", "description": "second", "parameters": SCHEMA},
            {"name": "b", "parameters": "not json"},
            {"description": "no name"},
            {"name": ""},
        ]
    )
    assert tools == (ToolDef(name="b"), ToolDef(name="a", description="first", parameters=SCHEMA))


def test_schema_of_gives_the_parameters_as_written() -> None:
    assert schema_of({"function": {"name": "x", "parameters": "[1]"}}) == "[1]"
    assert schema_of({"name": "x", "inputSchema": SCHEMA}) == SCHEMA
    assert schema_of({"name": "x"}) is None
