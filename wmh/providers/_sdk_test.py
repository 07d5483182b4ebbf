from __future__ import annotations

import email.utils
import time

import pytest

from wmh.providers._sdk import error_detail, parse_retry_after, redact


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "120", "retry-after": "9"}, 0.12),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-2"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers) == seconds


def test_parse_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (parse_retry_after({"retry-after": when}) or 0) <= 31


def test_error_detail_shapes() -> None:
    assert error_detail(b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}') == (
        "overloaded_error",
        "Overloaded",
    )
    assert error_detail(
        b'{"error":{"message":"bad","type":"invalid_request_error","param":null,"code":null}}'
    ) == (
        "invalid_request_error",
        "bad",
    )
    assert error_detail(b'{"message":"Too many requests"}') == ("", "Too many requests")
    assert error_detail(b'{"error":"model \'x\' not found"}') == ("", "model 'x' not found")
    vllm = b'{"object":"error","message":"The model `m` does not exist.","type":"NotFoundError","param":null,"code":404}'
    assert error_detail(vllm) == ("NotFoundError", "The model `m` does not exist.")
    assert error_detail(b"<html>Bad Gateway</html>") == ("", "<html>Bad Gateway</html>")


def test_redact() -> None:
    text = "key sk-proj-abcdefghijklmnop and secret hunter22 and AKIAIOSFODNN7EXAMPLE"
    assert redact(text, ["hunter22"]) == "key *** and secret *** and ***"
