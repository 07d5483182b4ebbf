"""Reading and writing the episode and tool files of a saved world model (called by the store's fill step)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import orjson

from wmh.core.types import Episode, ToolDef


def write_episodes(path: Path, episodes: Iterable[Episode]) -> None:
    with open(path, "wb") as f:
        for ep in episodes:
            f.write(ep.model_dump_json().encode() + b"\n")


def read_episodes(path: Path) -> list[Episode]:
    if not path.is_file():
        return []
    with open(path, "rb") as f:
        return [Episode.model_validate_json(line) for line in f if line.strip()]


def write_tools(path: Path, tools: Iterable[ToolDef]) -> None:
    path.write_bytes(orjson.dumps([t.model_dump() for t in tools], option=orjson.OPT_INDENT_2))


def read_tools(path: Path) -> list[ToolDef]:
    if not path.is_file():
        return []
    return [ToolDef.model_validate(t) for t in orjson.loads(path.read_bytes())]
