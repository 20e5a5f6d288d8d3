"""Polls over HTTP: drafting, opening and closing (moderators), the list, held texts, exports.

Visitors answer over the websocket (``poll_answer``), where the answer is
acknowledged after the store has it; the Hubs bridge answers for people in a
room. Exports carry aggregates only: counts per option and words, never a ballot.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hubs_bridge.auth import Principal
from hubs_bridge.core import polls as polling
from hubs_bridge.core.calendar import Slug
from hubs_bridge.core.polls import Poll, Results
from hubs_bridge.poll_service import PollDraft, PollService
from hubs_bridge.protocol import RawText
from hubs_bridge.web.api import Api
from hubs_bridge.web.downloads import csv_download, json_download
from hubs_bridge.web.keys import CALENDAR, POLLS

api = Api()
TAG = "polls"
Option = Annotated[str, StringConstraints(max_length=1000)]


class PollBody(BaseModel):
    """A poll as a moderator drafts it; the kinds' rules are checked with clear codes."""

    model_config = ConfigDict(extra="forbid")

    question: RawText
    kind: Literal["single", "multiple", "rating", "text"]
    options: list[Option] = Field(default_factory=list, max_length=50)
    max_choices: int = Field(default=1, ge=1, le=50)
    rooms: list[Slug] | None = Field(default=None, max_length=100)
    hide_results: bool = False

    def draft(self) -> PollDraft:
        return PollDraft(
            question=self.question,
            kind=self.kind,
            options=tuple(self.options),
            max_choices=self.max_choices,
            rooms=tuple(self.rooms) if self.rooms else None,
            hide_results=self.hide_results,
        )


class PollOut(BaseModel):
    """A poll with its results as the caller may see them (``hidden``: only respondents)."""

    poll: dict[str, Any]
    results: dict[str, Any]


class PollList(BaseModel):
    polls: list[PollOut]


class HeldAnswer(BaseModel):
    id: str
    text: str | None
    at: str


class HeldAnswers(BaseModel):
    answers: list[HeldAnswer]


class VerdictBody(BaseModel):
    """Let a held text count (``keep``) or drop it; ``text`` as the moderator saw it."""

    model_config = ConfigDict(extra="forbid")

    keep: bool
    text: RawText | None = None


class PollExport(BaseModel):
    """``polls.json``: every poll that was opened, with its results (aggregates only)."""

    event: str
    polls: list[dict[str, Any]]


def _out(poll: Poll, results: Results, *, moderator: bool) -> PollOut:
    return PollOut.model_validate(polling.poll_view(poll, results, moderator=moderator))


async def _with_results(service: PollService, poll: Poll) -> PollOut:
    return _out(poll, await service.results(poll), moderator=True)


@api.operation(
    "GET",
    "/api/events/{event}/polls",
    summary="Polls with their results: opened and closed ones, and drafts for the event's "
    "moderators (results hidden until closed where the poll asks for it)",
    tag=TAG,
    response=PollList,
    auth="optional",
    errors=(404,),
)
async def list_polls(request: web.Request, principal: Principal) -> PollList:
    slug = request.match_info["event"]
    await request.app[CALENDAR].get(slug)
    service = request.app[POLLS]
    moderator = principal.may_moderate(slug)
    shown = [p for p in await service.polls_of(slug) if moderator or p.state != "draft"]
    return PollList(polls=[_out(p, await service.results(p), moderator=moderator) for p in shown])


@api.operation(
    "POST",
    "/api/events/{event}/polls",
    summary="Draft a poll: single or multiple choice, rating 1-5, or short text (word cloud)",
    tag=TAG,
    body=PollBody,
    response=PollOut,
    status=201,
    auth="moderator",
    errors=(404, 409, 422),
)
async def draft_poll(request: web.Request, principal: Principal, body: PollBody) -> PollOut:
    event = await request.app[CALENDAR].get(request.match_info["event"])
    service = request.app[POLLS]
    poll = await service.draft(principal=principal, event=event, draft=body.draft())
    return await _with_results(service, poll)


@api.operation(
    "PUT",
    "/api/events/{event}/polls/{poll}",
    summary="Rewrite a draft poll (an opened poll does not change under its voters)",
    tag=TAG,
    body=PollBody,
    response=PollOut,
    auth="moderator",
    errors=(404, 409, 422),
)
async def edit_poll(request: web.Request, principal: Principal, body: PollBody) -> PollOut:
    event = await request.app[CALENDAR].get(request.match_info["event"])
    service = request.app[POLLS]
    poll = await service.edit(
        principal=principal, event=event, poll_id=request.match_info["poll"], draft=body.draft()
    )
    return await _with_results(service, poll)


@api.operation(
    "POST",
    "/api/events/{event}/polls/{poll}/open",
    summary="Open a draft poll: pages show it, the Hubs bridge posts it to the rooms' chat",
    tag=TAG,
    response=PollOut,
    auth="moderator",
    errors=(404, 409),
)
async def open_poll(request: web.Request, principal: Principal) -> PollOut:
    event = await request.app[CALENDAR].get(request.match_info["event"])
    service = request.app[POLLS]
    poll = await service.open(principal=principal, event=event, poll_id=request.match_info["poll"])
    return await _with_results(service, poll)


@api.operation(
    "POST",
    "/api/events/{event}/polls/{poll}/close",
    summary="Close an open poll: no more answers, and its results go to everyone",
    tag=TAG,
    response=PollOut,
    auth="moderator",
    errors=(404, 409),
)
async def close_poll(request: web.Request, principal: Principal) -> PollOut:
    event = await request.app[CALENDAR].get(request.match_info["event"])
    service = request.app[POLLS]
    poll = await service.close(principal=principal, event=event, poll_id=request.match_info["poll"])
    return await _with_results(service, poll)


@api.operation(
    "DELETE",
    "/api/events/{event}/polls/{poll}",
    summary="Delete a poll with its answers",
    tag=TAG,
    status=204,
    auth="moderator",
    errors=(404, 409),
)
async def delete_poll(request: web.Request, principal: Principal) -> None:
    event = await request.app[CALENDAR].get(request.match_info["event"])
    await request.app[POLLS].delete(
        principal=principal, event=event, poll_id=request.match_info["poll"]
    )


@api.operation(
    "GET",
    "/api/events/{event}/polls/{poll}/held",
    summary="Free-text answers the word filter holds, waiting for a moderator",
    tag=TAG,
    response=HeldAnswers,
    auth="moderator",
    errors=(404,),
)
async def held_answers(request: web.Request, principal: Principal) -> HeldAnswers:
    slug = request.match_info["event"]
    service = request.app[POLLS]
    poll = await service.get(slug, request.match_info["poll"])
    held = await service.held(principal, slug, poll.id)
    return HeldAnswers(answers=[HeldAnswer.model_validate(h) for h in held])


@api.operation(
    "POST",
    "/api/events/{event}/polls/{poll}/held/{answer}",
    summary="Let a held free-text answer count, or drop it",
    tag=TAG,
    body=VerdictBody,
    status=204,
    auth="moderator",
    errors=(404,),
)
async def judge_answer(request: web.Request, principal: Principal, body: VerdictBody) -> None:
    event = await request.app[CALENDAR].get(request.match_info["event"])
    await request.app[POLLS].release(
        principal=principal,
        event=event,
        poll_id=request.match_info["poll"],
        ballot_id=request.match_info["answer"],
        keep=body.keep,
        text=body.text,
    )


EXPORT_COLUMNS = (
    "poll",
    "question",
    "kind",
    "state",
    "rooms",
    "opened_at",
    "closed_at",
    "respondents",
    "answer",
    "count",
    "share",
    "average",
)


async def _export(request: web.Request, principal: Principal) -> tuple[str, list[dict[str, Any]]]:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    await request.app[CALENDAR].get(slug)
    service = request.app[POLLS]
    exported = []
    for poll in await service.polls_of(slug):
        if poll.state == "draft":
            continue  # never asked: nothing to report
        exported.append(export_record(poll, await service.results(poll)))
    return slug, exported


def export_record(poll: Poll, results: Results) -> dict[str, Any]:
    """A poll and its aggregate results, as exports and the results page report them."""
    if poll.kind == "text":
        counted = list(results.words)
    else:
        labels = [str(r) for r in polling.RATINGS] if poll.kind == "rating" else poll.options
        counted = list(zip(labels, results.counts, strict=True))
    answers: list[dict[str, Any]] = [
        {
            "answer": label,
            "count": n,
            "share": round(n / results.respondents, 4) if results.respondents else 0.0,
        }
        for label, n in counted
    ]
    return {
        "poll": poll.id,
        "question": poll.question,
        "kind": poll.kind,
        "state": poll.state,
        "rooms": list(poll.rooms) if poll.rooms else None,
        "opened_at": poll.opened_at.isoformat() if poll.opened_at else None,
        "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
        "respondents": results.respondents,
        "average": round(results.average, 2) if results.average is not None else None,
        "answers": answers,
    }


@api.operation(
    "GET",
    "/api/events/{event}/polls.json",
    summary="Export the polls that were opened, with their results (aggregates, no answers "
    "of anyone)",
    tag=TAG,
    response=PollExport,
    auth="moderator",
    errors=(404,),
)
async def export_json(request: web.Request, principal: Principal) -> web.Response:
    slug, exported = await _export(request, principal)
    return json_download({"event": slug, "polls": exported}, f"{slug}-polls.json")


@api.operation(
    "GET",
    "/api/events/{event}/polls.csv",
    summary="Export the polls' results as CSV: one row per poll and answer option (or word)",
    tag=TAG,
    auth="moderator",
    produces=("text/csv",),
    errors=(404,),
)
async def export_csv(request: web.Request, principal: Principal) -> web.Response:
    slug, exported = await _export(request, principal)
    rows = []
    for record in exported:
        for answer in record["answers"] or [{"answer": None, "count": 0, "share": 0.0}]:
            row = {**record, **answer}
            rows.append([row[c] for c in EXPORT_COLUMNS])
    return csv_download(EXPORT_COLUMNS, rows, f"{slug}-polls.csv")
