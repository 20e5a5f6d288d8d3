"""The blob store contract, for every backend (today a shared directory; S3 could join)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hubs_bridge.scenes.blobs import BlobStore, DirectoryBlobs
from tests.harness.scene_files import glb_bytes

DATA = glb_bytes()
SHA = hashlib.sha256(DATA).hexdigest()

BACKENDS: dict[str, Callable[[Path], BlobStore]] = {"directory": DirectoryBlobs.open}


@pytest.fixture(params=sorted(BACKENDS))
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    return BACKENDS[request.param](tmp_path / "blobs")


def spooled(blobs: BlobStore, data: bytes) -> Path:
    path = blobs.spool()
    path.write_bytes(data)
    return path


def test_a_put_file_is_found_by_its_digest_and_the_spool_is_gone(blobs: BlobStore) -> None:
    path = spooled(blobs, DATA)
    blobs.put(path, SHA, "glb")
    assert not path.exists()
    assert blobs.path(SHA, "glb").read_bytes() == DATA
    assert not blobs.path(SHA, "png").exists()  # kinds apart


def test_putting_the_same_bytes_again_keeps_the_stored_file(blobs: BlobStore) -> None:
    blobs.put(spooled(blobs, DATA), SHA, "glb")
    before = os.stat(blobs.path(SHA, "glb"))
    again = spooled(blobs, DATA)
    blobs.put(again, SHA, "glb")
    assert not again.exists()
    after = os.stat(blobs.path(SHA, "glb"))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_delete(blobs: BlobStore) -> None:
    blobs.put(spooled(blobs, DATA), SHA, "glb")
    assert blobs.delete(SHA, "glb")
    assert not blobs.path(SHA, "glb").exists()
    assert not blobs.delete(SHA, "glb")


def test_only_digests_become_file_names(blobs: BlobStore) -> None:
    for bad in ("../../etc/passwd", SHA.upper(), SHA[:-1], SHA + "0", ""):
        with pytest.raises(ValueError):
            blobs.path(bad, "glb")


def test_spooled_files_are_not_blobs(blobs: BlobStore) -> None:
    a, b = blobs.spool(), blobs.spool()
    assert a != b and a.exists() and a.stat().st_size == 0
    assert not blobs.path(SHA, "glb").exists()


def test_a_directory_sweeps_spooled_files_left_by_a_crash(tmp_path: Path) -> None:
    blobs = DirectoryBlobs.open(tmp_path / "blobs")
    old, fresh = blobs.spool(), blobs.spool()
    an_hour_ago = time.time() - 3601
    os.utime(old, (an_hour_ago, an_hour_ago))
    DirectoryBlobs.open(tmp_path / "blobs")  # a restart
    assert not old.exists() and fresh.exists()


def test_a_directory_never_shows_a_partial_file(tmp_path: Path) -> None:
    """The final name appears by rename, after the bytes are complete and synced."""
    blobs = DirectoryBlobs.open(tmp_path / "blobs")
    path = blobs.spool()
    with path.open("wb") as out:
        out.write(DATA[:100])
        assert not blobs.path(SHA, "glb").exists()  # still being written: not there
        out.write(DATA[100:])
    blobs.put(path, SHA, "glb")
    assert blobs.path(SHA, "glb").read_bytes() == DATA
    assert [p.name for p in blobs.path(SHA, "glb").parent.iterdir()] == [f"{SHA}.glb"]
