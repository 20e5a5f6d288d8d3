"""The upload checks of ``scenes/intake.py`` without a server: chunks in, a refusal or a digest."""

from __future__ import annotations

import hashlib
import struct

import pytest

from hubs_bridge.errors import ClientError
from hubs_bridge.scenes.intake import GlbIntake, PngIntake
from tests.harness.scene_files import glb_bytes, png_bytes

GLB = glb_bytes()


def fed(data: bytes, size: int, max_bytes: int = 1 << 20) -> GlbIntake:
    intake = GlbIntake(max_bytes)
    for start in range(0, len(data), size):
        intake.feed(data[start : start + size])
    return intake


def refusal(action: object) -> tuple[int, str]:
    with pytest.raises(ClientError) as refused:
        action()  # type: ignore[operator]
    return refused.value.status, refused.value.code


@pytest.mark.parametrize("size", [1, 5, 12, 13, 4096])
def test_a_whole_glb_in_any_chunks_gives_its_digest(size: int) -> None:
    received = fed(GLB, size).finish()
    assert received.size == len(GLB)
    assert received.sha256 == hashlib.sha256(GLB).hexdigest()


@pytest.mark.parametrize("size", [1, 7, 4096])
def test_a_cut_off_glb_is_truncated_at_the_end(size: int) -> None:
    for cut in (1, 11, 12, 100, len(GLB) - 1):
        intake = fed(GLB[:cut], size)
        assert refusal(intake.finish) == (422, "glb_truncated")


def test_foreign_bytes_are_refused_at_the_first_byte_that_shows_it() -> None:
    intake = GlbIntake(1 << 20)
    intake.feed(b"gl")
    assert refusal(lambda: intake.feed(b"b")) == (422, "not_glb")
    assert refusal(lambda: GlbIntake(100).feed(b"{")) == (422, "not_glb")
    assert refusal(lambda: GlbIntake(100).feed(png_bytes())) == (422, "not_glb")
    assert refusal(GlbIntake(100).finish) == (422, "not_glb")  # empty


def test_too_many_bytes_stop_the_upload_at_once() -> None:
    intake = GlbIntake(len(GLB) - 1)
    with pytest.raises(ClientError) as refused:
        for byte in range(len(GLB)):
            intake.feed(GLB[byte : byte + 1])
    assert (refused.value.status, refused.value.code) == (413, "scene_too_large")
    # The header said so before the bytes did: refused at byte 12, not at the end.
    assert intake.size == 12


def test_a_header_declaring_too_much_is_refused_before_the_body() -> None:
    header = struct.pack("<4sII", b"glTF", 2, 10_000_000)
    assert refusal(lambda: GlbIntake(1 << 20).feed(header)) == (413, "scene_too_large")


def test_more_bytes_than_declared_are_refused() -> None:
    intake = GlbIntake(1 << 20)
    intake.feed(GLB)
    assert refusal(lambda: intake.feed(b"\x00")) == (422, "glb_length_mismatch")


def test_previews_must_be_small_pngs() -> None:
    png = png_bytes()
    intake = PngIntake(1024)
    for byte in png:
        intake.feed(bytes([byte]))
    assert intake.finish().sha256 == hashlib.sha256(png).hexdigest()
    assert refusal(lambda: PngIntake(1024).feed(b"GIF89a")) == (422, "preview_not_png")
    assert refusal(lambda: PngIntake(10).feed(png)) == (413, "preview_too_large")
    short = PngIntake(1024)
    short.feed(png[:4])
    assert refusal(short.finish) == (422, "preview_not_png")
