"""What a page sees when it says hello (or after a loss of continuity): built per viewer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hubs_bridge.core import polls, qa
from hubs_bridge.core.calendar import Event
from hubs_bridge.core.stream import LiveState
from hubs_bridge.realtime.session import Session


def public_event(event: Event) -> dict[str, Any]:
    """The event as a visitor may see it: no Hubs links, neither the rooms' own nor their
    overflow twins' (those go out through /go, which checks the doors and the occupancy);
    only whether a room can be entered now (``hubs_ready``)."""
    data = event.model_dump(mode="json", exclude={"version"})
    for room, model in zip(data["rooms"], event.rooms, strict=True):
        room.pop("hubs", None)
        room.pop("twins", None)
        room["hubs_ready"] = bool(model.hubs_links())
    return data


@dataclass(frozen=True, slots=True)
class Own:
    """What a page's visitor did themselves: the questions they voted for, their answers."""

    voted: set[str] = field(default_factory=set)
    answers: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def polls_for(state: LiveState, *, moderator: bool) -> list[dict[str, Any]]:
    """The polls a page shows with their results as this viewer may see them (drafts and
    hidden counts only for moderators)."""
    shown = []
    for poll in state.polls.values():
        if poll.state == "draft" and not moderator:
            continue
        results = state.poll_results.get(poll.id) or polls.tally(poll, ())
        shown.append(polls.poll_view(poll, results, moderator=moderator))
    return shown


def snapshot_for(
    event: Event, state: LiveState, session: Session, own: Own, now: datetime
) -> dict[str, Any]:
    """The event, attendance, the questions and polls this viewer may see (never visitor ids)."""
    moderator = session.principal.may_moderate(event.slug)
    voted = own.voted
    views = []
    for question in state.questions.values():
        viewer = qa.viewer_of(question, moderator=moderator, visitor=session.visitor)
        if qa.visible_to(question, viewer):
            views.append(qa.public_view(question, state.votes.get(question.id, 0), viewer))
    return {
        "event": public_event(event),
        "phase": event.phase(now),
        "attendance": state.attendance,
        "qa": {
            "questions": views,
            "voted": sorted(voted & state.questions.keys()),
            "rejected": qa.rejected_counts(state.questions.values()),
            "announcements": [a.to_dict() for a in state.announcements],
            "settings": event.qa.model_dump(),
        },
        "polls": {
            "polls": polls_for(state, moderator=moderator),
            "answers": {k: v for k, v in own.answers.items() if k in state.polls},
        },
    }
