"""Where a scene's files are served: absolute, content-addressed URLs.

Shared by the web routes that serve the files and by the Hubs side that hands
a scene's URL to Reticulum, so neither depends on the other.
"""

from __future__ import annotations

from hubs_bridge.scenes.library import Scene


def glb_url(base_url: str, scene: Scene) -> str:
    """The absolute, content-addressed URL of a scene version's GLB."""
    return f"{base_url}/scenes/{scene.sha256}.glb"


def preview_url(base_url: str, scene: Scene) -> str:
    """The absolute URL of a scene version's preview: its PNG by content hash, or the
    generated placeholder (an SVG) named by its GLB's hash when it has none."""
    sha = scene.preview_sha256
    return f"{base_url}/scenes/{sha}/preview.png" if sha else placeholder_url(base_url, scene)


def placeholder_url(base_url: str, scene: Scene) -> str:
    """The absolute URL of the generated SVG preview of a scene version."""
    return f"{base_url}/scenes/{scene.sha256}/preview.svg"
