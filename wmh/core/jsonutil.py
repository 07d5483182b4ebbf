"""Canonical JSON: one text per value, so equal arguments give equal keys."""

from __future__ import annotations

import orjson
from pydantic import JsonValue


def canonical(value: JsonValue) -> str:
    """Sorted keys, no whitespace; the key used for exact replay and caches."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def parse_json(text: str) -> tuple[bool, JsonValue]:
    """(True, value) if ``text`` is JSON, else (False, None). Never raises."""
    try:
        return True, orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):
        return False, None
