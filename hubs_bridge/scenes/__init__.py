"""The scene library: Hubs scene packs in ``room_scenes/`` and uploaded versions, validated.

- ``library.py``: load every pack folder (manifest, GLB, preview) into a ``SceneLibrary``,
  which also holds uploaded versions (merged in by ``hubs_bridge/scene_catalog.py``).
- ``manifest.py``: the ``scene.toml`` model.
- ``glb.py``: the GLB validator (bytes in, ``GlbCheck`` out), built on ``gltf.py``,
  ``buffers.py``, ``values.py`` (the glTF document) and ``components.py`` (Hubs).
- ``intake.py``: the checks on an upload while it streams (pure).
- ``blobs.py``: uploaded files by content hash, on a shared folder (``BlobStore``).
- ``placeholder.py``: the generated SVG preview of a scene without an image.
- ``delivery.py``: which HTTP answer a content-addressed file request gets (pure).
- ``urls.py``: the absolute, content-addressed URLs of a scene's files.
- ``report.py``: the ``hubs-bridge scenes check`` report.
"""
