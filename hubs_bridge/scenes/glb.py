"""A strict validator for Hubs scene files (glTF 2.0 binary, GLB); bytes in, a report out.

It does no I/O and never raises, whatever the bytes: it is run on every scene
pack at start-up and by ``hubs-bridge scenes check``, and a broken file must
become a list of problems, not a crash. The checks, in order:

1. size against ``max_bytes`` (``too_large``);
2. the container (glTF 2.0 section 4.4): 12-byte header, a JSON chunk first,
   an optional BIN chunk second, chunk lengths aligned and inside the file;
3. the JSON document (``gltf.py``): buffers, views and accessors in bounds,
   every index pointing at something, a node tree without cycles;
4. the Hubs components (``components.py``): spawn point, nav mesh, lights.

Later steps only run when the earlier ones leave something to check; step 4
also runs after errors in step 3, so one pass reports as much as possible.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, NoReturn

from hubs_bridge.scenes.components import check_components
from hubs_bridge.scenes.gltf import check_structure
from hubs_bridge.scenes.problems import Problem, ProblemLog

GLB_MAGIC = b"glTF"
GLB_VERSION = 2
CHUNK_JSON = 0x4E4F534A  # "JSON" read little-endian
CHUNK_BIN = 0x004E4942  # "BIN\0" read little-endian
_HEADER = struct.Struct("<4sII")
_CHUNK_HEADER = struct.Struct("<II")


@dataclass(frozen=True, slots=True)
class SceneSummary:
    """What a scene holds: each Hubs component's count, and node, mesh and triangle counts."""

    components: dict[str, int] = field(default_factory=dict)
    nodes: int = 0
    meshes: int = 0
    triangles: int = 0


@dataclass(frozen=True, slots=True)
class GlbCheck:
    """The result of :func:`validate_glb`; the scene is usable when ``errors`` is empty."""

    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    summary: SceneSummary

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> set[str]:
        """The codes of all errors and warnings, e.g. for ``"no_nav_mesh" in check.codes()``."""
        return {p.code for p in self.errors + self.warnings}


class _Stop(Exception):
    """Raised inside the validator when later checks have nothing sound to work on."""


def validate_glb(data: bytes, *, max_bytes: int) -> GlbCheck:
    """Check that ``data`` is a GLB a Hubs client can load as a room scene."""
    log = ProblemLog()
    summary = SceneSummary()
    try:
        json_chunk, bin_length = _read_container(data, max_bytes, log)
        doc = _parse_json(json_chunk, log)
        triangles = check_structure(doc, bin_length, log)
        components = check_components(doc, log)
        summary = SceneSummary(
            components=components,
            nodes=_length(doc.get("nodes")),
            meshes=_length(doc.get("meshes")),
            triangles=triangles,
        )
    except _Stop:
        pass
    except Exception as exc:  # the promise is "never raises"; the tests fuzz for this
        log.error("internal_error", f"the validator failed ({type(exc).__name__}); please report")
    return GlbCheck(tuple(log.errors), tuple(log.warnings), summary)


def _stop(log: ProblemLog, code: str, message: str) -> NoReturn:
    log.error(code, message)
    raise _Stop


def _read_container(data: bytes, max_bytes: int, log: ProblemLog) -> tuple[bytes, int | None]:
    """Return the JSON chunk's bytes and the BIN chunk's length (``None`` without one)."""
    size = len(data)
    if size > max_bytes:
        _stop(log, "too_large", f"the file has {size} bytes; the limit is {max_bytes}")
    if size < _HEADER.size:
        _stop(log, "truncated", f"the file has {size} bytes, less than a GLB header (12)")
    magic, version, length = _HEADER.unpack_from(data)
    if magic != GLB_MAGIC:
        hint = " (it looks like a .gltf JSON file, not a binary .glb)" if data[:1] == b"{" else ""
        _stop(log, "bad_magic", f"the file does not start with 'glTF'{hint}")
    if version != GLB_VERSION:
        _stop(log, "bad_version", f"GLB version {version}; only version 2 is supported")
    if length > size:
        _stop(log, "truncated", f"the header says {length} bytes but the file has only {size}")
    if length < size:
        _stop(log, "length_mismatch", f"the header says {length} bytes but the file has {size}")

    json_chunk: bytes | None = None
    bin_length: int | None = None
    offset, index = _HEADER.size, 0
    while offset < size:
        if size - offset < _CHUNK_HEADER.size:
            _stop(log, "chunk_out_of_bounds", f"chunk {index} header is cut off at byte {offset}")
        chunk_length, chunk_type = _CHUNK_HEADER.unpack_from(data, offset)
        start = offset + _CHUNK_HEADER.size
        if chunk_length > size - start:
            _stop(
                log,
                "chunk_out_of_bounds",
                f"chunk {index} claims {chunk_length} bytes but only {size - start} remain",
            )
        if chunk_length % 4:
            # 4.4.3.1: chunks are padded so the next one starts 4-byte aligned.
            _stop(
                log,
                "chunk_unaligned",
                f"chunk {index} length {chunk_length} is not a multiple of 4",
            )
        if index == 0:
            if chunk_type != CHUNK_JSON:
                _stop(
                    log, "no_json_chunk", f"the first chunk has type {chunk_type:#010x}, not JSON"
                )
            json_chunk = data[start : start + chunk_length]
        elif chunk_type == CHUNK_BIN and index == 1:
            bin_length = chunk_length
        elif chunk_type in (CHUNK_JSON, CHUNK_BIN):
            # 4.4.3.1: exactly one JSON chunk, first; at most one BIN chunk, second.
            _stop(log, "misplaced_chunk", f"chunk {index} is an extra or misplaced JSON/BIN chunk")
        else:
            # 4.4.3.1: unknown chunk types must be ignored by loaders.
            log.warn("unknown_chunk", f"chunk {index} has unknown type {chunk_type:#010x}; ignored")
        offset, index = start + chunk_length, index + 1
    if json_chunk is None:
        _stop(log, "no_json_chunk", "the file has a header but no chunks")
    return json_chunk, bin_length


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(chunk: bytes, log: ProblemLog) -> dict[str, Any]:
    # 4.4.3.2: padded with spaces, which JSON allows; some old exporters pad with NULs.
    if chunk.endswith(b"\x00"):
        chunk = chunk.rstrip(b"\x00")
        log.warn("json_padding", "the JSON chunk is padded with NUL bytes instead of spaces")
    if chunk.startswith(b"\xef\xbb\xbf"):
        _stop(log, "bad_json", "the JSON chunk starts with a byte order mark, which glTF forbids")
    try:
        doc = json.loads(chunk.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        _stop(log, "bad_json", f"the JSON chunk is not UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        _stop(log, "bad_json", f"the JSON chunk does not parse: {exc.msg} at {exc.pos}")
    except RecursionError:
        _stop(log, "bad_json", "the JSON chunk is nested too deeply")
    except ValueError as exc:  # NaN/Infinity, or an integer too long to convert
        _stop(log, "bad_json", f"the JSON chunk does not parse: {exc}")
    if not isinstance(doc, dict):
        _stop(log, "json_not_object", f"the JSON document is a {type(doc).__name__}, not an object")
    return doc


def _length(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0
