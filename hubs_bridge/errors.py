"""Errors of hubs-bridge, and how each one reaches a client.

Every error raised on purpose derives from :class:`HubsBridgeError`. The ones a
client may see carry a stable ``code`` (never reworded once published) and the
HTTP status they map to; the web layer turns them into a JSON body
``{"code", "message", "details"?, <context>?}`` in one place (``web/errors.py``).

One body shape for every error: ``details`` is always a list of
:class:`FieldProblem` (``{field, message, type}``), one per wrong input field,
so a form can mark each field. Facts about the refusal that are not about a
field (when to retry, when the doors open, a text's limit) are top-level
keys listed in :data:`CONTEXT_KEYS`, documented in the OpenAPI ``Error``
schema from that same table; an undocumented key is a programming error.

    HubsBridgeError
    ├── ConfigError            a setting is wrong; start-up stops with one line
    ├── SceneError             a scene pack is broken (reported, left out)
    ├── StoreUnavailable       the store cannot be reached
    ├── BrokerUnavailable      the broker cannot be reached
    └── ClientError            the client asked for something wrong
        ├── BadRequest              400 malformed request (bad JSON, bad query)
        ├── Unauthorized            401 no or bad credentials
        ├── Forbidden               403 credentials valid, role not allowed
        ├── NotFound                404
        ├── Conflict                409 duplicate slug, concurrent change
        ├── PayloadTooLarge         413
        ├── ValidationFailed        422 well-formed but invalid content
        └── RateLimited             429
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict  # pydantic needs it before Python 3.12


@with_config(ConfigDict(extra="forbid"))
class FieldProblem(TypedDict):
    """One entry of ``details``: the input field (a dotted path), what is wrong, a stable type.

    ``field`` is never empty: a check across fields names the field to correct
    (an end before the start names ``ends_at``).
    """

    field: str
    message: str
    type: str


ContextValue = str | int | float
# Every top-level key an error body may carry besides code, message and details:
# (JSON type, OpenAPI format or None, what it means). web/openapi.py builds the
# Error schema from this table, so the documentation cannot miss a key.
CONTEXT_KEYS: dict[str, tuple[Literal["string", "integer", "number"], str | None, str]] = {
    "retry_after_s": ("number", None, "rate_limited: seconds until a retry can succeed"),
    "opens_at": ("string", "date-time", "/go refusals: when the event's doors open"),
    "ends_at": ("string", "date-time", "/go refusals: when the event ends"),
    "capacity": ("integer", None, "room_full: places in the room and in each of its twins"),
    "rooms": ("integer", None, "room_full: Hubs rooms (the room and its twins), all full"),
    "max_chars": ("integer", None, "text_too_long: the most characters the text may have"),
    "question": ("string", None, "version_conflict, duplicate_client_msg: the question's id"),
}


def error_body(
    code: str,
    message: str,
    *,
    details: Sequence[FieldProblem] | None = None,
    context: Mapping[str, ContextValue] | None = None,
) -> dict[str, Any]:
    """The JSON body of an error; refuses context keys the API does not document."""
    context = context or {}
    undocumented = sorted(set(context) - CONTEXT_KEYS.keys())
    if undocumented:
        raise ValueError(f"undocumented error context {undocumented}; add it to CONTEXT_KEYS")
    body: dict[str, Any] = {"code": code, "message": message, **context}
    if details is not None:
        body["details"] = [dict(problem) for problem in details]
    return body


class HubsBridgeError(Exception):
    """Root of every error hubs-bridge raises on purpose."""


class ConfigError(HubsBridgeError):
    """A setting is missing or wrong; ``setting`` names it as the user spells it."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


class SceneError(HubsBridgeError):
    """A scene pack or GLB file is broken."""


class StoreUnavailable(HubsBridgeError):
    """The durable store cannot be reached."""


class BrokerUnavailable(HubsBridgeError):
    """The broker cannot be reached."""


class ClientError(HubsBridgeError):
    """An error caused by the client's request; safe to show to that client."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Sequence[FieldProblem] | None = None,
        context: Mapping[str, ContextValue] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details
        self.context = dict(context or {})
        self.to_body()  # an undocumented context key fails where it is raised, in tests

    def to_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, details=self.details, context=self.context)


class BadRequest(ClientError):
    status = 400
    default_code = "bad_request"


class Unauthorized(ClientError):
    status = 401
    default_code = "unauthorized"


class Forbidden(ClientError):
    status = 403
    default_code = "forbidden"


class NotFound(ClientError):
    status = 404
    default_code = "not_found"


class Conflict(ClientError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(ClientError):
    status = 413
    default_code = "payload_too_large"


class ValidationFailed(ClientError):
    status = 422
    default_code = "validation_failed"


class RateLimited(ClientError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: float, code: str | None = None) -> None:
        super().__init__(message, code=code, context={"retry_after_s": round(retry_after_s, 1)})
        self.retry_after_s = retry_after_s
