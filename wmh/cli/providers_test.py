from __future__ import annotations

import pytest
from typer.testing import CliRunner

from wmh.cli.providers import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY",
                 "AZURE_OPENAI_ENDPOINT", "AWS_REGION", "AWS_DEFAULT_REGION", "WMH_SCRIPTED_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def test_verify_with_nothing_configured_passes_and_says_what_to_set() -> None:
    result = runner.invoke(app, ["verify"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "set ANTHROPIC_API_KEY" in result.output and "skipped" in result.output
    assert "scripted" in result.output and "embedder" in result.output


def test_verify_fails_when_a_configured_provider_fails(tmp_path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    result = runner.invoke(
        app, ["verify", "-p", "scripted"], env={"WMH_SCRIPTED_FILE": str(empty), "COLUMNS": "200"}
    )
    assert result.exit_code == 1 and "fail" in result.output


def test_verify_unknown_provider_is_one_line() -> None:
    result = runner.invoke(app, ["verify", "-p", "gemini"])
    assert result.exit_code == 2 and "unknown provider 'gemini'" in result.output


def test_list() -> None:
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "openai-compatible" in result.output and "gpt-5" in result.output
