"""A feature-hashing embedder: word and character n-grams, signed, L2-normalized. Pure numpy.

The hash is crc32 of the UTF-8 feature, so a text embeds to the same vector on every run and
machine (Python's ``hash()`` is salted per process and would not).
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """``embed(texts)`` → float32 rows of unit length (all-zero for a text with no feature).

    Features: lower-cased words (weight 1), word bigrams (weight 1) and character n-grams of each
    word (weight ``char_weight``). Each feature lands in one of ``dim`` buckets with a sign taken
    from the same hash, which keeps collisions unbiased.
    """

    def __init__(self, dim: int = 512, char_ngram: int = 3, char_weight: float = 0.5) -> None:
        if dim < 8:
            raise ValueError(f"dim must be at least 8, got {dim}")
        self.dim = dim
        self.char_ngram = char_ngram
        self.char_weight = char_weight
        self._cache: dict[str, tuple[list[int], list[float]]] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(text)
        return _normalize(out)

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def features(self, text: str) -> list[tuple[str, float]]:
        """The weighted features of one text (what ``embed`` hashes); for inspection and tests."""
        words = _WORD.findall(text.lower())
        feats = [f for w in words for f in self._word_features(w)]
        feats += [(f"b:{a} {b}", 1.0) for a, b in itertools.pairwise(words)]
        return feats

    def _word_features(self, word: str) -> list[tuple[str, float]]:
        feats = [(f"w:{word}", 1.0)]
        n = self.char_ngram
        if n > 0 and self.char_weight > 0:
            padded = f"<{word}>"
            feats += [(f"c:{padded[j : j + n]}", self.char_weight) for j in range(len(padded) - n + 1)]
        return feats

    def _vector(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        idx: list[int] = []
        val: list[float] = []
        for w in words:
            i, v = self._slots(w, self._word_features)
            idx += i
            val += v
        for a, b in itertools.pairwise(words):
            i, v = self._slots(f"{a} {b}", _bigram)
            idx += i
            val += v
        if not idx:
            return np.zeros(self.dim, dtype=np.float32)
        return np.bincount(idx, weights=val, minlength=self.dim).astype(np.float32)

    def _slots(self, key: str, features) -> tuple[list[int], list[float]]:
        slots = self._cache.get(key)
        if slots is None:
            idx, val = [], []
            for f, w in features(key):
                h = zlib.crc32(f.encode("utf-8"))
                idx.append((h >> 1) % self.dim)
                val.append(w if h & 1 else -w)
            slots = (idx, val)
            if len(self._cache) < 300_000:
                self._cache[key] = slots
        return slots


def _bigram(pair: str) -> list[tuple[str, float]]:
    return [(f"b:{pair}", 1.0)]


def _normalize(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    np.divide(m, norms, out=m, where=norms > 0)
    return m
