"""Generate the Hubs scene packs in ``room_scenes/``.

Every pack is a folder named by its slug (``foyer``, ``kirmes-stand``, ``auditorium``,
``werkstatt``) and holds three files:

* ``scene.glb``: a glTF 2.0 binary built with pygltflib. Hubs behaviour rides on the
  ``MOZ_hubs_components`` extension (spawn points, waypoints, a nav mesh, lights and media
  frames), see section 7 of the Reticulum notes in PROTOCOL.md.
* ``scene.toml``: the manifest (licence, attribution, suggested capacity, tags, German and
  English title and description).
* ``preview.png``: a 320x200 isometric render of the scene geometry, drawn with Pillow.

Run it from the repository root::

    .venv/bin/python room_scenes/build_scenes.py               # rewrite all four packs
    .venv/bin/python room_scenes/build_scenes.py --out /tmp/s  # write somewhere else

The output is deterministic: two runs give byte-identical files. The packs are committed
to the repository, so serving them needs no build step; rerun this script only after
changing it, and commit the script together with its output.

Conventions: metres, Y up, floors at y = 0. "North" is -Z (the back wall of every room),
the preview camera looks from the south-east, so the south and east walls are cut down to
a stub in the previews. Spawn points and chairs look along their local -Z axis; media
frames, posters and screens show their front along their local +Z axis.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import struct
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pygltflib
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
GENERATOR = "hubs-bridge room_scenes/build_scenes.py"
LICENCE = "CC0-1.0"
ATTRIBUTION = "StadtLABOR Soest, hubs-bridge contributors"
HUBS_EXT = "MOZ_hubs_components"
HUBS_COMPONENTS_VERSION = 4

# ---------------------------------------------------------------------------------------
# Materials: name -> (sRGB colour, metallic, roughness). glTF stores linear colours, the
# preview uses the sRGB values directly.
# ---------------------------------------------------------------------------------------

PALETTE: dict[str, tuple[str, float, float]] = {
    "floor_tiles": ("#d3ccbf", 0.0, 0.8),
    "floor_wood": ("#b88d5c", 0.0, 0.7),
    "carpet": ("#4a5872", 0.0, 0.95),
    "cobbles": ("#a29d94", 0.0, 0.95),
    "wall_white": ("#efe9de", 0.0, 0.9),
    "wall_warm": ("#e8d6b8", 0.0, 0.9),
    "wall_dark": ("#3d4556", 0.0, 0.9),
    "hoarding": ("#2f7175", 0.0, 0.85),
    "ceiling": ("#f5f2ec", 0.0, 0.95),
    "accent_teal": ("#1f8a8a", 0.0, 0.6),
    "accent_orange": ("#f08a24", 0.0, 0.6),
    "accent_yellow": ("#f2c230", 0.0, 0.6),
    "canopy_red": ("#d7263d", 0.0, 0.8),
    "canopy_white": ("#f8f4ea", 0.0, 0.8),
    "desk_white": ("#f3f3f0", 0.0, 0.5),
    "wood_light": ("#cfa672", 0.0, 0.65),
    "wood_dark": ("#7a5236", 0.0, 0.7),
    "metal": ("#8c939b", 0.7, 0.4),
    "black": ("#26292d", 0.0, 0.6),
    "fabric_blue": ("#2f6f9f", 0.0, 0.95),
    "fabric_red": ("#a8323e", 0.0, 0.95),
    "fabric_grey": ("#6e737a", 0.0, 0.95),
    "rug_teal": ("#3d8f8c", 0.0, 1.0),
    "plant": ("#4e8b3d", 0.0, 0.9),
    "pot": ("#a05d3a", 0.0, 0.8),
    "poster_teal": ("#bfe3df", 0.0, 0.7),
    "poster_orange": ("#fbd3a8", 0.0, 0.7),
    "poster_yellow": ("#f9e7a1", 0.0, 0.7),
    "poster_blue": ("#c5d8f0", 0.0, 0.7),
    "screen": ("#1d2127", 0.0, 0.3),
    "whiteboard": ("#fbfbfa", 0.0, 0.2),
    "door": ("#8b6a49", 0.0, 0.7),
    "stage": ("#5b3f2c", 0.0, 0.6),
    "curtain": ("#8d1c2d", 0.0, 1.0),
    "book_red": ("#b8433a", 0.0, 0.8),
    "book_blue": ("#35639a", 0.0, 0.8),
    "book_yellow": ("#e0b53c", 0.0, 0.8),
    "book_green": ("#4f8a5b", 0.0, 0.8),
    "cardboard": ("#c49b6c", 0.0, 0.9),
    "lamp": ("#fff1bf", 0.0, 0.3),
    "nav_mesh": ("#00c060", 0.0, 1.0),
}


def hex_rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def srgb_to_linear(channel: int) -> float:
    c = channel / 255.0
    lin = c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    return round(lin, 4)


# ---------------------------------------------------------------------------------------
# Small vector and quaternion helpers
# ---------------------------------------------------------------------------------------

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # x, y, z, w (glTF order)
IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)
ORIGIN: Vec3 = (0.0, 0.0, 0.0)


def v_add(a: Vec3, b: Vec3) -> Vec3:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def v_sub(a: Vec3, b: Vec3) -> Vec3:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def v_dot(a: Vec3, b: Vec3) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def v_cross(a: Vec3, b: Vec3) -> Vec3:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def v_len(a: Vec3) -> float:
    return math.sqrt(v_dot(a, a))


def v_unit(a: Vec3) -> Vec3:
    n = v_len(a)
    return a[0] / n, a[1] / n, a[2] / n


def v_mean(points: list[Vec3]) -> Vec3:
    n = len(points)
    return (
        sum(p[0] for p in points) / n,
        sum(p[1] for p in points) / n,
        sum(p[2] for p in points) / n,
    )


def q_mul(a: Quat, b: Quat) -> Quat:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    )


def q_rotate(q: Quat, v: Vec3) -> Vec3:
    qv = (q[0], q[1], q[2])
    t = v_cross(qv, v)
    t = (2 * t[0], 2 * t[1], 2 * t[2])
    u = v_cross(qv, t)
    return v[0] + q[3] * t[0] + u[0], v[1] + q[3] * t[1] + u[1], v[2] + q[3] * t[2] + u[2]


def q_yaw(angle: float) -> Quat:
    """Rotation by ``angle`` radians about +Y."""
    if angle == 0:
        return IDENTITY
    return 0.0, math.sin(angle / 2), 0.0, math.cos(angle / 2)


def q_pitch(angle: float) -> Quat:
    """Rotation by ``angle`` radians about +X."""
    return math.sin(angle / 2), 0.0, 0.0, math.cos(angle / 2)


def yaw_look(dx: float, dz: float) -> float:
    """Yaw that turns a node's -Z axis (the way spawn points and chairs face) to (dx, dz)."""
    return math.atan2(-dx, -dz)


def yaw_front(dx: float, dz: float) -> float:
    """Yaw that turns a node's +Z axis (the front of frames and boards) to (dx, dz)."""
    return math.atan2(dx, dz)


# ---------------------------------------------------------------------------------------
# Geometry: meshes are lists of convex solids, each of one material. The exporter merges
# solids by material into glTF primitives; the preview renderer sorts whole solids.
# ---------------------------------------------------------------------------------------


@dataclass
class Solid:
    material: str
    positions: list[Vec3] = field(default_factory=list)
    normals: list[Vec3] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)


def _dedupe_ring(points: list[Vec3], normals: list[Vec3]) -> tuple[list[Vec3], list[Vec3]]:
    out_p: list[Vec3] = []
    out_n: list[Vec3] = []
    for p, n in zip(points, normals, strict=True):
        if out_p and v_len(v_sub(p, out_p[-1])) < 1e-9:
            continue
        out_p.append(p)
        out_n.append(n)
    while len(out_p) > 1 and v_len(v_sub(out_p[0], out_p[-1])) < 1e-9:
        out_p.pop()
        out_n.pop()
    return out_p, out_n


def _newell(points: list[Vec3]) -> Vec3:
    nx = ny = nz = 0.0
    for i, a in enumerate(points):
        b = points[(i + 1) % len(points)]
        nx += (a[1] - b[1]) * (a[2] + b[2])
        ny += (a[2] - b[2]) * (a[0] + b[0])
        nz += (a[0] - b[0]) * (a[1] + b[1])
    return nx, ny, nz


class MeshBuilder:
    """Collects convex solids (boxes, slanted blocks, cylinders) for one glTF mesh."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.solids: list[Solid] = []

    def face(
        self,
        solid: Solid,
        points: list[Vec3],
        inside: Vec3,
        normals: list[Vec3] | None = None,
    ) -> None:
        """Add a planar convex polygon, wound so that it faces away from ``inside``."""
        pts, nrm = _dedupe_ring(points, normals or [ORIGIN] * len(points))
        if len(pts) < 3:
            return
        n = _newell(pts)
        if v_len(n) < 1e-9:
            return
        if v_dot(n, v_sub(v_mean(pts), inside)) < 0:
            pts.reverse()
            nrm.reverse()
            n = (-n[0], -n[1], -n[2])
        flat = v_unit(n)
        base = len(solid.positions)
        solid.positions.extend(pts)
        solid.normals.extend(flat if normals is None else v_unit(m) for m in nrm)
        for i in range(1, len(pts) - 1):
            solid.indices.extend((base, base + i, base + i + 1))

    def hexahedron(self, material: str, bottom: list[Vec3], top: list[Vec3]) -> Solid:
        """A convex block from a bottom and a top ring of four corners (top[i] above
        bottom[i]); corners may coincide, which gives wedges."""
        solid = Solid(material)
        inside = v_mean(bottom + top)
        self.face(solid, bottom, inside)
        self.face(solid, top, inside)
        for i in range(4):
            j = (i + 1) % 4
            self.face(solid, [bottom[i], bottom[j], top[j], top[i]], inside)
        self.solids.append(solid)
        return solid

    def box(
        self, material: str, x0: float, x1: float, y0: float, y1: float, z0: float, z1: float
    ) -> Solid:
        """An axis-aligned box between the given coordinates."""
        x0, x1 = sorted((x0, x1))
        y0, y1 = sorted((y0, y1))
        z0, z1 = sorted((z0, z1))
        ring = [(x0, z0), (x1, z0), (x1, z1), (x0, z1)]
        return self.hexahedron(
            material, [(x, y0, z) for x, z in ring], [(x, y1, z) for x, z in ring]
        )

    def block(
        self, material: str, cx: float, cz: float, w: float, d: float, y0: float, h: float
    ) -> Solid:
        """A box with a ``w`` x ``d`` footprint centred on (cx, cz), from y0 up by h."""
        return self.box(material, cx - w / 2, cx + w / 2, y0, y0 + h, cz - d / 2, cz + d / 2)

    def cylinder(
        self,
        material: str,
        cx: float,
        cz: float,
        r0: float,
        y0: float,
        y1: float,
        r1: float | None = None,
        segments: int = 16,
    ) -> Solid:
        """A vertical cylinder (or frustum/cone if ``r1`` differs) with smooth sides."""
        r1 = r0 if r1 is None else r1
        solid = Solid(material)
        inside = (cx, (y0 + y1) / 2, cz)
        rim0: list[Vec3] = []
        rim1: list[Vec3] = []
        side_n: list[Vec3] = []
        for i in range(segments):
            a = 2 * math.pi * i / segments
            ca, sa = math.cos(a), math.sin(a)
            rim0.append((cx + r0 * ca, y0, cz + r0 * sa))
            rim1.append((cx + r1 * ca, y1, cz + r1 * sa))
            side_n.append((ca * (y1 - y0), r0 - r1, sa * (y1 - y0)))
        for i in range(segments):
            j = (i + 1) % segments
            self.face(
                solid,
                [rim0[i], rim0[j], rim1[j], rim1[i]],
                inside,
                [side_n[i], side_n[j], side_n[j], side_n[i]],
            )
        self.face(solid, rim0, inside)
        self.face(solid, rim1, inside)
        self.solids.append(solid)
        return solid

    def raw(self, material: str, positions: list[Vec3], normals: list[Vec3], indices: list[int]):
        self.solids.append(Solid(material, positions, normals, indices))


# ---------------------------------------------------------------------------------------
# Scene graph, Hubs components and the walkable area
# ---------------------------------------------------------------------------------------

Components = dict[str, dict[str, object]]


@dataclass
class Node:
    name: str
    mesh: str | None = None
    translation: Vec3 = ORIGIN
    rotation: Quat = IDENTITY
    components: Components | None = None
    children: list[Node] = field(default_factory=list)
    obstacle: bool = True  # its footprint is cut out of the nav mesh
    cutaway: bool = False  # cut down to a stub in the preview (walls facing the camera)
    preview: bool = True  # drawn in the preview at all (ceilings are not)
    layer: int = 3  # preview draw order: 0 ground, 1 walls, 2 platforms and rugs, 3 the rest

    def add(self, child: Node) -> Node:
        self.children.append(child)
        return child


@dataclass(frozen=True)
class WalkArea:
    """A walkable rectangle, flat at ``y0`` or a ramp from ``y0`` at z0 to ``y1`` at z1."""

    x0: float
    z0: float
    x1: float
    z1: float
    y0: float = 0.0
    y1: float | None = None

    def contains(self, x: float, z: float) -> bool:
        return self.x0 <= x <= self.x1 and self.z0 <= z <= self.z1

    def height(self, z: float) -> float:
        if self.y1 is None:
            return self.y0
        return self.y0 + (z - self.z0) / (self.z1 - self.z0) * (self.y1 - self.y0)


@dataclass(frozen=True)
class Obstacle:
    """A footprint (already grown by the avatar margin) with its vertical extent."""

    x0: float
    z0: float
    x1: float
    z1: float
    y0: float
    y1: float

    def blocks(self, x: float, z: float, floor: float) -> bool:
        inside = self.x0 < x < self.x1 and self.z0 < z < self.z1
        return inside and self.y1 > floor + 0.05 and self.y0 < floor + 1.8


AVATAR_MARGIN = 0.25  # nav mesh clearance around furniture
WALL_INSET = 0.35  # nav mesh clearance from the inner face of the walls
WALL_THICKNESS = 0.2

WAYPOINT_SPAWN: dict[str, object] = {
    "canBeSpawnPoint": True,
    "canBeOccupied": False,
    "canBeClicked": False,
    "willDisableMotion": False,
    "willDisableTeleporting": False,
    "snapToNavMesh": True,
    "willMaintainInitialOrientation": False,
}


class SceneBuilder:
    def __init__(self, slug: str, title: str) -> None:
        self.slug = slug
        self.meshes: dict[str, MeshBuilder] = {}
        self.root = Node(title, obstacle=False)
        self.walk_areas: list[WalkArea] = []
        self.extra_obstacles: list[Obstacle] = []
        self.width = 0.0
        self.depth = 0.0
        self.outdoor = False

    def mesh(self, name: str) -> tuple[MeshBuilder, bool]:
        """Return the mesh called ``name`` and whether it is new (needs geometry)."""
        if name in self.meshes:
            return self.meshes[name], False
        builder = MeshBuilder(name)
        self.meshes[name] = builder
        return builder, True

    def group(self, name: str, parent: Node | None = None, **kwargs: object) -> Node:
        return (parent or self.root).add(Node(name, obstacle=False, **kwargs))  # type: ignore[arg-type]

    def block_area(self, x0: float, z0: float, x1: float, z1: float, h: float = 1.0) -> None:
        """Cut an extra rectangle (e.g. a row of seats) out of the nav mesh."""
        m = AVATAR_MARGIN
        self.extra_obstacles.append(Obstacle(x0 - m, z0 - m, x1 + m, z1 + m, 0.0, h))


def iter_world(
    node: Node, q: Quat = IDENTITY, t: Vec3 = ORIGIN
) -> Iterator[tuple[Node, Quat, Vec3]]:
    """Yield every node with its world rotation and translation (parents first)."""
    wq = q_mul(q, node.rotation)
    wt = v_add(t, q_rotate(q, node.translation))
    yield node, wq, wt
    for child in node.children:
        yield from iter_world(child, wq, wt)


def world_points(sb: SceneBuilder, node: Node, q: Quat, t: Vec3) -> list[Vec3]:
    assert node.mesh is not None
    return [
        v_add(q_rotate(q, p), t) for solid in sb.meshes[node.mesh].solids for p in solid.positions
    ]


def wall_mount(sb: SceneBuilder, wall: str, offset: float, y: float, gap: float = 0.0):
    """Translation and rotation of a point on the inner face of a wall, +Z into the room.

    ``offset`` runs along the wall (world x for north/south walls, world z for west/east).
    """
    hw, hd = sb.width / 2, sb.depth / 2
    if wall == "north":
        return (offset, y, -hd + gap), q_yaw(yaw_front(0, 1))
    if wall == "south":
        return (offset, y, hd - gap), q_yaw(yaw_front(0, -1))
    if wall == "west":
        return (-hw + gap, y, offset), q_yaw(yaw_front(1, 0))
    if wall == "east":
        return (hw - gap, y, offset), q_yaw(yaw_front(-1, 0))
    raise ValueError(wall)


def spawn_point(parent: Node, name: str, x: float, z: float, look_at: tuple[float, float]):
    yaw = yaw_look(look_at[0] - x, look_at[1] - z)
    parent.add(
        Node(
            name,
            translation=(x, 0.0, z),
            rotation=q_yaw(yaw),
            components={"spawn-point": {}},
            obstacle=False,
        )
    )


def waypoint(
    parent: Node,
    name: str,
    x: float,
    z: float,
    look_at: tuple[float, float],
    y: float = 0.0,
    **props: object,
) -> None:
    yaw = yaw_look(look_at[0] - x, look_at[1] - z)
    parent.add(
        Node(
            name,
            translation=(x, y, z),
            rotation=q_yaw(yaw),
            components={"waypoint": {**WAYPOINT_SPAWN, **props}},
            obstacle=False,
        )
    )


def media_frame(w: float, h: float, depth: float = 0.3) -> Components:
    return {
        "media-frame": {
            "bounds": {"x": w, "y": h, "z": depth},
            "mediaType": "all-2d",
            "snapToCenter": True,
        }
    }


def add_lights(sb: SceneBuilder, height: float) -> None:
    lights = sb.group("Lights")
    lights.add(
        Node(
            "Hemisphere light",
            translation=(0.0, height, 0.0),
            obstacle=False,
            components={
                "hemisphere-light": {
                    "skyColor": "#ffffff",
                    "groundColor": "#444444",
                    "intensity": 1,
                }
            },
        )
    )
    # The light shines along the node's +Z: tilt it down 55 degrees and turn it a little.
    rotation = q_mul(q_yaw(math.radians(-30)), q_pitch(math.radians(55)))
    lights.add(
        Node(
            "Directional light",
            translation=(0.0, height + 2.0, 0.0),
            rotation=rotation,
            obstacle=False,
            components={
                "directional-light": {
                    "color": "#ffffff",
                    "intensity": 0.8,
                    "castShadow": False,
                    "shadowMapResolution": [512, 512],
                    "shadowBias": 0,
                    "shadowRadius": 1,
                }
            },
        )
    )


# ---------------------------------------------------------------------------------------
# Shared building blocks: room shell, wall boards and furniture meshes
# ---------------------------------------------------------------------------------------


def room_shell(
    sb: SceneBuilder,
    width: float,
    depth: float,
    height: float,
    floor: str,
    wall: str,
    ceiling: bool = True,
) -> Node:
    """Floor, four walls outside the ``width`` x ``depth`` interior and an optional ceiling.

    The south and east walls face the preview camera and are cut away in the preview.
    Adds the inset floor to the walkable area.
    """
    sb.width, sb.depth = width, depth
    hw, hd, t = width / 2, depth / 2, WALL_THICKNESS
    arch = sb.group("Architecture")

    def part(name: str, mat: str, x0, x1, y0, y1, z0, z1, **kw: object) -> None:
        mb, _ = sb.mesh(name)
        mb.box(mat, x0, x1, y0, y1, z0, z1)
        arch.add(Node(name, mesh=name, obstacle=False, **kw))  # type: ignore[arg-type]

    part("Floor", floor, -hw - t, hw + t, -0.1, 0.0, -hd - t, hd + t, layer=0)
    part("Wall north", wall, -hw - t, hw + t, 0.0, height, -hd - t, -hd, layer=1)
    part("Wall south", wall, -hw - t, hw + t, 0.0, height, hd, hd + t, layer=1, cutaway=True)
    part("Wall west", wall, -hw - t, -hw, 0.0, height, -hd, hd, layer=1)
    part("Wall east", wall, hw, hw + t, 0.0, height, -hd, hd, layer=1, cutaway=True)
    if ceiling:
        part(
            "Ceiling",
            "ceiling",
            -hw - t,
            hw + t,
            height,
            height + 0.1,
            -hd - t,
            hd + t,
            preview=False,
        )
    sb.walk_areas.append(
        WalkArea(-hw + WALL_INSET, -hd + WALL_INSET, hw - WALL_INSET, hd - WALL_INSET)
    )
    return arch


def door(
    sb: SceneBuilder,
    parent: Node,
    name: str,
    wall: str,
    offset: float,
    width: float = 1.8,
    height: float = 2.4,
) -> None:
    """A closed double door on the inner face of a wall (decoration only)."""
    mesh_name = f"Door {width:g}x{height:g}"
    mb, new = sb.mesh(mesh_name)
    if new:
        mb.box("black", -width / 2 - 0.1, width / 2 + 0.1, 0.0, height + 0.1, 0.0, 0.04)
        for side in (-1, 1):
            x0 = side * 0.02
            x1 = side * (width / 2 - 0.02)
            mb.box("door", x0, x1, 0.0, height - 0.02, 0.04, 0.07)
            mb.box("metal", side * 0.12, side * 0.16, 0.95, 1.1, 0.07, 0.1)
    translation, rotation = wall_mount(sb, wall, offset, 0.0)
    parent.add(
        Node(
            name,
            mesh=mesh_name,
            translation=translation,
            rotation=rotation,
            obstacle=False,
            cutaway=wall in ("south", "east"),
        )
    )


def board_mesh(sb: SceneBuilder, w: float, h: float, face: str, frame: str = "black") -> str:
    """A flat framed board (poster, info board, screen) with its face on local +Z."""
    name = f"Board {w:g}x{h:g} {face}"
    mb, new = sb.mesh(name)
    if new:
        mb.box(frame, -w / 2 - 0.06, w / 2 + 0.06, -h / 2 - 0.06, h / 2 + 0.06, 0.0, 0.04)
        mb.box(face, -w / 2, w / 2, -h / 2, h / 2, 0.04, 0.055)
    return name


def wall_board(
    sb: SceneBuilder,
    parent: Node,
    name: str,
    wall: str,
    offset: float,
    y: float,
    w: float,
    h: float,
    face: str,
    frame: str = "black",
) -> Node:
    """A board on a wall with a media frame in front of it; ``y`` is its centre height."""
    translation, rotation = wall_mount(sb, wall, offset, y)
    holder = parent.add(Node(name, translation=translation, rotation=rotation, obstacle=False))
    holder.add(
        Node(
            f"{name} panel",
            mesh=board_mesh(sb, w, h, face, frame),
            obstacle=False,
            cutaway=wall in ("south", "east"),
        )
    )
    holder.add(
        Node(
            f"{name} media frame",
            translation=(0.0, 0.0, 0.2),
            obstacle=False,
            components=media_frame(w, h),
        )
    )
    return holder


def standing_board(
    sb: SceneBuilder,
    parent: Node,
    name: str,
    x: float,
    z: float,
    facing: tuple[float, float],
    w: float,
    h: float,
    bottom: float,
    face: str,
    frame: str = "black",
) -> Node:
    """A free-standing board on two legs, its face turned towards ``facing`` (dx, dz)."""
    holder = parent.add(
        Node(name, translation=(x, 0.0, z), rotation=q_yaw(yaw_front(*facing)), obstacle=False)
    )
    legs_name = f"Board stand {w:g}x{h:g}+{bottom:g}"
    mb, new = sb.mesh(legs_name)
    if new:
        for side in (-1, 1):
            lx = side * (w / 2 - 0.1)
            mb.box("metal", lx - 0.04, lx + 0.04, 0.0, bottom + h + 0.06, -0.08, -0.0)
            mb.box("metal", lx - 0.06, lx + 0.06, 0.0, 0.04, -0.4, 0.3)
    holder.add(Node(f"{name} stand", mesh=legs_name))
    holder.add(
        Node(
            f"{name} panel",
            mesh=board_mesh(sb, w, h, face, frame),
            translation=(0.0, bottom + h / 2, 0.0),
        )
    )
    holder.add(
        Node(
            f"{name} media frame",
            translation=(0.0, bottom + h / 2, 0.2),
            obstacle=False,
            components=media_frame(w, h),
        )
    )
    return holder


def chair_mesh(sb: SceneBuilder, seat: str, frame: str = "metal") -> str:
    """A simple chair facing -Z (its back on the +Z side)."""
    name = f"Chair {seat}"
    mb, new = sb.mesh(name)
    if new:
        for lx in (-0.2, 0.2):
            for lz in (-0.2, 0.2):
                mb.block(frame, lx, lz, 0.035, 0.035, 0.0, 0.44)
        mb.block(seat, 0.0, 0.0, 0.46, 0.46, 0.44, 0.06)
        mb.box(frame, -0.2, -0.17, 0.5, 0.9, 0.19, 0.22)
        mb.box(frame, 0.17, 0.2, 0.5, 0.9, 0.19, 0.22)
        mb.box(seat, -0.23, 0.23, 0.62, 0.92, 0.2, 0.25)
    return name


def table_mesh(sb: SceneBuilder, w: float, d: float, h: float, top: str, legs: str) -> str:
    name = f"Table {w:g}x{d:g}"
    mb, new = sb.mesh(name)
    if new:
        mb.block(top, 0.0, 0.0, w, d, h - 0.04, 0.04)
        for sx in (-1, 1):
            for sz in (-1, 1):
                mb.block(legs, sx * (w / 2 - 0.08), sz * (d / 2 - 0.08), 0.06, 0.06, 0.0, h - 0.04)
    return name


def round_table_mesh(sb: SceneBuilder, r: float, h: float, top: str) -> str:
    name = f"Round table {r:g}/{h:g}"
    mb, new = sb.mesh(name)
    if new:
        mb.cylinder(top, 0.0, 0.0, r, h - 0.04, h, segments=16)
        mb.cylinder("metal", 0.0, 0.0, 0.04, 0.02, h - 0.04, segments=8)
        mb.cylinder("metal", 0.0, 0.0, 0.28, 0.0, 0.03, segments=12)
    return name


def sofa_mesh(sb: SceneBuilder, w: float, fabric: str) -> str:
    """A sofa facing -Z."""
    name = f"Sofa {w:g} {fabric}"
    mb, new = sb.mesh(name)
    if new:
        mb.box("black", -w / 2 + 0.05, w / 2 - 0.05, 0.0, 0.1, -0.38, 0.38)
        mb.box(fabric, -w / 2, w / 2, 0.1, 0.42, -0.42, 0.42)
        mb.box(fabric, -w / 2, w / 2, 0.42, 0.85, 0.2, 0.42)
        for side in (-1, 1):
            mb.box(fabric, side * (w / 2 - 0.16), side * w / 2, 0.42, 0.62, -0.42, 0.2)
    return name


def plant_mesh(sb: SceneBuilder, tall: bool = True) -> str:
    name = "Plant tall" if tall else "Plant small"
    mb, new = sb.mesh(name)
    if new:
        s = 1.0 if tall else 0.6
        mb.cylinder("pot", 0.0, 0.0, 0.22 * s, 0.0, 0.45 * s, r1=0.27 * s, segments=12)
        mb.cylinder("plant", 0.0, 0.0, 0.4 * s, 0.45 * s, 1.1 * s, r1=0.3 * s, segments=10)
        mb.cylinder("plant", 0.0, 0.0, 0.32 * s, 1.1 * s, 1.8 * s, r1=0.0, segments=10)
    return name


def shelf_mesh(sb: SceneBuilder, w: float, d: float, h: float, seed: int) -> str:
    """An open shelf unit with books and boxes, back on local -Z, open to +Z."""
    name = f"Shelf {w:g}x{h:g} #{seed}"
    mb, new = sb.mesh(name)
    if not new:
        return name
    rng = random.Random(seed)
    mb.box("wood_dark", -w / 2, w / 2, 0.0, h, -d / 2, -d / 2 + 0.02)
    for side in (-1, 1):
        mb.box("wood_light", side * w / 2 - 0.02, side * w / 2 + 0.02, 0.0, h, -d / 2, d / 2)
    levels = [0.08, 0.55, 1.02, 1.49, h - 0.03]
    for y in levels:
        mb.box("wood_light", -w / 2, w / 2, y, y + 0.03, -d / 2, d / 2)
    books = ["book_red", "book_blue", "book_yellow", "book_green", "cardboard"]
    for y0, y1 in itertools.pairwise(levels):
        x = -w / 2 + 0.05
        while x < w / 2 - 0.15:
            if rng.random() < 0.25:
                bw = rng.choice((0.3, 0.35, 0.4))
                bh = rng.choice((0.18, 0.22, 0.26))
                if x + bw > w / 2 - 0.04:
                    break
                mb.box(
                    "cardboard", x, x + bw, y0 + 0.03, y0 + 0.03 + bh, -d / 2 + 0.04, d / 2 - 0.06
                )
                x += bw + 0.04
            else:
                run = rng.randint(3, 6)
                bw = 0.04 * run
                if x + bw > w / 2 - 0.04:
                    break
                bh = min(rng.choice((0.26, 0.3, 0.34)), y1 - y0 - 0.06)
                mb.box(
                    rng.choice(books[:4]),
                    x,
                    x + bw,
                    y0 + 0.03,
                    y0 + 0.03 + bh,
                    -d / 2 + 0.05,
                    d / 2 - 0.12,
                )
                x += bw + rng.choice((0.04, 0.1, 0.2))
    return name


def place(
    parent: Node,
    name: str,
    mesh: str,
    x: float,
    z: float,
    yaw: float = 0.0,
    y: float = 0.0,
    **kwargs: object,
) -> Node:
    return parent.add(Node(name, mesh=mesh, translation=(x, y, z), rotation=q_yaw(yaw), **kwargs))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Nav mesh: a conforming grid over the walk areas, built from the area and obstacle
# edges, without the cells covered by furniture. Neighbouring cells share vertices, so
# the pathfinder sees one connected surface (ramps join floor and stage the same way).
# ---------------------------------------------------------------------------------------


def collect_obstacles(sb: SceneBuilder) -> list[Obstacle]:
    found = list(sb.extra_obstacles)
    for node, q, t in iter_world(sb.root):
        if node.mesh is None or not node.obstacle:
            continue
        pts = world_points(sb, node, q, t)
        m = AVATAR_MARGIN
        found.append(
            Obstacle(
                min(p[0] for p in pts) - m,
                min(p[2] for p in pts) - m,
                max(p[0] for p in pts) + m,
                max(p[2] for p in pts) + m,
                min(p[1] for p in pts),
                max(p[1] for p in pts),
            )
        )
    return found


def build_nav_mesh(sb: SceneBuilder) -> None:
    areas = sb.walk_areas
    obstacles = collect_obstacles(sb)
    lo_x, hi_x = min(a.x0 for a in areas), max(a.x1 for a in areas)
    lo_z, hi_z = min(a.z0 for a in areas), max(a.z1 for a in areas)

    def lines(values: list[float], lo: float, hi: float) -> list[float]:
        return sorted({round(min(max(v, lo), hi), 4) for v in values})

    xs = lines(
        [v for a in areas for v in (a.x0, a.x1)] + [v for o in obstacles for v in (o.x0, o.x1)],
        lo_x,
        hi_x,
    )
    zs = lines(
        [v for a in areas for v in (a.z0, a.z1)] + [v for o in obstacles for v in (o.z0, o.z1)],
        lo_z,
        hi_z,
    )

    # Classify the grid cells band by band (a band lies between two z lines) and merge
    # runs of free cells of the same walk area into intervals.
    bands: list[list[tuple[int, int, WalkArea]]] = []
    for za, zb in itertools.pairwise(zs):
        cz = (za + zb) / 2
        intervals: list[tuple[int, int, WalkArea]] = []
        for i, (xa, xb) in enumerate(itertools.pairwise(xs)):
            cx = (xa + xb) / 2
            area = next((a for a in reversed(areas) if a.contains(cx, cz)), None)
            if area is None or any(o.blocks(cx, cz, area.height(cz)) for o in obstacles):
                continue
            if intervals and intervals[-1][1] == i and intervals[-1][2] is area:
                intervals[-1] = (intervals[-1][0], i + 1, area)
            else:
                intervals.append((i, i + 1, area))
        bands.append(intervals)

    # Every interval end becomes a vertex on both z lines of its band, and the intervals
    # of the neighbouring bands include those vertices too: shared edges, no T-junctions.
    on_line: list[set[int]] = [set() for _ in zs]
    for j, intervals in enumerate(bands):
        for start, end, _ in intervals:
            on_line[j].update((start, end))
            on_line[j + 1].update((start, end))

    index: dict[tuple[float, float, float], int] = {}
    positions: list[Vec3] = []
    indices: list[int] = []

    def vertex(x: float, y: float, z: float) -> int:
        key = (x, round(y, 4), z)
        if key not in index:
            index[key] = len(positions)
            positions.append(key)
        return index[key]

    for j, intervals in enumerate(bands):
        za, zb = zs[j], zs[j + 1]
        for start, end, area in intervals:
            bottom = [
                vertex(xs[k], area.height(za), za) for k in sorted(on_line[j]) if start <= k <= end
            ]
            top = [
                vertex(xs[k], area.height(zb), zb)
                for k in sorted(on_line[j + 1])
                if start <= k <= end
            ]
            # Zip the two chains into triangles, counter-clockwise seen from above.
            bi = ti = 0
            while bi < len(bottom) - 1 or ti < len(top) - 1:
                advance_bottom = ti == len(top) - 1 or (
                    bi < len(bottom) - 1
                    and positions[bottom[bi + 1]][0] <= positions[top[ti + 1]][0]
                )
                if advance_bottom:
                    indices.extend((bottom[bi], top[ti], bottom[bi + 1]))
                    bi += 1
                else:
                    indices.extend((bottom[bi], top[ti], top[ti + 1]))
                    ti += 1

    mb, _ = sb.mesh("Nav mesh")
    mb.raw("nav_mesh", positions, [(0.0, 1.0, 0.0)] * len(positions), indices)
    sb.root.add(
        Node(
            "Nav mesh",
            mesh="Nav mesh",
            obstacle=False,
            preview=False,
            components={"nav-mesh": {}, "visible": {"visible": False}},
        )
    )


# ---------------------------------------------------------------------------------------
# glTF export
# ---------------------------------------------------------------------------------------


def _clean(values: tuple[float, ...]) -> list[float]:
    return [0.0 if abs(v) < 1e-12 else round(v, 6) for v in values]


def _float32(values: list[float]) -> list[float]:
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def to_gltf(sb: SceneBuilder) -> pygltflib.GLTF2:
    accessors: list[pygltflib.Accessor] = []

    # Two buffer views: all vertex attributes (VEC3 floats, stride 12) and all indices.
    vertex_data = bytearray()
    index_data = bytearray()
    vertex_view, index_view = 0, 1

    def vec3_accessor(values: list[Vec3], with_bounds: bool) -> int:
        flat = _float32([c for v in values for c in v])
        acc = pygltflib.Accessor(
            bufferView=vertex_view,
            byteOffset=len(vertex_data),
            componentType=pygltflib.FLOAT,
            normalized=None,
            count=len(values),
            type=pygltflib.VEC3,
        )
        vertex_data.extend(struct.pack(f"<{len(flat)}f", *flat))
        if with_bounds:
            acc.min = [min(flat[i::3]) for i in range(3)]
            acc.max = [max(flat[i::3]) for i in range(3)]
        accessors.append(acc)
        return len(accessors) - 1

    def index_accessor(values: list[int], vertex_count: int) -> int:
        wide = vertex_count > 65535
        fmt, ctype = ("I", pygltflib.UNSIGNED_INT) if wide else ("H", pygltflib.UNSIGNED_SHORT)
        index_data.extend(b"\0" * (-len(index_data) % 4))
        accessors.append(
            pygltflib.Accessor(
                bufferView=index_view,
                byteOffset=len(index_data),
                componentType=ctype,
                normalized=None,
                count=len(values),
                type=pygltflib.SCALAR,
            )
        )
        index_data.extend(struct.pack(f"<{len(values)}{fmt}", *values))
        return len(accessors) - 1

    material_index: dict[str, int] = {}
    materials: list[pygltflib.Material] = []
    meshes: list[pygltflib.Mesh] = []
    mesh_index: dict[str, int] = {}
    for name, builder in sb.meshes.items():
        merged: dict[str, Solid] = {}
        for solid in builder.solids:
            part = merged.setdefault(solid.material, Solid(solid.material))
            base = len(part.positions)
            part.positions.extend(solid.positions)
            part.normals.extend(solid.normals)
            part.indices.extend(base + i for i in solid.indices)
        primitives = []
        for mat, part in merged.items():
            if mat not in material_index:
                colour, metallic, roughness = PALETTE[mat]
                r, g, b = (srgb_to_linear(c) for c in hex_rgb(colour))
                material_index[mat] = len(materials)
                materials.append(
                    pygltflib.Material(
                        name=mat,
                        pbrMetallicRoughness=pygltflib.PbrMetallicRoughness(
                            baseColorFactor=[r, g, b, 1.0],
                            metallicFactor=metallic,
                            roughnessFactor=roughness,
                        ),
                        emissiveFactor=None,
                    )
                )
            primitives.append(
                pygltflib.Primitive(
                    attributes=pygltflib.Attributes(
                        POSITION=vec3_accessor(part.positions, True),
                        NORMAL=vec3_accessor(part.normals, False),
                    ),
                    indices=index_accessor(part.indices, len(part.positions)),
                    material=material_index[mat],
                )
            )
        mesh_index[name] = len(meshes)
        meshes.append(pygltflib.Mesh(name=name, primitives=primitives))

    nodes: list[pygltflib.Node] = []

    def emit(node: Node) -> int:
        idx = len(nodes)
        gnode = pygltflib.Node(name=node.name)
        nodes.append(gnode)
        if node.mesh is not None:
            gnode.mesh = mesh_index[node.mesh]
        if node.translation != ORIGIN:
            gnode.translation = _clean(node.translation)
        if node.rotation != IDENTITY:
            gnode.rotation = _clean(node.rotation)
        if node.components:
            gnode.extensions = {HUBS_EXT: node.components}
        gnode.children = [emit(child) for child in node.children]
        return idx

    root = emit(sb.root)
    index_data.extend(b"\0" * (-len(index_data) % 4))
    blob = bytes(vertex_data + index_data)
    views = [
        pygltflib.BufferView(
            buffer=0,
            byteOffset=0,
            byteLength=len(vertex_data),
            byteStride=12,
            target=pygltflib.ARRAY_BUFFER,
        ),
        pygltflib.BufferView(
            buffer=0,
            byteOffset=len(vertex_data),
            byteLength=len(index_data),
            target=pygltflib.ELEMENT_ARRAY_BUFFER,
        ),
    ]
    gltf = pygltflib.GLTF2(
        asset=pygltflib.Asset(generator=GENERATOR, copyright=f"{LICENCE} {ATTRIBUTION}"),
        scene=0,
        scenes=[pygltflib.Scene(name=sb.root.name, nodes=[root])],
        nodes=nodes,
        meshes=meshes,
        materials=materials,
        accessors=accessors,
        bufferViews=views,
        buffers=[pygltflib.Buffer(byteLength=len(blob))],
        extensionsUsed=[HUBS_EXT],
        extensions={HUBS_EXT: {"version": HUBS_COMPONENTS_VERSION}},
    )
    gltf.set_binary_blob(blob)
    return gltf


def glb_bytes(gltf: pygltflib.GLTF2) -> bytes:
    return b"".join(gltf.save_to_bytes())


# ---------------------------------------------------------------------------------------
# Preview: an orthographic view from the south-east, painter's algorithm over solids
# ---------------------------------------------------------------------------------------

PREVIEW_SIZE = (320, 200)
SUPERSAMPLE = 3
CAMERA_YAW = math.radians(35)  # from the south towards the east
CAMERA_PITCH = math.radians(36)
LIGHT = v_unit((0.35, 1.0, 0.6))
CUTAWAY_HEIGHT = 0.3


def render_preview(sb: SceneBuilder) -> Image.Image:
    cy, sy = math.cos(CAMERA_YAW), math.sin(CAMERA_YAW)
    cp, sp = math.cos(CAMERA_PITCH), math.sin(CAMERA_PITCH)
    view = (-sy * cp, -sp, -cy * cp)  # from the camera into the scene
    right = (cy, 0.0, -sy)
    up = v_cross(right, view)

    drawn: list[tuple[int, float, int, list]] = []
    for node, q, t in iter_world(sb.root):
        if node.mesh is None or not node.preview:
            continue
        for solid in sb.meshes[node.mesh].solids:
            pts = [v_add(q_rotate(q, p), t) for p in solid.positions]
            if node.cutaway:
                if min(p[1] for p in pts) >= CUTAWAY_HEIGHT:
                    continue
                pts = [(p[0], min(p[1], CUTAWAY_HEIGHT), p[2]) for p in pts]
            base = hex_rgb(PALETTE[solid.material][0])
            polys = []
            for i in range(0, len(solid.indices), 3):
                a, b, c = (pts[j] for j in solid.indices[i : i + 3])
                n = v_cross(v_sub(b, a), v_sub(c, a))
                if v_len(n) < 1e-12:
                    continue
                n = v_unit(n)
                if v_dot(n, view) > -1e-6:
                    continue  # facing away from the camera
                shade = min(1.0, 0.5 + 0.55 * max(0.0, v_dot(n, LIGHT)))
                colour = tuple(min(255, round(ch * shade)) for ch in base)
                polys.append(([(v_dot(p, right), -v_dot(p, up)) for p in (a, b, c)], colour))
            if polys:
                depth = v_dot(v_mean(pts), view)
                drawn.append((node.layer, -depth, len(drawn), polys))
    drawn.sort()

    xs = [x for *_, polys in drawn for tri, _ in polys for x, _ in tri]
    ys = [y for *_, polys in drawn for tri, _ in polys for _, y in tri]
    width, height = PREVIEW_SIZE[0] * SUPERSAMPLE, PREVIEW_SIZE[1] * SUPERSAMPLE
    margin = 8 * SUPERSAMPLE
    scale = min(
        (width - 2 * margin) / (max(xs) - min(xs)), (height - 2 * margin) / (max(ys) - min(ys))
    )
    ox = (width - scale * (max(xs) + min(xs))) / 2
    oy = (height - scale * (max(ys) + min(ys))) / 2

    top, bottom = (
        ((170, 205, 235), (232, 240, 246)) if sb.outdoor else ((58, 64, 78), (112, 120, 136))
    )
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for row in range(height):
        f = row / (height - 1)
        draw.line(
            [(0, row), (width, row)],
            fill=tuple(round(a + (b - a) * f) for a, b in zip(top, bottom, strict=True)),
        )
    for *_, polys in drawn:
        for tri, colour in polys:
            screen = [(ox + scale * x, oy + scale * y) for x, y in tri]
            draw.polygon(screen, fill=colour, outline=colour)
    return img.resize(PREVIEW_SIZE, Image.Resampling.LANCZOS)


# ---------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    capacity: int
    tags: tuple[str, ...]
    title_de: str
    title_en: str
    description_de: str
    description_en: str


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def manifest_toml(m: Manifest) -> str:
    assert 1 <= m.capacity <= 50
    text = "\n".join(
        [
            f"licence = {_toml_str(LICENCE)}",
            f"attribution = {_toml_str(ATTRIBUTION)}",
            f"suggested_capacity = {m.capacity}",
            "tags = [" + ", ".join(_toml_str(tag) for tag in m.tags) + "]",
            "",
            "[title]",
            f"de = {_toml_str(m.title_de)}",
            f"en = {_toml_str(m.title_en)}",
            "",
            "[description]",
            f"de = {_toml_str(m.description_de)}",
            f"en = {_toml_str(m.description_en)}",
            "",
        ]
    )
    parsed = tomllib.loads(text)
    assert parsed["title"] == {"de": m.title_de, "en": m.title_en}
    assert parsed["tags"] == list(m.tags)
    return text


# ---------------------------------------------------------------------------------------
# Scene 1: foyer of the StadtLABOR
# ---------------------------------------------------------------------------------------


def build_foyer() -> tuple[SceneBuilder, Manifest]:
    sb = SceneBuilder("foyer", "StadtLABOR Foyer")
    w, d, h = 16.0, 12.0, 4.0
    arch = room_shell(sb, w, d, h, floor="floor_tiles", wall="wall_white")
    door(sb, arch, "Entrance door", "south", 0.0, width=2.0)

    # Reception in the north-west corner, with the logo wall behind it.
    reception = sb.group("Reception")
    mb, _ = sb.mesh("Reception desk")
    mb.box("desk_white", -2.0, 2.0, 0.0, 1.05, -0.35, 0.35)
    mb.box("accent_teal", -2.0, 2.0, 0.08, 0.2, 0.35, 0.37)
    mb.box("wood_light", -2.1, 2.1, 1.05, 1.1, -0.3, 0.5)
    mb.box("desk_white", 1.3, 2.0, 0.0, 1.05, -1.6, -0.35)
    mb.box("wood_light", 1.25, 2.1, 1.05, 1.1, -1.6, -0.3)
    mb.box("wood_light", -1.9, 1.2, 0.72, 0.76, -0.95, -0.35)
    mb.box("screen", -0.6, 0.0, 0.76, 1.12, -0.7, -0.66)
    place(reception, "Reception desk", "Reception desk", -4.2, -3.6)
    place(reception, "Reception chair", chair_mesh(sb, "fabric_grey"), -4.2, -4.7, yaw=math.pi)
    wall_board(
        sb, reception, "Logo wall", "north", -4.2, 2.2, 4.0, 1.6, "accent_teal", frame="accent_teal"
    )
    place(reception, "Plant reception", plant_mesh(sb), -7.3, -5.3)

    # Info boards: three on the north wall, two on the west wall, one welcome totem.
    info = sb.group("Info boards")
    for i, (x, face) in enumerate(
        [(0.6, "poster_orange"), (3.2, "poster_blue"), (5.8, "poster_yellow")], start=1
    ):
        wall_board(sb, info, f"Info board north {i}", "north", x, 1.75, 2.0, 1.3, face)
    for i, (z, face) in enumerate([(-2.0, "poster_teal"), (0.6, "poster_orange")], start=1):
        wall_board(sb, info, f"Info board west {i}", "west", z, 1.75, 1.8, 1.2, face)
    standing_board(
        sb,
        info,
        "Welcome totem",
        1.8,
        0.2,
        (0.0, 1.0),
        1.0,
        1.5,
        0.4,
        "poster_teal",
        frame="accent_teal",
    )

    # Welcome area: round rug, stand-up tables.
    welcome = sb.group("Welcome area")
    mb, _ = sb.mesh("Welcome rug")
    mb.cylinder("rug_teal", 0.0, 0.0, 2.3, 0.0, 0.015, segments=24)
    place(welcome, "Welcome rug", "Welcome rug", 1.8, 2.2, obstacle=False, layer=2)
    for i, (x, z) in enumerate([(0.4, 2.9), (3.2, 2.9)], start=1):
        place(welcome, f"Standing table {i}", round_table_mesh(sb, 0.38, 1.1, "wood_light"), x, z)

    # Lounge in the south-west corner.
    lounge = sb.group("Lounge")
    mb, _ = sb.mesh("Lounge rug")
    mb.box("fabric_grey", -1.6, 1.6, 0.0, 0.012, -1.3, 1.3)
    place(lounge, "Lounge rug", "Lounge rug", -5.2, 3.0, obstacle=False, layer=2)
    place(lounge, "Sofa west", sofa_mesh(sb, 2.2, "fabric_blue"), -7.2, 3.0, yaw=yaw_look(1, 0))
    place(lounge, "Sofa north", sofa_mesh(sb, 2.0, "fabric_red"), -5.0, 1.3, yaw=yaw_look(0, 1))
    place(lounge, "Coffee table", table_mesh(sb, 1.2, 0.7, 0.42, "wood_light", "black"), -5.2, 3.1)
    place(lounge, "Plant lounge", plant_mesh(sb), -7.3, 5.3)

    # Benches along the east wall and plants in the corners.
    seating = sb.group("Seating")
    mb, _ = sb.mesh("Bench")
    mb.box("wood_light", -1.0, 1.0, 0.42, 0.47, -0.22, 0.22)
    for sx in (-0.85, 0.85):
        mb.box("black", sx - 0.04, sx + 0.04, 0.0, 0.42, -0.2, 0.2)
    for i, z in enumerate([-1.0, 1.8], start=1):
        place(seating, f"Bench east {i}", "Bench", 7.35, z, yaw=math.pi / 2)
    place(seating, "Plant north-east", plant_mesh(sb), 7.3, -5.3)
    place(seating, "Plant south-east", plant_mesh(sb), 7.3, 5.3)

    spawns = sb.group("Spawn points")
    spawn_point(spawns, "Spawn entrance", 0.0, 4.7, (0.0, 0.0))
    spawn_point(spawns, "Spawn entrance east", 2.0, 4.7, (1.0, 0.0))
    spawn_point(spawns, "Spawn entrance west", -2.0, 4.7, (-1.0, 0.0))
    waypoint(spawns, "Waypoint welcome", 1.8, 1.6, (1.8, 0.0))
    waypoint(spawns, "Waypoint info boards", 3.4, -3.6, (3.4, -6.0))
    waypoint(spawns, "Waypoint reception", -4.2, -1.8, (-4.2, -3.6))

    add_lights(sb, h - 0.5)
    build_nav_mesh(sb)
    return sb, Manifest(
        capacity=24,
        tags=("foyer", "info", "welcome"),
        title_de="StadtLABOR Foyer",
        title_en="StadtLABOR foyer",
        description_de=(
            "Das Foyer des StadtLABORs Soest mit Empfangstresen, Infowänden und einer "
            "Sitzecke. Hier kommen Gäste an, orientieren sich und treffen sich vor "
            "Veranstaltungen."
        ),
        description_en=(
            "The foyer of the StadtLABOR Soest with a reception desk, info boards and a "
            "seating corner. Guests arrive here, find their way around and meet before "
            "events."
        ),
    )


# ---------------------------------------------------------------------------------------
# Scene 2: booth at the "Digitale Kirmes"
# ---------------------------------------------------------------------------------------


def add_booth(sb: SceneBuilder, parent: Node) -> None:
    """The booth: posts, back wall, counter and a striped, sloping canopy; front is +Z.

    Separate nodes per part, so that only posts, wall and counter block the nav mesh and
    the space behind the counter stays walkable (entered at the east end).
    """
    bw, back, front = 8.0, -1.4, 1.4  # width, back and front post lines (local z)
    mb, _ = sb.mesh("Booth post")
    mb.cylinder("wood_dark", 0.0, 0.0, 0.09, 0.0, 3.75, segments=10)
    for i, (x, z) in enumerate(
        [(-bw / 2, back), (bw / 2, back), (-bw / 2, front), (bw / 2, front)], start=1
    ):
        parent.add(Node(f"Booth post {i}", mesh="Booth post", translation=(x, 0.0, z)))
    mb, _ = sb.mesh("Booth back wall")
    mb.box("wood_light", -bw / 2, bw / 2, 0.0, 3.6, back - 0.15, back - 0.05)
    mb.box("wood_dark", -bw / 2, bw / 2, 0.0, 0.25, back - 0.05, back)
    parent.add(Node("Booth back wall", mesh="Booth back wall"))
    # Counter across the front, open at the east end so the staff can get in.
    mb, _ = sb.mesh("Booth counter")
    mb.box("canopy_white", -bw / 2 + 0.15, bw / 2 - 1.6, 0.0, 1.0, 0.55, 1.05)
    mb.box("canopy_red", -bw / 2 + 0.15, bw / 2 - 1.6, 0.45, 0.6, 1.05, 1.07)
    mb.box("wood_light", -bw / 2 + 0.05, bw / 2 - 1.5, 1.0, 1.06, 0.5, 1.2)
    parent.add(Node("Booth counter", mesh="Booth counter"))
    mb, _ = sb.mesh("Booth side panel")
    mb.box("canopy_red", -0.03, 0.03, 0.0, 1.0, back, 0.55)
    parent.add(Node("Booth side panel", mesh="Booth side panel", translation=(-bw / 2, 0.0, 0.0)))
    # Striped canopy, sloping from 3.85 m at the back to 3.3 m at the front edge, with a
    # valance along the front and the sign board on top.
    mb, _ = sb.mesh("Booth canopy")
    stripes = 12
    y_back, y_front = 3.85, 3.3
    z_back, z_front = back - 0.3, front + 0.6
    for i in range(stripes):
        x0 = -bw / 2 - 0.35 + i * (bw + 0.7) / stripes
        x1 = x0 + (bw + 0.7) / stripes
        mat = "canopy_red" if i % 2 == 0 else "canopy_white"
        bottom = [
            (x0, y_back, z_back),
            (x1, y_back, z_back),
            (x1, y_front, z_front),
            (x0, y_front, z_front),
        ]
        mb.hexahedron(mat, bottom, [(x, y + 0.06, z) for x, y, z in bottom])
        mb.box(mat, x0, x1, y_front - 0.35, y_front + 0.02, z_front - 0.02, z_front + 0.02)
    mb.box("accent_yellow", -2.4, 2.4, 3.9, 4.7, back - 0.2, back - 0.08)
    mb.box("canopy_red", -2.2, 2.2, 4.0, 4.6, back - 0.08, back - 0.06)
    parent.add(Node("Booth canopy", mesh="Booth canopy"))
    # Media frames on the back wall: a big video wall and two posters.
    for name, x, y, w, h, face in [
        ("Booth video wall", 0.0, 2.05, 3.2, 1.8, "screen"),
        ("Booth poster west", -2.85, 1.9, 1.1, 1.55, "poster_yellow"),
        ("Booth poster east", 2.85, 1.9, 1.1, 1.55, "poster_blue"),
    ]:
        holder = parent.add(Node(name, translation=(x, y, back - 0.05), obstacle=False))
        holder.add(Node(f"{name} panel", mesh=board_mesh(sb, w, h, face), obstacle=False))
        holder.add(
            Node(
                f"{name} media frame",
                translation=(0.0, 0.0, 0.2),
                obstacle=False,
                components=media_frame(w, h),
            )
        )


def build_kirmes_stand() -> tuple[SceneBuilder, Manifest]:
    sb = SceneBuilder("kirmes-stand", "Digitale Kirmes Stand")
    sb.outdoor = True
    w, d, h = 20.0, 16.0, 3.0
    arch = room_shell(sb, w, d, h, floor="cobbles", wall="hoarding", ceiling=False)
    door(sb, arch, "Gate", "south", -5.0, width=2.6, height=2.6)

    add_booth(sb, sb.group("Booth", translation=(0.0, 0.0, -5.6)))

    # Poster walls on both sides of the open space, turned towards its centre.
    posters = sb.group("Poster walls")
    standing_board(
        sb,
        posters,
        "Poster wall west",
        -7.2,
        -1.2,
        (0.6, 0.8),
        2.4,
        1.6,
        0.7,
        "poster_orange",
        frame="canopy_red",
    )
    standing_board(
        sb,
        posters,
        "Poster wall east",
        7.2,
        -1.2,
        (-0.6, 0.8),
        2.4,
        1.6,
        0.7,
        "poster_teal",
        frame="canopy_red",
    )
    wall_board(
        sb,
        posters,
        "Hoarding poster west",
        "west",
        3.5,
        1.6,
        2.0,
        1.4,
        "poster_yellow",
        frame="canopy_white",
    )

    # Fair furniture around the edge: stand-up tables, lamp posts, bunting masts.
    fair = sb.group("Fair furniture")
    table = round_table_mesh(sb, 0.4, 1.1, "canopy_red")
    for i, (x, z) in enumerate([(-7.5, 3.2), (-5.0, 5.6), (5.0, 5.6), (7.5, 3.2)], start=1):
        place(fair, f"Standing table {i}", table, x, z)
    mb, _ = sb.mesh("Lamp post")
    mb.cylinder("black", 0.0, 0.0, 0.2, 0.0, 0.12, segments=10)
    mb.cylinder("black", 0.0, 0.0, 0.06, 0.12, 3.4, segments=8)
    mb.cylinder("lamp", 0.0, 0.0, 0.22, 3.4, 3.85, r1=0.12, segments=10)
    for i, (x, z) in enumerate([(-9.2, -7.2), (9.2, -7.2), (-9.2, 7.2), (9.2, 7.2)], start=1):
        place(fair, f"Lamp post {i}", "Lamp post", x, z)
    mb, _ = sb.mesh("Bunting mast")
    mb.cylinder("wood_dark", 0.0, 0.0, 0.07, 0.0, 4.2, segments=8)
    for i in range(6):
        mat = ("canopy_red", "accent_yellow", "canopy_white")[i % 3]
        y = 4.1 - i * 0.3
        mb.hexahedron(
            mat,
            [(0.07, y, -0.01), (0.07, y, 0.01), (0.07, y - 0.25, 0.01), (0.07, y - 0.25, -0.01)],
            [
                (0.45, y - 0.12, -0.01),
                (0.45, y - 0.12, 0.01),
                (0.45, y - 0.12, 0.01),
                (0.45, y - 0.12, -0.01),
            ],
        )
    for i, (x, z) in enumerate([(-5.0, -2.6), (5.0, -2.6)], start=1):
        place(fair, f"Bunting mast {i}", "Bunting mast", x, z, yaw=math.pi if x > 0 else 0.0)
    mb, _ = sb.mesh("Barrel")
    mb.cylinder("wood_dark", 0.0, 0.0, 0.3, 0.0, 0.45, r1=0.34, segments=14)
    mb.cylinder("wood_dark", 0.0, 0.0, 0.34, 0.45, 0.9, r1=0.3, segments=14)
    for i, (x, z) in enumerate([(4.9, -6.6), (5.5, -5.9), (-9.1, -3.5)], start=1):
        place(fair, f"Barrel {i}", "Barrel", x, z)

    spawns = sb.group("Spawn points")
    spawn_point(spawns, "Spawn square", 0.0, 5.8, (0.0, -5.6))
    spawn_point(spawns, "Spawn square west", -2.5, 6.0, (0.0, -5.6))
    spawn_point(spawns, "Spawn square east", 2.5, 6.0, (0.0, -5.6))
    waypoint(spawns, "Waypoint counter", 0.0, -2.2, (0.0, -5.6))
    waypoint(spawns, "Waypoint poster wall west", -5.9, 1.2, (-7.2, -1.2))
    waypoint(spawns, "Waypoint poster wall east", 5.9, 1.2, (7.2, -1.2))

    add_lights(sb, 6.0)
    build_nav_mesh(sb)
    return sb, Manifest(
        capacity=20,
        tags=("kirmes", "fair", "booth", "outdoor"),
        title_de="Stand auf der Digitalen Kirmes",
        title_en="Booth at the Digital Fair",
        description_de=(
            "Ein Kirmesstand mit gestreiftem Vordach, Tresen und Plakat- und Videowänden "
            "für die Digitale Kirmes. Vor dem Stand ist viel Platz zum Zusammenstehen."
        ),
        description_en=(
            "A fairground booth with a striped canopy, a counter and poster and video walls "
            "for the Digitale Kirmes (digital fair). There is plenty of open space in front "
            "of the booth to gather."
        ),
    )


# ---------------------------------------------------------------------------------------
# Scene 3: auditorium
# ---------------------------------------------------------------------------------------


def auditorium_seat_mesh(sb: SceneBuilder) -> str:
    """A theatre seat facing -Z."""
    mb, new = sb.mesh("Auditorium seat")
    if new:
        mb.box("black", -0.3, -0.26, 0.0, 0.62, -0.25, 0.25)
        mb.box("black", 0.26, 0.3, 0.0, 0.62, -0.25, 0.25)
        mb.box("fabric_red", -0.26, 0.26, 0.38, 0.48, -0.24, 0.2)
        mb.hexahedron(
            "fabric_red",
            [(-0.26, 0.45, 0.18), (0.26, 0.45, 0.18), (0.26, 0.45, 0.28), (-0.26, 0.45, 0.28)],
            [(-0.26, 0.98, 0.26), (0.26, 0.98, 0.26), (0.26, 0.98, 0.36), (-0.26, 0.98, 0.36)],
        )
    return "Auditorium seat"


def build_auditorium() -> tuple[SceneBuilder, Manifest]:
    sb = SceneBuilder("auditorium", "Auditorium")
    w, d, h = 22.0, 26.0, 6.0
    hd = d / 2
    arch = room_shell(sb, w, d, h, floor="carpet", wall="wall_dark")
    door(sb, arch, "Entrance door west", "south", -7.0, width=2.0)
    door(sb, arch, "Entrance door east", "south", 7.0, width=2.0)

    # Stage across the north end with ramps on both sides of its front.
    stage_h, stage_front, stage_half = 0.8, -8.0, 8.0
    stage = sb.group("Stage")
    mb, _ = sb.mesh("Stage")
    mb.box("stage", -stage_half, stage_half, 0.0, stage_h, -hd, stage_front)
    mb.box("black", -stage_half, stage_half, 0.0, 0.12, stage_front, stage_front + 0.02)
    place(stage, "Stage", "Stage", 0.0, 0.0, layer=2)
    ramp_len, ramp_w = 3.2, 1.5
    mb, _ = sb.mesh("Stage ramp")
    mb.hexahedron(
        "stage",
        [
            (-ramp_w / 2, 0.0, 0.0),
            (ramp_w / 2, 0.0, 0.0),
            (ramp_w / 2, 0.0, ramp_len),
            (-ramp_w / 2, 0.0, ramp_len),
        ],
        [
            (-ramp_w / 2, stage_h, 0.0),
            (ramp_w / 2, stage_h, 0.0),
            (ramp_w / 2, 0.0, ramp_len),
            (-ramp_w / 2, 0.0, ramp_len),
        ],
    )
    ramp_x = stage_half - ramp_w / 2 - 0.3
    for side, x in (("west", -ramp_x), ("east", ramp_x)):
        place(stage, f"Stage ramp {side}", "Stage ramp", x, stage_front, obstacle=False, layer=2)
    # Lectern: the speaker stands on its -Z side, the audience sees the teal front (+Z).
    mb, _ = sb.mesh("Lectern")
    mb.block("wood_dark", 0.0, 0.0, 0.6, 0.45, 0.0, 0.05)
    mb.block("wood_dark", 0.0, 0.0, 0.5, 0.3, 0.05, 0.95)
    mb.box("accent_teal", -0.28, 0.28, 0.15, 0.95, 0.15, 0.18)
    mb.hexahedron(
        "wood_light",
        [(-0.35, 0.95, -0.3), (0.35, 0.95, -0.3), (0.35, 1.08, 0.2), (-0.35, 1.08, 0.2)],
        [(-0.35, 1.0, -0.3), (0.35, 1.0, -0.3), (0.35, 1.15, 0.2), (-0.35, 1.15, 0.2)],
    )
    place(stage, "Lectern", "Lectern", 4.0, -9.4, y=stage_h)
    place(
        stage,
        "Panel table",
        table_mesh(sb, 1.8, 0.7, 0.75, "desk_white", "metal"),
        -3.5,
        -10.0,
        y=stage_h,
    )
    chair = chair_mesh(sb, "fabric_blue")
    for i, x in enumerate([-4.1, -2.9], start=1):
        place(stage, f"Panel chair {i}", chair, x, -10.8, yaw=yaw_look(0, 1), y=stage_h)
    place(stage, "Plant stage west", plant_mesh(sb), -7.3, -12.3, y=stage_h)
    place(stage, "Plant stage east", plant_mesh(sb), 7.3, -12.3, y=stage_h)

    # Big screen on the north wall behind the stage, framed by curtains.
    screen = sb.group("Screen")
    wall_board(sb, screen, "Big screen", "north", 0.0, 3.75, 8.0, 4.5, "screen")
    mb, _ = sb.mesh("Curtain")
    for i in range(8):
        z0 = 0.0 if i % 2 == 0 else 0.08
        mb.box("curtain", -0.8 + i * 0.2, -0.6 + i * 0.2, 0.0, h - stage_h - 0.2, z0, z0 + 0.12)
    for side, x in (("west", -5.6), ("east", 5.6)):
        place(screen, f"Curtain {side}", "Curtain", x, -hd + 0.05, y=stage_h, obstacle=False)

    # Seating: five rows in two blocks of five seats with a centre aisle, facing the stage.
    seating = sb.group("Seating")
    seat = auditorium_seat_mesh(sb)
    pitch, row_z0 = 1.5, -3.0
    for r in range(5):
        z = row_z0 + r * pitch
        row = seating.add(Node(f"Seat row {r + 1}", translation=(0.0, 0.0, z), obstacle=False))
        for block, sign in (("left", -1), ("right", 1)):
            for s in range(5):
                x = sign * (1.35 + s * 0.64)
                row.add(
                    Node(
                        f"Seat {r + 1}{block[0].upper()}{s + 1}",
                        mesh=seat,
                        translation=(x, 0.0, 0.0),
                        obstacle=False,
                    )
                )
            x_in, x_out = sign * 1.03, sign * (1.35 + 4 * 0.64 + 0.32)
            sb.block_area(min(x_in, x_out), z - 0.25, max(x_in, x_out), z + 0.36)
    mb, _ = sb.mesh("Sound desk")
    mb.box("black", -1.2, 1.2, 0.0, 0.95, -0.4, 0.4)
    mb.hexahedron(
        "metal",
        [(-1.1, 0.95, -0.35), (1.1, 0.95, -0.35), (1.1, 0.95, 0.35), (-1.1, 0.95, 0.35)],
        [(-1.1, 1.0, -0.35), (1.1, 1.0, -0.35), (1.1, 1.12, 0.35), (-1.1, 1.12, 0.35)],
    )
    place(seating, "Sound desk", "Sound desk", 0.0, 7.6)

    # Arrival at the back of the hall.
    spawns = sb.group("Spawn points")
    for i, x in enumerate([-7.5, -2.5, 2.5, 7.5], start=1):
        spawn_point(spawns, f"Spawn back {i}", x, 11.0, (x * 0.5, -8.0))
    for i, (x, z) in enumerate([(-9.5, 9.0), (9.5, 9.0), (-5.0, 10.0), (5.0, 10.0)], start=1):
        waypoint(spawns, f"Waypoint back {i}", x, z, (0.0, -8.0))
    # A clickable spot behind the lectern for speakers (not a spawn point).
    waypoint(
        spawns,
        "Waypoint lectern",
        4.0,
        -10.2,
        (4.0, 0.0),
        y=stage_h,
        canBeSpawnPoint=False,
        canBeOccupied=True,
        canBeClicked=True,
        willMaintainInitialOrientation=True,
    )

    # The stage and the ramps are walkable too; the ramps meet the stage at its front edge.
    edge = stage_front - WALL_INSET
    sb.walk_areas.append(
        WalkArea(
            -stage_half + WALL_INSET, -hd + WALL_INSET, stage_half - WALL_INSET, edge, y0=stage_h
        )
    )
    for x in (-ramp_x, ramp_x):
        x0, x1 = x - ramp_w / 2 + 0.25, x + ramp_w / 2 - 0.25
        sb.walk_areas.append(WalkArea(x0, edge, x1, stage_front, y0=stage_h))
        sb.walk_areas.append(
            WalkArea(x0, stage_front, x1, stage_front + ramp_len, y0=stage_h, y1=0.0)
        )

    add_lights(sb, h - 0.5)
    build_nav_mesh(sb)
    return sb, Manifest(
        capacity=50,
        tags=("auditorium", "talk", "stage", "video"),
        title_de="Auditorium",
        title_en="Auditorium",
        description_de=(
            "Ein Saal mit erhöhter Bühne, Rednerpult und großer Leinwand für Vorträge und "
            "Videos. Die Sitzreihen bieten Platz für bis zu 50 Gäste, die hinten im Saal "
            "ankommen."
        ),
        description_en=(
            "A hall with a raised stage, a lectern and a big screen for talks and videos. "
            "The rows of seats hold up to 50 guests, who arrive at the back of the hall."
        ),
    )


# ---------------------------------------------------------------------------------------
# Scene 4: workshop room
# ---------------------------------------------------------------------------------------


def build_werkstatt() -> tuple[SceneBuilder, Manifest]:
    sb = SceneBuilder("werkstatt", "Werkstatt")
    w, d, h = 12.0, 9.0, 3.2
    arch = room_shell(sb, w, d, h, floor="floor_wood", wall="wall_warm")
    door(sb, arch, "Door", "south", 3.6)

    # The big table with ten chairs.
    table_group = sb.group("Worktable")
    place(table_group, "Worktable", table_mesh(sb, 4.2, 1.6, 0.76, "wood_light", "black"), 0.0, 0.3)
    chair = chair_mesh(sb, "accent_orange", frame="black")
    for i, x in enumerate([-1.5, -0.5, 0.5, 1.5], start=1):
        place(table_group, f"Chair north {i}", chair, x, 0.3 - 1.2, yaw=yaw_look(0, 1))
        place(table_group, f"Chair south {i}", chair, x, 0.3 + 1.2, yaw=yaw_look(0, -1))
    place(table_group, "Chair west", chair, -2.6, 0.3, yaw=yaw_look(1, 0))
    place(table_group, "Chair east", chair, 2.6, 0.3, yaw=yaw_look(-1, 0))
    mb, _ = sb.mesh("Table things")
    mb.block("screen", -0.9, 0.1, 0.34, 0.24, 0.76, 0.02)
    mb.block("book_yellow", 0.6, 0.5, 0.21, 0.3, 0.76, 0.01)
    mb.cylinder("accent_teal", 1.3, -0.2, 0.05, 0.76, 0.86, segments=10)
    mb.block("cardboard", -1.6, 0.4, 0.4, 0.3, 0.76, 0.2)
    place(table_group, "Table things", "Table things", 0.0, 0.3, obstacle=False)

    # Whiteboard and pinboard on the north wall.
    boards = sb.group("Boards")
    wall_board(sb, boards, "Whiteboard", "north", -0.5, 1.55, 3.0, 1.4, "whiteboard", frame="metal")
    mb, _ = sb.mesh("Whiteboard tray")
    mb.box("metal", -1.4, 1.4, 0.74, 0.77, 0.0, 0.1)
    place(boards, "Whiteboard tray", "Whiteboard tray", -0.5, -d / 2, obstacle=False)
    wall_board(sb, boards, "Pinboard", "north", -4.3, 1.6, 1.6, 1.1, "cardboard", frame="wood_dark")

    # Shelves on the west wall, a workbench in the north-east corner.
    storage = sb.group("Storage")
    for i, z in enumerate([-2.6, -0.3, 2.0], start=1):
        translation, rotation = wall_mount(sb, "west", z, 0.0, gap=0.22)
        storage.add(
            Node(
                f"Shelf {i}",
                mesh=shelf_mesh(sb, 2.0, 0.4, 2.1, seed=7),
                translation=translation,
                rotation=rotation,
            )
        )
    mb, _ = sb.mesh("Workbench")
    mb.box("wood_light", -1.4, 1.4, 0.86, 0.92, -0.35, 0.35)
    mb.box("wood_dark", -1.35, 1.35, 0.12, 0.16, -0.3, 0.3)
    for sx in (-1.3, 1.3):
        for sz in (-0.28, 0.28):
            mb.block("black", sx, sz, 0.06, 0.06, 0.0, 0.86)
    mb.block("desk_white", 0.7, 0.0, 0.5, 0.5, 0.92, 0.55)
    mb.block("black", 0.7, 0.02, 0.36, 0.4, 1.0, 0.38)
    mb.block("accent_teal", -0.6, 0.0, 0.35, 0.25, 0.92, 0.18)
    mb.box("metal", -1.4, 1.4, 0.92, 1.8, -0.35, -0.33)
    for i in range(6):
        mb.block("black", -1.1 + i * 0.3, -0.3, 0.04, 0.04, 1.1 + (i % 3) * 0.12, 0.35)
    place(storage, "Workbench", "Workbench", 3.8, -d / 2 + 0.4)
    place(storage, "Plant corner", plant_mesh(sb), 5.4, 3.9)
    place(storage, "Plant small", plant_mesh(sb, tall=False), -5.5, 3.9)

    spawns = sb.group("Spawn points")
    spawn_point(spawns, "Spawn door", 3.6, 3.6, (0.0, 0.3))
    spawn_point(spawns, "Spawn door west", 2.2, 3.6, (0.0, 0.3))
    waypoint(spawns, "Waypoint whiteboard", -0.5, -2.6, (-0.5, -4.5))
    waypoint(spawns, "Waypoint shelves", -3.8, 3.0, (-6.0, 2.0))

    add_lights(sb, h - 0.4)
    build_nav_mesh(sb)
    return sb, Manifest(
        capacity=12,
        tags=("werkstatt", "workshop", "meeting", "whiteboard"),
        title_de="Werkstatt",
        title_en="Workshop",
        description_de=(
            "Ein kleiner Werkstattraum mit großem Arbeitstisch, Whiteboard und Regalen. "
            "Gedacht für Arbeitsgruppen und Workshops mit bis zu zwölf Personen."
        ),
        description_en=(
            "A small workshop room with a big worktable, a whiteboard and shelves. Made "
            "for working groups and workshops of up to twelve people."
        ),
    )


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------

SCENES = {
    "foyer": build_foyer,
    "kirmes-stand": build_kirmes_stand,
    "auditorium": build_auditorium,
    "werkstatt": build_werkstatt,
}


def write_pack(slug: str, out_dir: Path) -> list[Path]:
    sb, manifest = SCENES[slug]()
    pack = out_dir / slug
    pack.mkdir(parents=True, exist_ok=True)
    glb = pack / "scene.glb"
    glb.write_bytes(glb_bytes(to_gltf(sb)))
    toml = pack / "scene.toml"
    toml.write_text(manifest_toml(manifest), encoding="utf-8")
    png = pack / "preview.png"
    render_preview(sb).save(png, format="PNG", optimize=True)
    return [glb, toml, png]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE,
        help="directory to write the packs into (default: room_scenes/)",
    )
    parser.add_argument(
        "slugs",
        nargs="*",
        metavar="SLUG",
        help=f"packs to build (default: all of {', '.join(SCENES)})",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.slugs) - set(SCENES))
    if unknown:
        parser.error(f"unknown scene(s): {', '.join(unknown)}")
    for slug in args.slugs or SCENES:
        for path in write_pack(slug, args.out):
            print(f"{path.relative_to(args.out)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
