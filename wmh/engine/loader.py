"""Open a saved world model: ``wm, provider = load_world_model(WorldModelStore().resolve(name))``."""

from __future__ import annotations

from pathlib import Path

from wmh.config.manifest import Manifest, parse_manifest
from wmh.config.store import MANIFEST
from wmh.core.errors import NotFoundError
from wmh.engine.files import read_tools
from wmh.engine.offline import load_offline
from wmh.engine.sessions import SessionStore
from wmh.engine.world_model import WorldModel
from wmh.providers import Provider, create_provider


def read_manifest(path: Path) -> Manifest:
    file = Path(path) / MANIFEST
    if not file.is_file():
        raise NotFoundError(f"{path} is not a world model (no {MANIFEST}); build one with `wmh build`")
    return parse_manifest(file.read_bytes(), str(file))


def load_world_model(path: str | Path, sessions: SessionStore | None = None) -> tuple[WorldModel, Provider]:
    """The world model saved at ``path`` and the registered provider its engine uses.

    The offline engine's provider is ``offline``, which makes no model calls.
    """
    path = Path(path)
    manifest = read_manifest(path)
    engine = load_offline(path / "engine")
    wm = WorldModel(manifest.name, engine, read_tools(path / "tools.json"), sessions)
    return wm, create_provider(manifest.provider or "offline", model=manifest.model)
