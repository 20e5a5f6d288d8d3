"""Q&A over HTTP: the list, moderation, announcements, the log, and the exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from hubs_bridge.auth import Principal
from hubs_bridge.core import qa
from hubs_bridge.core.calendar import Slug
from hubs_bridge.core.qa_text import clean_text
from hubs_bridge.core.similar import similar
from hubs_bridge.errors import BadRequest
from hubs_bridge.protocol import QuestionId, RawText
from hubs_bridge.web.api import Api, QueryParam
from hubs_bridge.web.downloads import csv_download, json_download
from hubs_bridge.web.keys import CALENDAR, QA, STORE

api = Api()
TAG = "questions"


class QuestionList(BaseModel):
    questions: list[dict[str, Any]]
    rejected: dict[str, int]


class ModerationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: qa.Action
    reason: qa.RejectReason | None = None
    mode: qa.AnswerMode | None = None
    text: RawText | None = None
    into: QuestionId | None = None


class ModerationResult(BaseModel):
    changed: list[dict[str, Any]]


class AnnouncementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: RawText
    rooms: list[Slug] | None = Field(default=None, max_length=100)


class AnnouncementOut(BaseModel):
    id: str
    text: str
    rooms: list[str] | None
    at: datetime


class QuestionExport(BaseModel):
    """``questions.json``: every question with its moderation decisions (EXPORT_COLUMNS)."""

    event: str
    questions: list[dict[str, Any]]


class LogEntry(BaseModel):
    at: datetime
    actor: str
    role: str
    action: str
    question: str | None
    details: dict[str, str]


class ModerationLog(BaseModel):
    entries: list[LogEntry]


@api.operation(
    "GET",
    "/api/events/{event}/questions",
    summary="Questions, ?sort=top (votes, then age) or new: the visible ones, or all of them "
    "for the event's moderators",
    tag=TAG,
    response=QuestionList,
    auth="optional",
    errors=(404,),
    query=(QueryParam("sort", "top (votes, then age; the default) or new", ("top", "new")),),
)
async def list_questions(request: web.Request, principal: Principal) -> QuestionList:
    slug = request.match_info["event"]
    await request.app[CALENDAR].get(slug)
    store = request.app[STORE]
    questions = await store.qa_questions(slug)
    votes = await store.qa_vote_counts(slug)
    viewer: qa.Viewer = "moderator" if principal.may_moderate(slug) else "visitor"
    sort = request.query.get("sort", "top")
    if sort not in ("top", "new"):
        raise BadRequest("sort must be 'top' or 'new'", code="bad_sort")
    shown = [q for q in questions if qa.visible_to(q, viewer)]
    shown.sort(key=qa.sort_key(sort, votes))
    return QuestionList(
        questions=[qa.public_view(q, votes.get(q.id, 0), viewer) for q in shown],
        rejected=qa.rejected_counts(questions),
    )


class SimilarQuestion(BaseModel):
    id: str
    text: str
    votes: int
    score: float


class SimilarQuestions(BaseModel):
    """Visible questions like the text being typed, best first (at most three)."""

    questions: list[SimilarQuestion]


@api.operation(
    "GET",
    "/api/events/{event}/questions/similar",
    summary="Questions already asked that are like ?text= (for 'support it instead?')",
    tag=TAG,
    response=SimilarQuestions,
    auth="optional",
    errors=(404, 422),
    query=(
        QueryParam("text", "what the visitor is typing (cleaned as a question is)"),
        QueryParam("exclude", "a question's id to leave out (the one a moderator merges)"),
    ),
)
async def similar_questions(request: web.Request, principal: Principal) -> SimilarQuestions:
    slug = request.match_info["event"]
    event = await request.app[CALENDAR].get(slug)
    text = clean_text(request.query.get("text", ""), max_chars=event.qa.max_question_chars)
    # Left out before the best are chosen: an approved question merged elsewhere would
    # otherwise take the first place as its own best match.
    exclude = request.query.get("exclude")
    store = request.app[STORE]
    visible = [q for q in await store.qa_questions(slug) if q.visible and q.id != exclude]
    found = similar(text, ((q.id, q.text) for q in visible))
    if not found:
        return SimilarQuestions(questions=[])
    votes = await store.qa_vote_counts(slug)
    by_id = {q.id: q for q in visible}
    return SimilarQuestions(
        questions=[
            SimilarQuestion(
                id=m.key, text=by_id[m.key].text, votes=votes.get(m.key, 0), score=round(m.score, 3)
            )
            for m in found
        ]
    )


@api.operation(
    "POST",
    "/api/events/{event}/questions/{question}/moderate",
    summary="Moderate a question: approve, reject, answer, reply, pin, unpin, edit, merge, "
    "delete, undelete",
    tag=TAG,
    body=ModerationBody,
    response=ModerationResult,
    auth="moderator",
    errors=(404, 409, 429),
)
async def moderate(
    request: web.Request, principal: Principal, body: ModerationBody
) -> ModerationResult:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    event = await request.app[CALENDAR].get(slug)
    changes = await request.app[QA].moderate(
        principal=principal,
        event=event,
        action=body.action,
        question_id=request.match_info["question"],
        reason=body.reason,
        mode=body.mode,
        text=body.text,
        into=body.into,
    )
    votes = await request.app[STORE].qa_vote_counts(slug)
    return ModerationResult(
        changed=[qa.public_view(c, votes.get(c.id, 0), "moderator") for c in changes]
    )


@api.operation(
    "POST",
    "/api/events/{event}/announcements",
    summary="Announce to the whole event or to some rooms",
    tag=TAG,
    body=AnnouncementBody,
    response=AnnouncementOut,
    status=201,
    auth="moderator",
    errors=(404,),
)
async def announce(
    request: web.Request, principal: Principal, body: AnnouncementBody
) -> AnnouncementOut:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    event = await request.app[CALENDAR].get(slug)
    result = await request.app[QA].announce(
        principal=principal, event=event, text=body.text, rooms=body.rooms
    )
    return AnnouncementOut.model_validate(result)


@api.operation(
    "GET",
    "/api/events/{event}/moderation-log",
    summary="Who did what to which question, when",
    tag=TAG,
    response=ModerationLog,
    auth="moderator",
    errors=(404,),
)
async def moderation_log(request: web.Request, principal: Principal) -> ModerationLog:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    entries = await request.app[STORE].qa_log_entries(slug)
    return ModerationLog(
        entries=[
            LogEntry(
                at=e.at,
                actor=e.actor,
                role=e.role,
                action=e.action,
                question=e.question,
                details=dict(e.details),
            )
            for e in entries
        ]
    )


EXPORT_COLUMNS = (
    "id",
    "room",
    "text",
    "authors",
    "source",
    "status",
    "votes",
    "answered",
    "answer",
    "reply",
    "pinned",
    "created_at",
    "updated_at",
    "reject_reason",
    "held_for",
    "merged_into",
    "merged_from",
    "edited",
    "original_text",
    "deleted_at",
)


async def _export_rows(
    request: web.Request, principal: Principal
) -> tuple[str, list[dict[str, Any]]]:
    slug = request.match_info["event"]
    principal.require_moderator(slug)
    await request.app[CALENDAR].get(slug)
    store = request.app[STORE]
    votes = await store.qa_vote_counts(slug)
    # The moderator view carries every decision and never a visitor id: anonymised by design.
    rows = [
        {k: view.get(k) for k in EXPORT_COLUMNS}
        for view in (
            qa.public_view(q, votes.get(q.id, 0), "moderator")
            for q in await store.qa_questions(slug)
        )
    ]
    return slug, rows


@api.operation(
    "GET",
    "/api/events/{event}/questions.json",
    summary="Export every question with its moderation decisions (no visitor ids)",
    tag=TAG,
    response=QuestionExport,
    auth="moderator",
    errors=(404,),
)
async def export_json(request: web.Request, principal: Principal) -> web.Response:
    slug, rows = await _export_rows(request, principal)
    # A download (Content-Disposition) in the documented QuestionExport shape.
    return json_download({"event": slug, "questions": rows}, f"{slug}-questions.json")


@api.operation(
    "GET",
    "/api/events/{event}/questions.csv",
    summary="Export every question with its moderation decisions as CSV (no visitor ids)",
    tag=TAG,
    auth="moderator",
    produces=("text/csv",),
    errors=(404,),
)
async def export_csv(request: web.Request, principal: Principal) -> web.Response:
    slug, rows = await _export_rows(request, principal)
    return csv_download(
        EXPORT_COLUMNS, ([row[c] for c in EXPORT_COLUMNS] for row in rows), f"{slug}-questions.csv"
    )
