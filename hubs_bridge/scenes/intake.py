"""Checks on an upload while it arrives, chunk by chunk: size, GLB header, length, hash.

Pure (bytes in, a refusal or a digest out), so the web layer only moves bytes
and the rules are tested without a server. A refusal comes as soon as the
bytes show it, so an oversized or foreign file is cut off without being read
to its end:

- more than ``max_bytes`` (or a GLB header declaring more): 413 ``scene_too_large``;
- the first bytes are not ``glTF`` (glTF 2.0 section 4.4.1): 422 ``not_glb``;
- fewer bytes than the header declares, at the end: 422 ``glb_truncated``;
- more bytes than it declares: 422 ``glb_length_mismatch``.

The full validator (``glb.py``) runs afterwards, on the whole file.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from hubs_bridge.errors import PayloadTooLarge, ValidationFailed
from hubs_bridge.scenes.glb import GLB_MAGIC

GLB_HEADER_BYTES = 12
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LENGTH = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Received:
    """A file received whole: its size and the SHA-256 of its bytes (hex)."""

    size: int
    sha256: str


class GlbIntake:
    """Follows one GLB upload; :meth:`feed` each chunk, then :meth:`finish`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.declared: int | None = None
        self._head = b""
        self._hash = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes; raise as soon as they make the file unacceptable."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise too_large(self.max_bytes)
        if len(self._head) < GLB_HEADER_BYTES:
            self._head += chunk[: GLB_HEADER_BYTES - len(self._head)]
            self._check_head()
        if self.declared is not None and self.size > self.declared:
            raise ValidationFailed(
                f"the file goes on past the {self.declared} bytes its GLB header declares",
                code="glb_length_mismatch",
            )
        self._hash.update(chunk)

    def _check_head(self) -> None:
        magic = self._head[: len(GLB_MAGIC)]
        if not GLB_MAGIC.startswith(magic):
            hint = " (it looks like a .gltf JSON file)" if self._head[:1] == b"{" else ""
            raise ValidationFailed(
                f"this is not a GLB file: it does not start with 'glTF'{hint}", code="not_glb"
            )
        if len(self._head) == GLB_HEADER_BYTES:
            # Bytes 8-11: the total length of the file (section 4.4.2).
            (self.declared,) = _LENGTH.unpack_from(self._head, 8)
            if self.declared > self.max_bytes:
                raise too_large(self.max_bytes, declared=self.declared)

    def finish(self) -> Received:
        """The end of the upload: refuse a file shorter than it says, else its digest."""
        if self.size == 0:
            raise ValidationFailed("the upload is empty; send a .glb file", code="not_glb")
        if self.declared is None or self.size < self.declared:
            expected = self.declared if self.declared is not None else GLB_HEADER_BYTES
            raise ValidationFailed(
                f"the file is cut off: {self.size} bytes arrived, {expected} were declared",
                code="glb_truncated",
            )
        return Received(self.size, self._hash.hexdigest())


class PngIntake:
    """Follows one preview image upload: a PNG of at most ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._head = b""
        self._hash = hashlib.sha256()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(
                f"the preview image may have at most {self.max_bytes} bytes",
                code="preview_too_large",
            )
        if len(self._head) < len(PNG_SIGNATURE):
            self._head += chunk[: len(PNG_SIGNATURE) - len(self._head)]
            if not PNG_SIGNATURE.startswith(self._head):
                raise not_png()
        self._hash.update(chunk)

    def finish(self) -> Received:
        if len(self._head) < len(PNG_SIGNATURE):
            raise not_png()
        return Received(self.size, self._hash.hexdigest())


def too_large(max_bytes: int, *, declared: int | None = None) -> PayloadTooLarge:
    said = f" (its header declares {declared})" if declared is not None else ""
    return PayloadTooLarge(
        f"a scene file may have at most {max_bytes} bytes{said}", code="scene_too_large"
    )


def not_png() -> ValidationFailed:
    return ValidationFailed("the preview image is not a PNG file", code="preview_not_png")
