"""Uploaded scene files, content-addressed: one file per SHA-256, never a partial one.

Behind :class:`BlobStore` so another backend (an S3-compatible store) can be
added; :class:`DirectoryBlobs` keeps them in a folder that every process of an
installation mounts (a shared volume: docker-compose's named volume, a
ReadWriteMany claim in Kubernetes; ``docs/scenes.md``)::

    <root>/ab/ab12...ef.glb     a GLB, named by the SHA-256 of its bytes
    <root>/cd/cd34...01.png     a preview image
    <root>/.incoming/*.part     uploads being received (spooled), never served

An upload is spooled into ``.incoming`` (same volume, so the move is a rename),
hashed and validated while it arrives, fsynced, and only then renamed to its
digest's name with :func:`os.replace`: a reader sees the whole file or none.
The directory entry is fsynced too, so a file once listed survives a power cut.

Methods do blocking file I/O; callers run them in a worker thread.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Literal, Protocol

BlobKind = Literal["glb", "png"]
INCOMING = ".incoming"
SPOOL_SUFFIX = ".part"
# A spooled file older than this is left over from a process that died mid-upload; an
# upload still running that long (64 MiB at 15 kB/s) is not worth keeping alive.
STALE_SPOOL_S = 3600.0
_DIGEST = re.compile(r"[0-9a-f]{64}")


class BlobStore(Protocol):
    """Where uploaded scene files live, by digest (``tests/test_scene_blobs.py``)."""

    def spool(self) -> Path:
        """A new empty file to receive an upload into; the caller deletes it unless
        :meth:`put` took it."""

    def put(self, spooled: Path, sha256: str, kind: BlobKind) -> None:
        """Keep a spooled file, whose bytes the caller has verified, under its digest.

        The spooled file is gone afterwards. When the digest is stored already
        (the same bytes uploaded again), the stored file stays as it is.
        """

    def path(self, sha256: str, kind: BlobKind) -> Path:
        """Where the file of this digest is (or would be); no I/O."""

    def delete(self, sha256: str, kind: BlobKind) -> bool:
        """Remove the file of this digest; ``False`` if there was none."""


class DirectoryBlobs:
    """:class:`BlobStore` on a directory (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.incoming = root / INCOMING

    @classmethod
    def open(cls, root: Path) -> DirectoryBlobs:
        """The store on ``root``, without spooled files left by a crash.

        The folders are made by the first upload, not here: an installation that
        never uploads needs no writable folder, and a volume that is missing or
        read-only fails the uploads (with a clear error), not the server's start.
        """
        blobs = cls(root)
        if blobs.incoming.is_dir():
            blobs.sweep(STALE_SPOOL_S)
        return blobs

    def spool(self) -> Path:
        self.incoming.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.incoming, prefix="upload-", suffix=SPOOL_SUFFIX)
        os.close(fd)
        return Path(name)

    def put(self, spooled: Path, sha256: str, kind: BlobKind) -> None:
        final = self.path(sha256, kind)
        final.parent.mkdir(exist_ok=True)
        if final.exists():
            # Same name, same bytes: replacing it would only change its mtime under
            # a reader.
            spooled.unlink(missing_ok=True)
            return
        with spooled.open("rb") as f:
            os.fsync(f.fileno())  # the bytes on disk before the name points at them
        os.replace(spooled, final)
        _fsync_dir(final.parent)

    def path(self, sha256: str, kind: BlobKind) -> Path:
        if not _DIGEST.fullmatch(sha256):
            # A digest becomes a file name: nothing else may reach the file system.
            raise ValueError(f"not a lowercase hex SHA-256: {sha256[:80]!r}")
        return self.root / sha256[:2] / f"{sha256}.{kind}"

    def delete(self, sha256: str, kind: BlobKind) -> bool:
        path = self.path(sha256, kind)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        return True

    def sweep(self, older_than_s: float) -> int:
        """Remove spooled files older than ``older_than_s`` seconds; how many."""
        cutoff = time.time() - older_than_s
        removed = 0
        for leftover in self.incoming.glob(f"*{SPOOL_SUFFIX}"):
            with contextlib.suppress(FileNotFoundError):
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    removed += 1
        return removed


def _fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable (POSIX: fsync of the directory)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems (and network shares) refuse fsync on a directory
    finally:
        os.close(fd)
