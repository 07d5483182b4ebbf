from pathlib import Path

import pytest

from wmh.config.manifest import Manifest, parse_manifest
from wmh.config.store import WorldModelStore
from wmh.core.errors import InvalidNameError, ModelFormatError, NotFoundError


def manifest(name: str) -> Manifest:
    return Manifest(name=name, built_at="2026-01-01T00:00:00+00:00", wmh_version="0")


def test_write_resolve_list(tmp_path: Path) -> None:
    store = WorldModelStore(tmp_path)

    def fill(d: Path) -> Manifest:
        (d / "x").write_text("1")
        return manifest("air")

    path = store.write("air", fill)
    assert store.resolve("air") == path
    assert (path / "x").read_text() == "1"
    assert store.names() == ["air"]
    assert store.manifest("air").name == "air"


def test_crash_mid_build_keeps_previous_model(tmp_path: Path) -> None:
    store = WorldModelStore(tmp_path)
    first = store.write("air", lambda d: manifest("air"))

    def crash(d: Path) -> Manifest:
        (d / "half").write_text("partial")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        store.write("air", crash)
    assert store.resolve("air") == first
    assert [p.name for p in (tmp_path / "models" / "air").iterdir() if p.is_dir()] == [first.name]


def test_rebuild_replaces_and_prunes(tmp_path: Path) -> None:
    store = WorldModelStore(tmp_path)
    store.write("air", lambda d: manifest("air"))
    second = store.write("air", lambda d: manifest("air"))
    assert store.resolve("air") == second
    assert len([p for p in (tmp_path / "models" / "air").iterdir() if p.is_dir()]) == 1


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "..", ".hidden", "a" * 65, "x..y"])
def test_unsafe_names_rejected(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidNameError):
        WorldModelStore(tmp_path).resolve(bad)


def test_missing_model_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="wmh build --name nope"):
        WorldModelStore(tmp_path).resolve("nope")


def test_wmh_home_moves_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WMH_HOME", str(tmp_path / "home"))
    assert WorldModelStore().root == tmp_path / "home"


def test_manifest_versions() -> None:
    with pytest.raises(ModelFormatError, match="upgrade wmh"):
        parse_manifest(b'{"schema_version": 99, "name": "x"}', "m.json")
    with pytest.raises(ModelFormatError, match="not JSON"):
        parse_manifest(b"{", "m.json")
    with pytest.raises(ModelFormatError, match="not a wmh model"):
        parse_manifest(b"[]", "m.json")


def test_delete_and_folders_include_a_damaged_model(tmp_path: Path) -> None:
    store = WorldModelStore(tmp_path)
    store.write("air", lambda d: manifest("air"))
    (tmp_path / "models" / "air" / "CURRENT").unlink()
    assert store.names() == [] and store.folders() == ["air"]
    store.delete("air")
    assert not (tmp_path / "models" / "air").exists()
    with pytest.raises(NotFoundError, match="no world model named 'air'"):
        store.delete("air")
