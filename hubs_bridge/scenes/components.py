"""Checks of the Hubs components (``MOZ_hubs_components``) a room scene needs.

PROTOCOL.md section 7: the extension is listed in ``extensionsUsed``, the root
carries ``extensions.MOZ_hubs_components.version`` (4 is current), and nodes
(and scenes) carry ``extensions.MOZ_hubs_components.{component: props}``. A
room needs a place to appear (a ``spawn-point``, or a ``waypoint`` with
``canBeSpawnPoint``) and a ``nav-mesh`` to walk on.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hubs_bridge.scenes.problems import ProblemLog, shown
from hubs_bridge.scenes.values import as_int, as_list

EXTENSION = "MOZ_hubs_components"
CURRENT_VERSION = 4
LIGHT_COMPONENTS = frozenset(
    {"ambient-light", "directional-light", "hemisphere-light", "point-light", "spot-light"}
)


def check_components(doc: dict[str, Any], log: ProblemLog) -> dict[str, int]:
    """Check the Hubs side of a scene; return how often each component occurs."""
    used = as_list(doc, "extensionsUsed", "", log)
    required = as_list(doc, "extensionsRequired", "", log)
    if EXTENSION not in used:
        log.error(
            "no_hubs_extension",
            f"extensionsUsed does not list {EXTENSION}; Hubs would ignore every component",
        )
    for name in required:
        if name not in used:
            log.error(
                "bad_gltf", f"extensionsRequired lists {shown(name)}, missing in extensionsUsed"
            )
    _check_version(doc, log)

    counts: Counter[str] = Counter()
    per_node: list[dict[str, Any]] = []
    for i, node in enumerate(_quiet_list(doc, "nodes")):
        per_node.append(_components_of(node, f"nodes[{i}]", counts, log))
    for i, scene in enumerate(_quiet_list(doc, "scenes")):
        _components_of(scene, f"scenes[{i}]", counts, log)

    spawns = counts["spawn-point"] + sum(
        1 for comps in per_node if _props(comps, "waypoint").get("canBeSpawnPoint") is True
    )
    if spawns == 0:
        log.error(
            "no_spawn_point",
            "no spawn-point, and no waypoint with canBeSpawnPoint: true; "
            "visitors would have nowhere to appear",
        )
    _check_nav_meshes(doc, per_node, log)
    lights = sum(counts[name] for name in LIGHT_COMPONENTS) + sum(
        1 for node in _quiet_list(doc, "nodes") if _has_khr_light(node)
    )
    if lights == 0:
        log.warn("no_lights", "the scene has no lights; unlit materials aside, it will look dark")
    return dict(sorted(counts.items()))


def _check_version(doc: dict[str, Any], log: ProblemLog) -> None:
    extensions = doc.get("extensions")
    root = extensions.get(EXTENSION) if isinstance(extensions, dict) else None
    version = as_int(root.get("version")) if isinstance(root, dict) else None
    if version is None:
        log.error(
            "no_hubs_version",
            f"extensions.{EXTENSION}.version is missing or not an integer at the root",
        )
    elif version != CURRENT_VERSION:
        log.warn(
            "hubs_version",
            f"{EXTENSION} version is {version}; Hubs reads {CURRENT_VERSION}, "
            "older scenes are migrated on load and may look different",
        )


def _components_of(
    holder: Any, where: str, counts: Counter[str], log: ProblemLog
) -> dict[str, Any]:
    """Count the components on one node or scene and return them (``{}`` if none)."""
    extensions = holder.get("extensions") if isinstance(holder, dict) else None
    comps = extensions.get(EXTENSION) if isinstance(extensions, dict) else None
    if comps is None:
        return {}
    if not isinstance(comps, dict):
        log.error("bad_component", f"{where}.extensions.{EXTENSION} must be an object")
        return {}
    for name, props in comps.items():
        counts[name] += 1
        if not isinstance(props, dict):
            log.error(
                "bad_component", f"{where}: the props of component {shown(name)} must be an object"
            )
    return comps


def _quiet_list(doc: dict[str, Any], key: str) -> list[Any]:
    # gltf.check_structure already reports a non-array; do not say it twice.
    value = doc.get(key)
    return value if isinstance(value, list) else []


def _props(comps: dict[str, Any], name: str) -> dict[str, Any]:
    props = comps.get(name)
    return props if isinstance(props, dict) else {}


def _has_khr_light(node: Any) -> bool:
    extensions = node.get("extensions") if isinstance(node, dict) else None
    return isinstance(extensions, dict) and "KHR_lights_punctual" in extensions


def _check_nav_meshes(doc: dict[str, Any], per_node: list[dict[str, Any]], log: ProblemLog) -> None:
    nav_nodes = [i for i, comps in enumerate(per_node) if "nav-mesh" in comps]
    if not nav_nodes:
        log.error("no_nav_mesh", "no node has a nav-mesh component; visitors could not walk")
        return
    if len(nav_nodes) > 1:
        log.warn("several_nav_meshes", f"{len(nav_nodes)} nav meshes; Hubs uses only one")
    nodes = _quiet_list(doc, "nodes")
    for i in nav_nodes:
        if _props(per_node[i], "visible").get("visible") is not False:
            log.warn(
                "nav_mesh_visible",
                f"nodes[{i}] (nav-mesh) lacks visible: {{visible: false}}; "
                "visitors would see the walkable area drawn",
            )
        if not _has_mesh_below(nodes, i):
            log.error("nav_mesh_empty", f"nodes[{i}] has a nav-mesh component but no mesh")


def _has_mesh_below(nodes: list[Any], start: int) -> bool:
    """Whether node ``start`` or a node below it has a mesh; safe on cyclic trees."""
    seen: set[int] = set()
    stack = [start]
    while stack:
        i = stack.pop()
        if i in seen or not 0 <= i < len(nodes) or not isinstance(nodes[i], dict):
            continue
        seen.add(i)
        if as_int(nodes[i].get("mesh")) is not None:
            return True
        children = nodes[i].get("children")
        if isinstance(children, list):
            stack.extend(c for c in children if as_int(c) is not None)
    return False
