"""The bridge's client towards a Hubs server (Reticulum), sans-I/O core.

``frames`` models the Phoenix v2 frames and the Hubs payloads,
``phoenix`` runs one socket's channels, refs, replies and heartbeats,
``presence`` turns a room's presence frames into people and counts, and
``backoff`` gives the retry delays. None of them does I/O or reads a clock:
the facts they implement are in ``docs/reticulum/PROTOCOL.md``.
"""
