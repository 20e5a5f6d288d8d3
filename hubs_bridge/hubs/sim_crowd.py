"""Simulated people for the Hubs server simulator (PROTOCOL.md §2-§4).

An :class:`Avatar` is a web-client session without a real socket: it joins the
lobby with the ``profile``/``context`` the web client sends (§2) and each
method causes exactly the frames the matching client event causes on the
sockets joined to the room: ``presence_diff`` for ``events:entering``,
``events:entered``, ``events:raise_hand``... (§3, §4) and a chat ``message``
broadcast with its ``session_id`` for :meth:`Avatar.say`.

:func:`run_crowd` plays a bounded little event: people arrive, enter, raise
hands, ask ``/frage ...`` questions and leave.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hubs_bridge.hubs.sim_state import (
    Device,
    SimRoom,
    set_entered,
    set_entering,
    set_hand,
    set_profile,
)

if TYPE_CHECKING:
    from hubs_bridge.hubs.simulator import HubsSimulator


class Avatar:
    """One simulated session in one room; made by :meth:`HubsSimulator.add_avatar`."""

    def __init__(
        self, sim: HubsSimulator, room: SimRoom, session_id: str, name: str, device: Device
    ) -> None:
        self.sim = sim
        self.room = room
        self.session_id = session_id
        self.name = name
        self.device = device

    @property
    def hub_id(self) -> str:
        return self.room.hub.hub_id

    @property
    def present(self) -> bool:
        """Still in the room (not left, not kicked)."""
        return self.session_id in self.room.metas

    @property
    def meta(self) -> dict[str, Any] | None:
        return self.room.metas.get(self.session_id)

    def _update(self, change: Callable[[dict[str, Any]], None]) -> None:
        if self.present:
            self.room.update(self.session_id, change)

    def start_entering(self) -> None:
        """``events:entering``: ``context.entering`` (the entry dialog is open)."""
        self._update(set_entering(True))

    def cancel_entering(self) -> None:
        """``events:entering_cancelled``."""
        self._update(set_entering(False))

    def enter(self) -> None:
        """``events:entering`` (unless already entering) then ``events:entered``.

        Presence flips to ``room``; each event is one ``presence_diff``.
        """
        meta = self.meta
        if meta is not None and not meta["context"].get("entering"):
            self.start_entering()
        self._update(set_entered)

    def raise_hand(self) -> None:
        self._update(set_hand(True))

    def lower_hand(self) -> None:
        self._update(set_hand(False))

    def rename(self, display_name: str) -> None:
        """``events:profile_updated``."""
        self.name = display_name
        meta = self.meta
        if meta is not None:
            self._update(set_profile({**meta["profile"], "displayName": display_name}))

    def say(self, text: str, **extra: Any) -> None:
        """Chat: broadcast ``{type: chat, body, session_id, **extra}`` (§4)."""
        if self.present:
            payload = {"type": "chat", "body": text, **extra, "session_id": self.session_id}
            self.room.broadcast("message", payload)

    def leave(self) -> None:
        """The tab closes: the presence leaves."""
        self.room.untrack(self.session_id)


_FIRST_NAMES = (
    "Anna", "Bernd", "Clara", "Deniz", "Emil", "Fatma", "Greta", "Hannes", "Ines", "Jonas",
    "Kim", "Lena", "Malte", "Nora", "Ole", "Paula", "Rafael", "Sophie", "Tarek", "Ute",
)  # fmt: skip
_QUESTIONS = (
    "Wann kommt das Glasfasernetz nach Soest?",
    "Gibt es die Folien hinterher zum Download?",
    "Wie kann ich mich im Verein beteiligen?",
    "Werden die offenen Daten auch als CSV angeboten?",
    "Wo finde ich die Aufzeichnung?",
    "Welche Förderprogramme gibt es dafür?",
)
_SMALL_TALK = ("Hallo zusammen!", "Man hört euch gut.", "Danke!", "Bin gleich zurück.")
_DEVICES: tuple[Device, ...] = ("desktop", "desktop", "desktop", "mobile", "mobile", "vr")

Step = tuple[float, int, int, str, str]  # (at, order, avatar index, action, text)


def _plan(index: int, rng: random.Random, duration: float, order: list[int]) -> list[Step]:
    def step(at: float, action: str, text: str = "") -> Step:
        order[0] += 1
        return (min(at, duration), order[0], index, action, text)

    arrive = rng.uniform(0.0, 0.3) * duration
    leave = rng.uniform(0.75, 0.98) * duration
    steps = [step(arrive, "arrive"), step(leave, "leave")]
    if rng.random() < 0.9:  # a few stay in the lobby
        entering = arrive + rng.uniform(0.02, 0.1) * duration
        steps.append(step(entering, "entering"))
        steps.append(step(entering + rng.uniform(0.005, 0.05) * duration, "entered"))
        start = entering + 0.06 * duration
        if rng.random() < 0.35 and start < leave:
            raised = rng.uniform(start, leave)
            steps.append(step(raised, "raise"))
            steps.append(step(rng.uniform(raised, leave), "lower"))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            if start < leave:
                steps.append(
                    step(rng.uniform(start, leave), "say", "/frage " + rng.choice(_QUESTIONS))
                )
        if rng.random() < 0.3 and start < leave:
            steps.append(step(rng.uniform(start, leave), "say", rng.choice(_SMALL_TALK)))
    return steps


async def run_crowd(
    sim: HubsSimulator,
    hub_ids: list[str],
    *,
    avatars: int,
    rng: random.Random,
    duration: float,
) -> None:
    """``avatars`` people come and go over ``duration`` seconds in ``hub_ids``.

    Each arrives in the lobby, most enter the room (``entering`` then
    ``entered``), some raise and lower a hand, some type ``/frage ...``
    questions, and everyone has left when the coroutine returns (also when it
    is cancelled). Closed rooms are skipped.
    """
    if not hub_ids or avatars <= 0:
        return
    order = [0]
    steps = sorted(s for i in range(avatars) for s in _plan(i, rng, duration, order))
    names = [f"{rng.choice(_FIRST_NAMES)} {i + 1}" for i in range(avatars)]
    devices = [rng.choice(_DEVICES) for _ in range(avatars)]
    rooms = [rng.choice(hub_ids) for _ in range(avatars)]
    people: dict[int, Avatar] = {}
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        for at, _order, index, action, text in steps:
            delay = start + at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if action == "arrive":
                try:
                    people[index] = sim.add_avatar(rooms[index], names[index], devices[index])
                except (KeyError, ValueError):
                    continue
            avatar = people.get(index)
            if avatar is None:
                continue
            if action == "entering":
                avatar.start_entering()
            elif action == "entered":
                avatar.enter()
            elif action == "raise":
                avatar.raise_hand()
            elif action == "lower":
                avatar.lower_hand()
            elif action == "say":
                avatar.say(text)
            elif action == "leave":
                avatar.leave()
                del people[index]
    finally:
        for avatar in people.values():
            avatar.leave()


async def crowd_every_room(
    sim: HubsSimulator,
    *,
    avatars: int,
    rng: random.Random,
    duration: float,
    poll_s: float = 2.0,
) -> None:
    """``avatars`` people in every open room, round after round, until cancelled.

    Rooms created later (provisioned through the API) get their crowd within
    ``poll_s``: a new user who provisions an event against the simulator sees
    people arrive in its rooms, not only in the demo room.
    """
    crowds: dict[str, asyncio.Task[None]] = {}

    async def rounds(hub_id: str) -> None:
        while sim.hubs[hub_id].entry_mode != "deny":
            await run_crowd(sim, [hub_id], avatars=avatars, rng=rng, duration=duration)

    try:
        while True:
            for hub_id, hub in sim.hubs.items():
                task = crowds.get(hub_id)
                if hub.entry_mode != "deny" and (task is None or task.done()):
                    crowds[hub_id] = asyncio.create_task(rounds(hub_id))
            await asyncio.sleep(poll_s)
    finally:
        for task in crowds.values():
            task.cancel()
        await asyncio.gather(*crowds.values(), return_exceptions=True)
