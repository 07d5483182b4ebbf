"""Shared fixtures: small synthetic episodes and the path to ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import JsonValue

from wmh.core.types import Action, ActionKind, Episode, Observation, Step

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def call(name: str, content: str, is_error: bool = False, **arguments: JsonValue) -> Step:
    return Step(
        action=Action(kind=ActionKind.TOOL_CALL, name=name, arguments=dict(arguments)),
        observation=Observation(content=content, is_error=is_error),
    )


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def tiny_episodes() -> list[Episode]:
    return [
        Episode(
            trace_id="t1",
            task="look up user 1",
            steps=(call("get_user", '{"id": "u1", "name": "Ann"}', id="u1"), call("ping", "pong")),
        ),
        Episode(
            trace_id="t2",
            task="look up user 2",
            steps=(
                call("get_user", '{"id": "u2", "name": "Bob"}', id="u2"),
                call("get_user", "Error: user not found", True, id="zz"),
                call("ping", "pong"),
            ),
        ),
    ]
