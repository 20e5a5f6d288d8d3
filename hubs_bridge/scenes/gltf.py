"""Structural checks of a glTF 2.0 JSON document found inside a GLB.

This is not the full Khronos validator: it checks what makes a scene fail to
load in a browser. Binary data (buffers, views, accessors) is checked in
``buffers.py``; here, every index must point at something that exists, the
nodes must form trees without cycles, and images must be embedded. Section
numbers refer to the glTF 2.0 specification
(https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html).
"""

from __future__ import annotations

from typing import Any

from hubs_bridge.scenes.buffers import (
    check_accessors,
    check_buffer_views,
    check_buffers,
    check_uri,
)
from hubs_bridge.scenes.problems import ProblemLog
from hubs_bridge.scenes.values import as_int, as_list, as_objects, check_ref

_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN = 4, 5, 6


def check_structure(doc: dict[str, Any], bin_length: int | None, log: ProblemLog) -> int:
    """Check the glTF document against its GLB binary chunk; return its triangle count.

    ``bin_length`` is the length of the GLB ``BIN`` chunk, ``None`` if there is
    none. Triangles are counted per node that shows a mesh (what a browser
    draws), from index or vertex counts, so they cost nothing to compute.
    """
    _check_asset(doc, log)
    # Each array is fetched (and its type reported) once, then passed around.
    top = {key: as_list(doc, key, "", log) for key in _COLLECTIONS}
    objects = {key: as_objects(items, key, log) for key, items in top.items()}
    counts = {key: len(items) for key, items in top.items()}
    buffers = check_buffers(objects["buffers"], bin_length, log)
    views = check_buffer_views(objects["bufferViews"], buffers, log)
    accessors = check_accessors(objects["accessors"], views, log)
    _check_simple_refs(objects, counts, log)
    for i, image in enumerate(objects["images"]):
        if image is not None and "uri" in image:
            check_uri(image["uri"], f"images[{i}]", log)
    mesh_triangles = _check_meshes(objects["meshes"], accessors, counts, log)
    _check_materials(objects["materials"], counts["textures"], log)
    _check_animations(objects["animations"], counts, log)
    nodes = objects["nodes"]
    _check_node_tree(doc, nodes, objects["scenes"], log)
    triangles = 0
    for node in nodes:
        mesh = as_int(node.get("mesh")) if node is not None else None
        if mesh is not None and 0 <= mesh < len(mesh_triangles):
            triangles += mesh_triangles[mesh]
    return triangles


_COLLECTIONS = [
    "accessors",
    "animations",
    "bufferViews",
    "buffers",
    "cameras",
    "images",
    "materials",
    "meshes",
    "nodes",
    "samplers",
    "scenes",
    "skins",
    "textures",
]

# (collection, property, target collection): single-index references (5.x of the spec).
_SIMPLE_REFS = (
    ("images", "bufferView", "bufferViews"),
    ("textures", "source", "images"),
    ("textures", "sampler", "samplers"),
    ("skins", "inverseBindMatrices", "accessors"),
    ("skins", "skeleton", "nodes"),
    ("nodes", "mesh", "meshes"),
    ("nodes", "camera", "cameras"),
    ("nodes", "skin", "skins"),
)


def _check_asset(doc: dict[str, Any], log: ProblemLog) -> None:
    asset = doc.get("asset")
    if not isinstance(asset, dict):
        log.error("bad_asset", "the required 'asset' object is missing")
    elif asset.get("version") != "2.0":
        log.error("bad_asset", f"asset.version is {asset.get('version')!r}, expected '2.0'")


def _check_simple_refs(
    objects: dict[str, list[dict[str, Any] | None]], counts: dict[str, int], log: ProblemLog
) -> None:
    for collection, prop, target in _SIMPLE_REFS:
        for i, item in enumerate(objects[collection]):
            if item is not None and prop in item:
                check_ref(item[prop], counts[target], target, f"{collection}[{i}].{prop}", log)
    for i, skin in enumerate(objects["skins"]):
        if skin is not None:
            for joint in as_list(skin, "joints", f"skins[{i}].", log):
                check_ref(joint, counts["nodes"], "nodes", f"skins[{i}].joints", log)


def _check_meshes(
    meshes: list[dict[str, Any] | None],
    accessors: list[int | None],
    counts: dict[str, int],
    log: ProblemLog,
) -> list[int]:
    """Check mesh primitives; return the triangle count of each mesh."""
    triangles: list[int] = []
    for i, mesh in enumerate(meshes):
        total = 0
        primitives = as_list(mesh, "primitives", f"meshes[{i}].", log) if mesh else []
        if mesh is not None and not primitives:
            log.error("bad_gltf", f"meshes[{i}] has no primitives")
        for j, prim in enumerate(primitives):
            where = f"meshes[{i}].primitives[{j}]"
            if not isinstance(prim, dict) or not isinstance(prim.get("attributes"), dict):
                log.error("bad_gltf", f"{where} must be an object with 'attributes'")
                continue
            for name, ref in prim["attributes"].items():
                check_ref(ref, len(accessors), "accessors", f"{where}.attributes.{name}", log)
            if "material" in prim:
                check_ref(prim["material"], counts["materials"], "materials", where, log)
            mode = prim.get("mode", _TRIANGLES)
            if as_int(mode) is None or not 0 <= mode <= 6:
                log.error("bad_gltf", f"{where}.mode must be an integer from 0 to 6")
                continue
            if "indices" in prim:
                check_ref(prim["indices"], len(accessors), "accessors", f"{where}.indices", log)
            # Triangles come from the index count, else the vertex count (3.7.2.1).
            counted = as_int(prim.get("indices", prim["attributes"].get("POSITION")))
            n = (
                accessors[counted]
                if counted is not None and 0 <= counted < len(accessors)
                else None
            )
            if n is not None and mode == _TRIANGLES:
                total += n // 3
            elif n is not None and mode in (_TRIANGLE_STRIP, _TRIANGLE_FAN):
                total += max(n - 2, 0)
        triangles.append(total)
    return triangles


def _check_materials(
    materials: list[dict[str, Any] | None], texture_count: int, log: ProblemLog
) -> None:
    for i, material in enumerate(materials):
        if material is None:
            continue
        pbr = material.get("pbrMetallicRoughness", {})
        slots = [
            (f"materials[{i}].{key}", material.get(key))
            for key in ("normalTexture", "occlusionTexture", "emissiveTexture")
        ]
        if isinstance(pbr, dict):
            slots += [
                (f"materials[{i}].pbrMetallicRoughness.{key}", pbr.get(key))
                for key in ("baseColorTexture", "metallicRoughnessTexture")
            ]
        for where, info in slots:
            if info is None:
                continue
            if not isinstance(info, dict):
                log.error("bad_gltf", f"{where} must be an object")
            else:
                check_ref(info.get("index"), texture_count, "textures", f"{where}.index", log)


def _check_animations(
    animations: list[dict[str, Any] | None], counts: dict[str, int], log: ProblemLog
) -> None:
    for i, anim in enumerate(animations):
        if anim is None:
            continue
        samplers = as_list(anim, "samplers", f"animations[{i}].", log)
        for j, sampler in enumerate(samplers):
            for key in ("input", "output"):
                ref = sampler.get(key) if isinstance(sampler, dict) else None
                where = f"animations[{i}].samplers[{j}].{key}"
                check_ref(ref, counts["accessors"], "accessors", where, log)
        for j, channel in enumerate(as_list(anim, "channels", f"animations[{i}].", log)):
            where = f"animations[{i}].channels[{j}]"
            if not isinstance(channel, dict):
                log.error("bad_gltf", f"{where} must be an object")
                continue
            check_ref(channel.get("sampler"), len(samplers), "samplers", where, log)
            target = channel.get("target")
            if isinstance(target, dict) and "node" in target:
                check_ref(target["node"], counts["nodes"], "nodes", f"{where}.target", log)


def _check_node_tree(
    doc: dict[str, Any],
    nodes: list[dict[str, Any] | None],
    scenes: list[dict[str, Any] | None],
    log: ProblemLog,
) -> None:
    """5.25: nodes form disjoint strict trees: one parent at most, no cycles."""
    parent: dict[int, int] = {}
    children: list[list[int]] = [[] for _ in nodes]
    for i, node in enumerate(nodes):
        for ref in as_list(node, "children", f"nodes[{i}].", log) if node else []:
            child = check_ref(ref, len(nodes), "nodes", f"nodes[{i}].children", log)
            if child is None:
                continue
            if child == i:
                log.error("bad_node_hierarchy", f"nodes[{i}] lists itself as a child")
                continue
            if child in parent:
                log.error("bad_node_hierarchy", f"nodes[{child}] has more than one parent")
                continue
            parent[child] = i
            children[i].append(child)
    # With at most one parent each, a cycle is a set of nodes never reached from a root.
    reached: set[int] = set()
    stack = [i for i in range(len(nodes)) if i not in parent]
    while stack:
        current = stack.pop()
        reached.add(current)
        stack.extend(children[current])
    if len(reached) < len(nodes):
        first = min(set(range(len(nodes))) - reached)
        log.error("bad_node_hierarchy", f"nodes[{first}] is part of a cycle of children")
    for i, scene in enumerate(scenes):
        roots = as_list(scene, "nodes", f"scenes[{i}].", log) if scene is not None else []
        for ref in roots:
            root = check_ref(ref, len(nodes), "nodes", f"scenes[{i}].nodes", log)
            if root is not None and root in parent:
                log.error("bad_node_hierarchy", f"scenes[{i}] lists nodes[{root}], not a root")
    if "scene" in doc:
        check_ref(doc["scene"], len(scenes), "scenes", "scene", log)
