"""Observers of event streams inside this process, beside the pages the hubs write to.

The broker delivers each event's frames to one listener per process (the
:class:`~hubs_bridge.realtime.hub.HubRegistry`), in order, without gaps. Some
parts of the server need the same frames without being a page: the Hubs
bridge tells the rooms it bridges about pins, answers and announcements.
They register here through :meth:`HubRegistry.watch`, which also keeps the
event subscribed while they watch, even when no page of it is open here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from hubs_bridge.core.stream import LiveState, StreamEvent

log = logging.getLogger("hubs_bridge.watchers")

FrameObserver = Callable[[str, StreamEvent], None]
"""Called with the event's slug and each event of its stream; synchronous, must not block."""


class EventStreams(Protocol):
    """What an observer needs of the registry (a protocol, so tests can stand in)."""

    async def watch(self, event: str, observer: FrameObserver) -> LiveState:
        """Call ``observer`` for every later frame of ``event``; returns the state as of now."""

    def unwatch(self, event: str, observer: FrameObserver) -> None: ...


class StreamWatchers:
    """Observers per event; the registry calls :meth:`notify` for every delivered frame."""

    def __init__(self) -> None:
        self._observers: dict[str, list[FrameObserver]] = {}

    def add(self, event: str, observer: FrameObserver) -> None:
        observers = self._observers.setdefault(event, [])
        if observer not in observers:
            observers.append(observer)

    def discard(self, event: str, observer: FrameObserver) -> None:
        observers = self._observers.get(event)
        if observers is None:
            return
        if observer in observers:
            observers.remove(observer)
        if not observers:
            del self._observers[event]

    def watched(self, event: str) -> bool:
        return event in self._observers

    def notify(self, event: str, happened: StreamEvent) -> None:
        for observer in tuple(self._observers.get(event, ())):
            try:
                observer(event, happened)
            except Exception:
                # An observer's bug must not stop the fan-out to pages.
                log.exception("stream observer failed on %s (%s)", event, happened.kind)
