"""The GLB validator: a valid scene passes, each kind of damage has its own code, nothing raises."""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Callable
from typing import Any

import pygltflib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubs_bridge.scenes.glb import GlbCheck, validate_glb
from tests.harness.scene_files import CHUNK_BIN, CHUNK_JSON, FLOOR_BIN, chunk, glb_bytes, scene_gltf

LIMIT = 1024 * 1024
HUBS = "MOZ_hubs_components"


def check(data: bytes, max_bytes: int = LIMIT) -> GlbCheck:
    return validate_glb(data, max_bytes=max_bytes)


def error_codes(result: GlbCheck) -> set[str]:
    return {p.code for p in result.errors}


def warning_codes(result: GlbCheck) -> set[str]:
    return {p.code for p in result.warnings}


def changed(edit: Callable[[dict[str, Any]], object]) -> bytes:
    """The valid scene with ``edit`` applied to its glTF document."""
    doc = scene_gltf()
    edit(doc)
    return glb_bytes(doc)


def hubs_of(doc: dict[str, Any], node: int) -> dict[str, Any]:
    components: dict[str, Any] = doc["nodes"][node]["extensions"][HUBS]
    return components


# -- the valid scene ---------------------------------------------------------------------------


def test_valid_scene_passes_with_a_summary() -> None:
    result = check(glb_bytes())
    assert result.ok, result.errors
    assert result.warnings == ()
    assert result.summary.components == {
        "directional-light": 1,
        "nav-mesh": 1,
        "spawn-point": 1,
        "visible": 1,
        "waypoint": 1,
    }
    assert (result.summary.nodes, result.summary.meshes) == (5, 1)
    assert result.summary.triangles == 4  # one 2-triangle mesh shown by two nodes


def test_fixture_is_a_real_glb_for_another_reader() -> None:
    gltf = pygltflib.GLTF2.load_from_bytes(glb_bytes())
    assert len(gltf.nodes) == 5
    assert gltf.binary_blob() == FLOOR_BIN


def test_waypoint_that_can_be_a_spawn_point_is_enough() -> None:
    def edit(doc: dict[str, Any]) -> None:
        del hubs_of(doc, 2)["spawn-point"]
        hubs_of(doc, 3)["waypoint"]["canBeSpawnPoint"] = True

    assert check(changed(edit)).ok


def test_unknown_chunk_after_bin_is_ignored_with_a_warning() -> None:
    result = check(glb_bytes(extra_chunks=chunk(0x12345678, b"abcd")))
    assert result.ok
    assert warning_codes(result) == {"unknown_chunk"}


def test_nul_padded_json_is_accepted_with_a_warning() -> None:
    raw = json.dumps(scene_gltf()).encode()
    raw += b"\x00" * (-len(raw) % 4 or 4)
    result = check(glb_bytes(raw))
    assert result.ok
    assert "json_padding" in warning_codes(result)


# -- the container -----------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0, 5, 11, 12, 19, 100, -4, -1])
def test_truncated_file(keep: int) -> None:
    data = glb_bytes()
    assert error_codes(check(data[:keep])) == {"truncated"}


def test_wrong_magic() -> None:
    data = bytearray(glb_bytes())
    data[:4] = b"GLTF"
    result = check(bytes(data))
    assert error_codes(result) == {"bad_magic"}


def test_gltf_json_file_gets_a_hint() -> None:
    result = check(json.dumps(scene_gltf()).encode())
    assert error_codes(result) == {"bad_magic"}
    assert ".gltf JSON" in result.errors[0].message


def test_wrong_version() -> None:
    result = check(glb_bytes(version=1))
    assert error_codes(result) == {"bad_version"}


def test_length_field_smaller_than_file() -> None:
    data = glb_bytes() + b"\x00" * 8
    result = check(data)
    assert error_codes(result) == {"length_mismatch"}


def _with_json_chunk_length(value: int) -> bytes:
    data = bytearray(glb_bytes())
    struct.pack_into("<I", data, 12, value)
    return bytes(data)


def test_chunk_length_past_the_end() -> None:
    assert error_codes(check(_with_json_chunk_length(10_000))) == {"chunk_out_of_bounds"}


def test_chunk_length_not_a_multiple_of_four() -> None:
    assert error_codes(check(_with_json_chunk_length(6))) == {"chunk_unaligned"}


def test_first_chunk_must_be_json() -> None:
    body = chunk(CHUNK_BIN, FLOOR_BIN)
    data = struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body
    assert error_codes(check(data)) == {"no_json_chunk"}


def test_second_json_chunk_is_misplaced() -> None:
    extra = chunk(CHUNK_JSON, b"{}  ")
    assert error_codes(check(glb_bytes(extra_chunks=extra))) == {"misplaced_chunk"}


def test_header_only() -> None:
    assert error_codes(check(struct.pack("<4sII", b"glTF", 2, 12))) == {"no_json_chunk"}


def test_oversized_file_is_refused_before_parsing() -> None:
    data = glb_bytes()
    result = check(data, max_bytes=len(data) - 1)
    assert error_codes(result) == {"too_large"}
    assert result.summary.nodes == 0
    assert check(data, max_bytes=len(data)).ok


# -- the JSON document -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b'{"asset": {"version": "2.0"}, "x": NaN}',
        b"\xef\xbb\xbf{}",
        b'{"a": "\xff"}',
        b"[" * 100_000 + b"]" * 100_000,
        b'{"n": ' + b"9" * 5000 + b"}",
    ],
    ids=["syntax", "nan", "bom", "not-utf8", "deep", "huge-int"],
)
def test_invalid_json(raw: bytes) -> None:
    assert error_codes(check(glb_bytes(raw))) == {"bad_json"}


@pytest.mark.parametrize("raw", [b"[]", b'"scene"', b"42", b"null"])
def test_json_not_an_object(raw: bytes) -> None:
    assert error_codes(check(glb_bytes(raw))) == {"json_not_object"}


def test_asset_version_must_be_2_0() -> None:
    result = check(changed(lambda d: d["asset"].update(version="1.0")))
    assert error_codes(result) == {"bad_asset"}


def test_accessor_out_of_bounds() -> None:
    result = check(changed(lambda d: d["accessors"][1].update(count=7)))
    assert error_codes(result) == {"accessor_out_of_bounds"}
    assert "accessors[1]" in result.errors[0].message


def test_accessor_offset_out_of_bounds() -> None:
    result = check(changed(lambda d: d["accessors"][0].update(byteOffset=4)))
    assert error_codes(result) == {"accessor_out_of_bounds"}


def test_misaligned_accessor() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["accessors"][1].update(byteOffset=1, count=5)

    assert error_codes(check(changed(edit))) == {"misaligned_accessor"}


def test_buffer_view_out_of_bounds() -> None:
    result = check(changed(lambda d: d["bufferViews"][1].update(byteLength=16)))
    assert "buffer_view_out_of_bounds" in error_codes(result)


def test_buffer_longer_than_bin_chunk() -> None:
    result = check(changed(lambda d: d["buffers"][0].update(byteLength=64)))
    assert "buffer_out_of_bounds" in error_codes(result)


def test_missing_bin_chunk() -> None:
    result = check(glb_bytes(scene_gltf(), bin_data=None))
    assert "missing_bin_chunk" in error_codes(result)


def test_external_buffer_is_refused() -> None:
    result = check(changed(lambda d: d["buffers"].append({"uri": "floor.bin", "byteLength": 4})))
    assert error_codes(result) == {"external_resource"}


def test_data_uri_buffer_is_measured() -> None:
    ok = changed(lambda d: d["buffers"].append({"uri": "data:;base64,AAAAAA==", "byteLength": 4}))
    assert check(ok).ok
    short = changed(
        lambda d: d["buffers"].append({"uri": "data:;base64,AAAAAA==", "byteLength": 8})
    )
    assert error_codes(check(short)) == {"buffer_out_of_bounds"}


def test_bad_node_and_mesh_references() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["nodes"][0]["mesh"] = 3
        doc["meshes"][0]["primitives"][0]["attributes"]["NORMAL"] = 9
        doc["scenes"][0]["nodes"].append(17)

    result = check(changed(edit))
    assert error_codes(result) == {"bad_reference"}
    assert len(result.errors) == 3


def test_cycle_of_children() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["nodes"][0]["children"] = [4]
        doc["nodes"][4]["children"] = [0]
        doc["scenes"][0]["nodes"] = [1, 2, 3]

    assert error_codes(check(changed(edit))) == {"bad_node_hierarchy"}


def test_wrong_json_types_are_errors_not_crashes() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["accessors"][0]["count"] = "many"
        doc["meshes"] = 7
        doc["nodes"][0] = "floor"
        doc["extensionsUsed"] = {"MOZ_hubs_components": True}

    result = check(changed(edit))
    assert not result.ok
    assert "internal_error" not in error_codes(result)
    assert {"bad_accessor", "bad_gltf", "no_hubs_extension"} <= error_codes(result)


def test_problems_are_capped() -> None:
    result = check(changed(lambda d: d["nodes"].extend({"mesh": 99} for _ in range(500))))
    assert len(result.errors) == 101
    assert result.errors[-1].code == "too_many_problems"


# -- Hubs components ---------------------------------------------------------------------------


def test_missing_hubs_extension() -> None:
    result = check(changed(lambda d: d["extensionsUsed"].clear()))
    assert error_codes(result) == {"no_hubs_extension"}


def test_missing_hubs_version() -> None:
    result = check(changed(lambda d: d.pop("extensions")))
    assert error_codes(result) == {"no_hubs_version"}


def test_old_hubs_version_is_a_warning() -> None:
    result = check(changed(lambda d: d["extensions"][HUBS].update(version=3)))
    assert result.ok
    assert warning_codes(result) == {"hubs_version"}


def test_missing_spawn_point() -> None:
    result = check(changed(lambda d: hubs_of(d, 2).clear()))
    assert error_codes(result) == {"no_spawn_point"}


def test_missing_nav_mesh() -> None:
    result = check(changed(lambda d: hubs_of(d, 1).pop("nav-mesh")))
    assert error_codes(result) == {"no_nav_mesh"}


def test_visible_nav_mesh_is_a_warning() -> None:
    result = check(changed(lambda d: hubs_of(d, 1).pop("visible")))
    assert result.ok
    assert warning_codes(result) == {"nav_mesh_visible"}


def test_nav_mesh_without_a_mesh() -> None:
    result = check(changed(lambda d: d["nodes"][1].pop("mesh")))
    assert error_codes(result) == {"nav_mesh_empty"}


def test_nav_mesh_with_its_mesh_on_a_child_is_fine() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["nodes"][1].pop("mesh")
        doc["nodes"][1]["children"] = [0]
        doc["scenes"][0]["nodes"] = [1, 2, 3, 4]

    assert check(changed(edit)).ok


def test_no_lights_is_a_warning() -> None:
    result = check(changed(lambda d: hubs_of(d, 4).clear()))
    assert result.ok
    assert warning_codes(result) == {"no_lights"}


def test_khr_light_counts_as_a_light() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["nodes"][4]["extensions"] = {"KHR_lights_punctual": {"light": 0}}

    assert warning_codes(check(changed(edit))) == set()


# -- never raises ------------------------------------------------------------------------------

VALID = glb_bytes()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_no_crash(data: bytes) -> None:
    result = check(data)
    assert isinstance(result, GlbCheck)
    assert "internal_error" not in error_codes(result), result.errors


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert_no_crash(data)


@FUZZ
@given(st.binary(max_size=256))
def test_random_bytes_after_a_valid_header_never_raise(tail: bytes) -> None:
    assert_no_crash(struct.pack("<4sII", b"glTF", 2, 12 + len(tail)) + tail)


@FUZZ
@given(
    st.integers(0, len(VALID)),
    st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=8),
)
def test_mutated_and_truncated_valid_glb_never_raises(
    keep: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(VALID)
    for position, value in flips:
        data[position] = value
    assert_no_crash(bytes(data[:keep]))
    assert_no_crash(bytes(data))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


PATHS = _paths(scene_gltf())[1:]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=4))
def test_valid_scene_with_random_json_values_never_raises(
    replacements: list[tuple[tuple[Any, ...], Any]],
) -> None:
    doc = scene_gltf()
    for path, value in replacements:
        target: Any = doc
        for step in path[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            with contextlib.suppress(IndexError, TypeError):
                target[path[-1]] = value
    assert_no_crash(glb_bytes(doc))


@FUZZ
@given(JSON_VALUES)
def test_any_json_document_never_raises(doc: Any) -> None:
    assert_no_crash(glb_bytes(json.dumps(doc).encode()))
