"""Who is in one Hubs room, from its presence frames (PROTOCOL.md §3). Pure.

Reticulum tracks presences with Phoenix.Presence: ``presence_state`` carries
every session, then each ``presence_diff`` carries joins and leaves. A session
may hold several metas; an update of one session arrives as a join of the new
meta and a leave of the old one in the same diff. Metas are merged exactly as
phoenix.js ``Presence.syncDiff`` does (joins first, then leaves matched by
``phx_ref``), and the LAST meta of a session is the current one.

Bots are not people (§3, and issue 98 of the Discord bridge: a bot must not
report its own joins): sessions with ``context.discord`` and the bridge's own
session are kept internally but left out of :meth:`RoomPresence.people`.

Staleness is visible rather than silent: until the first ``presence_state``,
and again after :meth:`RoomPresence.mark_stale` (channel lost), ``stale`` is
true and the last known people are kept. Diffs that come while stale are held
and replayed on top of the next state, as phoenix.js does, because Phoenix may
deliver a broadcast diff before the state of a fresh join.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hubs_bridge.hubs.frames import (
    PresenceDiff,
    PresenceMeta,
    PresenceState,
    parse_payload,
)

PRESENCE_STATE = "presence_state"
PRESENCE_DIFF = "presence_diff"
MAX_HELD_DIFFS = 1000  # a state that never comes must not grow memory forever

Where = Literal["lobby", "room", "entering"]
Device = Literal["desktop", "mobile", "vr"]


@dataclass(frozen=True, slots=True)
class HubsPerson:
    session_id: str
    display_name: str
    where: Where
    device: Device
    hand_raised: bool


@dataclass(frozen=True, slots=True)
class PresenceCounts:
    """People by place and by device; bots are never counted."""

    room: int = 0
    lobby: int = 0
    entering: int = 0
    desktop: int = 0
    mobile: int = 0
    vr: int = 0
    hands: int = 0

    @property
    def total(self) -> int:
        return self.room + self.lobby + self.entering

    @property
    def occupancy(self) -> int:
        """Places taken as the web client counts them against ``room_size`` (§6)."""
        return self.room + self.entering


@dataclass(frozen=True, slots=True)
class PeopleChange:
    """What changed between two lists of people (by session id)."""

    joined: tuple[HubsPerson, ...] = ()
    left: tuple[HubsPerson, ...] = ()
    changed: tuple[HubsPerson, ...] = ()  # same session, new place, device, name or hand

    def __bool__(self) -> bool:
        return bool(self.joined or self.left or self.changed)


def where_of(meta: PresenceMeta) -> Where:
    """Room, lobby, or entering: ``entering`` only counts while still in the lobby.

    The web client sets ``context.entering`` with ``events:entering`` and the
    server flips ``presence`` to ``room`` on ``events:entered`` (§4); a stale
    ``entering`` flag on a session already in the room is ignored.
    """
    if meta.presence == "room":
        return "room"
    return "entering" if meta.context.entering else "lobby"


def device_of(meta: PresenceMeta) -> Device:
    """A headset wins over mobile: standalone headsets report both (``mobile`` and ``hmd``)."""
    if meta.context.hmd:
        return "vr"
    return "mobile" if meta.context.mobile else "desktop"


def person_of(session_id: str, meta: PresenceMeta) -> HubsPerson:
    return HubsPerson(
        session_id=session_id,
        display_name=meta.profile.display_name,
        where=where_of(meta),
        device=device_of(meta),
        hand_raised=meta.hand_raised,
    )


def count(people: Iterable[HubsPerson]) -> PresenceCounts:
    tally = {"room": 0, "lobby": 0, "entering": 0, "desktop": 0, "mobile": 0, "vr": 0}
    hands = 0
    for person in people:
        tally[person.where] += 1
        tally[person.device] += 1
        hands += person.hand_raised
    return PresenceCounts(hands=hands, **tally)


def diff_people(before: Iterable[HubsPerson], after: Iterable[HubsPerson]) -> PeopleChange:
    old = {person.session_id: person for person in before}
    new = {person.session_id: person for person in after}
    return PeopleChange(
        joined=tuple(p for sid, p in new.items() if sid not in old),
        left=tuple(p for sid, p in old.items() if sid not in new),
        changed=tuple(p for sid, p in new.items() if sid in old and old[sid] != p),
    )


class RoomPresence:
    """The presences of one ``hub:<sid>`` channel; ``own_session_id`` may be set after the join."""

    def __init__(self, own_session_id: str | None = None) -> None:
        self.own_session_id = own_session_id
        self._sessions: dict[str, list[PresenceMeta]] = {}
        self._held: deque[PresenceDiff] = deque(maxlen=MAX_HELD_DIFFS)
        self._stale = True

    @property
    def stale(self) -> bool:
        """True before the first ``presence_state`` and after the channel was lost."""
        return self._stale

    def mark_stale(self) -> None:
        """The channel was lost: keep the last known people, but flag them as old."""
        self._stale = True
        self._held.clear()  # diffs of the lost join say nothing about the next one

    def apply(self, event: str, payload: Mapping[str, Any]) -> bool:
        """Apply a channel message if it is a presence event; return whether it was one."""
        if event == PRESENCE_STATE:
            self.apply_state(payload)
        elif event == PRESENCE_DIFF:
            self.apply_diff(payload)
        else:
            return False
        return True

    def apply_state(self, payload: Mapping[str, Any]) -> None:
        """Replace everything with a ``presence_state``; raise ``ProtocolError`` if malformed."""
        state = parse_payload(PresenceState, payload)
        self._sessions = {
            sid: list(entry.metas) for sid, entry in state.root.items() if entry.metas
        }
        self._stale = False
        while self._held:
            self._merge(self._held.popleft())

    def apply_diff(self, payload: Mapping[str, Any]) -> None:
        """Apply a ``presence_diff`` (held until the next state while stale)."""
        diff = parse_payload(PresenceDiff, payload)
        if self._stale:
            self._held.append(diff)
        else:
            self._merge(diff)

    def _merge(self, diff: PresenceDiff) -> None:
        for sid, joined in diff.joins.items():
            new_refs = {meta.phx_ref for meta in joined.metas}
            kept = [m for m in self._sessions.get(sid, ()) if m.phx_ref not in new_refs]
            if kept or joined.metas:
                self._sessions[sid] = kept + list(joined.metas)
        for sid, left in diff.leaves.items():
            current = self._sessions.get(sid)
            if current is None:
                continue
            gone = {meta.phx_ref for meta in left.metas}
            remaining = [m for m in current if m.phx_ref not in gone]
            if remaining:
                self._sessions[sid] = remaining
            else:
                del self._sessions[sid]

    def is_bot(self, session_id: str, meta: PresenceMeta) -> bool:
        return meta.context.discord or session_id == self.own_session_id

    def meta(self, session_id: str) -> PresenceMeta | None:
        """The current (last) meta of a session, bots included."""
        metas = self._sessions.get(session_id)
        return metas[-1] if metas else None

    @property
    def session_ids(self) -> tuple[str, ...]:
        """Every session present, bots included."""
        return tuple(self._sessions)

    def people(self) -> list[HubsPerson]:
        """The people present, bots left out, in order of arrival."""
        return [
            person_of(sid, metas[-1])
            for sid, metas in self._sessions.items()
            if not self.is_bot(sid, metas[-1])
        ]

    def counts(self) -> PresenceCounts:
        return count(self.people())

    def diff_since(self, previous: Iterable[HubsPerson]) -> PeopleChange:
        """Who joined, left or changed since ``previous`` (an earlier ``people()``)."""
        return diff_people(previous, self.people())
