"""Events and rooms: the calendar the staff keep, as pydantic models.

Times are stored time-zone aware. Input without a zone means Europe/Berlin,
because that is how the lab's staff think and type them ("18:00").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

BERLIN = ZoneInfo("Europe/Berlin")

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

# Reticulum's member permission flags (PROTOCOL.md section 6).
PermissionFlag = Literal[
    "spawn_and_move_media",
    "spawn_camera",
    "spawn_drawing",
    "pin_objects",
    "spawn_emoji",
    "fly",
    "voice_chat",
    "text_chat",
]
PERMISSION_FLAGS: tuple[PermissionFlag, ...] = get_args(PermissionFlag)
HUBS_MAX_ROOM_SIZE = 50


def _default_permissions() -> dict[PermissionFlag, bool]:
    # Hubs' restrictive default: people may talk and chat, nothing else.
    return {flag: flag in ("voice_chat", "text_chat") for flag in PERMISSION_FLAGS}


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=BERLIN)
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
# Events happen in this century. Near year 1 or 9999 the arithmetic around an event
# (doors open 24 h before at most, an end 14 days later) would overflow.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def _this_century(value: datetime) -> datetime:
    # The year as given: converting year 1 or 9999 to UTC to compare could itself overflow.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


EventTime = Annotated[datetime, AfterValidator(_this_century), AfterValidator(_aware)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def title_in(item: Event | Room, lang: str) -> str:
    """The event's or room's title in ``lang`` ("de" or "en"): German when no English one."""
    return item.title_en or item.title if lang == "en" else item.title


def is_http_url(url: str) -> bool:
    """An absolute http(s) address: what a room link handed to visitors may be, so that a
    misbehaving Hubs server can never make a page link to ``javascript:`` or a file."""
    scheme, sep, rest = url.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.strip("/"))


def _http_url(url: str) -> str:
    if not is_http_url(url):
        raise ValueError("must be an absolute http:// or https:// address")
    return url


class HubsRoomLink(_Model):
    """Where a room lives on the Hubs server once it has been provisioned."""

    hub_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    url: Annotated[str, StringConstraints(min_length=1, max_length=500), AfterValidator(_http_url)]
    provisioned_at: datetime
    closed: bool = False


class RoomFields(_Model):
    """What staff may set on a room; everything but slug, title and scene has a default."""

    title: Title
    title_en: Title | None = None
    scene: Slug
    capacity: int = Field(default=24, ge=1, le=HUBS_MAX_ROOM_SIZE)
    member_permissions: dict[PermissionFlag, bool] = Field(default_factory=_default_permissions)
    overflow_allowed: bool = False
    overflow_max_twins: int = Field(default=2, ge=0, le=10)
    chat_bridge: bool = True

    @field_validator("member_permissions")
    @classmethod
    def _complete_permissions(cls, value: dict[PermissionFlag, bool]) -> dict[PermissionFlag, bool]:
        # A partial map means "change these flags"; the rest keep Hubs' default.
        return {**_default_permissions(), **value}


class Room(RoomFields):
    """A room of an event: one Hubs room (plus overflow twins) with one scene.

    ``twins`` are the overflow rooms provisioned on demand, in the order they
    were made (the n-th is titled "<title> (n + 1)"). Closed twins stay listed
    for the record; they count no more towards ``overflow_max_twins``.
    """

    slug: Slug
    hubs: HubsRoomLink | None = None
    twins: tuple[HubsRoomLink, ...] = ()
    # The scene version its Hubs rooms are made with, by the SHA-256 of its GLB: set
    # when the room is first provisioned, so a newer upload of the scene does not
    # change it, and by staff moving the room to another version. None (or a digest
    # that is no version of ``scene``, after the scene was changed): the latest.
    scene_sha256: Sha256 | None = None

    def hubs_links(self) -> list[HubsRoomLink]:
        """Every open Hubs room of this room: its own first, then its open twins."""
        own = [self.hubs] if self.hubs is not None and not self.hubs.closed else []
        return own + [twin for twin in self.twins if not twin.closed]


class RoomCreate(RoomFields):
    """Body of ``POST /api/events/{event}/rooms``."""

    slug: Slug


class RoomUpdate(_Model):
    """Body of ``PATCH /api/events/{event}/rooms/{room}``: only the fields given change."""

    title: Title | None = None
    title_en: Title | None = None
    scene: Slug | None = None
    capacity: int | None = Field(default=None, ge=1, le=HUBS_MAX_ROOM_SIZE)
    member_permissions: dict[PermissionFlag, bool] | None = None
    overflow_allowed: bool | None = None
    overflow_max_twins: int | None = Field(default=None, ge=0, le=10)
    chat_bridge: bool | None = None


class QaSettings(_Model):
    """How an event's Q&A runs."""

    # On: new questions wait for a moderator. Off: they appear at once (and can be hidden).
    premoderation: bool = False
    max_question_chars: int = Field(default=500, ge=20, le=2000)
    # Off: questions are always anonymous, names are never shown.
    allow_names: bool = True
    # Questions typed in the Hubs chat show the Hubs display name unless this is off.
    hubs_names: bool = True


class QaSettingsUpdate(_Model):
    """A change of some Q&A settings; the others stay as they are."""

    premoderation: bool | None = None
    max_question_chars: int | None = Field(default=None, ge=20, le=2000)
    allow_names: bool | None = None
    hubs_names: bool | None = None


class EventFields(_Model):
    """What staff may set on an event."""

    title: Title
    title_en: Title | None = None
    description: Description = ""
    description_en: Description | None = None
    starts_at: EventTime
    ends_at: EventTime
    doors_open_minutes: int = Field(default=15, ge=0, le=24 * 60)
    qa: QaSettings = Field(default_factory=QaSettings)

    @field_validator("ends_at")
    @classmethod
    def _end_after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        # A field validator, not a model validator: the error then names ends_at,
        # the field a form marks, instead of an empty field (issue 11). starts_at is
        # declared first, so it is in info.data unless it was itself invalid.
        starts_at = info.data.get("starts_at")
        if starts_at is None:
            return ends_at
        if ends_at <= starts_at:
            raise PydanticCustomError("ends_before_start", "ends_at must be after starts_at")
        if ends_at - starts_at > timedelta(days=14):
            raise PydanticCustomError("event_too_long", "an event may last at most 14 days")
        return ends_at


class EventCreate(EventFields):
    """Body of ``POST /api/events``; rooms may be given at once."""

    slug: Slug
    rooms: list[RoomCreate] = Field(default_factory=list, max_length=500)

    @field_validator("rooms")
    @classmethod
    def _unique_room_slugs(cls, rooms: list[RoomCreate]) -> list[RoomCreate]:
        _check_unique(r.slug for r in rooms)
        return rooms


class EventUpdate(_Model):
    """Body of ``PATCH /api/events/{event}``: only the fields given change."""

    title: Title | None = None
    title_en: Title | None = None
    description: Description | None = None
    description_en: Description | None = None
    starts_at: EventTime | None = None
    ends_at: EventTime | None = None
    doors_open_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    qa: QaSettingsUpdate | None = None


class Event(EventFields):
    """A stored event with its rooms. ``version`` grows by one with every change."""

    slug: Slug
    rooms: tuple[Room, ...] = ()
    version: int = Field(default=1, ge=1)
    created_at: datetime
    updated_at: datetime

    @field_validator("rooms")
    @classmethod
    def _unique_room_slugs(cls, rooms: tuple[Room, ...]) -> tuple[Room, ...]:
        _check_unique(r.slug for r in rooms)
        return rooms

    @property
    def doors_open_at(self) -> datetime:
        return self.starts_at - timedelta(minutes=self.doors_open_minutes)

    def room(self, slug: str) -> Room | None:
        return next((r for r in self.rooms if r.slug == slug), None)

    def phase(self, now: datetime) -> Literal["scheduled", "open", "ended"]:
        """Whether the doors are not yet open, open, or the event is over."""
        if now < self.doors_open_at:
            return "scheduled"
        if now < self.ends_at:
            return "open"
        return "ended"


def with_room_scene(event: Event, room: str, sha256: str) -> Event:
    """``event`` with one room's scene version (``Room.scene_sha256``) set, in the same
    version: for a change that makes the new version itself (provisioning's link)."""
    rooms = tuple(
        r.model_copy(update={"scene_sha256": sha256}) if r.slug == room else r for r in event.rooms
    )
    return event.model_copy(update={"rooms": rooms})


def _check_unique(slugs: Any) -> None:
    seen: set[str] = set()
    for slug in slugs:
        if slug in seen:
            raise ValueError(f"room slug {slug!r} is used twice")
        seen.add(slug)
