"""WorldModelStore: the only code that writes under the wmh root (``.wmh`` by default, or ``WMH_HOME``).

Layout::

    <root>/models/<name>/CURRENT          the name of the live version directory (replaced atomically)
    <root>/models/<name>/v-<stamp>/       one complete model: manifest.json, episodes, engine files

A build writes a new version directory and only then points CURRENT at it with ``os.replace``, so a
crash mid-build leaves the previous model intact and no half model is ever read.
"""

from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from wmh.config.manifest import Manifest, parse_manifest
from wmh.core.errors import InvalidNameError, ModelFormatError, NotFoundError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MANIFEST = "manifest.json"
CURRENT = "CURRENT"


def default_root() -> Path:
    return Path(os.environ.get("WMH_HOME") or ".wmh")


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name) or ".." in name:
        raise InvalidNameError(
            f"invalid world-model name {name!r}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class WorldModelStore:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.models = self.root / "models"

    def resolve(self, name: str) -> Path:
        """The directory of the live version of model ``name``."""
        base = self.models / check_name(name)
        pointer = base / CURRENT
        if not pointer.is_file():
            raise NotFoundError(
                f"no world model named {name!r} under {self.root}; "
                f"build one with `wmh build --name {name} --file TRACES`"
            )
        version = base / pointer.read_text().strip()
        if not (version / MANIFEST).is_file():
            raise ModelFormatError(f"world model {name!r} is damaged ({version} is incomplete); rebuild it")
        return version

    def manifest(self, name: str) -> Manifest:
        path = self.resolve(name) / MANIFEST
        return parse_manifest(path.read_bytes(), str(path))

    def names(self) -> list[str]:
        if not self.models.is_dir():
            return []
        return sorted(p.name for p in self.models.iterdir() if (p / CURRENT).is_file())

    def folders(self) -> list[str]:
        """Every model folder, live or damaged (no CURRENT, no manifest): what ``wmh list`` shows."""
        if not self.models.is_dir():
            return []
        return sorted(p.name for p in self.models.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name))

    def folder(self, name: str) -> Path:
        """``models/<name>``, whatever state it is in (for deleting it)."""
        base = self.models / check_name(name)
        if not base.is_dir():
            raise NotFoundError(f"no world model named {name!r} under {self.root}")
        return base

    def write(self, name: str, fill: Callable[[Path], Manifest]) -> Path:
        """Build a new version with ``fill(dir)`` (which returns the manifest) and make it live."""
        base = self.models / check_name(name)
        base.mkdir(parents=True, exist_ok=True)
        version = base / f"v-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        version.mkdir()
        try:
            manifest = fill(version)
            _write_atomic(version / MANIFEST, manifest.model_dump_json(indent=2).encode())
            _write_atomic(base / CURRENT, version.name.encode())
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        self._prune(base, keep=version.name)
        return version

    def delete(self, name: str) -> None:
        """Delete every version of ``name``, a damaged model included."""
        base = self.folder(name)
        if base.is_symlink():
            base.unlink()
        else:
            shutil.rmtree(base)

    @staticmethod
    def _prune(base: Path, keep: str) -> None:
        for old in base.iterdir():
            if old.is_dir() and old.name.startswith("v-") and old.name != keep:
                shutil.rmtree(old, ignore_errors=True)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
