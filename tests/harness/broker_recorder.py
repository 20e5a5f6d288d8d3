"""A broker listener that keeps what it was told, and a barrier that shows it was told all.

For the broker contract (every backend) and the Redis broker's own tests.
"""

from __future__ import annotations

from collections import defaultdict

import orjson

from hubs_bridge.broker.base import Broker, StreamFrame
from tests.harness.waiting import eventually

# An event of its own for the barrier's frames, so they change nothing a test reads.
BARRIER = "barrier"


class Recorder:
    """A listener that keeps what it was told, per event."""

    def __init__(self) -> None:
        self.frames: dict[str, list[StreamFrame]] = defaultdict(list)
        self.resets: dict[str, list[tuple[str, int]]] = defaultdict(list)

    def on_frame(self, event: str, frame: StreamFrame) -> None:
        self.frames[event].append(frame)

    def on_reset(self, event: str, epoch: str, seq: int) -> None:
        self.resets[event].append((epoch, seq))

    def seqs(self, event: str) -> list[int]:
        return [frame.seq for frame in self.frames[event]]


def body(n: int) -> bytes:
    return orjson.dumps({"type": "test", "n": n})


async def settled(broker: Broker, recorder: Recorder) -> None:
    """Wait until ``broker`` has delivered to ``recorder`` all it will of what was published.

    A frame published now is delivered after every frame published before it
    (the memory broker delivers inside ``publish``; the Redis broker's one reader
    handles pub/sub messages in the order Redis sent them). Once it is here,
    a frame the broker (wrongly) still had to deliver would be here too: a test
    can then assert that something did not come, without sleeping.
    """
    await broker.subscribe(BARRIER)
    frame = await broker.publish(BARRIER, body(0))
    await eventually(lambda: frame in recorder.frames[BARRIER], what="the barrier frame delivered")
