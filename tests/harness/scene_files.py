"""Scene files written by hand for the scene tests: GLB bytes, PNG bytes, pack folders.

The GLB is assembled with ``struct`` (12-byte header, JSON chunk, BIN chunk,
glTF 2.0 section 4.4), so the tests do not depend on an exporter or on the
packs in ``room_scenes/``.
"""

from __future__ import annotations

import copy
import json
import struct
import zlib
from pathlib import Path
from typing import Any

CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942

MANIFEST = """\
licence = "CC0-1.0"
attribution = "StadtLABOR Soest, hubs-bridge contributors"
suggested_capacity = 24
tags = ["foyer", "info"]

[title]
de = "Foyer"
en = "Lobby"

[description]
de = "Ein heller Raum zum Ankommen."
en = "A bright room to arrive in."
"""


def _floor_bin() -> bytes:
    """A 2x2 m quad: 4 float VEC3 positions (48 bytes) then 6 uint16 indices (12 bytes)."""
    positions = struct.pack("<12f", -1, 0, -1, 1, 0, -1, 1, 0, 1, -1, 0, 1)
    indices = struct.pack("<6H", 0, 1, 2, 0, 2, 3)
    return positions + indices


FLOOR_BIN = _floor_bin()


def scene_gltf() -> dict[str, Any]:
    """A small valid Hubs scene: floor, nav mesh, spawn point, waypoint, sun (a fresh copy)."""
    hubs = "MOZ_hubs_components"
    return copy.deepcopy(
        {
            "asset": {"version": "2.0", "generator": "hubs-bridge tests"},
            "extensionsUsed": [hubs],
            "extensions": {hubs: {"version": 4}},
            "scene": 0,
            "scenes": [{"name": "Room", "nodes": [0, 1, 2, 3, 4]}],
            "nodes": [
                {"name": "Floor", "mesh": 0},
                {
                    "name": "NavMesh",
                    "mesh": 0,
                    "extensions": {hubs: {"nav-mesh": {}, "visible": {"visible": False}}},
                },
                {
                    "name": "Spawn",
                    "translation": [0, 0, 0.5],
                    "extensions": {hubs: {"spawn-point": {}}},
                },
                {
                    "name": "Stage",
                    "translation": [0, 0, -0.5],
                    "extensions": {hubs: {"waypoint": {"canBeSpawnPoint": False}}},
                },
                {
                    "name": "Sun",
                    "extensions": {
                        hubs: {
                            "directional-light": {
                                "color": "#ffffff",
                                "intensity": 1,
                                "castShadow": True,
                            }
                        }
                    },
                },
            ],
            "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
            "accessors": [
                {
                    "bufferView": 0,
                    "componentType": 5126,
                    "type": "VEC3",
                    "count": 4,
                    "min": [-1, 0, -1],
                    "max": [1, 0, 1],
                },
                {"bufferView": 1, "componentType": 5123, "type": "SCALAR", "count": 6},
            ],
            "bufferViews": [
                {"buffer": 0, "byteOffset": 0, "byteLength": 48, "target": 34962},
                {"buffer": 0, "byteOffset": 48, "byteLength": 12, "target": 34963},
            ],
            "buffers": [{"byteLength": len(FLOOR_BIN)}],
        }
    )


def chunk(chunk_type: int, payload: bytes, pad: bytes = b"\x00") -> bytes:
    """One GLB chunk, padded to a multiple of 4 bytes."""
    payload += pad * (-len(payload) % 4)
    return struct.pack("<II", len(payload), chunk_type) + payload


def glb_bytes(
    gltf: dict[str, Any] | bytes | None = None,
    bin_data: bytes | None = FLOOR_BIN,
    *,
    extra_chunks: bytes = b"",
    version: int = 2,
) -> bytes:
    """A GLB file: ``gltf`` (a dict, or raw JSON bytes) and an optional BIN chunk."""
    doc = scene_gltf() if gltf is None else gltf
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    body = chunk(CHUNK_JSON, raw, pad=b" ")
    if bin_data is not None:
        body += chunk(CHUNK_BIN, bin_data)
    body += extra_chunks
    return struct.pack("<4sII", b"glTF", version, 12 + len(body)) + body


def png_bytes() -> bytes:
    """A valid 1x1 PNG image."""

    def png_chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\x80\xc0\xff")
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def write_pack(
    root: Path,
    slug: str,
    *,
    manifest: str | None = MANIFEST,
    glb: bytes | None = None,
    preview: bytes | None = None,
    omit_glb: bool = False,
) -> Path:
    """Write a pack folder ``root/slug`` (a valid GLB unless ``glb`` or ``omit_glb`` say else)."""
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    if manifest is not None:
        (folder / "scene.toml").write_text(manifest, encoding="utf-8")
    if not omit_glb:
        (folder / "scene.glb").write_bytes(glb if glb is not None else glb_bytes())
    if preview is not None:
        (folder / "preview.png").write_bytes(preview)
    return folder
