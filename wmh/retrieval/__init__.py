"""Retrieval: a deterministic feature-hashing embedder and a grouped vector index (memory-mapped on load)."""

from wmh.retrieval.embed import HashingEmbedder
from wmh.retrieval.index import VectorIndex

__all__ = ["HashingEmbedder", "VectorIndex"]
