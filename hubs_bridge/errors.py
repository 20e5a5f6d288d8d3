"""Errors of hubs-bridge, and how each one reaches a client.

Every error raised on purpose derives from :class:`HubsBridgeError`. The ones a
client may see carry a stable ``code`` (never reworded once published) and the
HTTP status they map to; the web layer turns them into a JSON body
``{"code", "message", "details"?}`` in one place (``web/errors.py``).

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

from typing import Any, ClassVar


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
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


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
        super().__init__(message, code=code, details={"retry_after_s": round(retry_after_s, 1)})
        self.retry_after_s = retry_after_s
