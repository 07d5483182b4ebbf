"""Sessions in Redis, shared by several ``wmh serve`` processes.

Keys (``P`` is the prefix, ``wmh`` by default)::

    P:{model}:ids                 set of session ids
    P:{model}:s:{id}              session header: JSON of task, seed, faults
    P:{model}:t:{id}              list of turns (JSON), appended one per step
    P:{model}:lock:{id}           the lock that serializes steps on one session across processes

A step's writes go in one MULTI/EXEC transaction and are acknowledged only after Redis replies.
How long they survive a Redis restart is Redis's persistence setting (``appendonly yes`` to keep all).
"""

from __future__ import annotations

import importlib
from collections.abc import Generator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, cast

import orjson

from wmh.core.errors import NotFoundError, UserInputError
from wmh.core.types import FaultPlan, SessionState, Turn

INSTALL = "Redis sessions need the redis client: uv add redis (or pip install redis)"


class Pipeline(Protocol):
    """The part of redis-py's pipeline used here (queued commands, then one EXEC)."""

    def get(self, name: str) -> object: ...
    def set(self, name: str, value: bytes) -> object: ...
    def lrange(self, name: str, start: int, end: int) -> object: ...
    def ltrim(self, name: str, start: int, end: int) -> object: ...
    def rpush(self, name: str, *values: str) -> object: ...
    def sadd(self, name: str, *values: str) -> object: ...
    def srem(self, name: str, *values: str) -> object: ...
    def delete(self, *names: str) -> object: ...
    def execute(self) -> list[object]: ...


class RedisClient(Protocol):
    """The part of ``redis.Redis`` used here; typed locally so the client stays an optional install."""

    def pipeline(self, transaction: bool = True) -> Pipeline: ...
    def llen(self, name: str) -> object: ...
    def smembers(self, name: str) -> object: ...
    def lock(
        self,
        name: str,
        timeout: float | None = None,
        sleep: float = 0.1,
        blocking_timeout: float | None = None,
    ) -> AbstractContextManager[object]: ...
    def ping(self) -> object: ...
    def close(self) -> None: ...


def connect(url: str) -> RedisClient:
    try:
        redis = importlib.import_module("redis")
    except ImportError as exc:
        raise UserInputError(INSTALL) from exc
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise UserInputError(f"cannot reach Redis at {url}: {exc}; start it or fix --store") from exc
    return cast(RedisClient, client)


class RedisSessionStore:
    def __init__(
        self, client: RedisClient, model: str, prefix: str = "wmh", lock_timeout_s: float = 60
    ) -> None:
        self.client = client
        self.model = model
        self.base = f"{prefix}:{model}"
        self.lock_timeout_s = lock_timeout_s

    def get(self, session_id: str) -> SessionState:
        pipe = self.client.pipeline(transaction=True)
        pipe.get(f"{self.base}:s:{session_id}")
        pipe.lrange(f"{self.base}:t:{session_id}", 0, -1)
        header, turns = pipe.execute()
        if header is None:
            raise NotFoundError(f"no session {session_id!r} in model {self.model!r}")
        assert isinstance(header, bytes) and isinstance(turns, list)
        head = orjson.loads(header)
        return SessionState(
            id=session_id,
            model=self.model,
            task=head["task"],
            seed=head["seed"],
            faults=FaultPlan.model_validate(head["faults"]),
            history=tuple(Turn.model_validate_json(t) for t in turns),
        )

    def put(self, state: SessionState) -> None:
        turns_key = f"{self.base}:t:{state.id}"
        stored = self.client.llen(turns_key)
        assert isinstance(stored, int)
        n = len(state.history)
        header = {"task": state.task, "seed": state.seed, "faults": state.faults.model_dump(mode="json")}
        pipe = self.client.pipeline(transaction=True)
        pipe.set(f"{self.base}:s:{state.id}", orjson.dumps(header))
        pipe.sadd(f"{self.base}:ids", state.id)
        if stored > n:
            # LTRIM 0 -1 would keep everything: an emptied history is a delete
            pipe.ltrim(turns_key, 0, n - 1) if n else pipe.delete(turns_key)
        new = [state.history[i].model_dump_json() for i in range(min(stored, n), n)]
        if new:
            pipe.rpush(turns_key, *new)
        pipe.execute()

    def delete(self, session_id: str) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(f"{self.base}:s:{session_id}", f"{self.base}:t:{session_id}")
        pipe.srem(f"{self.base}:ids", session_id)
        removed, _ = pipe.execute()
        if not removed:
            raise NotFoundError(f"no session {session_id!r} in model {self.model!r}")

    def ids(self) -> list[str]:
        members = self.client.smembers(f"{self.base}:ids")
        assert isinstance(members, set)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    @contextmanager
    def lock(self, session_id: str) -> Generator[None]:
        """Serialize steps on one session across every process that shares this Redis."""
        with self.client.lock(
            f"{self.base}:lock:{session_id}",
            timeout=self.lock_timeout_s,
            blocking_timeout=self.lock_timeout_s,
            sleep=0.002,
        ):
            yield
