"""Property-based fuzzing of every OpenAPI operation (schemathesis-style, on hypothesis): never a 5xx,
and every error is a JSON ``{error, detail}``.

Bodies come from the operation's own JSON Schema (so they reach the handlers) or are arbitrary JSON;
path parameters are real names and ids, near misses, or arbitrary text.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import JsonValue

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
NAMES = st.sampled_from(["m", "nope", "..", ".x", "a" * 80, "m%2F..", " "]) | st.text(max_size=12)


def from_schema(schema: dict, spec: dict, depth: int = 0) -> st.SearchStrategy[JsonValue]:
    """A strategy for values of an OpenAPI JSON Schema (the subset FastAPI emits)."""
    if "$ref" in schema:
        return from_schema(spec["components"]["schemas"][schema["$ref"].split("/")[-1]], spec, depth)
    if depth > 4:
        return st.none()
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return st.one_of([from_schema(s, spec, depth + 1) for s in schema[key]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        if not props:
            return st.dictionaries(st.text(max_size=8), JSON, max_size=3)
        fields = {k: from_schema(v, spec, depth + 1) for k, v in props.items()}
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {k: v for k, v in fields.items() if k in required},
            optional={k: v for k, v in fields.items() if k not in required},
        )
    if kind == "array":
        return st.lists(from_schema(schema.get("items", {}), spec, depth + 1), max_size=3)
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum", -(2**40)), max_value=schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(
            schema.get("minimum", -1e9), schema.get("maximum", 1e9), allow_nan=False, allow_infinity=False
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        return st.text(max_size=30)
    return JSON


def operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


@pytest.fixture
def spec_and_session(client: TestClient) -> tuple[dict, str]:
    spec = client.get("/openapi.json").json()
    sid = client.post("/world_models/m/sessions", json={"task": "fuzz"}).json()["id"]
    return spec, sid


def test_every_operation_survives_fuzzing(client: TestClient, spec_and_session: tuple[dict, str]) -> None:
    spec, sid = spec_and_session
    ops = operations(spec)
    assert len(ops) >= 10

    @st.composite
    def requests(draw: st.DrawFn) -> tuple[str, str, JsonValue | None, bytes | None, str]:
        path, method, op = draw(st.sampled_from(ops))
        if path == "/v1/traces":
            kind = draw(st.sampled_from(["application/x-protobuf", "application/json", "text/plain"]))
            return method, path, None, draw(st.binary(max_size=200)), kind
        url = path.replace("{name}", quote(draw(NAMES), safe=""))
        url = url.replace(
            "{session_id}",
            quote(draw(st.sampled_from([sid, "missing", "bad id"]) | st.text(max_size=10)), safe=""),
        )
        body = None
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            body = draw(from_schema(schema, spec) | JSON)
        return method, url, body, None, "application/json"

    @settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(requests())
    def check(req: tuple[str, str, JsonValue | None, bytes | None, str]) -> None:
        method, url, body, raw, kind = req
        if raw is not None:
            r = client.request(method, url, content=raw, headers={"content-type": kind})
        else:
            r = client.request(method, url, json=body)
        assert r.status_code < 500, (method, url, body, r.text)
        if r.status_code >= 400:
            err = r.json()
            assert set(err) == {"error", "detail"} and isinstance(err["detail"], str), r.text

    check()
