"""Open a saved world model: ``wm, provider = load_world_model(WorldModelStore().resolve(name))``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from wmh.config.manifest import Manifest, parse_manifest
from wmh.config.store import MANIFEST
from wmh.core.errors import NotFoundError
from wmh.engine.choice import EngineChoice, make_engine
from wmh.engine.files import read_tools
from wmh.engine.hybrid import ENGINE_KINDS
from wmh.engine.offline import load_offline
from wmh.engine.sessions import SessionStore
from wmh.engine.world_model import WorldModel
from wmh.providers import Provider

ENV_PROMPT_FILE = "env_prompt.txt"


def read_manifest(path: Path) -> Manifest:
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise NotFoundError(f"{path} is not a world model (no {MANIFEST}); build one with `wmh build`")
    return parse_manifest(file.read_bytes(), str(file))


def load_world_model(
    path: str | Path,
    sessions: SessionStore | None = None,
    *,
    engine: EngineChoice | None = None,
    cache_dir: Path | None = None,
    provider_errors: Literal["observe", "raise"] = "observe",
) -> tuple[WorldModel, Provider]:
    """The world model saved at ``path`` and the registered provider its engine uses.

    ``engine`` overrides the engine recorded at build time. The offline engine's provider is
    ``offline``, which makes no model calls; LLM answers are cached under ``cache_dir`` (default:
    ``llm-cache`` in the root the model lives in).
    """
    path = Path(path)
    manifest = read_manifest(path)
    choice = engine or recorded_choice(manifest)
    tools = read_tools(path / "tools.json")
    cache = cache_dir or path.resolve().parents[2] / "llm-cache"
    prompt_file = path / ENV_PROMPT_FILE
    env_prompt = prompt_file.read_text() if prompt_file.is_file() else None
    answering, provider = make_engine(
        choice, load_offline(path / "engine"), tools, cache, provider_errors, env_prompt=env_prompt
    )
    return WorldModel(manifest.name, answering, tools, sessions), provider


def recorded_choice(manifest: Manifest) -> EngineChoice:
    if manifest.engine not in ENGINE_KINDS or manifest.engine == "offline":
        return EngineChoice()
    return EngineChoice(kind=manifest.engine, provider=manifest.provider, model=manifest.model)
