from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from wmh.core.errors import UserInputError
from wmh.providers import CompletionRequest, Message, Provider, ScriptExhaustedError, create_provider
from wmh.providers.scripted import ScriptedProvider

REQ = CompletionRequest(system="sys", messages=(Message(role="user", content="hello there"),))


def _texts(provider: Provider, n: int) -> list[str]:
    async def run() -> list[str]:
        return [(await provider.complete(REQ)).text for _ in range(n)]

    return asyncio.run(run())


def test_replies_in_order_then_fails_loudly() -> None:
    provider = ScriptedProvider(script=["a", "b"])
    assert _texts(provider, 2) == ["a", "b"]
    with pytest.raises(ScriptExhaustedError, match="the script has 2 replies and call 3 asked for another"):
        _texts(provider, 1)
    assert len(provider.requests) == 3 and provider.requests[0] == REQ


def test_cycle_repeats() -> None:
    assert _texts(ScriptedProvider(script=["a", "b"], cycle=True), 3) == ["a", "b", "a"]


def test_usage_is_estimated() -> None:
    completion = asyncio.run(ScriptedProvider(script=["x" * 40]).complete(REQ))
    assert completion.usage.output_tokens == 10 and completion.usage.input_tokens > 0
    assert completion.model == "scripted" and completion.finish_reason == "stop"


def test_json_array_file_via_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "script.json"
    path.write_text('["one", {"text": "two"}]')
    monkeypatch.setenv("WMH_SCRIPTED_FILE", str(path))
    assert _texts(create_provider("scripted"), 2) == ["one", "two"]


def test_jsonl_file_argument(tmp_path: Path) -> None:
    path = tmp_path / "script.jsonl"
    path.write_text('{"text": "{\\"content\\": 1}"}\n\n"plain"\n')
    assert _texts(ScriptedProvider(path=path), 2) == ['{"content": 1}', "plain"]


def test_sleep_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMH_SCRIPTED_SLEEP", "0.25")
    assert ScriptedProvider(script=["a"]).sleep_s == 0.25


@pytest.mark.parametrize("content", ["[1, 2]", "{broken\nlines"])
def test_bad_files_are_user_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(UserInputError, match="scripted:"):
        ScriptedProvider(path=path)


def test_no_script_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="WMH_SCRIPTED_FILE"):
        ScriptedProvider()
    with pytest.raises(UserInputError, match="cannot read"):
        ScriptedProvider(path=tmp_path / "missing.json")
