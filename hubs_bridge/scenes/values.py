"""Type-checked reads of untrusted JSON values from a glTF document.

A scene file may say ``"count": "many"`` or ``"nodes": 7``; these helpers turn
such values into ``None`` or an empty list plus a reported error, so the
checks built on them never raise.
"""

from __future__ import annotations

from typing import Any

from hubs_bridge.scenes.problems import ProblemLog, shown


def as_int(value: Any) -> int | None:
    """``value`` if it is a JSON integer (``True`` is not), else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def as_list(doc: dict[str, Any], key: str, where: str, log: ProblemLog) -> list[Any]:
    """The array ``doc[key]``, or ``[]`` (with an error if it exists but is no array)."""
    value = doc.get(key, [])
    if isinstance(value, list):
        return value
    log.error("bad_gltf", f"{where}{key} must be an array")
    return []


def as_objects(items: list[Any], key: str, log: ProblemLog) -> list[dict[str, Any] | None]:
    """The entries of top-level array ``key``, each an object or ``None`` (reported)."""
    result: list[dict[str, Any] | None] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            result.append(item)
        else:
            log.error("bad_gltf", f"{key}[{i}] must be an object")
            result.append(None)
    return result


def check_ref(value: Any, count: int, target: str, where: str, log: ProblemLog) -> int | None:
    """Check that ``value`` indexes one of ``count`` entries of ``target``; return it if so."""
    index = as_int(value)
    if index is None or not 0 <= index < count:
        log.error(
            "bad_reference", f"{where} points to {target}[{shown(value)}], which does not exist"
        )
        return None
    return index
