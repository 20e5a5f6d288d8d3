"""The scene library: Hubs scene packs in ``room_scenes/``, validated and described.

- ``library.py``: load every pack folder (manifest, GLB, preview) into a ``SceneLibrary``.
- ``manifest.py``: the ``scene.toml`` model.
- ``glb.py``: the GLB validator (bytes in, ``GlbCheck`` out), built on ``gltf.py``,
  ``buffers.py``, ``values.py`` (the glTF document) and ``components.py`` (Hubs).
- ``delivery.py``: which HTTP answer a content-addressed file request gets (pure).
- ``report.py``: the ``hubs-bridge scenes check`` report.
"""
