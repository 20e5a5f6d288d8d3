"""Polls in the Hubs chat, end to end against the Hubs simulator (issue 14).

A poll that opens is posted in the rooms it is for; ``/1``, ``/abstimmen 2``,
``/vote 2`` and ``/1 3`` lines answer it, keyed by the Hubs session hashed per
event; answers are confirmed in bulk; a closed poll's result is posted.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from hubs_bridge.core.polls import Ballot, Poll, Results
from hubs_bridge.hubs.bridge import HubsBridge
from hubs_bridge.hubs.poll_notices import opening_texts
from hubs_bridge.hubs.sim_crowd import Avatar
from hubs_bridge.web import app as web_app
from hubs_bridge.web.keys import POLLS, REALTIME, STORE
from tests.harness import hubs_rig
from tests.harness.hubs_rig import ChatRecorder, Rig
from tests.harness.waiting import eventually

POLL = "📊 Umfrage"
RESULT = "📊 Ergebnis"
COUNTED = "✅"
ANNOUNCED = "📣"
ANSWERS_INTERVAL_S = 0.5


@pytest.fixture
def polls_rig(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``make_rig`` with the app's PollService handed to the bridge.

    The app's ``build_bridge`` passes the bridge its keyword arguments; until it passes
    ``polls`` itself, the test adds it (a keyword of ``build_bridge``'s own wins over
    the one added here, so this keeps working once the app does it).
    """
    original = hubs_rig.rig_bridge

    def rig_bridge(app: web.Application, **options: Any) -> HubsBridge:
        bridge = functools.partial(
            HubsBridge, polls=app[POLLS], answers_interval_s=ANSWERS_INTERVAL_S
        )
        with monkeypatch.context() as patch:
            patch.setattr(web_app, "HubsBridge", bridge)
            return original(app, **options)

    monkeypatch.setattr(hubs_rig, "rig_bridge", rig_bridge)
    return hubs_rig.make_rig


@asynccontextmanager
async def rig_with_polls(make: Callable[..., Any], tmp_path: Path) -> AsyncIterator[Rig]:
    async with make(tmp_path, chat_interval_s=0.2, link_info=True) as rig:
        await rig.joined()
        yield rig


async def new_poll(rig: Rig, **body: Any) -> Poll:
    made = await rig.send("POST", "/api/events/kirmes/polls", body)
    poll_id = made["poll"]["id"]
    await rig.send("POST", f"/api/events/kirmes/polls/{poll_id}/open")
    return await rig.server.app[POLLS].get("kirmes", poll_id)


async def close(rig: Rig, poll: Poll) -> None:
    await rig.send("POST", f"/api/events/kirmes/polls/{poll.id}/close")


async def results(rig: Rig, poll: Poll) -> Results:
    service = rig.server.app[POLLS]
    return await service.results(await service.get("kirmes", poll.id))


async def counts_are(rig: Rig, poll: Poll, counts: tuple[int, ...]) -> bool:
    return (await results(rig, poll)).counts == counts


def confirmed(chat: ChatRecorder) -> list[int]:
    """The number each answers confirmation in the room's chat counted."""
    return [int(re.findall(r"✅ (\d+) Antwort", line)[0]) for line in chat.said(COUNTED)]


def replay(avatar: Avatar, body: str) -> None:
    """The very frame of an earlier chat line once more (§4: ``{type, body, session_id}``)."""
    payload = {"type": "chat", "body": body, "session_id": avatar.session_id}
    avatar.room.broadcast("message", payload)


async def ballots(rig: Rig, poll: Poll) -> list[Ballot]:
    return await rig.server.app[STORE].poll_ballots("kirmes", poll.id)


async def test_a_poll_is_posted_answered_in_the_chat_and_its_result_posted(
    tmp_path: Path, polls_rig: Callable[..., Any]
) -> None:
    async with rig_with_polls(polls_rig, tmp_path) as rig:
        assert rig.info is not None
        daten, info = rig.chat(rig.hub), rig.chat(rig.info)
        poll = await new_poll(
            rig,
            question="Welche Themen sind euch wichtig?",
            kind="single",
            options=["Radwege", "Spielplätze", "Bänke"],
            rooms=["daten"],
        )
        await eventually(lambda: daten.said(POLL), what="the poll in daten")
        assert (
            daten.said(POLL)
            == opening_texts(poll)
            == [
                "📊 Umfrage / Poll: Welche Themen sind euch wichtig?"
                " — 1) Radwege 2) Spielplätze 3) Bänke"
                " — Antworten mit /1, /2, /3 / Answer with /1, /2, /3"
            ]
        )

        people = {name: rig.sim.add_avatar(rig.hub.hub_id, name) for name in "ABCDE"}
        people["A"].say("/1")
        people["B"].say("/abstimmen 2")
        people["C"].say("/vote 2")
        people["D"].say("Hallo zusammen /2")  # not a vote: ordinary chat
        people["D"].say("/2")
        people["E"].say("/4")  # no such option: not a vote
        people["A"].say("/3")  # a changed answer replaces the earlier one
        replay(people["B"], "/abstimmen 2")  # the same frame again: counted once
        people["E"].say("/1")
        # Back to the first answer: a new line, not a retry of the first (Hubs gives a
        # chat message no id, so the bridge must not derive one from its text alone).
        people["A"].say("/1")
        await eventually(
            functools.partial(counts_are, rig, poll, (2, 3, 0)), what="every answer counted"
        )
        # One worker, in order: A's last line was handled after the replay.
        await eventually(lambda: sum(confirmed(daten)) == 7, what="seven answers confirmed")
        # Confirmed in bulk: after the first, the rest together (a slow machine may
        # split them once more), never one message per answer.
        assert len(confirmed(daten)) <= 3 and max(confirmed(daten)) >= 2, daten.bodies
        assert any("(" in line for line in daten.said(COUNTED))  # names: the event allows them

        # The voters are the Hubs sessions hashed per event; no display name is stored.
        stored = await ballots(rig, poll)
        ids = rig.server.app[REALTIME].ids
        assert {b.voter for b in stored} == {
            ids.record_hash("kirmes", people[n].session_id) for n in ("A", "B", "C", "D", "E")
        }
        assert {b.source for b in stored} == {"hubs"}

        await close(rig, poll)
        await eventually(lambda: daten.said(RESULT), what="the result in daten")
        assert daten.said(RESULT) == [
            "📊 Ergebnis / Result: Welche Themen sind euch wichtig?"
            " — 2) Spielplätze: 3 (60 %) 1) Radwege: 2 (40 %)"
            " — 5 Antworten / 5 answers"
        ]
        people["C"].say("/1")  # the poll is closed: no vote any more, nothing counted

        # A later notice for every room: by then anything for info would have been said.
        await rig.send("POST", "/api/events/kirmes/announcements", {"text": "Pause."})
        await eventually(lambda: info.said(ANNOUNCED), what="the announcement in info")
        await eventually(lambda: daten.said(ANNOUNCED), what="the announcement in daten")
        assert not info.said(POLL) and not info.said(RESULT) and not info.said(COUNTED)
        assert len(daten.said(RESULT)) == 1  # the settled count republished: told once
        assert (await results(rig, poll)).counts == (2, 3, 0)
        for path in (tmp_path / "data").rglob("*"):
            if path.is_file():
                assert b"Hallo zusammen" not in path.read_bytes(), path


async def test_the_latest_poll_is_answered_with_several_numbers_and_without_names(
    tmp_path: Path, polls_rig: Callable[..., Any]
) -> None:
    async with rig_with_polls(polls_rig, tmp_path) as rig:
        assert rig.info is not None
        await rig.send("PATCH", "/api/events/kirmes", {"qa": {"hubs_names": False}})
        await rig.bridge.sync()
        daten, info = rig.chat(rig.hub), rig.chat(rig.info)
        first = await new_poll(rig, question="Kaffee oder Tee?", kind="single", options=["K", "T"])
        words = await new_poll(rig, question="Ein Wort zum Tag?", kind="text")
        await eventually(lambda: len(info.said(POLL)) == 2, what="both polls in info")
        assert "Veranstaltungsseite" in info.said(POLL)[1]
        anna = rig.sim.add_avatar(rig.info.hub_id, "Anna Annalena")
        anna.say("/2")  # the text poll is not answered in the chat: the choice poll is
        await eventually(
            functools.partial(counts_are, rig, first, (0, 1)), what="Anna's answer to the first"
        )
        which = await new_poll(
            rig,
            question="Welche Stände?",
            kind="multiple",
            options=["Essen", "Musik", "Spiele"],
            max_choices=2,
        )
        await eventually(lambda: len(daten.said(POLL)) == 3, what="the third poll in daten")
        bert = rig.sim.add_avatar(rig.hub.hub_id, "Bert Bertram")
        bert.say("/1 3")
        anna.say("/vote 2,3")
        bert.say("/1 2 3")  # more than two: not a vote
        await eventually(
            functools.partial(counts_are, rig, which, (1, 1, 2)), what="both answers counted"
        )
        assert (await results(rig, first)).counts == (0, 1)  # the latest poll took them
        assert (await results(rig, words)).respondents == 0
        await eventually(
            lambda: sum(confirmed(daten)) == 1 and sum(confirmed(info)) == 2,
            what="the confirmations",
        )
        # The event hides Hubs names: counts only.
        said = daten.said(COUNTED) + info.said(COUNTED)
        assert not any("Anna" in line or "Bert" in line for line in said), said

        await close(rig, which)
        await eventually(lambda: info.said(RESULT) and daten.said(RESULT), what="the results")
        assert daten.said(RESULT) == info.said(RESULT)
        assert "3) Spiele: 2 (100 %)" in daten.said(RESULT)[0]


async def test_no_poll_in_a_room_with_the_chat_bridge_off(
    tmp_path: Path, polls_rig: Callable[..., Any]
) -> None:
    async with rig_with_polls(polls_rig, tmp_path) as rig:
        assert rig.info is not None
        await rig.send("PATCH", "/api/events/kirmes/rooms/daten", {"chat_bridge": False})
        await rig.bridge.sync()
        daten, info = rig.chat(rig.hub), rig.chat(rig.info)
        poll = await new_poll(rig, question="Kaffee oder Tee?", kind="single", options=["K", "T"])
        await eventually(lambda: info.said(POLL), what="the poll in info")
        rig.sim.add_avatar(rig.hub.hub_id, "Anna").say("/1")
        rig.sim.add_avatar(rig.info.hub_id, "Bert").say("/2")
        await eventually(
            functools.partial(counts_are, rig, poll, (0, 1)), what="Bert's answer from info"
        )
        await eventually(lambda: info.said(COUNTED), what="Bert's confirmation")
        # One worker, in order: Anna's line was handled before Bert's.
        assert (await results(rig, poll)).respondents == 1
        assert daten.bodies == ["/1"]  # only Anna's own line
