from pathlib import Path

import numpy as np

from wmh.retrieval.embed import HashingEmbedder
from wmh.retrieval.index import VectorIndex


def _index() -> tuple[VectorIndex, np.ndarray, HashingEmbedder]:
    e = HashingEmbedder(dim=128)
    texts = ["alpha beta", "alpha gamma", "delta", "alpha beta"]
    groups = np.array([1, 0, 1, 0])
    traces = np.array([10, 11, 12, -1])
    index, order = VectorIndex.build(e.embed(texts), groups, traces, n_groups=2)
    return index, order, e


def test_search_stays_in_its_group() -> None:
    index, order, e = _index()
    rows, scores = index.search(e.embed_one("alpha beta"), 5, group=1)
    assert [int(order[r]) for r in rows] == [0, 2]
    assert scores[0] > scores[1]
    rows, _ = index.search(e.embed_one("alpha beta"), 1, group=0)
    assert [int(order[r]) for r in rows] == [3]
    assert len(index.search(e.embed_one("x"), 3, group=7)[0]) == 0


def test_exclude_trace() -> None:
    index, order, e = _index()
    rows, _ = index.search(e.embed_one("alpha beta"), 5, group=1, exclude_trace=10)
    assert [int(order[r]) for r in rows] == [2]
    rows, _ = index.search(e.embed_one("alpha beta"), 5, group=0, exclude_trace=11)
    assert [int(order[r]) for r in rows] == [3]  # a row shared by several traces (-1) stays


def test_save_load_memory_maps(tmp_path: Path) -> None:
    index, _, e = _index()
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    assert isinstance(loaded.vectors, np.memmap)
    q = e.embed_one("alpha")
    for g in (0, 1):
        a, b = index.search(q, 3, group=g), loaded.search(q, 3, group=g)
        assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1])


def test_two_pass_search_finds_the_exact_row(monkeypatch) -> None:
    import wmh.retrieval.index as index_module

    monkeypatch.setattr(index_module, "TWO_PASS_MIN_ROWS", 10)
    e = HashingEmbedder(dim=128)
    texts = [f"id_{i} n_{i % 7}" for i in range(300)]
    index, order = VectorIndex.build(e.embed(texts), np.zeros(300, np.int64), np.arange(300), n_groups=1)
    rows, _ = index.search(e.embed_one("id_123 n_4"), 3, group=0)
    assert int(order[rows[0]]) == 123
    rows, _ = index.search(e.embed_one("id_123 n_4"), 3, group=0, exclude_trace=123)
    assert 123 not in [int(order[r]) for r in rows]
