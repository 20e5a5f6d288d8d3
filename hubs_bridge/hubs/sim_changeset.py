"""Room attribute validation of the Hubs server simulator, as Ecto does it in Reticulum.

``Hub.add_attrs_to_changeset`` (``lib/ret/hub.ex``) casts ``name``,
``description``, ``user_data`` and ``room_size``, then ``validate_required([:name])``,
``validate_length(:name, max: 64)``, ``validate_length(:description, max: 64_000)``
and ``validate_number(:room_size, >= 0, <= features|max_room_size)``.
``Hub.create_room`` (the GraphQL API) validates the same. Messages are Ecto's
templates, unfilled: ``RetWeb.Middleware.HandleChangesetErrors`` traverses the
errors with ``fn {err, _opts} -> err end`` and answers ``"<field>: <template>"``.

Casting follows ``Ecto.Changeset.cast``: a key that is present is cast
(``""``/blank strings become nil, a value of the wrong type is ``is invalid``),
a change equal to the current value is no change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_NAME = 64
MAX_DESCRIPTION = 64_000
BLANK = "can't be blank"
INVALID = "is invalid"
TOO_LONG = "should be at most %{count} character(s)"
TOO_SMALL = "must be greater than or equal to %{number}"
TOO_BIG = "must be less than or equal to %{number}"
MEMBER_PERMISSIONS = ("spawn_and_move_media", "spawn_camera", "spawn_drawing", "pin_objects",
                      "spawn_emoji", "fly", "voice_chat", "text_chat")  # fmt: skip

FieldType = Literal["string", "integer", "map", "boolean"]
HUB_ATTRS: dict[str, FieldType] = {
    "name": "string",
    "description": "string",
    "user_data": "map",
    "room_size": "integer",
}


@dataclass(slots=True)
class Changeset:
    """Changes to a room's attributes and the errors per field (``Ecto.Changeset``)."""

    data: dict[str, Any]
    changes: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return not self.errors

    def get(self, key: str) -> Any:
        return self.changes[key] if key in self.changes else self.data.get(key)

    def put_change(self, key: str, value: Any) -> None:
        """``put_change``: recorded only when it differs from the data."""
        if self.data.get(key) == value:
            self.changes.pop(key, None)
        else:
            self.changes[key] = value

    def add_error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def messages(self) -> list[str]:
        """``HandleChangesetErrors``: one ``"field: message"`` per field (keys sorted)."""
        return [f"{key}: {''.join(msgs)}" for key, msgs in sorted(self.errors.items())]


def _cast_value(kind: FieldType, value: Any) -> tuple[bool, Any]:
    if value is None:
        return True, None
    if kind == "string":
        if not isinstance(value, str):
            return False, None
        return True, (None if value.strip() == "" else value)
    if kind == "integer":
        if isinstance(value, bool):
            return False, None
        if isinstance(value, int):
            return True, value
        if isinstance(value, str):
            try:
                return True, int(value.strip())
            except ValueError:
                return False, None
        return False, None
    if kind == "boolean":
        if isinstance(value, bool):
            return True, value
        if value in ("true", "1"):
            return True, True
        if value in ("false", "0"):
            return True, False
        return False, None
    return (True, value) if isinstance(value, dict) else (False, None)


def cast(cs: Changeset, attrs: Mapping[str, Any], types: Mapping[str, FieldType]) -> Changeset:
    """``Ecto.Changeset.cast`` of the keys present in ``attrs``."""
    for key, kind in types.items():
        if key not in attrs:
            continue
        ok, value = _cast_value(kind, attrs[key])
        if ok:
            cs.put_change(key, value)
        else:
            cs.add_error(key, INVALID)
    return cs


def validate_hub_attrs(cs: Changeset, *, max_room_size: int) -> Changeset:
    """The validations of ``Hub.add_attrs_to_changeset``."""
    if cs.get("name") is None and "name" not in cs.errors:
        cs.add_error("name", BLANK)
    name = cs.changes.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME:
        cs.add_error("name", TOO_LONG)
    description = cs.changes.get("description")
    if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
        cs.add_error("description", TOO_LONG)
    size = cs.changes.get("room_size")
    if isinstance(size, int):
        if size < 0:
            cs.add_error("room_size", TOO_SMALL)
        elif size > max_room_size:
            cs.add_error("room_size", TOO_BIG)
    return cs


def hub_attrs_changeset(
    data: dict[str, Any], attrs: Mapping[str, Any], *, max_room_size: int
) -> Changeset:
    """``Hub.add_attrs_to_changeset(changeset, attrs)`` on a room's current ``data``."""
    return validate_hub_attrs(cast(Changeset(dict(data)), attrs, HUB_ATTRS),
                              max_room_size=max_room_size)  # fmt: skip


def member_permissions_to_map(given: Mapping[str, Any]) -> dict[str, bool] | None:
    """``Hub.lenient_member_permissions_to_int`` as a map; None for an unknown permission.

    A permission missing from ``given`` is false; any value but nil/false is true.
    """
    if any(key not in MEMBER_PERMISSIONS for key in given):
        return None
    return {key: given.get(key) not in (None, False) for key in MEMBER_PERMISSIONS}
