"""Websocket sessions that have not said ``hello`` yet, per client address, in one process.

Until its first frame is read, a session is nobody: no visitor id, no token,
nothing that a per-visitor limit could hold. It may still make the server keep
a started message (up to the reader's cap, ``web/ws.py``) until
``hello_timeout_s``. Counting such sessions per address and refusing more than
``per_address`` before the upgrade bounds what one address can make the
process hold: 300 sessions each holding a started fragment used to be +282 MB.

A browser sends ``hello`` as soon as the socket opens, so a real page occupies
its place for about one round trip; many visitors behind one NAT still fit.
The counts live in this process only: the memory they protect is this
process's own.
"""

from __future__ import annotations

from collections import Counter


class HelloGate:
    """Places for sessions before ``hello``, at most ``per_address`` per client address."""

    def __init__(self, per_address: int) -> None:
        if per_address < 1:
            raise ValueError("per_address must be at least 1")
        self.per_address = per_address
        self._waiting: Counter[str] = Counter()

    def enter(self, address: str) -> Place | None:
        """A place for a session from ``address``; ``None`` if it has none left."""
        if self._waiting[address] >= self.per_address:
            return None
        self._waiting[address] += 1
        return Place(self, address)

    def _leave(self, address: str) -> None:
        self._waiting[address] -= 1
        if self._waiting[address] <= 0:
            del self._waiting[address]

    def waiting(self, address: str) -> int:
        return self._waiting[address]


class Place:
    """One session's place at the gate, given back once (first frame read, or the end)."""

    __slots__ = ("_address", "_gate")

    def __init__(self, gate: HelloGate, address: str) -> None:
        self._gate: HelloGate | None = gate
        self._address = address

    def release(self) -> None:
        if self._gate is not None:
            self._gate._leave(self._address)
            self._gate = None
