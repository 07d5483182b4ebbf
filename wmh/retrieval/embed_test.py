import numpy as np

from wmh.retrieval.embed import HashingEmbedder


def test_deterministic_and_normalized() -> None:
    texts = ["get user u1", "search flights JFK SEA 2024-05-20", ""]
    a = HashingEmbedder(dim=256).embed(texts)
    b = HashingEmbedder(dim=256).embed(texts)
    assert a.dtype == np.float32 and a.shape == (3, 256)
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a[:2], axis=1), 1.0, atol=1e-5)
    assert not a[2].any()


def test_fixed_values_across_machines() -> None:
    # crc32 hashing: the same text lands in the same buckets everywhere
    v = HashingEmbedder(dim=64).embed_one("hello")
    assert np.flatnonzero(v).tolist() == np.flatnonzero(HashingEmbedder(dim=64).embed_one("hello")).tolist()
    assert round(float(v @ v), 5) == 1.0


def test_similar_texts_are_closer() -> None:
    e = HashingEmbedder(dim=512)
    q, near, far = e.embed(["origin JFK destination SEA", "origin JFK destination SFO", "expression 2 + 3"])
    assert q @ near > q @ far
