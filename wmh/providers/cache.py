"""The response cache: one JSON file per request, named by the sha256 of the canonical request.

Keys cover the provider name and the whole request (model, prompts, temperature, seed, token cap,
JSON flag), so any change is a miss. Writes go to a temporary file that is renamed into place:
readers never see half a file and concurrent writers of one key both leave a whole one.
Files hold the request and the completion, never credentials.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Literal

import orjson
from pydantic import ValidationError

from wmh.core.jsonutil import canonical
from wmh.providers.base import Completion, CompletionRequest

CacheMode = Literal["read-write", "off", "replay-only"]


def cache_key(provider: str, request: CompletionRequest) -> str:
    material = {"provider": provider, "request": request.model_dump(mode="json")}
    return hashlib.sha256(canonical(material).encode()).hexdigest()


class ResponseCache:
    """A directory of ``<key[:2]>/<key>.json`` files."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        try:
            data = orjson.loads(self.path(key).read_bytes())
            return Completion.model_validate(data["completion"])
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValidationError):
            return None  # absent or unreadable: a miss, and the next write repairs it

    def put(self, key: str, provider: str, request: CompletionRequest, completion: Completion) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "provider": provider,
            "request": request.model_dump(mode="json"),
            "completion": completion.model_dump(mode="json", exclude={"from_cache"}),
        }
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
