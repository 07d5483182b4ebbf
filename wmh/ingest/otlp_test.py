"""OTLP KeyValue lists → attribute dicts: interned keys, the values as before."""

from __future__ import annotations

import orjson

from wmh.ingest.otlp import kvs


def test_kvs_share_one_copy_of_each_key_and_keep_the_values():
    line = b'[{"key": "gen_ai.tool.name", "value": {"stringValue": "f"}}, {"key": "n", "value": {"intValue": "3"}}]'
    first, second = kvs(orjson.loads(line)), kvs(orjson.loads(line))
    assert first == second == {"gen_ai.tool.name": "f", "n": 3}
    assert all(a is b for a, b in zip(first, second, strict=True))


def test_kvs_keep_odd_keys_skip_missing_values_and_flatten_kvlists():
    items = [
        {"key": 7, "value": {"boolValue": True}},
        {"key": "none"},
        {"key": "m", "value": {"kvlistValue": {"values": [{"key": "a", "value": {"doubleValue": 1.5}}]}}},
    ]
    assert kvs(items) == {7: True, "m": {"a": 1.5}, "m.a": 1.5}
