"""Receiving a scene upload: the request body streamed through the intake checks to disk.

The body is never read whole: it goes chunk by chunk through the checks of
``scenes/intake.py`` (size, GLB header, declared length, hash) into files
spooled in the blob store, so the JSON body limit does not apply and an
oversized or foreign file is refused as soon as its bytes show it. Writes go
to a worker thread in pieces, so a slow disk (a network volume) never holds
the event loop. :class:`Spool` removes whatever a request spooled unless the
catalog took it, whatever ends the request: a refusal, an error, a client
gone mid-upload.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from aiohttp import BodyPartReader, web

from hubs_bridge.errors import BadRequest, PayloadTooLarge
from hubs_bridge.scene_catalog import Spooled, files_unavailable
from hubs_bridge.scenes.blobs import BlobStore
from hubs_bridge.scenes.intake import GlbIntake, PngIntake, Received, too_large
from hubs_bridge.scenes.library import MAX_PREVIEW_BYTES

GLB_TYPES = ("application/octet-stream", "model/gltf-binary")
MULTIPART = "multipart/form-data"
# The form fields taken besides the files (the titles).
TEXT_FIELDS = ("title", "title_en")
READ_BYTES = 64 * 1024
# Written to the spool in pieces this large: one worker-thread hop per piece, not per read.
WRITE_BYTES = 512 * 1024
FIELD_MAX_BYTES = 2048
# Room in a multipart body for its boundaries, part headers and text fields.
MULTIPART_SLACK = 64 * 1024
Reader = Callable[[int], Awaitable[bytes]]


@dataclass
class Spool:
    """The spooled files of one request; removed at its end unless the catalog took them."""

    blobs: BlobStore
    paths: list[Path] = field(default_factory=list)

    async def new(self) -> Path:
        try:
            path = await asyncio.to_thread(self.blobs.spool)
        except OSError as exc:
            raise files_unavailable(exc) from exc
        self.paths.append(path)
        return path

    def drop(self, path: Path) -> None:
        """Remove one spooled file now (it turned out to hold nothing)."""
        path.unlink(missing_ok=True)
        self.paths.remove(path)

    def hand_over(self) -> None:
        self.paths = []

    def discard(self) -> None:
        # Synchronous on purpose: an await here could be cancelled (the client went
        # away) before the files were gone. An unlink is quick.
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths = []


@dataclass
class Upload:
    """What a request brought: the scene file, a preview image, the text fields."""

    glb: Spooled | None = None
    preview: Spooled | None = None
    fields: dict[str, str] = field(default_factory=dict)


async def receive(request: web.Request, spool: Spool, max_bytes: int) -> Upload:
    """Stream the body into the spool through the intake checks; the files and fields."""
    content_type = request.content_type
    if content_type in GLB_TYPES:
        if request.content_length is not None and request.content_length > max_bytes:
            raise too_large(max_bytes)
        path = await spool.new()
        received = await _stream(request.content.read, path, GlbIntake(max_bytes))
        return Upload(glb=Spooled(path, received))
    if content_type == MULTIPART:
        limit = max_bytes + MAX_PREVIEW_BYTES + MULTIPART_SLACK
        if request.content_length is not None and request.content_length > limit:
            raise too_large(max_bytes)
        try:
            return await _receive_form(request, spool, max_bytes)
        except ValueError as exc:  # aiohttp's word for a malformed multipart body
            raise BadRequest(f"the form is malformed: {exc}", code="malformed_form") from None
    raise BadRequest(
        f"send the scene as {GLB_TYPES[0]} or as {MULTIPART}", code="unsupported_media_type"
    )


async def _receive_form(request: web.Request, spool: Spool, max_bytes: int) -> Upload:
    upload = Upload()
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadRequest("nested multipart bodies are not taken", code="malformed_form")
        name = part.name or ""
        if name == "glb" and upload.glb is None:
            path = await spool.new()
            upload.glb = Spooled(path, await _stream(part.read_chunk, path, GlbIntake(max_bytes)))
        elif name == "preview" and upload.preview is None:
            path = await spool.new()
            intake = PngIntake(MAX_PREVIEW_BYTES)
            received = await _stream(part.read_chunk, path, intake, allow_empty=True)
            if received.size:
                upload.preview = Spooled(path, received)
            else:  # a form whose file field was left empty sends an empty part: no preview
                spool.drop(path)
        elif name in TEXT_FIELDS and name not in upload.fields:
            upload.fields[name] = await _text(part)
        else:
            raise BadRequest(
                f"unexpected or repeated form field {name[:40]!r}; "
                "send glb, preview, title and title_en once each",
                code="unexpected_field",
            )
    return upload


async def _stream(
    read: Reader, path: Path, intake: GlbIntake | PngIntake, *, allow_empty: bool = False
) -> Received:
    """Copy chunks from ``read(n)`` to ``path`` through ``intake``; its digest, fsynced."""
    with path.open("wb") as out:
        pending = bytearray()
        while chunk := await read(READ_BYTES):
            intake.feed(chunk)
            pending += chunk
            if len(pending) >= WRITE_BYTES:
                await asyncio.to_thread(out.write, bytes(pending))
                pending.clear()
        if allow_empty and intake.size == 0:
            return Received(0, "")
        await asyncio.to_thread(_finish_file, out, bytes(pending))
    return intake.finish()


def _finish_file(out: BinaryIO, rest: bytes) -> None:
    out.write(rest)
    out.flush()
    # On disk before the blob store gives it a name (it fsyncs again; cheap when clean).
    os.fsync(out.fileno())


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(FIELD_MAX_BYTES):
        data += chunk
        if len(data) > FIELD_MAX_BYTES:
            raise PayloadTooLarge(
                f"a form field may have at most {FIELD_MAX_BYTES} bytes", code="field_too_large"
            )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("a form field is not UTF-8 text", code="malformed_form") from None
