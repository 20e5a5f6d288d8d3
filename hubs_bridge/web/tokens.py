"""Staff API for access tokens (``/api/tokens``): hand out and revoke moderator access."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hubs_bridge.auth import Principal, new_token
from hubs_bridge.core.calendar import Slug
from hubs_bridge.errors import NotFound, ValidationFailed
from hubs_bridge.store.base import TokenRecord
from hubs_bridge.web.api import Api
from hubs_bridge.web.keys import CALENDAR

api = Api()
TAG = "tokens"


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["staff", "moderator"]
    events: list[Slug] = Field(default_factory=list, max_length=100)
    label: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""


class TokenInfo(BaseModel):
    token_id: str
    role: Literal["staff", "moderator"]
    events: list[str]
    label: str
    created_at: datetime
    revoked: bool

    @classmethod
    def of(cls, record: TokenRecord) -> TokenInfo:
        return cls(
            token_id=record.token_id,
            role=record.role,
            events=list(record.events),
            label=record.label,
            created_at=record.created_at,
            revoked=record.revoked,
        )


class TokenCreated(TokenInfo):
    token: str = Field(description="The secret; shown only in this answer, never stored.")


class TokenList(BaseModel):
    tokens: list[TokenInfo]


@api.operation(
    "POST",
    "/api/tokens",
    summary="Create an access token (shown once)",
    tag=TAG,
    body=TokenCreate,
    response=TokenCreated,
    status=201,
    auth="staff",
    errors=(404, 422),
)
async def create_token(
    request: web.Request, principal: Principal, body: TokenCreate
) -> TokenCreated:
    principal.require_staff()
    calendar = request.app[CALENDAR]
    if body.role == "moderator" and not body.events:
        raise ValidationFailed(
            "a moderator token needs at least one event",
            code="events_required",
            details=[{"field": "events", "message": "at least one event", "type": "missing"}],
        )
    for slug in body.events:
        await calendar.get(slug)  # 404 for an unknown event
    secret, record = new_token(
        body.role, events=tuple(body.events), label=body.label, now=calendar.now()
    )
    await calendar.store.add_token(record)
    return TokenCreated(token=secret, **TokenInfo.of(record).model_dump())


@api.operation(
    "GET",
    "/api/tokens",
    summary="List access tokens (without secrets)",
    tag=TAG,
    response=TokenList,
    auth="staff",
)
async def list_tokens(request: web.Request, principal: Principal) -> TokenList:
    principal.require_staff()
    records = await request.app[CALENDAR].store.list_tokens()
    return TokenList(tokens=[TokenInfo.of(r) for r in records])


@api.operation(
    "DELETE",
    "/api/tokens/{token_id}",
    summary="Revoke an access token",
    tag=TAG,
    status=204,
    auth="staff",
    errors=(404,),
)
async def revoke_token(request: web.Request, principal: Principal) -> None:
    principal.require_staff()
    token_id = request.match_info["token_id"]
    if not await request.app[CALENDAR].store.revoke_token(token_id):
        raise NotFound(f"no active token {token_id!r}", code="token_not_found")
