"""``hubs-bridge scenes check [PATH]``: a readable verdict on scene packs or one GLB.

PATH may be the library root (every pack below it), one pack folder, or one
``.glb`` file. Each scene gets one verdict line, its facts, and each error
and warning on its own line with its code, so a failing CI job says what to
fix. Warnings do not fail the check; any error does (exit code 1).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TextIO

from hubs_bridge.scenes.glb import SceneSummary, validate_glb
from hubs_bridge.scenes.library import (
    Scene,
    ScenePackProblem,
    is_pack,
    load_library,
    load_pack,
)
from hubs_bridge.scenes.problems import Problem

_INDENT = " " * 8


def run_check(path: Path, *, max_bytes: int, out: TextIO) -> int:
    """Check ``path`` and print a report to ``out``; return 0 if all is fine, else 1."""
    if path.is_file():
        return _check_file(path, max_bytes, out)
    if not path.is_dir():
        print(f"FAILED  {path}: no such file or folder", file=out)
        return 1
    if is_pack(path):
        results = [load_pack(path, max_bytes=max_bytes)]
    else:
        library = load_library(path, max_bytes=max_bytes)
        results = [*library.scenes.values(), *library.problems]
        results.sort(key=lambda r: r.slug or "")
        if not results:
            print(f"FAILED  {path}: no scene packs (folders with {_PACK_FILES})", file=out)
            return 1
    for result in results:
        _print_result(result, out)
    failed = sum(1 for r in results if isinstance(r, ScenePackProblem))
    print(f"\n{len(results)} checked: {len(results) - failed} OK, {failed} FAILED", file=out)
    return 1 if failed else 0


_PACK_FILES = "scene.toml, scene.glb"


def _check_file(path: Path, max_bytes: int, out: TextIO) -> int:
    if path.suffix.lower() != ".glb":
        print(f"FAILED  {path}: not a .glb file or a scene folder", file=out)
        return 1
    try:
        size = path.stat().st_size
        data = b"" if size > max_bytes else path.read_bytes()
    except OSError as exc:
        print(f"FAILED  {path}: cannot read it ({exc.strerror or type(exc).__name__})", file=out)
        return 1
    if size > max_bytes:
        problem = Problem("too_large", f"the file has {size} bytes; the limit is {max_bytes}")
        print(f"FAILED  {path}", file=out)
        print(f"{_INDENT}error {problem}", file=out)
        return 1
    check = validate_glb(data, max_bytes=max_bytes)
    print(f"{'OK    ' if check.ok else 'FAILED'}  {path}", file=out)
    if check.ok:
        sha = hashlib.sha256(data).hexdigest()
        print(f"{_INDENT}{_facts(len(data), sha, check.summary)}", file=out)
        print(f"{_INDENT}{_components(check.summary)}", file=out)
    _print_problems(check.errors, check.warnings, out)
    return 0 if check.ok else 1


def _print_result(result: Scene | ScenePackProblem, out: TextIO) -> None:
    if isinstance(result, Scene):
        print(f"OK      {result.slug}  ({result.glb_path.parent})", file=out)
        print(f"{_INDENT}{result.manifest.title.de} / {result.manifest.title.en}", file=out)
        print(f"{_INDENT}{_facts(result.size, result.sha256, result.summary)}", file=out)
        print(f"{_INDENT}{_components(result.summary)}", file=out)
        if result.preview is None:
            print(f"{_INDENT}no preview.png", file=out)
        _print_problems((), result.warnings, out)
    else:
        print(f"FAILED  {result.slug or result.path}  ({result.path})", file=out)
        _print_problems(result.errors, result.warnings, out)


def _print_problems(
    errors: tuple[Problem, ...], warnings: tuple[Problem, ...], out: TextIO
) -> None:
    for problem in errors:
        print(f"{_INDENT}error {problem}", file=out)
    for problem in warnings:
        print(f"{_INDENT}warning {problem}", file=out)


def _facts(size: int, sha256: str, summary: SceneSummary) -> str:
    return (
        f"{_human_size(size)}, sha256 {sha256[:12]}, {summary.nodes} nodes, "
        f"{summary.meshes} meshes, {summary.triangles} triangles"
    )


def _components(summary: SceneSummary) -> str:
    if not summary.components:
        return "components: none"
    listed = ", ".join(f"{name} {count}" for name, count in summary.components.items())
    return f"components: {listed}"


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
