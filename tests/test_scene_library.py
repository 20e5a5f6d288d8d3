"""The scene library and ``scenes check``: packs loaded, broken ones left out and explained."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from hubs_bridge.scenes.library import ScenePackProblem, load_library, load_pack
from hubs_bridge.scenes.manifest import ManifestError, parse_manifest
from hubs_bridge.scenes.report import run_check
from hubs_bridge.settings import LimitSettings
from tests.conftest import REPO
from tests.harness.scene_files import MANIFEST, glb_bytes, png_bytes, scene_gltf, write_pack

LIMIT = 1024 * 1024


def problem_codes(problem: ScenePackProblem) -> set[str]:
    return {p.code for p in problem.errors}


def only_problem(root: Path) -> ScenePackProblem:
    library = load_library(root, max_bytes=LIMIT)
    assert library.scenes == {}
    assert len(library.problems) == 1
    return library.problems[0]


def broken_glb() -> bytes:
    doc = scene_gltf()
    doc["nodes"][2]["extensions"]["MOZ_hubs_components"].clear()  # no spawn point left
    return glb_bytes(doc)


# -- loading -----------------------------------------------------------------------------------


def test_valid_pack_is_loaded_with_hashes(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "foyer", preview=png_bytes())
    library = load_library(tmp_path, max_bytes=LIMIT)
    assert library.problems == []
    scene = library.get("foyer")
    assert scene is not None
    data = (folder / "scene.glb").read_bytes()
    assert scene.sha256 == hashlib.sha256(data).hexdigest()
    assert scene.size == len(data)
    assert scene.glb_path == folder / "scene.glb"
    assert scene.preview_path == folder / "preview.png"
    assert scene.preview_sha256 == hashlib.sha256(png_bytes()).hexdigest()
    assert scene.manifest.title.de == "Foyer"
    assert scene.manifest.suggested_capacity == 24
    assert scene.manifest.tags == ("foyer", "info")
    assert scene.components["spawn-point"] == 1
    assert library.by_sha256(scene.sha256) is scene
    assert library.by_sha256(scene.sha256.upper()) is scene
    assert library.preview_by_sha256(scene.preview_sha256 or "") is scene
    assert library.by_sha256("0" * 64) is None
    assert library.get("nope") is None


def test_pack_without_preview(tmp_path: Path) -> None:
    write_pack(tmp_path, "foyer")
    scene = load_library(tmp_path, max_bytes=LIMIT).scenes["foyer"]
    assert scene.preview is None
    assert scene.preview_path is None
    assert scene.preview_sha256 is None


def test_broken_pack_is_left_out_and_reported(tmp_path: Path) -> None:
    write_pack(tmp_path, "good")
    write_pack(tmp_path, "broken", glb=broken_glb())
    library = load_library(tmp_path, max_bytes=LIMIT)
    assert list(library.scenes) == ["good"]
    [problem] = library.problems
    assert problem.slug == "broken"
    assert problem.path == tmp_path / "broken"
    assert problem_codes(problem) == {"no_spawn_point"}


def test_warnings_stay_with_a_valid_scene(tmp_path: Path) -> None:
    doc = scene_gltf()
    doc["nodes"][4]["extensions"]["MOZ_hubs_components"].clear()  # no lights
    write_pack(tmp_path, "dark", glb=glb_bytes(doc))
    scene = load_library(tmp_path, max_bytes=LIMIT).scenes["dark"]
    assert [w.code for w in scene.warnings] == ["no_lights"]


def test_missing_root_gives_an_empty_library_with_one_problem(tmp_path: Path) -> None:
    library = load_library(tmp_path / "missing", max_bytes=LIMIT)
    assert library.scenes == {}
    [problem] = library.problems
    assert problem.slug is None
    assert problem_codes(problem) == {"no_scene_dir"}


def test_folders_that_are_not_packs_are_ignored(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "README.md").write_text("scenes live here\n")
    write_pack(tmp_path / ".hidden", "x")  # inside a hidden folder
    write_pack(tmp_path, ".draft")
    library = load_library(tmp_path, max_bytes=LIMIT)
    assert library.scenes == {}
    assert library.problems == []


@pytest.mark.parametrize("slug", ["a", "foyer-2", "0", "a" * 63])
def test_good_slugs(tmp_path: Path, slug: str) -> None:
    write_pack(tmp_path, slug)
    assert list(load_library(tmp_path, max_bytes=LIMIT).scenes) == [slug]


@pytest.mark.parametrize("slug", ["Foyer", "-foyer", "foyer_2", "b\u00fchne", "a" * 64, "a b"])
def test_bad_slugs(tmp_path: Path, slug: str) -> None:
    write_pack(tmp_path, slug)
    assert problem_codes(only_problem(tmp_path)) == {"bad_slug"}


def test_missing_files(tmp_path: Path) -> None:
    write_pack(tmp_path, "no-manifest", manifest=None)
    write_pack(tmp_path, "no-glb", omit_glb=True)
    library = load_library(tmp_path, max_bytes=LIMIT)
    codes = {p.slug: problem_codes(p) for p in library.problems}
    assert codes == {"no-glb": {"glb_missing"}, "no-manifest": {"manifest_missing"}}


def test_oversized_glb_is_not_read(tmp_path: Path) -> None:
    write_pack(tmp_path, "big")
    size = len(glb_bytes())
    [problem] = load_library(tmp_path, max_bytes=size - 1).problems
    assert problem_codes(problem) == {"too_large"}


def test_preview_must_be_a_png(tmp_path: Path) -> None:
    write_pack(tmp_path, "foyer", preview=b"GIF89a....")
    assert problem_codes(only_problem(tmp_path)) == {"bad_preview"}


def test_every_problem_of_a_pack_is_listed(tmp_path: Path) -> None:
    write_pack(tmp_path, "Bad", manifest="licence = 3\n", glb=broken_glb())
    codes = [p.code for p in only_problem(tmp_path).errors]
    assert codes[0] == "bad_slug"
    assert "manifest_invalid" in codes
    assert codes[-1] == "no_spawn_point"


def test_load_pack_directly(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "foyer")
    scene = load_pack(folder, max_bytes=LIMIT)
    assert not isinstance(scene, ScenePackProblem)
    assert scene.slug == "foyer"


# -- manifests ---------------------------------------------------------------------------------


def manifest_messages(text: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text.encode())
    return [p.message for p in caught.value.problems]


def test_valid_manifest_without_optional_parts() -> None:
    text = MANIFEST.split("tags")[0] + '[title]\nde = "Saal"\nen = "Hall"\n'
    manifest = parse_manifest(text.encode())
    assert manifest.tags == ()
    assert manifest.description is None


def test_missing_keys_are_named() -> None:
    messages = manifest_messages('licence = "CC0-1.0"\n[title]\nen = "Hall"\n')
    assert "attribution: required, but missing" in messages
    assert "suggested_capacity: required, but missing" in messages
    assert "title.de: required, but missing" in messages


def test_misspelt_key_gets_a_suggestion() -> None:
    text = MANIFEST.replace("licence", "license")
    messages = manifest_messages(text)
    assert "license: unknown key (did you mean 'licence'?)" in messages
    assert "licence: required, but missing" in messages


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "suggested_capacity = 0",
            "suggested_capacity: input should be greater than or equal to 1",
        ),
        ("suggested_capacity = 51", "suggested_capacity: input should be less than or equal to 50"),
        ('suggested_capacity = "24"', "suggested_capacity: must be a whole number without quotes"),
        ("suggested_capacity = 24.0", "suggested_capacity: must be a whole number without quotes"),
        ('licence = "CC0 1.0"', "licence: 'CC0 1.0' is not an SPDX licence id"),
        ('attribution = "  "', "attribution: string should have at least 1 character"),
        ('tags = "foyer"', "tags: must be a list"),
        ('tags = ["info", "info"]', "tags: repeated tags: info"),
        ('tags = ["' + "x" * 40 + '"]', "tags.0: string should have at most 32 characters"),
    ],
)
def test_bad_values_are_explained(line: str, expected: str) -> None:
    key = line.split(" =")[0]
    lines = [ln for ln in MANIFEST.splitlines() if not ln.startswith(key + " ")]
    text = line + "\n" + "\n".join(lines) + "\n"
    messages = manifest_messages(text)
    assert any(m.startswith(expected) for m in messages), messages


def test_toml_syntax_error() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(b'licence = "CC0-1.0\n')
    [problem] = caught.value.problems
    assert problem.code == "manifest_syntax"
    assert "line 1" in problem.message


def test_manifest_must_be_utf8() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(b'attribution = "\xff"\n')
    assert caught.value.problems[0].code == "manifest_syntax"


# -- scenes check ------------------------------------------------------------------------------


def run(path: Path, max_bytes: int = LIMIT) -> tuple[int, str]:
    out = io.StringIO()
    code = run_check(path, max_bytes=max_bytes, out=out)
    return code, out.getvalue()


def test_check_all_fine(tmp_path: Path) -> None:
    write_pack(tmp_path, "foyer", preview=png_bytes())
    write_pack(tmp_path, "stage")
    code, text = run(tmp_path)
    sha = hashlib.sha256(glb_bytes()).hexdigest()
    assert code == 0
    assert "OK      foyer" in text
    assert "OK      stage" in text
    assert f"sha256 {sha[:12]}" in text
    assert "components: directional-light 1, nav-mesh 1, spawn-point 1" in text
    assert "5 nodes, 1 meshes, 4 triangles" in text
    assert text.rstrip().endswith("2 checked: 2 OK, 0 FAILED")


def test_check_reports_each_error_with_its_code(tmp_path: Path) -> None:
    write_pack(tmp_path, "foyer")
    write_pack(tmp_path, "broken", glb=broken_glb(), manifest=MANIFEST.replace("CC0-1.0", "?"))
    code, text = run(tmp_path)
    assert code == 1
    lines = text.splitlines()
    assert "FAILED  broken  (" in text
    assert any(ln.strip().startswith("error no_spawn_point: ") for ln in lines)
    assert any(ln.strip().startswith("error manifest_invalid: licence: ") for ln in lines)
    assert text.rstrip().endswith("2 checked: 1 OK, 1 FAILED")


def test_check_prints_warnings_without_failing(tmp_path: Path) -> None:
    doc = scene_gltf()
    doc["extensions"]["MOZ_hubs_components"]["version"] = 3
    write_pack(tmp_path, "old", glb=glb_bytes(doc))
    code, text = run(tmp_path)
    assert code == 0
    assert "warning hubs_version: " in text


def test_check_one_pack_folder(tmp_path: Path) -> None:
    folder = write_pack(tmp_path, "foyer")
    write_pack(tmp_path, "broken", glb=broken_glb())
    assert run(folder)[0] == 0
    assert run(tmp_path / "broken")[0] == 1


def test_check_one_glb_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.glb", tmp_path / "bad.glb"
    good.write_bytes(glb_bytes())
    bad.write_bytes(broken_glb())
    code, text = run(good)
    assert code == 0
    assert text.startswith(f"OK      {good}")
    code, text = run(bad)
    assert code == 1
    assert "error no_spawn_point" in text
    code, text = run(good, max_bytes=100)
    assert code == 1
    assert "error too_large" in text


@pytest.mark.parametrize("name", ["missing", "empty", "scene.txt"])
def test_check_fails_when_there_is_nothing_to_check(tmp_path: Path, name: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "scene.txt").write_text("not a scene")
    code, text = run(tmp_path / name)
    assert code == 1
    assert text.startswith("FAILED")


# -- the packs shipped in room_scenes/ ---------------------------------------------------------


def test_every_shipped_scene_pack_is_valid() -> None:
    root = REPO / "room_scenes"
    max_bytes = LimitSettings().max_scene_bytes
    packs = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    library = load_library(root, max_bytes=max_bytes)
    assert [str(p) for p in library.problems] == []
    assert sorted(library.scenes) == packs
    assert len(library.scenes) >= 4, f"expected at least 4 scene packs, found {packs}"
    for scene in library.scenes.values():
        assert scene.preview is not None, f"{scene.slug} has no preview.png"
        assert os.path.getsize(scene.glb_path) == scene.size
    assert run(root, max_bytes)[0] == 0
