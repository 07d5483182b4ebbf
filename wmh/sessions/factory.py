"""Pick a session store from a URL; one backend serves every model of a server."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from wmh.core.errors import UserInputError
from wmh.engine.sessions import InMemorySessionStore, SessionStore


class SessionBackend(Protocol):
    """Where all of a server's sessions live; ``store(model)`` is one model's view."""

    description: str

    def store(self, model: str) -> SessionStore: ...
    def close(self) -> None: ...


class MemoryBackend:
    description = "memory (lost on restart)"

    def __init__(self) -> None:
        self._stores: dict[str, InMemorySessionStore] = {}

    def store(self, model: str) -> SessionStore:
        return self._stores.setdefault(model, InMemorySessionStore())

    def close(self) -> None:
        self._stores.clear()


class SqliteBackend:
    def __init__(self, path: Path) -> None:
        from wmh.sessions.sqlite import SqliteDatabase

        self.db = SqliteDatabase(path)
        self.description = f"sqlite {path}"
        self._stores: dict[str, SessionStore] = {}

    def store(self, model: str) -> SessionStore:
        """One store per model for the server's life, so its cache and locks outlive a model reload."""
        return self._stores.setdefault(model, self.db.store(model))

    def close(self) -> None:
        self.db.close()


class RedisBackend:
    def __init__(self, url: str) -> None:
        from wmh.sessions.redis import connect

        self.client = connect(url)
        self.description = f"redis {url}"

    def store(self, model: str) -> SessionStore:
        from wmh.sessions.redis import RedisSessionStore

        return RedisSessionStore(self.client, model)

    def close(self) -> None:
        self.client.close()


def open_sessions(url: str | None, root: Path) -> SessionBackend:
    """``None`` means ``<root>/sessions.db``; else ``sqlite:///PATH``, ``redis://...`` or ``memory:``."""
    if not url:
        return SqliteBackend(root / "sessions.db")
    if url.startswith("sqlite:///"):
        return SqliteBackend(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBackend(url)
    if url == "memory:":
        return MemoryBackend()
    raise UserInputError(
        f"unknown session store {url!r}: use sqlite:///PATH, redis://HOST:PORT/DB or memory:"
    )
