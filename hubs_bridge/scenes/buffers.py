"""Checks of a glTF document's binary data: buffers, buffer views and accessors.

Each must lie inside its container (accessor in view, view in buffer, buffer
in the GLB BIN chunk), because a loader reading past the end fails in the
browser or, worse, reads another object's bytes. Buffers given as ``data:``
URIs are decoded and measured; any other URI names an external file, which a
scene served as one ``.glb`` by URL cannot fetch. Section numbers refer to
the glTF 2.0 specification.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from hubs_bridge.scenes.problems import ProblemLog
from hubs_bridge.scenes.values import as_int, check_ref

# 3.6.2.2: bytes per component for each accessor componentType.
COMPONENT_SIZES = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}
TYPE_COMPONENTS = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
# 3.6.2.4: matrix columns of 1- and 2-byte components are padded to 4 bytes.
_PADDED_MATRIX_SIZES = {("MAT2", 1): 8, ("MAT3", 1): 12, ("MAT3", 2): 24}

# (byteOffset, byteLength, byteStride) of a usable buffer view.
View = tuple[int, int, int | None]


def check_uri(uri: Any, where: str, log: ProblemLog) -> bytes | None:
    """Decode a ``data:`` URI; anything else is an external file the scene cannot load."""
    if not isinstance(uri, str):
        log.error("bad_gltf", f"{where}.uri must be a string")
        return None
    if not uri.startswith("data:"):
        log.error(
            "external_resource",
            f"{where} refers to the external file {uri[:80]!r}; embed it in the .glb",
        )
        return None
    header, sep, payload = uri.partition(",")
    if not sep or not header.endswith(";base64"):
        log.error("bad_data_uri", f"{where}.uri is a data: URI that is not base64")
        return None
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        log.error("bad_data_uri", f"{where}.uri holds invalid base64")
        return None


def check_buffers(
    buffers: list[dict[str, Any] | None], bin_length: int | None, log: ProblemLog
) -> list[int | None]:
    """Return each buffer's usable byte length (``None`` when the buffer is broken)."""
    lengths: list[int | None] = []
    for i, buf in enumerate(buffers):
        where = f"buffers[{i}]"
        if buf is None:
            lengths.append(None)
            continue
        length = as_int(buf.get("byteLength"))
        if length is None or length < 1:
            log.error("bad_gltf", f"{where}.byteLength must be an integer of at least 1")
            lengths.append(None)
            continue
        if "uri" in buf:
            data = check_uri(buf["uri"], where, log)
            if data is not None and len(data) < length:
                log.error(
                    "buffer_out_of_bounds",
                    f"{where}.byteLength is {length} but its data: URI holds {len(data)} bytes",
                )
                data = None
            lengths.append(length if data is not None else None)
        elif i != 0:
            # 4.4.3.3: only the first buffer may refer to the GLB binary chunk.
            log.error("bad_gltf", f"{where} has no uri; only buffers[0] may use the BIN chunk")
            lengths.append(None)
        elif bin_length is None:
            log.error("missing_bin_chunk", f"{where} refers to the BIN chunk, which is missing")
            lengths.append(None)
        elif length > bin_length or bin_length - length > 3:
            # 4.4.3.3: the chunk may exceed byteLength only by its padding (up to 3 bytes).
            log.error(
                "buffer_out_of_bounds",
                f"{where}.byteLength is {length} but the BIN chunk holds {bin_length} bytes",
            )
            lengths.append(None if length > bin_length else length)
        else:
            lengths.append(length)
    return lengths


def check_buffer_views(
    views: list[dict[str, Any] | None], buffers: list[int | None], log: ProblemLog
) -> list[View | None]:
    """Return (byteOffset, byteLength, byteStride) per usable buffer view."""
    result: list[View | None] = []
    for i, view in enumerate(views):
        where = f"bufferViews[{i}]"
        if view is None:
            result.append(None)
            continue
        buffer = check_ref(view.get("buffer"), len(buffers), "buffers", f"{where}.buffer", log)
        offset = as_int(view.get("byteOffset", 0))
        length = as_int(view.get("byteLength"))
        stride = view.get("byteStride")
        if offset is None or offset < 0 or length is None or length < 1:
            log.error("bad_gltf", f"{where} needs byteLength >= 1 and byteOffset >= 0")
            result.append(None)
            continue
        if stride is not None and (
            (s := as_int(stride)) is None or not 4 <= s <= 252 or s % 4  # 5.11: byteStride
        ):
            log.error("bad_gltf", f"{where}.byteStride must be a multiple of 4 from 4 to 252")
            result.append(None)
            continue
        buffer_length = buffers[buffer] if buffer is not None else None
        if buffer_length is None:
            result.append(None)
        elif offset + length > buffer_length:
            log.error(
                "buffer_view_out_of_bounds",
                f"{where} spans bytes {offset}..{offset + length} "
                f"of buffers[{buffer}], which has {buffer_length}",
            )
            result.append(None)
        else:
            result.append((offset, length, as_int(stride)))
    return result


def _element_size(component_type: int, kind: str) -> int:
    size = COMPONENT_SIZES[component_type]
    return _PADDED_MATRIX_SIZES.get((kind, size), TYPE_COMPONENTS[kind] * size)


def check_accessors(
    accessors: list[dict[str, Any] | None],
    views: list[View | None],
    log: ProblemLog,
) -> list[int | None]:
    """Check each accessor fits its view; return each one's element count (``None`` if bad)."""
    counts: list[int | None] = []
    for i, acc in enumerate(accessors):
        where = f"accessors[{i}]"
        if acc is None:
            counts.append(None)
            continue
        ctype, kind, count = as_int(acc.get("componentType")), acc.get("type"), acc.get("count")
        count = as_int(count)
        offset = as_int(acc.get("byteOffset", 0))
        if ctype not in COMPONENT_SIZES or not isinstance(kind, str) or kind not in TYPE_COMPONENTS:
            log.error("bad_accessor", f"{where} has an unknown componentType or type")
            counts.append(None)
            continue
        if count is None or count < 1 or offset is None or offset < 0:
            log.error("bad_accessor", f"{where} needs count >= 1 and byteOffset >= 0")
            counts.append(None)
            continue
        _check_sparse(acc.get("sparse"), len(views), where, log)
        if "bufferView" not in acc:
            counts.append(count)  # 3.6.2.3: no view means all zeros (or sparse only)
            continue
        view_index = check_ref(acc["bufferView"], len(views), "bufferViews", where, log)
        view = views[view_index] if view_index is not None else None
        if view is None:
            counts.append(None)
            continue
        view_offset, view_length, stride = view
        element = _element_size(ctype, kind)
        if stride is not None and stride < element:
            log.error("bad_accessor", f"{where} elements of {element} bytes exceed byteStride")
            counts.append(None)
            continue
        end = offset + (stride or element) * (count - 1) + element
        size = COMPONENT_SIZES[ctype]
        if end > view_length:
            log.error(
                "accessor_out_of_bounds",
                f"{where} needs {end} bytes of bufferViews[{view_index}], which has {view_length}",
            )
            counts.append(None)
        elif (view_offset + offset) % size:
            # 3.6.2.4: data must be aligned to its component size.
            log.error("misaligned_accessor", f"{where} data is not aligned to {size} bytes")
            counts.append(None)
        else:
            counts.append(count)
    return counts


def _check_sparse(sparse: Any, view_count: int, where: str, log: ProblemLog) -> None:
    if sparse is None:
        return
    if not isinstance(sparse, dict):
        log.error("bad_accessor", f"{where}.sparse must be an object")
        return
    for part in ("indices", "values"):
        section = sparse.get(part)
        if not isinstance(section, dict):
            log.error("bad_accessor", f"{where}.sparse.{part} must be an object")
            continue
        ref = section.get("bufferView")
        check_ref(ref, view_count, "bufferViews", f"{where}.sparse.{part}.bufferView", log)
